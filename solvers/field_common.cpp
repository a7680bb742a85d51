#include "solvers/field_common.h"

#include "core/error.h"
#include "models/schedule.h"

namespace ipbench {

std::vector<double> vp_skip_sigmas(int64_t steps, int64_t T) {
  require(steps >= 1 && steps <= T, "vp_skip_sigmas: steps must be in [1, ", T, "], got ", steps);
  const auto schedule = VpSchedule::linear(T);
  const int64_t skip = T / steps;
  std::vector<double> s;
  for (int64_t k = steps - 1; k >= 0; --k) s.push_back(schedule.sigma(k * skip));
  s.push_back(0.0);
  return s;
}

double assumed_sigma_y(double option, const Operator& op) {
  if (option >= 0) return option;
  return op.noise().noise == "none" ? 0.0 : op.noise().sigma_y;
}

torch::Tensor denoise_at(const Denoiser& prior, const torch::Tensor& x, double sigma) {
  return prior.denoise(x, torch::full({x.size(0)}, sigma, x.options().requires_grad(false)));
}

std::vector<int64_t> solver_image_shape(const Denoiser& prior, const std::string& solver) {
  auto shape = prior.image_shape();
  require(!shape.empty(), "solver '", solver, "' needs a prior with a fixed image shape");
  return shape;
}

}  // namespace ipbench
