#pragma once
// DPS: Diffusion Posterior Sampling (Chung et al., ICLR 2023), specs/solvers.md section 1.
//
// On a respaced VP/DDPM chain t_{n-1} > ... > t_0 (linear betas, respacing of improved DDPM):
//   x = z_T                                                    draw 0
//   for k = n-1 .. 0:
//     x0  = clamp(D(x / sqrt(abar_k), sigma_k), -1, 1)         gradient flows through the clamp
//     xp  = mu_k(x0, x) + [k > 0] exp(logvar_k / 2) z_k          draw n-k (zero weight at k = 0: skipped)
//     L_b = || y - A(x0_b) ||_2                                 PER SAMPLE (official code: whole batch)
//     x   = xp - zeta * grad_x sum_b L_b
// mu, logvar: DDPM posterior q(x_{k-1} | x_k, x0) of the respaced chain; variance from the model's
// learned range when it has one, else `fixed_small` (btilde) or `fixed_large` (beta).
// Random draws: z_T and z_k for k = n-1..1 (n draws); the k = 0 draw has weight 0 and is skipped.
#include "solvers/solver.h"

namespace ipbench {

struct DpsOptions {
  /// Guidance step size (official `scale`): 0.3 for blur/super-resolution, 0.5 for inpainting.
  double zeta = 0.3;
  /// Respaced DDPM steps (official: 1000).
  int64_t steps = 1000;
  /// auto | learned_range | fixed_small | fixed_large. auto: learned_range when the prior returns a
  /// learned variance, else fixed_small.
  std::string variance = "auto";
  /// Clamp x0_hat to [-1, 1] (official: true); the gradient flows through the clamp.
  bool clip_denoised = true;
  /// Linear beta schedule of the chain (must match a VP model's training schedule).
  int64_t T = 1000;
  double beta_start = 1e-4;
  double beta_end = 0.02;

  template <class F>
  void fields(F&& f) {
    f("zeta", zeta, "guidance step size (official `scale`), > 0; DPS: 0.3 blur/SR, 0.5 inpainting");
    f("steps", steps, "respaced DDPM steps, 1..T (official 1000)");
    f("variance", variance, "auto | learned_range | fixed_small | fixed_large");
    f("clip_denoised", clip_denoised, "clamp x0_hat to [-1,1], gradient through the clamp (official true)");
    f("T", T, "timesteps of the linear beta schedule (1000)");
    f("beta_start", beta_start, "first beta of the linear schedule (1e-4)");
    f("beta_end", beta_end, "last beta of the linear schedule (0.02)");
  }
  void validate() const;
};

class DpsSolver : public Solver {
 public:
  explicit DpsSolver(DpsOptions options);
  SolveResult solve(const Problem& problem, NoiseStream& noise) const override;
  int64_t nfe_per_sample() const override { return options_.steps; }
  std::string describe() const override;
  const DpsOptions& options() const { return options_; }

 private:
  DpsOptions options_;
};

}  // namespace ipbench
