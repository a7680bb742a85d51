#pragma once
// `ddpm`: unconditional DDPM ancestral sampling (a baseline: it ignores the measurement).
//
// Used to check a prior (its samples' statistics), for the antithetic paper's unconditional
// pixel-statistics study, and by `ipbench train` for sample grids. Random draws as DPS: z_T and
// z_k, k = n-1..1.
#include "solvers/ddpm_chain.h"
#include "solvers/solver.h"

namespace ipbench {

class DdpmSolver : public Solver {
 public:
  explicit DdpmSolver(DdpmChainOptions options);
  SolveResult solve(const Problem& problem, NoiseStream& noise) const override;
  /// Item-batch safe: ignores the measurement.
  Requirements requirements() const override { return ddpm_requirements(); }
  int64_t nfe_per_sample() const override { return options_.steps; }
  std::string describe() const override;
  static Requirements ddpm_requirements() {
    return Requirements::batched();
  }

 private:
  DdpmChainOptions options_;
};

}  // namespace ipbench
