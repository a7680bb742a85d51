#include "solvers/field_common.h"

#include <map>

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

std::vector<int64_t> jump_schedule(int64_t steps, int64_t length, int64_t repeat) {
  require(steps >= 1 && length >= 1 && repeat >= 1, "jump_schedule: steps, length and repeat must be >= 1, got ",
          steps, ", ", length, ", ", repeat);
  std::map<int64_t, int64_t> jumps;  // index -> jumps left there
  for (int64_t j = 0; j < steps - length; j += length) jumps[j] = repeat - 1;
  std::vector<int64_t> ts;
  for (int64_t t = steps; t >= 1;) {
    ts.push_back(--t);
    auto it = jumps.find(t);
    if (it != jumps.end() && it->second > 0) {
      --it->second;
      for (int64_t l = 0; l < length; ++l) ts.push_back(++t);
    }
  }
  ts.push_back(-1);
  return ts;
}

std::vector<double> vp_skip_sigma_path(int64_t steps, int64_t length, int64_t repeat) {
  const auto sigmas = vp_skip_sigmas(steps);  // index k at sigmas[steps - 1 - k]; -1 at sigmas[steps] = 0
  std::vector<double> path;
  for (int64_t k : jump_schedule(steps, length, repeat)) path.push_back(sigmas[static_cast<size_t>(steps - 1 - k)]);
  return path;
}

bool time_travel(const std::vector<double>& path, size_t k, const torch::Tensor& pred, NoiseStream& noise,
                 torch::Tensor& state) {
  const double up = path[k + 1];
  if (up <= path[k]) return false;
  if (k + 2 < path.size() && path[k + 2] > up) noise.skip();
  else state = pred + up * noise.gaussian(pred.sizes().slice(1)).to(pred.device(), pred.scalar_type());
  return true;
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
