#include "solvers/enkg.h"

#include <algorithm>
#include <cmath>

#include "core/options.h"
#include "solvers/common.h"

namespace ipbench {

void EnkgOptions::validate() const {
  const char* o = "EnkgOptions";
  check_option(ensemble >= 2, o, "ensemble", ensemble, "ensemble >= 2");
  check_option(gamma > 0 && std::isfinite(gamma), o, "gamma", gamma, "gamma > 0");
  check_option(num_updates >= 1, o, "num_updates", num_updates, "num_updates >= 1");
  check_option(steps >= 2, o, "steps", steps, "steps >= 2");
  karras.validate(o);
  check_option(threshold >= 0, o, "threshold", threshold, "threshold >= 0");
  check_option(factor >= 1, o, "factor", factor, "factor >= 1");
  check_option(max_ode_steps >= 1, o, "max_ode_steps", max_ode_steps, "max_ode_steps >= 1");
  check_option(output == "member" || output == "mean", o, "output", output, "output is member or mean");
}

namespace {
int64_t inner_steps(const EnkgOptions& o, int64_t i) {
  return std::min<int64_t>(1 + (o.steps - i) / o.factor, o.max_ode_steps);
}
}  // namespace

int64_t EnkgOptions::nfe_per_member() const {
  int64_t n = steps;
  for (int64_t i = 0; i < steps; ++i)
    if (static_cast<double>(i) > threshold) n += num_updates * inner_steps(*this, i);
  return n;
}

EnkgSolver::EnkgSolver(EnkgOptions options) : options_(std::move(options)) { options_.validate(); }

std::string EnkgSolver::describe() const {
  return str_cat("enkg: ensemble ", options_.ensemble, ", ", options_.steps, " Euler steps ", options_.karras.sigma_max, " -> ",
                 options_.karras.sigma_min, ", gamma ", options_.gamma, " x ", options_.num_updates,
                 " updates, output ", options_.output, " (", options_.nfe_per_member(), " NFE per member)");
}

SolveResult EnkgSolver::solve(const Problem& problem, NoiseStream& noise) const {
  torch::NoGradGuard no_grad;
  const auto shape = problem.prior.image_shape();
  TORCH_CHECK(!shape.empty(), "EnKG needs a prior with a fixed image shape");
  const auto opts = problem.y.options();
  const int64_t J = options_.ensemble, B = noise.batch_size(), S = options_.steps;
  std::vector<int64_t> eshape{J};
  eshape.insert(eshape.end(), shape.begin(), shape.end());
  std::vector<int64_t> flat{B * J};
  flat.insert(flat.end(), shape.begin(), shape.end());
  auto e = [&](int64_t i) { return i >= S ? 0.0 : options_.karras.time(i, S); };
  auto euler = [&](const torch::Tensor& x, double s, double s_next) {
    return x + (s_next - s) * (x - problem.prior.denoise(x, sigma_like(x, s))) / s;
  };

  torch::Tensor X = options_.karras.sigma_max * noise.gaussian(eshape).to(opts).reshape(flat);  // [B*J, C, H, W]
  const auto y = problem.y;
  for (int64_t i = 0; i < S; ++i) {
    if (static_cast<double>(i) > options_.threshold) {
      const int64_t n = inner_steps(options_, i);
      for (int64_t u = 0; u < options_.num_updates; ++u) {
        // x0 by the Euler PF-ODE on Karras(n, e_i, sigma_min) ++ [0] (n = 1: one denoiser call).
        auto x0 = X;
        for (int64_t q = 0; q < n; ++q) {
          const double s = n == 1 ? e(i) : karras_time(q, n, options_.karras.sigma_min, e(i), options_.karras.rho);
          const double s_next = q + 1 < n ? karras_time(q + 1, n, options_.karras.sigma_min, e(i), options_.karras.rho) : 0.0;
          x0 = euler(x0, s, s_next);
        }
        const auto G = problem.op.forward(x0).reshape({B, J, -1});
        const auto dG = G - G.mean(1, true);
        const auto r = G - y.reshape({y.size(0), 1, -1});  // one y [1, m...] or per sample [B, m...]
        const auto C = torch::matmul(r, dG.transpose(1, 2)) / static_cast<double>(J);  // [B, J, J]
        const auto norm = C.flatten(1).norm(2, 1).clamp_min(1e-30).view({B, 1, 1});
        const auto Xb = X.reshape({B, J, -1});
        const auto dX = Xb - Xb.mean(1, true);
        X = (Xb - options_.gamma / norm * torch::matmul(C, dX)).reshape(flat);
      }
    }
    X = euler(X, e(i), e(i + 1));
  }
  auto Xb = X.reshape({B, J, -1});
  auto out = options_.output == "mean" ? Xb.mean(1) : Xb.select(1, 0);
  std::vector<int64_t> oshape{B};
  oshape.insert(oshape.end(), shape.begin(), shape.end());
  SolveResult result;
  result.x = out.reshape(oshape).contiguous();
  result.status = finite_status(result.x);
  result.nfe = nfe_per_sample();
  result.used = describe();
  return result;
}

}  // namespace ipbench
