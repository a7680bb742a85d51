#pragma once
// DPS: Diffusion Posterior Sampling (Chung et al., ICLR 2023), specs/solvers.md section 1.
//
// On the respaced DDPM chain of solvers/ddpm_chain.h, t_{n-1} > ... > t_0:
//   x = z_T                                                    draw 0
//   for k = n-1 .. 0:
//     x0  = clamp(D(x / sqrt(abar_k), sigma_k), -1, 1)         gradient flows through the clamp
//     xp  = mu_k(x0, x) + [k > 0] exp(logvar_k / 2) z_k          draw n-k (zero weight at k = 0: skipped)
//     L_b = || y - A(x0_b) ||_2                                 PER SAMPLE (official code: whole batch)
//     x   = xp - zeta * grad_x sum_b L_b
// Random draws: z_T and z_k for k = n-1..1 (n draws); the k = 0 draw has weight 0 and is skipped.
#include "solvers/ddpm_chain.h"
#include "solvers/solver.h"

namespace ipbench {

struct DpsOptions {
  /// Guidance step size (official `scale`): 0.3 for blur/super-resolution, 0.5 for inpainting.
  double zeta = 0.3;
  /// The DDPM chain: steps, variance rule, clipping, schedule.
  DdpmChainOptions chain;

  template <class F>
  void fields(F&& f) {
    f("zeta", zeta, "guidance step size (official `scale`), > 0; DPS: 0.3 blur/SR, 0.5 inpainting");
    chain.fields(f);
  }
  void validate() const;
};

class DpsSolver : public Solver {
 public:
  explicit DpsSolver(DpsOptions options);
  SolveResult solve(const Problem& problem, NoiseStream& noise) const override;
  Requirements requirements() const override { return dps_requirements(); }
  int64_t nfe_per_sample() const override { return options_.chain.steps; }
  std::string describe() const override;
  const DpsOptions& options() const { return options_; }
  /// Any operator; item-batch safe (audited: y only through the operator's loss, per sample; tests
  /// test_batching, test_cross_item).
  static Requirements dps_requirements() {
    return Requirements::batched();
  }

 private:
  DpsOptions options_;
};

}  // namespace ipbench
