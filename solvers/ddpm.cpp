#include "solvers/ddpm.h"

namespace ipbench {

DdpmSolver::DdpmSolver(DdpmChainOptions options) : options_(std::move(options)) { options_.validate(); }

std::string DdpmSolver::describe() const {
  return str_cat("ddpm (unconditional): ", options_.steps, " of ", options_.vp.T, " steps, variance ", options_.variance);
}

SolveResult DdpmSolver::solve(const Problem& problem, NoiseStream& noise) const {
  SolveResult result;
  result.x = ddpm_sample(problem.prior, noise, options_, problem.y.scalar_type(), problem.y.device());
  result.status = finite_status(result.x);
  result.nfe = options_.steps;
  result.used = describe();
  return result;
}

}  // namespace ipbench
