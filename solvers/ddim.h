#pragma once
// ddim: unconditional DDIM sampling with eta (Song, Meng & Ermon 2021; specs/solvers.md 0.4) on the
// respaced chain of solvers/ddpm_chain.h (a baseline: it ignores the measurement).
//
//   x = z_T                                                                 draw 0
//   for k = n-1 .. 0:  (a = abar_k, a' = abar_{k-1}, abar_{-1} = 1)
//     x0  = [clamp](D(x / sqrt(a), sigma_k));  eps = (x - sqrt(a) x0)/sqrt(1 - a)
//     s   = eta sqrt((1 - a')/(1 - a)) sqrt(1 - a/a')
//     x   = sqrt(a') x0 + sqrt(1 - a' - s^2) eps + s z_k                     draw z_k (s = 0: skipped)
// At k = 0 (a' = 1) s = 0, so x = x0; with eta = 0 every z_k is skipped (deterministic given z_T).
#include "models/schedule.h"
#include "solvers/solver.h"

namespace ipbench {

struct DdimOptions {
  /// Respaced steps = NFE, 1..T.
  int64_t steps = 100;
  /// Stochasticity: 0 = deterministic DDIM, 1 = DDPM-like variance.
  double eta = 0.0;
  /// Clamp x0_hat to [-1, 1] (guided_diffusion's default).
  bool clip_denoised = true;
  /// Linear beta schedule of the chain.
  VpScheduleOptions vp;

  template <class F>
  void fields(F&& f) {
    f("steps", steps, "respaced DDIM steps = NFE, 1..T");
    f("eta", eta, "stochasticity in [0, 1] (0 = deterministic)");
    f("clip_denoised", clip_denoised, "clamp x0_hat to [-1, 1]");
    vp.fields(f);
  }
  void validate() const;
};

class DdimSolver : public Solver {
 public:
  explicit DdimSolver(DdimOptions options);
  SolveResult solve(const Problem& problem, NoiseStream& noise) const override;
  /// Item-batch safe: ignores the measurement.
  Requirements requirements() const override { return ddim_requirements(); }
  int64_t nfe_per_sample() const override { return options_.steps; }
  std::string describe() const override;
  static Requirements ddim_requirements() {
    return Requirements::batched();
  }

 private:
  DdimOptions options_;
};

}  // namespace ipbench
