#include "harness/step_progress.h"

namespace ipbench {

Prediction CountingDenoiser::predict(const torch::Tensor& x, const torch::Tensor& sigma) const {
  Prediction p = inner_.predict(x, sigma);
  ++calls_;
  if (on_call_) on_call_(calls_);
  return p;
}

}  // namespace ipbench
