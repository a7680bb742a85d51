#pragma once
// cm_sample: unconditional multistep consistency sampling (Song et al. 2023, Alg. 3; [XU]/openai
// stochastic_iterative_sampler; specs/solvers.md 0.7). Ignores the measurement: a baseline, and the
// sampler of the antithetic paper's pixel-statistics study.
//
//   t(k) = (smax^(1/rho) + k/(steps-1) (smin^(1/rho) - smax^(1/rho)))^rho
//   x = t(ts[0]) z_0                                                    draw 0 (openai: smax z; ts[0] = 0 gives smax)
//   for i = 0 .. len(ts)-2:
//     x0 = f(x, t(ts[i]));  tn = clip(t(ts[i+1]), smin, smax)
//     x  = x0 + sqrt(tn^2 - smin^2) z_{i+1}                            draw i+1 (weight 0 when tn = smin: skipped)
//   return x
// With ts = [0, steps-1] it is one-step generation f(smax z, smax). NFE: (len(ts) - 1) CM evaluations.
#include "solvers/common.h"
#include "solvers/solver.h"

namespace ipbench {

struct CmSampleOptions {
  /// Discretization of t(k) (openai: 40 for CD, 151 for CT); >= 2.
  int64_t steps = 40;
  /// Increasing indices into t(k); one CM evaluation per entry but the last (openai bedroom: 0, 17, 39).
  std::vector<int64_t> ts = {0, 17, 39};
  /// The noise range of t(k).
  KarrasOptions karras;
  /// Clamp f to [-1, 1].
  bool clip_denoised = true;
  CmSourceOptions cm;

  template <class F>
  void fields(F&& f) {
    f("steps", steps, "discretization of t(k), >= 2 (openai CD: 40)");
    f("ts", ts, "strictly increasing indices in [0, steps-1], >= 2 entries (0, 17, 39)");
    karras.fields(f);
    f("clip_denoised", clip_denoised, "clamp f to [-1, 1] (official true)");
    cm.fields(f);
  }
  void validate() const;
};

class CmSampleSolver : public Solver {
 public:
  explicit CmSampleSolver(CmSampleOptions options);
  SolveResult solve(const Problem& problem, NoiseStream& noise) const override;
  Requirements requirements() const override { return cm_requirements(); }
  std::optional<ConsistencySource> consistency_source() const override {
    return options_.cm.source(options_.karras.sigma_min, options_.karras.rho, options_.clip_denoised);
  }
  int64_t nfe_per_sample() const override;
  std::string describe() const override;

 private:
  CmSampleOptions options_;
};

}  // namespace ipbench
