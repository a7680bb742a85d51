#pragma once
// RED-diff: a variational perspective on solving inverse problems with diffusion models (Mardani,
// Song, Kautz, Vahdat, ICLR 2024), specs/solvers-2.md section 6; official code NVlabs/RED-diff @
// 66482f2 algos/reddiff.py, _configs/algo/reddiff.yaml.
//
// VP skip grid, N steps (default 1000: t = 999..0); mu = A^+ y (linear A; [NV] initialize) or 0.
// Adam(mu; lr, betas (0.9, 0.99), eps 1e-8, no weight decay), per element (so per sample):
//   for t (sigma = sigma(t), descending):
//     eps = gaussian(x)                                                        draw
//     X = mu + sigma eps;  ehat = (X - D(X, sigma))/sigma                      no network gradient
//     w = lambda f(sigma), f = linear: sigma | sqrt: sqrt(sigma) | square: sigma^2 | log: log(1 + sigma)
//                               | trunc_linear: min(sigma, 1) | const: 1
//     grad = v A^T(A mu - y)/m + w (ehat - eps)/d     (m, d = per-sample sizes of y and x)
//            (nonlinear A: v grad_mu loss(A(mu), y)^2/(2m) by autograd, loss = the operator's data fit:
//            ||y - A(mu)||, cross-entropy for torchscript classifiers, as in DAPS)
//     out = mu;  Adam step on mu with grad
//   return out   (the iterate before the last update, as [NV]'s x0_pred)
// Not a posterior sampler: the output collapses near the least-squares value in observed directions.
// Random draws: N gaussians of shape x. NFE = N.
#include "solvers/solver.h"

namespace ipbench {

struct ReddiffOptions {
  /// VP skip-grid steps = NFE ([NV] sample_batch.sh: 1000).
  int64_t steps = 1000;
  /// Adam learning rate (reddiff.yaml lr 0.1).
  double lr = 0.1;
  /// Regularizer weight lambda (reddiff.yaml grad_term_weight 0.25).
  double lambda = 0.25;
  /// Data weight v (reddiff.yaml obs_weight 1).
  double obs_weight = 1.0;
  /// linear | sqrt | square | log | trunc_linear | const (reddiff.yaml denoise_term_weight linear).
  std::string weighting = "linear";
  /// Initial mu: pinv (A^+ y, [NV]; 0 for nonlinear A) | zero ([IB]).
  std::string init = "pinv";
  /// CG iterations of A^+ y without a closed form.
  int64_t cg_iterations = 100;
  /// pinv init: singular values below this are treated as 0 (a truncated A^+). [NV]'s H_pinv comes from
  /// DDRM's H functions, which zero singular values < 3e-2 (ZERO); the exact A^+ of a Gaussian blur divides
  /// sigma_y noise by singular values down to 1e-12 and the init explodes (PSNR 3.6 dB on the leaderboard
  /// blur before this option; docs/solvers.md).
  double svd_cutoff = 3e-2;

  template <class F>
  void fields(F&& f) {
    f("steps", steps, "VP skip-grid steps = NFE, 1..1000 (RED-diff sample_batch.sh: 1000)");
    f("lr", lr, "Adam learning rate, > 0 (reddiff.yaml: 0.1)");
    f("lambda", lambda, "regularizer weight, >= 0 (reddiff.yaml grad_term_weight: 0.25)");
    f("obs_weight", obs_weight, "data weight, >= 0 (reddiff.yaml obs_weight: 1)");
    f("weighting", weighting, "linear | sqrt | square | log | trunc_linear | const (reddiff.yaml: linear)");
    f("init", init, "pinv (A^+ y; 0 for nonlinear operators) | zero");
    f("cg_iterations", cg_iterations, "CG iterations of A^+ y without a closed form, >= 1 (100)");
    f("svd_cutoff", svd_cutoff,
      "pinv init: singular values below it count as 0 (truncated A^+; RED-diff/DDRM H_pinv: 3e-2), >= 0");
  }
  void validate() const;
};

class ReddiffSolver : public Solver {
 public:
  explicit ReddiffSolver(ReddiffOptions options);
  SolveResult solve(const Problem& problem, NoiseStream& noise) const override;
  Requirements requirements() const override {
    return Requirements::batched();  // per-sample y, data fit and pseudo-inverse (operators/item_batch.h)
  }
  int64_t nfe_per_sample() const override { return options_.steps; }
  std::string describe() const override;

 private:
  ReddiffOptions options_;
};

}  // namespace ipbench
