#include "solvers/diffpir.h"

#include <cmath>

#include "core/options.h"
#include "models/schedule.h"
#include "solvers/field_common.h"
#include "solvers/linear_algebra.h"

namespace ipbench {

void DiffpirOptions::validate() const {
  const char* o = "DiffpirOptions";
  check_option(steps >= 2 && steps <= 1000, o, "steps", steps, "2 <= steps <= 1000");
  check_option(zeta >= 0 && zeta <= 1, o, "zeta", zeta, "0 <= zeta <= 1");
  check_option(lambda > 0 && std::isfinite(lambda), o, "lambda", lambda, "lambda > 0");
  check_option(sigma_y == -1.0 || (sigma_y >= 0 && std::isfinite(sigma_y)), o, "sigma_y", sigma_y,
               "sigma_y >= 0 or -1 (the operator's)");
  check_option(cg_iterations >= 1, o, "cg_iterations", cg_iterations, "cg_iterations >= 1");
}

std::vector<double> diffpir_sigmas(int64_t steps) {
  const auto schedule = VpSchedule::linear(1000);
  std::vector<double> s;
  for (int64_t k = 0; k < steps; ++k) {
    auto seq = static_cast<int64_t>(1000.0 * std::sqrt(static_cast<double>(k) / static_cast<double>(steps - 1)));
    if (k == steps - 1) seq -= 1;
    s.push_back(schedule.sigma(999 - seq));
  }
  return s;
}

DiffpirSolver::DiffpirSolver(DiffpirOptions options) : options_(std::move(options)) { options_.validate(); }

std::string DiffpirSolver::describe() const {
  return str_cat("diffpir: ", options_.steps, " points, zeta ", options_.zeta, ", lambda ", options_.lambda);
}

SolveResult DiffpirSolver::solve(const Problem& problem, NoiseStream& noise) const {
  const auto& op = problem.op;
  require(op.linear(), "solver 'diffpir' needs a linear operator; '", op.name(), "' is nonlinear");
  torch::NoGradGuard no_grad;
  const auto shape = solver_image_shape(problem.prior, "diffpir");
  const auto opts = problem.y.options();
  const double sy = assumed_sigma_y(options_.sigma_y, op);
  const auto sig = diffpir_sigmas(options_.steps);
  const double zeta = options_.zeta;
  torch::Tensor x = sig.front() * noise.gaussian(shape).to(opts);  // z_0
  for (size_t k = 0; k + 1 < sig.size(); ++k) {
    auto x0 = denoise_at(problem.prior, x, sig[k]);
    if (options_.clip) x0 = x0.clamp(-1, 1);
    const double rho = options_.lambda * sy * sy / (sig[k] * sig[k]);
    x0 = least_squares_prox(op, problem.y, x0, 1.0, rho, options_.cg_iterations);
    const auto eps = (x - x0) / sig[k];
    if (zeta > 0) {
      x = x0 + sig[k + 1] * (std::sqrt(1 - zeta) * eps + std::sqrt(zeta) * noise.gaussian(shape).to(opts));
    } else {
      noise.skip();  // zeta = 0: weight 0
      x = x0 + sig[k + 1] * eps;
    }
  }
  SolveResult result;
  result.x = x;
  result.status = finite_status(result.x);
  result.nfe = options_.steps - 1;
  result.used = str_cat("diffpir ", options_.steps, " quad points, zeta ", zeta, ", lambda ", options_.lambda,
                        ", sigma_y ", sy, ", data step ", data_step_mode(op));
  return result;
}

}  // namespace ipbench
