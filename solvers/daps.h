#pragma once
// DAPS: Decoupled Annealing Posterior Sampling (Zhang, Chu, Berner, Meng, Anandkumar, Song, CVPR 2025),
// specs/solvers-2.md section 5; official code zhangbingliang2019/DAPS (sampler.py, cores/mcmc.py,
// cores/scheduler.py, configs/sampler/edm_daps.yaml, commands/pixel_ffhq.sh).
//
//   g = Karras(N_A + 1, sigma_max, sigma_min);  sigma_k = g_k (k < N_A), sigma_{N_A} = 0
//   X = sigma_0 z_0                                                        draw 0
//   for k = 0 .. N_A - 1:
//     x0_hat = Euler PF-ODE from X on Karras(N_ode + 1, sigma_k, ode_sigma_min)   (x0_hat = denoise: D(X, sigma_k))
//     r_k^2  = sigma_k^2  (official)   |   prior_sd = s > 0: s^2 sigma_k^2 / (s^2 + sigma_k^2) (harness)
//     x0_step = langevin (official): x = x0_hat; repeat K:
//        x <- x - lr_k [grad_x loss(A(x), y)^2 / (2 tau^2) + (x - x0_hat)/r_k^2] + sqrt(2 lr_k) xi   draw xi
//        lr_k = lr (1 + (k / N_A)(lr_min_ratio - 1))
//     x0_step = hmc (official cores/mcmc.py mc_algo hmc, damped): v = xi_v (draw); repeat K, score = -grad of
//        the same potential:  v <- m v + sqrt(lr_k) score + sqrt(2 (1 - m)) xi;  x <- x + sqrt(lr_k) v   draw xi
//     x0_step = mh (official mc_algo mh, random-walk Metropolis-Hastings): repeat K:
//        x' = x + sqrt(lr_k) xi (draw xi), u (uniform draw, one per sample), accept when log u <
//        [loss(x)^2 - loss(x')^2]/(2 tau^2) + [||x - x0_hat||^2 - ||x' - x0_hat||^2]/(2 r_k^2). No gradient.
//     x0_step = exact (harness; linear A, norm loss): x ~ N(Sigma (A^T y/tau^2 + x0_hat/r^2), Sigma),
//        Sigma = (A^T A/tau^2 + I/r^2)^-1: gaussian_data_step (solvers/linear_algebra.h, shared with PnP-DM):
//        closed form per SVD coefficient or in projector mode (one draw of shape x), else perturb-then-
//        optimise (draws xi1 of shape y, xi2 of shape x; cg_iterations of CG)
//     X = x + sigma_{k+1} z_{k+1}                                          draw (skipped at k = N_A - 1)
//   return X
// loss(A(x), y) is the operator's data fit (||y - A(x)||_2; cross-entropy for torchscript classifiers),
// so the data term is the Gaussian N(y; A x, tau^2 I) of the paper-era LangevinDynamics (spec 5 g).
// NFE per sample = N_A * N_ode (x0_hat = ode) or N_A (denoise). No network gradient.
// Draws per trajectory: 1 + N_A K + (N_A - 1) (langevin; 20,200 for DAPS-1K); hmc: 1 + N_A (K + 1) + (N_A - 1);
// mh: 1 + 2 N_A K + (N_A - 1) (K gaussians and K uniforms per level); exact: 1 + N_A + (N_A - 1) with a
// closed form (SVD, projector), 1 + 2 N_A + (N_A - 1) with CG.
#include "models/schedule.h"
#include "solvers/solver.h"

namespace ipbench {

struct DapsOptions {
  /// 1k: N_A = 200 annealing steps x N_ode = 5 ODE steps (DAPS-1K, commands/pixel_ffhq.sh);
  /// 4k: N_A = 200 x N_ode = 20 (NFE 4000; the repository has no DAPS-4K config, see docs/solvers.md).
  std::string preset = "1k";
  /// Overrides of the preset (0 = from the preset).
  int64_t annealing_steps = 0;
  int64_t ode_steps = 0;
  /// Annealing grid (edm_daps.yaml: 100 -> 0.1, rho 7; the shared KarrasOptions with DAPS's defaults) and
  /// the inner ODE's end (0.01; the inner grid uses the same rho).
  KarrasOptions karras{/*sigma_min=*/0.1, /*sigma_max=*/100.0, /*rho=*/7.0};
  double ode_sigma_min = 0.01;
  /// Langevin: steps K (100), step size lr (1e-4: SR x4, Gaussian deblur, random inpainting; 5e-5: box,
  /// motion deblur, phase retrieval), lr_min_ratio (0.01), likelihood scale tau (0.01).
  int64_t langevin_steps = 100;
  double lr = 1e-4;
  double lr_min_ratio = 0.01;
  double tau = 0.01;
  /// langevin (official) | hmc | mh (the official cores/mcmc.py alternatives) | exact (harness: closed-form
  /// Gaussian x0 draw, linear operators)
  std::string x0_step = "langevin";
  /// x0_step = hmc: momentum m of the damped HMC (official 0.9).
  double momentum = 0.9;
  /// ode (official) | denoise (harness: x0_hat = D(X, sigma_k), exact for Gaussian priors)
  std::string x0_hat = "ode";
  /// 0 = official r_k = sigma_k; s > 0: r_k^2 = s^2 sigma_k^2 / (s^2 + sigma_k^2) (exact for a N(m, s^2) prior)
  double prior_sd = 0.0;
  /// x0_step = exact: CG iterations (fixed count, equal cost per trajectory).
  int64_t cg_iterations = 50;

  template <class F>
  void fields(F&& f) {
    f("preset", preset, "1k (200 annealing x 5 ODE steps, official DAPS-1K) | 4k (200 x 20)");
    f("annealing_steps", annealing_steps, "annealing levels N_A, >= 1; 0 = from the preset");
    f("ode_steps", ode_steps, "Euler PF-ODE steps per level N_ode, >= 1; 0 = from the preset");
    f("sigma_max", karras.sigma_max, "largest annealing level (100)");
    f("sigma_min", karras.sigma_min, "smallest annealing level, 0 < sigma_min < sigma_max (0.1)");
    f("ode_sigma_min", ode_sigma_min, "end level of the inner ODE, > 0 (0.01)");
    f("rho", karras.rho, "Karras exponent of both grids, > 0 (7)");
    f("langevin_steps", langevin_steps, "Langevin steps K per level, >= 1 (100)");
    f("lr", lr, "Langevin step size, > 0 (1e-4; 5e-5 box inpainting, motion blur, phase retrieval)");
    f("lr_min_ratio", lr_min_ratio, "final step size / lr, in (0, 1] (0.01)");
    f("tau", tau, "likelihood std of N(y; A x0, tau^2), > 0 (0.01)");
    f("x0_step", x0_step,
      "langevin (official) | hmc (damped HMC) | mh (random-walk Metropolis-Hastings) | exact (closed-form "
      "Gaussian draw, linear operators)");
    f("momentum", momentum, "x0_step = hmc: momentum in [0, 1) (official 0.9)");
    f("x0_hat", x0_hat, "ode (official) | denoise (x0_hat = D(X, sigma_k))");
    f("prior_sd", prior_sd, "0 = official r_k = sigma_k; > 0: r_k^2 = s^2 sigma_k^2/(s^2 + sigma_k^2)");
    f("cg_iterations", cg_iterations, "x0_step = exact: conjugate-gradient iterations, >= 1 (50)");
  }
  void validate() const;
  int64_t resolved_annealing_steps() const;
  int64_t resolved_ode_steps() const;
};

class DapsSolver : public Solver {
 public:
  explicit DapsSolver(DapsOptions options);
  SolveResult solve(const Problem& problem, NoiseStream& noise) const override;
  Requirements requirements() const override;
  int64_t nfe_per_sample() const override;
  std::string describe() const override;

 private:
  torch::Tensor hmc_x0_step(const Operator& op, const torch::Tensor& y, const torch::Tensor& x0_hat, double r2,
                            double lr, NoiseStream& noise, const std::vector<int64_t>& shape) const;
  torch::Tensor mh_x0_step(const Operator& op, const torch::Tensor& y, const torch::Tensor& x0_hat, double r2,
                           double lr, NoiseStream& noise, const std::vector<int64_t>& shape) const;
  DapsOptions options_;
};

}  // namespace ipbench
