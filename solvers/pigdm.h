#pragma once
// PiGDM: pseudoinverse-guided diffusion models (Song, Vahdat, Mardani, Kautz, ICLR 2023),
// specs/solvers-2.md section 3; code NVlabs/RED-diff @ 66482f2 algos/pgdm.py (noiseless form, same
// authors) and devzhk/InverseBench algo/pigdm.py (noisy form). No paper code exists.
//
// VP skip grid, N steps (default 100: sigma(990), ..., sigma(0), 0):
//   X = A^+ y + sigma_0 z_0                                             draw 0 ([NV] PGDM.initialize)
//   per step (sigma, sigma'):
//     D = D(X, sigma) with graph;  r^2 = sigma^2 / (1 + sigma^2)
//     v = A^T (A A^T + (sigma_y^2 / r^2) I)^{-1} (y - A D)     (sigma_y = 0: A^+ (y - A D))
//     g = J^T v                                                one VJP through the denoiser
//     s = eta sigma' sqrt(1 - sigma'^2/sigma^2)                DDIM-eta
//     X = D + sqrt(sigma'^2 - s^2)(X - D)/sigma + s z + w_t g  draw z (dead when s = 0: skipped)
//   weight = code (default): w_t = w ([NV] grad_term_weight with awd: w on the VE VJP)
//   weight = exact (harness option): w_t = (1 + sigma^2)(1 - sqrt(sigma'^2 - s^2)/sigma), i.e. DDIM with
//            D + sigma^2 grad log p(y | X) under the PiGDM likelihood; exact for a N(0, I) prior as N grows.
// Linear algebra (solvers/linear_algebra.h): SVD / projector closed forms, else CG in measurement space.
// Random draws: z_0 + one per step with s > 0 (N live at eta > 0; z_0 only at eta = 0).
#include "solvers/solver.h"

namespace ipbench {

struct PigdmOptions {
  /// VP skip-grid steps = NFE ([NV] sample_test.sh exp.num_steps=100).
  int64_t steps = 100;
  /// DDIM-eta in [0, 1] ([NV] sample_test.sh algo.eta=1.0; pgdm.yaml says 0.0).
  double eta = 1.0;
  /// Guidance weight w ([NV] pgdm.yaml grad_term_weight 1).
  double w = 1.0;
  /// code (w_t = w) | exact (w_t = (1 + sigma^2)(1 - sqrt(sigma'^2 - s^2)/sigma), harness option).
  std::string weight = "code";
  /// Measurement noise std the solver assumes (model units); -1 = the operator's sigma_y.
  double sigma_y = -1.0;
  /// CG iterations of (A A^T + c I)^{-1} without a closed form.
  int64_t cg_iterations = 50;
  /// The init's A^+ y counts singular values below this as 0, as the official H_pinv (DDRM's H functions,
  /// ZERO = 3e-2) does (docs/solvers.md, RED-diff).
  double svd_cutoff = 3e-2;

  template <class F>
  void fields(F&& f) {
    f("steps", steps, "VP skip-grid steps = NFE, 1..1000 (RED-diff repo sample_test.sh: 100)");
    f("eta", eta, "DDIM-eta in [0, 1] (sample_test.sh: 1.0)");
    f("w", w, "guidance weight, >= 0 (pgdm.yaml grad_term_weight: 1)");
    f("weight", weight, "code (w_t = w) | exact ((1+sigma^2)(1 - sqrt(sigma'^2 - s^2)/sigma), harness)");
    f("sigma_y", sigma_y, "assumed measurement noise std, model units; -1 = the operator's sigma_y");
    f("cg_iterations", cg_iterations, "CG iterations without a closed form, >= 1 (50)");
    f("svd_cutoff", svd_cutoff, "init A^+ y: singular values below it count as 0 (official H_pinv: 3e-2), >= 0");
  }
  void validate() const;
};

class PigdmSolver : public Solver {
 public:
  explicit PigdmSolver(PigdmOptions options);
  SolveResult solve(const Problem& problem, NoiseStream& noise) const override;
  Requirements requirements() const override {
    // Item-batch safe: per-sample y; closed-form / CG data steps per sample (operators/item_batch.h).
    return Requirements::batched(/*linear_operator=*/true);
  }
  int64_t nfe_per_sample() const override { return options_.steps; }
  std::string describe() const override;

 private:
  PigdmOptions options_;
};

}  // namespace ipbench
