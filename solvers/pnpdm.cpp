#include "solvers/pnpdm.h"

#include <cmath>

#include "core/options.h"
#include "models/consistency.h"
#include "solvers/field_common.h"
#include "solvers/linear_algebra.h"

namespace ipbench {

void PnpdmOptions::validate() const {
  const char* o = "PnpdmOptions";
  check_option(iterations >= 1, o, "iterations", iterations, "iterations >= 1");
  check_option(rho0 > 0 && std::isfinite(rho0), o, "rho0", rho0, "rho0 > 0");
  check_option(decay > 0 && decay <= 1, o, "decay", decay, "0 < decay <= 1");
  check_option(rho_min > 0 && rho_min <= rho0, o, "rho_min", rho_min, "0 < rho_min <= rho0");
  check_option(edm_steps >= 2, o, "edm_steps", edm_steps, "edm_steps >= 2");
  check_option(sigma_min > 0 && std::isfinite(sigma_min), o, "sigma_min", sigma_min, "sigma_min > 0");
  check_option(sigma_max > sigma_min && std::isfinite(sigma_max), o, "sigma_max", sigma_max, "sigma_max > sigma_min");
  check_option(start == "rho" || start == "code", o, "start", start, "start in {rho, code}");
  check_option(sigma_y == -1.0 || (sigma_y > 0 && std::isfinite(sigma_y)), o, "sigma_y", sigma_y,
               "sigma_y > 0 or -1 (the operator's)");
  check_option(cg_iterations >= 1, o, "cg_iterations", cg_iterations, "cg_iterations >= 1");
  check_option(likelihood == "auto" || likelihood == "exact" || likelihood == "langevin", o, "likelihood",
               likelihood, "likelihood in {auto, exact, langevin}");
  check_option(langevin_steps >= 1, o, "langevin_steps", langevin_steps, "langevin_steps >= 1");
  check_option(langevin_lr > 0 && std::isfinite(langevin_lr), o, "langevin_lr", langevin_lr, "langevin_lr > 0");
}

std::vector<double> PnpdmOptions::rhos() const {
  std::vector<double> r;
  for (int64_t k = 0; k < iterations; ++k)
    r.push_back(std::max(rho0 * std::pow(decay, static_cast<double>(k)), rho_min));
  return r;
}

std::vector<double> PnpdmOptions::prior_grid(double rho) const {
  const auto e = karras_sigmas(edm_steps, sigma_min, sigma_max, 7.0);
  std::vector<double> g;
  if (start == "rho") g.push_back(rho);
  for (double v : e)
    if (v < rho) g.push_back(v);
  g.push_back(0.0);
  return g;
}

PnpdmSolver::PnpdmSolver(PnpdmOptions options) : options_(std::move(options)) { options_.validate(); }

int64_t PnpdmSolver::nfe_per_sample() const {
  int64_t n = 0;
  for (double rho : options_.rhos()) n += static_cast<int64_t>(options_.prior_grid(rho).size()) - 1;
  return n;
}

std::string PnpdmSolver::describe() const {
  return str_cat("pnpdm: ", options_.iterations, " iterations, rho ", options_.rho0, " x ", options_.decay,
                 "^k >= ", options_.rho_min, ", start ", options_.start, ", likelihood ", options_.likelihood);
}

SolveResult PnpdmSolver::solve(const Problem& problem, NoiseStream& noise) const {
  const auto& op = problem.op;
  const bool langevin = options_.likelihood == "langevin" || (options_.likelihood == "auto" && !op.linear());
  require(langevin || op.linear(), "solver 'pnpdm': likelihood = exact needs a linear operator; '", op.name(),
          "' is nonlinear (use likelihood = langevin or auto)");
  torch::NoGradGuard no_grad;
  const auto shape = solver_image_shape(problem.prior, "pnpdm");
  const auto opts = problem.y.options();
  const double sy = assumed_sigma_y(options_.sigma_y, op);
  require(sy > 0, "solver 'pnpdm' needs sigma_y > 0 (operator '", op.name(),
          "' is noiseless; set the solver's sigma_y)");
  std::vector<int64_t> bshape{noise.batch_size()};
  bshape.insert(bshape.end(), shape.begin(), shape.end());
  // The official operator.initialize: 0 for the linear tasks, N(0, I) for phase retrieval.
  torch::Tensor x = op.linear() ? torch::zeros(bshape, opts) : noise.gaussian(shape).to(opts);
  for (double rho : options_.rhos()) {
    x = langevin ? langevin_data_step(op, problem.y, x, sy, rho * rho, options_.langevin_lr, options_.langevin_steps,
                                      noise)
                 : gaussian_data_step(op, problem.y, x, sy, rho, noise, options_.cg_iterations);
    const auto grid = options_.prior_grid(rho);
    for (size_t i = 0; i + 1 < grid.size(); ++i) {
      const double s = grid[i], sn = grid[i + 1];
      x = x + (sn - s) * 2.0 * (x - denoise_at(problem.prior, x, s)) / s;
      if (sn > 0) x = x + std::sqrt(2 * s * (s - sn)) * noise.gaussian(shape).to(opts);
    }
  }
  SolveResult result;
  result.x = x;
  result.status = finite_status(result.x);
  result.nfe = nfe_per_sample();
  result.used = str_cat(describe(), ", sigma_y ", sy, ", likelihood step ",
                        langevin ? str_cat("langevin (", options_.langevin_steps, " x ", options_.langevin_lr, ")")
                                 : data_step_mode(op));
  return result;
}

}  // namespace ipbench
