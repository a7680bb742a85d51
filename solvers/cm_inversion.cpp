#include "solvers/cm_inversion.h"

#include <algorithm>
#include <cmath>

#include "core/options.h"

namespace ipbench {

void CmInversionOptions::validate() const {
  const char* o = "CmInversionOptions";
  check_option(steps >= 2, o, "steps", steps, "steps >= 2");
  karras.validate(o);
  validate_ts(o, ts, steps, 2);
  check_option(iterations >= 1, o, "iterations", iterations, "iterations >= 1");
  check_option(lr > 0 && std::isfinite(lr), o, "lr", lr, "lr > 0");
  check_option(lr_renoise > 0 && std::isfinite(lr_renoise), o, "lr_renoise", lr_renoise, "lr_renoise > 0");
  check_option(beta1 >= 0 && beta1 < 1, o, "beta1", beta1, "0 <= beta1 < 1");
  check_option(beta2 >= 0 && beta2 < 1, o, "beta2", beta2, "0 <= beta2 < 1");
  check_option(adam_eps > 0, o, "adam_eps", adam_eps, "adam_eps > 0");
  cm.validate(o);
}

CmInversionSolver::CmInversionSolver(CmInversionOptions options) : options_(std::move(options)) {
  options_.validate();
}

int64_t CmInversionSolver::nfe_per_sample() const {
  return options_.iterations * static_cast<int64_t>(options_.ts.size() - 1) * consistency_source()->nfe_per_call();
}

std::string CmInversionSolver::describe() const {
  return str_cat("cm_inversion: steps ", options_.steps, ", ts ", join_ints(options_.ts), ", ", options_.iterations,
                 " Adam iterations per stage (lr ", options_.lr, ", re-noise ", options_.lr_renoise,
                 "), consistency ", options_.cm.consistency);
}

SolveResult CmInversionSolver::solve(const Problem& problem, NoiseStream& noise) const {
  const ConsistencyFunction& f = require_consistency(problem, "cm_inversion");
  const auto shape = problem.prior.image_shape();
  TORCH_CHECK(!shape.empty(), "cm_inversion needs a prior with a fixed image shape");
  const auto opts = problem.y.options();
  const auto& o = options_;
  auto tau_of = [&](int64_t k) {
    return std::clamp(o.karras.time(k, o.steps), o.karras.sigma_min, o.karras.sigma_max);
  };
  auto loss_of = [&](const torch::Tensor& x0) {
    return data_fit_norm(problem.op, x0, problem.y).pow(2).sum();  // sum of squared per-sample fits
  };
  // Adam on `param` for o.iterations steps; returns the last f output (before the last step).
  auto optimize = [&](torch::Tensor param, double lr, const std::function<torch::Tensor(const torch::Tensor&)>& model) {
    torch::optim::Adam adam({param}, torch::optim::AdamOptions(lr).betas({o.beta1, o.beta2}).eps(o.adam_eps));
    torch::Tensor out;
    for (int64_t it = 0; it < o.iterations; ++it) {
      adam.zero_grad();
      out = model(param);
      loss_of(out).backward();
      adam.step();
    }
    return out.detach();
  };

  torch::AutoGradMode grad_mode(true);
  const double tau0 = tau_of(o.ts[0]);
  torch::Tensor xT;
  {
    torch::NoGradGuard no_grad;
    xT = (tau0 * noise.gaussian(shape).to(opts)).detach();  // z_0
  }
  xT.requires_grad_(true);
  torch::Tensor x0 = optimize(xT, o.lr, [&](const torch::Tensor& x) { return f(x, sigma_like(x, tau0)); });
  for (size_t k = 1; k + 1 < o.ts.size(); ++k) {
    const double tau = tau_of(o.ts[k]);
    const double w = std::sqrt(std::max(0.0, tau * tau - o.karras.sigma_min * o.karras.sigma_min));
    torch::Tensor e;
    {
      torch::NoGradGuard no_grad;
      e = noise.gaussian(shape).to(opts).detach();  // z_k
    }
    e.requires_grad_(true);
    const torch::Tensor base = x0;
    x0 = optimize(e, o.lr_renoise, [&](const torch::Tensor& z) { return f(base + w * z, sigma_like(base, tau)); });
  }
  torch::Tensor x = o.clip_denoised ? x0.clamp(-1.0, 1.0) : x0;

  SolveResult result;
  result.status = finite_status(x);
  result.x = x;
  result.nfe = o.iterations * static_cast<int64_t>(o.ts.size() - 1) * f.nfe_per_call();
  result.used = describe() + " (" + f.describe() + ")";
  return result;
}

}  // namespace ipbench
