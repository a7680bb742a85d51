#include "solvers/dps.h"

#include <cmath>

#include "core/options.h"
#include "solvers/common.h"

namespace ipbench {

void DpsOptions::validate() const {
  check_option(zeta > 0 && std::isfinite(zeta), "DpsOptions", "zeta", zeta, "zeta > 0");
  chain.validate();
}

DpsSolver::DpsSolver(DpsOptions options) : options_(std::move(options)) { options_.validate(); }

std::string DpsSolver::describe() const {
  return str_cat("dps: zeta ", options_.zeta, ", ", options_.chain.steps, " of ", options_.chain.vp.T,
                 " steps, variance ", options_.chain.variance, options_.chain.clip_denoised ? ", clip" : "");
}

SolveResult DpsSolver::solve(const Problem& problem, NoiseStream& noise) const {
  const DdpmChain chain(options_.chain);
  const auto shape = problem.prior.image_shape();
  TORCH_CHECK(!shape.empty(), "DPS needs a prior with a fixed image shape");
  const auto opts = problem.y.options();

  bool learned = false;
  torch::Tensor x = noise.gaussian(shape).to(opts);  // z_T
  for (int64_t k = chain.size() - 1; k >= 0; --k) {
    x.requires_grad_(true);
    Prediction pred = chain.denoise(problem.prior, x, k);
    auto loss = data_fit_norm(problem.op, pred.x0, problem.y);
    auto grad = torch::autograd::grad({loss.sum()}, {x})[0];
    x = chain.guided_ancestral(k, pred, x, grad, options_.zeta, noise, learned);
  }

  SolveResult result;
  result.status = finite_status(x);
  result.x = x;
  result.nfe = options_.chain.steps;
  result.used = str_cat("dps steps ", options_.chain.steps, ", variance ", chain.variance_used(learned), ", zeta ",
                        options_.zeta);
  return result;
}

}  // namespace ipbench
