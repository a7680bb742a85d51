#pragma once
// LGD: Loss-Guided Diffusion (Song et al., ICML 2023), specs/solvers.md section 2 (harness choices).
//
// DPS's respaced DDPM chain (solvers/ddpm_chain.h) with the guidance averaged over n Monte Carlo samples
// of x0 around the clamped Tweedie estimate:
//   x = z_T                                                         draw 0
//   for k = n_steps-1 .. 0:
//     x0    = clamp(D(x / sqrt(abar_k), sigma_k), -1, 1)            gradient flows through the clamp
//     x0_j  = x0 + r_k eps_{k,j},  j = 1..n                          draws: eps_{k,1..n} (not clamped)
//     l_j   = || y - A(x0_j) ||_2                                   per sample
//     w     = softmax_j(-l_j)                                       per sample, no gradient
//     g     = J^T sum_j w_j grad_{x0_j} l_j,   J = d x0 / d x        ONE vector-Jacobian product
//     xp    = mu_k(x0, x) + [k > 0] exp(logvar_k / 2) z_k            draw z_k (k = 0: skipped)
//     x     = xp - zeta g
// r_k = sigma_k / sqrt(1 + sigma_k^2) = sqrt(1 - abar_k) (r = auto) or a fixed r >= 0.
// Random draws per step, in this order: eps_{k,1..n}, then z_k. With r = 0 the MC samples coincide and
// are not drawn at all (LGD is then exactly DPS, draw for draw).
#include "solvers/ddpm_chain.h"
#include "solvers/solver.h"

namespace ipbench {

struct LgdOptions {
  /// Guidance step size (same loss as DPS: the per-sample L2 norm, so DPS's zeta values apply).
  double zeta = 0.3;
  /// Monte Carlo samples per step (InverseBench: 10; [XU]: 1).
  int64_t mc_samples = 10;
  /// Spread of the MC samples: "auto" (r_k = sqrt(1 - abar_k), the paper's sigma_t/sqrt(1 + sigma_t^2))
  /// or a fixed number >= 0 ([XU]: 0.2). 0 = no MC draws (DPS).
  std::string r = "auto";
  /// The DDPM chain: steps, variance rule, clipping, schedule.
  DdpmChainOptions chain;

  template <class F>
  void fields(F&& f) {
    f("zeta", zeta, "guidance step size, > 0 (DPS's values)");
    f("mc_samples", mc_samples, "Monte Carlo samples of x0 per step, >= 1 (10)");
    f("r", r, "MC spread: auto (sqrt(1 - abar_t)) or a fixed number >= 0");
    chain.fields(f);
  }
  void validate() const;
  /// r as a number, or a negative value for auto.
  double fixed_r() const;
};

class LgdSolver : public Solver {
 public:
  explicit LgdSolver(LgdOptions options);
  SolveResult solve(const Problem& problem, NoiseStream& noise) const override;
  Requirements requirements() const override { return lgd_requirements(); }
  int64_t nfe_per_sample() const override { return options_.chain.steps; }
  std::string describe() const override;
  /// Item-batch safe: the loss of the n copies per sample is evaluated sample-major ([B n] rows), which
  /// a batch across items splits by item (operators/item_batch.h).
  static Requirements lgd_requirements() {
    return Requirements::batched();
  }

 private:
  LgdOptions options_;
};

}  // namespace ipbench
