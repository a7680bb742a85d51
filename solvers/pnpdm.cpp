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
  check_option(average >= 0, o, "average", average, "average >= 0 (0: the last iterate)");
  check_option(average == 0 || (burn_in >= 0 && burn_in < iterations - 1), o, "burn_in", burn_in,
               "0 <= burn_in < iterations - 1 when average > 0");
}

std::vector<int64_t> PnpdmOptions::averaged_iterations() const {
  if (average == 0) return {iterations - 1};
  // numpy.linspace(burn_in, K - 1, n + 1, dtype=int)[1:]: start + i step, the end exact, truncated.
  const double start = static_cast<double>(burn_in), stop = static_cast<double>(iterations - 1);
  const double step = (stop - start) / static_cast<double>(average);
  std::vector<int64_t> ks;
  for (int64_t i = 1; i <= average; ++i) {
    const int64_t k = i == average ? iterations - 1 : static_cast<int64_t>(static_cast<double>(i) * step + start);
    if (ks.empty() || ks.back() != k) ks.push_back(k);
  }
  return ks;
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
                 "^k >= ", options_.rho_min, ", start ", options_.start, ", likelihood ", options_.likelihood,
                 options_.average > 0 ? str_cat(", output the mean of ", options_.averaged_iterations().size(),
                                                " iterates after ", options_.burn_in)
                                      : std::string());
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
  const auto averaged = options_.averaged_iterations();
  torch::Tensor sum;
  size_t next = 0;  // the next entry of `averaged`
  const auto rhos = options_.rhos();
  for (int64_t k = 0; k < static_cast<int64_t>(rhos.size()); ++k) {
    const double rho = rhos[static_cast<size_t>(k)];
    x = langevin ? langevin_data_step(op, problem.y, x, sy, rho * rho, options_.langevin_lr, options_.langevin_steps,
                                      noise)
                 : gaussian_data_step(op, problem.y, x, sy, rho, noise, options_.cg_iterations);
    const auto grid = options_.prior_grid(rho);
    for (size_t i = 0; i + 1 < grid.size(); ++i) {
      const double s = grid[i], sn = grid[i + 1];
      x = x + (sn - s) * 2.0 * (x - denoise_at(problem.prior, x, s)) / s;
      if (sn > 0) x = x + std::sqrt(2 * s * (s - sn)) * noise.gaussian(shape).to(opts);
    }
    if (next < averaged.size() && averaged[next] == k) {
      sum = sum.defined() ? sum + x : x;
      ++next;
    }
  }
  SolveResult result;
  result.x = averaged.size() == 1 ? sum : sum / static_cast<double>(averaged.size());
  result.status = finite_status(result.x);
  result.nfe = nfe_per_sample();
  result.used = str_cat(describe(), ", sigma_y ", sy, ", likelihood step ",
                        langevin ? str_cat("langevin (", options_.langevin_steps, " x ", options_.langevin_lr, ")")
                                 : data_step_mode(op));
  return result;
}

}  // namespace ipbench
