#pragma once
// EnKG: derivative-free Ensemble Kalman Guidance (Zheng et al. 2024), specs/solvers-2.md section 9; read from
// InverseBench's port algo/enkg.py and configs/algorithm/enkg.yaml (the official enkg-pytorch was not read).
// Needs only forward evaluations G(x) = A(x0(x)) of the operator: black-box operators are fine.
//
// Every returned sample (trajectory) runs its OWN ensemble of J members inside the solver (draws of shape
// [J, C, H, W] per trajectory), so the statistical unit is one ensemble and every noise design applies
// (antithetic: the whole initial ensemble negated). The sample returned is member 0 (output = member) or
// the ensemble mean (output = mean). [IB] returns all J members of one ensemble instead; members are
// coupled through C, so they are not independent samples (spec 9 g).
//   X = sigma_max Z                                                          draw 0, [J, d] per trajectory
//   e = Karras(steps, sigma_max, sigma_min) ++ [0]
//   for i = 0 .. steps-1:
//     if i > threshold: repeat num_updates:
//        n_i = min(1 + (steps - i) // factor, max_ode_steps); x0_j = Euler PF-ODE on Karras(n_i, e_i, sigma_min) ++ [0]
//        G_j = A(x0_j);  C_jk = <G_j - y, G_k - mean G> / J                 (J x J per ensemble)
//        X_j <- X_j - (gamma / ||C||_F) sum_k C_jk (X_k - mean X)
//     X <- X + (e_{i+1} - e_i)(X - D(X, e_i)) / e_i                          (Euler PF-ODE step)
// NFE per member = steps + num_updates * sum_{i > threshold} n_i (958 at the defaults); NFE per returned
// sample = J times that. One draw per trajectory. Not exact for any prior (spec 9 f).
#include "models/schedule.h"
#include "solvers/solver.h"

namespace ipbench {

struct EnkgOptions {
  /// Ensemble members J per trajectory (enkg.yaml: 2048; CPU benchmarks use far fewer); >= 2.
  int64_t ensemble = 2048;
  /// Guidance step gamma (2.0) and updates per guided step (2).
  double gamma = 2.0;
  int64_t num_updates = 2;
  /// PF-ODE steps (80) on Karras(steps, sigma_max = 80, sigma_min = 0.002, rho = 7) ++ [0]: the shared
  /// KarrasOptions (whose defaults are enkg.yaml's).
  int64_t steps = 80;
  KarrasOptions karras;
  /// Guidance at steps i > threshold (0.1, i.e. every step but the first).
  double threshold = 0.1;
  /// Inner ODE length n_i = min(1 + (steps - i) // factor, max_ode_steps) (8, 20).
  int64_t factor = 8;
  int64_t max_ode_steps = 20;
  /// member (member 0 of the ensemble) | mean (ensemble mean)
  std::string output = "member";

  template <class F>
  void fields(F&& f) {
    f("ensemble", ensemble, "ensemble members J per returned sample, >= 2 (official 2048)");
    f("gamma", gamma, "guidance step, > 0 (2.0)");
    f("num_updates", num_updates, "ensemble updates per guided step, >= 1 (2)");
    f("steps", steps, "Euler PF-ODE steps, >= 2 (80)");
    karras.fields(f);
    f("threshold", threshold, "guidance at steps i > threshold, >= 0 (0.1)");
    f("factor", factor, "inner ODE length n_i = min(1 + (steps - i) // factor, max_ode_steps), >= 1 (8)");
    f("max_ode_steps", max_ode_steps, "cap of the inner ODE length, >= 1 (20)");
    f("output", output, "member (member 0 of the ensemble) | mean (ensemble mean)");
  }
  void validate() const;
  /// Denoiser calls per ensemble member.
  int64_t nfe_per_member() const;
};

class EnkgSolver : public Solver {
 public:
  explicit EnkgSolver(EnkgOptions options);
  SolveResult solve(const Problem& problem, NoiseStream& noise) const override;
  Requirements requirements() const override { return enkg_requirements(); }
  int64_t nfe_per_sample() const override { return options_.ensemble * options_.nfe_per_member(); }
  std::string describe() const override;
  /// Item-batch safe: members [B J] sample-major through the operator's forward, each ensemble against
  /// its own sample's y (operators/item_batch.h).
  static Requirements enkg_requirements() {
    return Requirements::batched();
  }

 private:
  EnkgOptions options_;
};

}  // namespace ipbench
