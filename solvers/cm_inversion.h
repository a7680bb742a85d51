#pragma once
// cm_inversion: multistep consistency sampling with every CM input noise optimized by Adam, GAN-inversion
// style ("Proposed II", [XU] sample_cm_optimize_noise; specs/solvers.md section 5).
//
//   t(k) as cm_sample;  tau_0 = clip(t(ts[0]), smin, smax)   (= smax for ts[0] = 0)
//   x = tau_0 z_0, trainable; Adam(lr)                                        draw 0
//   repeat iterations:  x0 = f(x, tau_0);  L = sum_b ||y - A(x0_b)||^2;  step   (per-sample losses, summed)
//   for k = 1 .. len(ts)-2:
//     tau = clip(t(ts[k]), smin, smax);  e = z_k, trainable; Adam(lr_renoise)  draw k
//     repeat iterations:  x0' = f(x0 + sqrt(tau^2 - smin^2) e, tau);  L(x0');  step
//     x0 = the last x0' (evaluated before the last Adam step, as the official code)
//   return clamp(x0, -1, 1)
// The squared L2 loss is summed over the batch, so each sample's gradient is its own (Adam is
// elementwise: the batch optimizes B independent problems). Random draws: z_0 and one z_k per re-noise
// stage (initial values; the optimization is deterministic). NFE per sample: iterations (len(ts) - 1)
// CM evaluations (each a forward and a backward pass).
#include "solvers/common.h"
#include "solvers/solver.h"

namespace ipbench {

struct CmInversionOptions {
  /// Discretization of t(k) (official 40); >= 2.
  int64_t steps = 40;
  /// Increasing indices into t(k) (official 0, 17, 39): one optimized stage per entry but the last.
  std::vector<int64_t> ts = {0, 17, 39};
  /// Adam iterations per stage (official 50).
  int64_t iterations = 50;
  /// Adam learning rate of the initial noise x_T (official 0.1).
  double lr = 0.1;
  /// Adam learning rate of each re-noising noise (official 1e-3).
  double lr_renoise = 1e-3;
  /// Adam's betas and epsilon (PyTorch defaults).
  double beta1 = 0.9;
  double beta2 = 0.999;
  double adam_eps = 1e-8;
  /// The noise range of t(k).
  KarrasOptions karras;
  /// Clamp f and the output to [-1, 1].
  bool clip_denoised = true;
  CmSourceOptions cm;

  template <class F>
  void fields(F&& f) {
    f("steps", steps, "discretization of t(k), >= 2 (official 40)");
    f("ts", ts, "strictly increasing indices in [0, steps-1], >= 2 entries (official 0, 17, 39)");
    f("iterations", iterations, "Adam iterations per stage, >= 1 (official 50)");
    f("lr", lr, "Adam learning rate of x_T, > 0 (official 0.1)");
    f("lr_renoise", lr_renoise, "Adam learning rate of the re-noising noises, > 0 (official 1e-3)");
    f("beta1", beta1, "Adam beta1 in [0, 1) (0.9)");
    f("beta2", beta2, "Adam beta2 in [0, 1) (0.999)");
    f("adam_eps", adam_eps, "Adam epsilon, > 0 (1e-8)");
    karras.fields(f);
    f("clip_denoised", clip_denoised, "clamp f and the output to [-1, 1] (official true)");
    cm.fields(f);
  }
  void validate() const;
};

class CmInversionSolver : public Solver {
 public:
  explicit CmInversionSolver(CmInversionOptions options);
  SolveResult solve(const Problem& problem, NoiseStream& noise) const override;
  Requirements requirements() const override { return cm_requirements(); }
  std::optional<ConsistencySource> consistency_source() const override {
    return options_.cm.source(options_.karras.sigma_min, options_.karras.rho, options_.clip_denoised);
  }
  int64_t nfe_per_sample() const override;
  std::string describe() const override;

 private:
  CmInversionOptions options_;
};

}  // namespace ipbench
