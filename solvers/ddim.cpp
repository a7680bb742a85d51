#include "solvers/ddim.h"

#include <cmath>

#include "core/options.h"
#include "solvers/ddpm_chain.h"

namespace ipbench {

void DdimOptions::validate() const {
  const char* o = "DdimOptions";
  vp.validate(o);
  check_option(steps >= 1 && steps <= vp.T, o, "steps", steps, "1 <= steps <= T");
  check_option(eta >= 0 && eta <= 1, o, "eta", eta, "0 <= eta <= 1");
}

DdimSolver::DdimSolver(DdimOptions options) : options_(std::move(options)) { options_.validate(); }

std::string DdimSolver::describe() const {
  return str_cat("ddim (unconditional): ", options_.steps, " of ", options_.vp.T, " steps, eta ", options_.eta,
                 options_.clip_denoised ? ", clip" : "");
}

SolveResult DdimSolver::solve(const Problem& problem, NoiseStream& noise) const {
  torch::NoGradGuard no_grad;
  DdpmChainOptions co;
  co.steps = options_.steps;
  co.clip_denoised = options_.clip_denoised;
  co.vp = options_.vp;
  const DdpmChain chain(co);
  const auto shape = problem.prior.image_shape();
  TORCH_CHECK(!shape.empty(), "ddim needs a prior with a fixed image shape");
  const auto opts = problem.y.options();
  torch::Tensor x = noise.gaussian(shape).to(opts);  // z_T
  for (int64_t k = chain.size() - 1; k >= 0; --k) {
    const double a = chain.step(k).abar, a_prev = k == 0 ? 1.0 : chain.step(k - 1).abar;
    const torch::Tensor x0 = chain.denoise(problem.prior, x, k).x0;
    const torch::Tensor eps = (x - std::sqrt(a) * x0) / std::sqrt(1 - a);
    const double s = options_.eta * std::sqrt((1 - a_prev) / (1 - a)) * std::sqrt(1 - a / a_prev);
    torch::Tensor xn = std::sqrt(a_prev) * x0 + std::sqrt(std::max(0.0, 1 - a_prev - s * s)) * eps;
    if (s > 0)
      xn = xn + s * noise.gaussian(shape).to(opts);  // z_k
    else
      noise.skip();  // weight 0
    x = xn;
  }
  SolveResult result;
  result.status = finite_status(x);
  result.x = x;
  result.nfe = options_.steps;
  result.used = describe();
  return result;
}

}  // namespace ipbench
