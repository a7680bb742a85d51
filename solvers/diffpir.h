#pragma once
// DiffPIR: denoising diffusion models for plug-and-play image restoration (Zhu et al., CVPRW 2023),
// specs/solvers-2.md section 4; official code yuanzhi-zhu/DiffPIR @ 111d26e (main_ddpir_*.py,
// configs/*.yaml, utils/utils_sisr.py data_solution), cross-checked with deepinv's DiffPIR.
//
// Quad grid: seq_k = int(1000 sqrt(k/(N-1))), k = 0..N-1, seq_{N-1} -= 1; t_k = 999 - seq_k;
// sigma_k = sigma(t_k) (N = 100: t = 999, 899, 857, ..., 5, 0).
//   X = sigma_0 z_0                                                          draw 0
//   for k = 0..N-2:
//     x0 = clamp(D(X, sigma_k), -1, 1)                 (clip = true)
//     x0 = argmin_x ||y - A x||^2 + rho_k ||x - x0||^2,  rho_k = lambda sigma_y^2 / sigma_k^2
//     eps = (X - x0)/sigma_k
//     X = x0 + sigma_{k+1} (sqrt(1 - zeta) eps + sqrt(zeta) z_{k+1})           draw
//   return X   (at sigma(0) ~ 0.01; the official loop's extra denoiser call at k = N-1 is discarded)
// Units: the official rho mixes sigma_n in [0, 1] units with sigma_t in [-1, 1] units; lambda here is in
// model units throughout, so the official lambda = 1 is lambda = 0.25 (the default).
// Data step (solvers/linear_algebra.h least_squares_prox): SVD / projector closed forms (inpainting
// (M y + rho x0)/(M + rho), block-average SR, blur), CG on A^T A + rho I otherwise.
// sigma_y = 0 gives rho = 0: the data step is the projection x0 - A^+(A x0 - y).
// Random draws: N live gaussians of shape x. NFE = N - 1.
#include "solvers/solver.h"

namespace ipbench {

struct DiffpirOptions {
  /// Quad-grid points N; NFE = N - 1 (configs/deblur.yaml, sisr.yaml: 100; inpaint.yaml: 20).
  int64_t steps = 100;
  /// Noise mixing zeta in [0, 1] (deblur.yaml 0.1; sisr.yaml 0.25; inpaint.yaml 1.0).
  double zeta = 0.1;
  /// Data-term weight in model units, > 0 (official lambda 1 in mixed units = 0.25 here).
  double lambda = 0.25;
  /// Clamp D to [-1, 1] before the data step (official: yes).
  bool clip = true;
  /// Measurement noise std the solver assumes (model units); -1 = the operator's sigma_y.
  double sigma_y = -1.0;
  /// CG iterations of the data step without a closed form.
  int64_t cg_iterations = 50;

  template <class F>
  void fields(F&& f) {
    f("steps", steps, "quad-grid points N >= 2, NFE = N - 1 (DiffPIR deblur/sisr: 100, inpaint: 20)");
    f("zeta", zeta, "noise mixing in [0, 1] (deblur 0.1, sisr 0.25, inpaint 1.0)");
    f("lambda", lambda, "data weight, model units, > 0 (official lambda 1 = 0.25 here)");
    f("clip", clip, "clamp D to [-1, 1] before the data step (official: true)");
    f("sigma_y", sigma_y, "assumed measurement noise std, model units; -1 = the operator's sigma_y");
    f("cg_iterations", cg_iterations, "CG iterations of the data step without a closed form, >= 1 (50)");
  }
  void validate() const;
};

/// The quad grid's sigmas sigma(t_k), k = 0..steps-1 (steps >= 2).
std::vector<double> diffpir_sigmas(int64_t steps);

class DiffpirSolver : public Solver {
 public:
  explicit DiffpirSolver(DiffpirOptions options);
  SolveResult solve(const Problem& problem, NoiseStream& noise) const override;
  Requirements requirements() const override {
    // Item-batch safe: per-sample y; closed-form / CG data steps per sample (operators/item_batch.h).
    return Requirements::batched(/*linear_operator=*/true);
  }
  int64_t nfe_per_sample() const override { return options_.steps - 1; }
  std::string describe() const override;

 private:
  DiffpirOptions options_;
};

}  // namespace ipbench
