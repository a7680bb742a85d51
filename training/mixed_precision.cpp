// Mixed-precision training: dynamic loss scaling (mixed_precision.h).
#include "training/mixed_precision.h"

#include <cmath>

#include "core/error.h"
#include "training/run_folder.h"

namespace ipbench {

LossScaler::LossScaler(bool enabled, LossScalerOptions options)
    : enabled_(enabled), options_(options), scale_(options.init_scale) {}

torch::Tensor LossScaler::scale(const torch::Tensor& loss) const { return enabled_ ? loss * scale_ : loss; }

bool LossScaler::unscale(const std::vector<torch::Tensor>& params) const {
  if (!enabled_) return true;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  for (const auto& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return true;
  const auto options = grads.front().options().dtype(torch::kFloat);
  torch::Tensor found_inf = torch::zeros({1}, options);
  const torch::Tensor inv_scale = torch::full({1}, 1.0 / scale_, options);
  if (grads.front().is_cuda()) {
    // One fused kernel over all gradients (the kernel torch.amp.GradScaler uses).
    at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf, inv_scale);
  } else {
    for (auto& g : grads) {
      found_inf.add_(g.isfinite().logical_not().any().to(torch::kFloat));
      g.mul_(inv_scale);
    }
  }
  return found_inf.item<float>() == 0.0f;
}

void LossScaler::update(bool finite) {
  if (!enabled_) return;
  if (!finite) {
    scale_ *= options_.backoff_factor;
    growth_tracker_ = 0;
    ++skipped_;
    return;
  }
  if (++growth_tracker_ >= options_.growth_interval) {
    scale_ *= options_.growth_factor;
    growth_tracker_ = 0;
  }
}

void LossScaler::save(torch::serialize::OutputArchive& archive) const {
  archive.write("loss_scale", torch::tensor(scale_, torch::kDouble));
  archive.write("loss_scale_growth", torch::tensor(growth_tracker_, torch::kLong));
  archive.write("loss_scale_skipped", torch::tensor(skipped_, torch::kLong));
}

void LossScaler::load(torch::serialize::InputArchive& archive) {
  torch::Tensor scale, growth, skipped;
  if (!archive.try_read("loss_scale", scale)) return;
  require(archive.try_read("loss_scale_growth", growth) && archive.try_read("loss_scale_skipped", skipped),
          "training state: loss_scale without loss_scale_growth / loss_scale_skipped (corrupt)");
  scale_ = scale.item<double>();
  growth_tracker_ = growth.item<int64_t>();
  skipped_ = skipped.item<int64_t>();
  require(std::isfinite(scale_) && scale_ > 0, "training state: loss_scale = ", scale_, " (corrupt; must be > 0)");
}

}  // namespace ipbench
