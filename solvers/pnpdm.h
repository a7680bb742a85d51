#pragma once
// PnP-DM: plug-and-play split Gibbs sampling with diffusion priors (Wu, Sun, Chen, Zhang, Yue,
// Bouman, NeurIPS 2024), specs/solvers-2.md section 7; official code zihuiwu/PnP-DM-public @ ca65f9b
// (pnpdm/samplers/pnp_edm/*.py, commands.sh).
//
// Split Gibbs sampler for pi(x, z) ~ p(x) N(z; x, rho^2 I) exp(-||y - A z||^2 / (2 sigma_y^2)), rho annealed:
//   x = 0 (linear tasks' operator.initialize); nonlinear operators: x = one draw of N(0, I) (the official
//       phase retrieval's initialize = randn_like)
//   e = Karras(edm_steps, sigma_max, sigma_min) ++ [0]
//   for k = 0..K-1:
//     rho = max(rho0 decay^k, rho_min)
//     likelihood step: z ~ N(Sigma (A^T y/sigma_y^2 + x/rho^2), Sigma), Sigma = (A^T A/sigma_y^2 + I/rho^2)^{-1}
//        likelihood = exact (solvers/linear_algebra.h gaussian_data_step: SVD / projector closed form, one
//         draw of shape x; otherwise perturb-then-optimise by CG, one draw of shape y and one of shape x);
//        likelihood = langevin (langevin_data_step; the official proximal_generator of nonlinear tasks):
//         z = x, then langevin_steps x  z <- z - lr [grad ||y - A(z)||^2/(2 sigma_y^2) + (z - x)/rho^2]
//         + sqrt(2 lr) xi, one draw of shape x each (official: 100 steps, lr = gamma = 1e-4);
//        likelihood = auto: exact on linear operators, langevin on nonlinear ones
//     prior step (edm_sde): grid = [start] ++ {e_i : e_i < rho};  x = z
//        for consecutive (s, s'):  x = x + (s' - s) 2 (x - D(x, s))/s + [s' > 0] sqrt(2 s (s - s')) xi   draw
//        start = rho (default, harness: the chain's actual level) | code (the official Denoiser_EDM starts at
//        the first e_i < rho, treating z as if its level were e_i0 < rho: a code quirk, offered as an option)
//   return x  (the last iterate per trajectory), or with average = n > 0 the mean of x after the iterations
//     k in int(linspace(burn_in, K - 1, n + 1))[1:] (the official num_samples_per_run 20, num_burn_in_iters 40:
//     posterior_sample.py's "statistics based on the mean"; duplicate indices count once)
// Random draws per iteration: the likelihood draw(s) (exact: 1 or 2; langevin: langevin_steps) + (n_k - 1)
// prior draws (+ 1 initial draw on a nonlinear operator); NFE = sum_k n_k (n_k = prior steps at rho_k; the
// Langevin steps evaluate the operator and its gradient, not the network).
// likelihood = exact needs a linear operator (Requirements::linear_operator).
#include "solvers/solver.h"

namespace ipbench {

struct PnpdmOptions {
  /// Gibbs iterations K (commands.sh: 100).
  int64_t iterations = 100;
  /// Initial coupling strength rho0 (commands.sh: 10).
  double rho0 = 10.0;
  /// Geometric decay of rho per iteration, in (0, 1] (commands.sh: 0.9).
  double decay = 0.9;
  /// Floor of rho (commands.sh: 0.3 for deblur / SR, 0.1 for phase retrieval).
  double rho_min = 0.3;
  /// EDM grid of the prior step: Karras(edm_steps, sigma_max, sigma_min) ++ [0] (EDM num_steps 100).
  int64_t edm_steps = 100;
  double sigma_max = 80.0;
  double sigma_min = 0.002;
  /// Where the prior step starts: rho (harness) | code (first grid level below rho, the official quirk).
  std::string start = "rho";
  /// Measurement noise std the solver assumes (model units), > 0; -1 = the operator's sigma_y.
  double sigma_y = -1.0;
  /// CG iterations of the perturb-then-optimise likelihood step without a closed form.
  int64_t cg_iterations = 50;
  /// Likelihood step: auto (exact on linear operators, langevin on nonlinear ones) | exact | langevin.
  std::string likelihood = "auto";
  /// Langevin likelihood step (official proximal_generator): steps and step size gamma.
  int64_t langevin_steps = 100;
  double langevin_lr = 1e-4;
  /// Output: 0 = the last iterate (harness default; the official "one sample"); n > 0 = the mean of n
  /// iterates of the chain after burn_in (the official "mean": 20 iterates after 40).
  int64_t average = 0;
  int64_t burn_in = 40;

  template <class F>
  void fields(F&& f) {
    f("iterations", iterations, "Gibbs iterations K >= 1 (PnP-DM commands.sh: 100)");
    f("rho0", rho0, "initial coupling rho0 > 0 (commands.sh: 10)");
    f("decay", decay, "rho decay per iteration, in (0, 1] (commands.sh: 0.9)");
    f("rho_min", rho_min, "rho floor, 0 < rho_min <= rho0 (commands.sh: 0.3 deblur/SR, 0.1 phase retrieval)");
    f("edm_steps", edm_steps, "Karras levels of the prior step's grid, >= 2 (EDM num_steps: 100)");
    f("sigma_max", sigma_max, "largest grid level (EDM: 80)");
    f("sigma_min", sigma_min, "smallest grid level, > 0 (EDM: 0.002)");
    f("start", start, "prior step start: rho (harness) | code (official: first grid level below rho)");
    f("sigma_y", sigma_y, "assumed measurement noise std, model units, > 0; -1 = the operator's sigma_y");
    f("cg_iterations", cg_iterations, "CG iterations without a closed form, >= 1 (50)");
    f("likelihood", likelihood,
      "likelihood step: auto (exact if the operator is linear, else langevin) | exact (Gaussian draw; linear "
      "operators) | langevin (official nonlinear step)");
    f("langevin_steps", langevin_steps, "Langevin likelihood steps per iteration, >= 1 (official: 100)");
    f("langevin_lr", langevin_lr, "Langevin likelihood step size gamma > 0 (official: 1e-4)");
    f("average", average,
      "output: 0 = the last iterate; n > 0 = mean of n iterates after burn_in (official mean: 20), >= 0");
    f("burn_in", burn_in, "average > 0: iterations before the averaged ones, 0 <= burn_in < iterations - 1 (official 40)");
  }
  void validate() const;
  /// The iterations (0-based) whose x the output averages: int(linspace(burn_in, K - 1, average + 1))[1:],
  /// without duplicates; {K - 1} when average = 0.
  std::vector<int64_t> averaged_iterations() const;
  /// rho_k for k = 0..iterations-1.
  std::vector<double> rhos() const;
  /// The prior step's levels at coupling rho (ending with 0).
  std::vector<double> prior_grid(double rho) const;
};

class PnpdmSolver : public Solver {
 public:
  explicit PnpdmSolver(PnpdmOptions options);
  SolveResult solve(const Problem& problem, NoiseStream& noise) const override;
  Requirements requirements() const override {
    // Item-batch safe: per-sample y; closed-form / CG / Langevin data steps per sample (operators/item_batch.h).
    return Requirements::batched(/*linear_operator=*/options_.likelihood == "exact");
  }
  int64_t nfe_per_sample() const override;
  std::string describe() const override;

 private:
  PnpdmOptions options_;
};

}  // namespace ipbench
