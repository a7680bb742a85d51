#pragma once
// DDRM: Denoising Diffusion Restoration Models (Kawar, Elad, Ermon, Song, NeurIPS 2022),
// specs/solvers-2.md section 1; official code bahjat-kawar/ddrm @ 32b6b3c, functions/denoising.py
// `efficient_generalized_steps`.
//
// A DDIM-type sampler run per SVD coefficient (operators/svd.h) on the VP skip grid
// sigma_0 > ... > sigma_{N-1} = sigma(0) > sigma_N = 0, c = V^T X, ybar_i = (U^T y)_i / s_i:
//   z_0 = gaussian(x)                                                     draw 0
//   c_i = ybar_i + sqrt(sigma_0^2 - sigma_y^2/s_i^2) z_0,i  if s_i sigma_0 > sigma_y, else sigma_0 z_0,i
//   for k = 0..N-1 (sigma, sigma'):
//     chat = V^T D(V c, sigma);  ehat = (c - chat)/sigma;  z = gaussian(x)  (dead at k = N-1: skipped)
//     free (s_i = 0 or s_i sigma' = sigma_y):  c_i = chat_i + sqrt(1-eta^2) sigma' ehat_i + eta sigma' z_i
//     s_i sigma' < sigma_y:  c_i = chat_i + sqrt(1-eta^2) sigma' (ybar_i - chat_i) s_i/sigma_y + eta sigma' z_i
//     s_i sigma' > sigma_y:  c_i = eta_b ybar_i + (1-eta_b) chat_i + sqrt(sigma'^2 - eta_b^2 sigma_y^2/s_i^2) z_i
//   return V c
// Defaults: README `--timesteps 20 --eta 0.85 --etaB 1` on the linear VP schedule (skip = 1000/20).
// Random draws: N live gaussians of shape x (z_0 and k = 0..N-2). The official code draws three
// tensors per step (one per branch); here one, each coefficient used by one branch (same law).
// Needs a closed-form SVD (Requirements::svd). Deviations: docs/solvers.md.
#include "solvers/solver.h"

namespace ipbench {

struct DdrmOptions {
  /// VP skip-grid steps = NFE (README --timesteps 20).
  int64_t steps = 20;
  /// DDRM-eta: fresh-noise share of the re-noising, in [0, 1] (README --eta 0.85).
  double eta = 0.85;
  /// Weight of ybar in the "noisier than y" branch, in [0, 1] (README --etaB 1).
  double eta_b = 1.0;
  /// Measurement noise std the solver assumes (model units); -1 = the operator's sigma_y.
  double sigma_y = -1.0;
  /// Coefficients whose singular value is below this (for a separable blur or SR: either 1-D factor,
  /// OperatorSvd::kept_like) count as unobserved, as DDRM's H functions zero them (ZERO = 3e-2).
  double svd_cutoff = 3e-2;

  template <class F>
  void fields(F&& f) {
    f("steps", steps, "VP skip-grid steps = NFE, 1..1000 (DDRM README: 20)");
    f("eta", eta, "DDRM-eta in [0, 1]: fresh noise share of the re-noising (README: 0.85)");
    f("eta_b", eta_b, "weight of the measurement in noisier-than-y coefficients, in [0, 1] (README: 1)");
    f("sigma_y", sigma_y, "assumed measurement noise std, model units; -1 = the operator's sigma_y");
    f("svd_cutoff", svd_cutoff, "singular values below it count as unobserved (DDRM H functions: 3e-2 per 1-D factor), >= 0");
  }
  void validate() const;
};

/// The shared SVD sampler of DDRM and DDNM+ (DDNM+ = eta_b 1, pure-noise init, 100 steps).
struct SvdSamplerSettings {
  /// sigma_0 > ... > sigma_N = 0, or a path with time-travel climbs (vp_skip_sigma_path): a move to a
  /// larger sigma re-noises the last prediction, c = chat + sigma' z (DDNM's time travel)
  std::vector<double> sigmas;
  double eta = 0.85;
  double eta_b = 1.0;
  bool y_init = true;          ///< DDRM's y-based init; false: c = sigma_0 z_0 (DDNM+)
  double sigma_y_option = -1;  ///< -1 = the operator's
  double svd_cutoff = 0;       ///< coefficients OperatorSvd::kept_like drops count as unobserved (s = 0)
};
/// Runs the sampler; requires problem.op.svd(). Draw indices: sigmas.size(), gaussians of shape x (z_0,
/// one per move; the last step's and a climb's intermediate moves are skipped). Returns V c.
torch::Tensor svd_sampler(const Problem& problem, NoiseStream& noise, const SvdSamplerSettings& settings,
                          const std::string& solver);

class DdrmSolver : public Solver {
 public:
  explicit DdrmSolver(DdrmOptions options);
  SolveResult solve(const Problem& problem, NoiseStream& noise) const override;
  Requirements requirements() const override { return ddrm_requirements(); }
  int64_t nfe_per_sample() const override { return options_.steps; }
  std::string describe() const override;
  static Requirements ddrm_requirements() {
    Requirements r = Requirements::batched(/*linear_operator=*/true);  // singular values through s_like
    r.svd = true;
    return r;
  }

 private:
  DdrmOptions options_;
};

}  // namespace ipbench
