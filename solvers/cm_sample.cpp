#include "solvers/cm_sample.h"

#include <algorithm>
#include <cmath>

#include "core/options.h"

namespace ipbench {

void CmSampleOptions::validate() const {
  const char* o = "CmSampleOptions";
  check_option(steps >= 2, o, "steps", steps, "steps >= 2");
  karras.validate(o);
  validate_ts(o, ts, steps, 2);
  cm.validate(o);
}

CmSampleSolver::CmSampleSolver(CmSampleOptions options) : options_(std::move(options)) { options_.validate(); }

int64_t CmSampleSolver::nfe_per_sample() const {
  return static_cast<int64_t>(options_.ts.size() - 1) * consistency_source()->nfe_per_call();
}

std::string CmSampleSolver::describe() const {
  return str_cat("cm_sample (unconditional): steps ", options_.steps, ", ts ", join_ints(options_.ts),
                 ", consistency ", options_.cm.consistency);
}

SolveResult CmSampleSolver::solve(const Problem& problem, NoiseStream& noise) const {
  const ConsistencyFunction& f = require_consistency(problem, "cm_sample");
  torch::NoGradGuard no_grad;
  const auto shape = problem.prior.image_shape();
  TORCH_CHECK(!shape.empty(), "cm_sample needs a prior with a fixed image shape");
  const auto opts = problem.y.options();
  const auto& o = options_;
  auto t = [&](int64_t k) { return o.karras.time(k, o.steps); };
  const double smin = o.karras.sigma_min;
  torch::Tensor x = std::clamp(t(o.ts[0]), smin, o.karras.sigma_max) * noise.gaussian(shape).to(opts);  // z_0
  for (size_t i = 0; i + 1 < o.ts.size(); ++i) {
    const torch::Tensor x0 = f(x, sigma_like(x, t(o.ts[i])));
    const double tn = std::clamp(t(o.ts[i + 1]), smin, o.karras.sigma_max);
    const double w = std::sqrt(std::max(0.0, tn * tn - smin * smin));
    if (w > 0) {
      x = x0 + w * noise.gaussian(shape).to(opts);  // z_{i+1}
    } else {
      noise.skip();  // weight 0 (tn = smin)
      x = x0;
    }
  }
  SolveResult result;
  result.status = finite_status(x);
  result.x = x;
  result.nfe = static_cast<int64_t>(o.ts.size() - 1) * f.nfe_per_call();
  result.used = describe() + " (" + f.describe() + ")";
  return result;
}

}  // namespace ipbench
