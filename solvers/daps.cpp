#include "solvers/daps.h"

#include <cmath>

#include "core/options.h"
#include "solvers/common.h"
#include "solvers/linear_algebra.h"

namespace ipbench {

void DapsOptions::validate() const {
  const char* o = "DapsOptions";
  check_option(preset == "1k" || preset == "4k", o, "preset", preset, "preset is 1k or 4k");
  check_option(annealing_steps >= 0, o, "annealing_steps", annealing_steps, "annealing_steps >= 1 (0 = preset)");
  check_option(ode_steps >= 0, o, "ode_steps", ode_steps, "ode_steps >= 1 (0 = preset)");
  karras.validate(o);
  check_option(ode_sigma_min > 0, o, "ode_sigma_min", ode_sigma_min, "ode_sigma_min > 0");
  check_option(langevin_steps >= 1, o, "langevin_steps", langevin_steps, "langevin_steps >= 1");
  check_option(lr > 0 && std::isfinite(lr), o, "lr", lr, "lr > 0 (Langevin step size)");
  check_option(lr_min_ratio > 0 && lr_min_ratio <= 1, o, "lr_min_ratio", lr_min_ratio, "0 < lr_min_ratio <= 1");
  check_option(tau > 0 && std::isfinite(tau), o, "tau", tau, "tau > 0");
  check_option(x0_step == "langevin" || x0_step == "hmc" || x0_step == "mh" || x0_step == "exact", o, "x0_step",
               x0_step, "x0_step is langevin, hmc, mh or exact");
  check_option(momentum >= 0 && momentum < 1, o, "momentum", momentum, "0 <= momentum < 1");
  check_option(x0_hat == "ode" || x0_hat == "denoise", o, "x0_hat", x0_hat, "x0_hat is ode or denoise");
  check_option(prior_sd >= 0 && std::isfinite(prior_sd), o, "prior_sd", prior_sd, "prior_sd >= 0 (0 = official r = sigma)");
  check_option(cg_iterations >= 1, o, "cg_iterations", cg_iterations, "cg_iterations >= 1");
}

int64_t DapsOptions::resolved_annealing_steps() const { return annealing_steps > 0 ? annealing_steps : 200; }
int64_t DapsOptions::resolved_ode_steps() const {
  return ode_steps > 0 ? ode_steps : (preset == "4k" ? 20 : 5);
}

DapsSolver::DapsSolver(DapsOptions options) : options_(std::move(options)) { options_.validate(); }

Requirements DapsSolver::requirements() const {
  // Item-batch safe: per-sample y, per-sample data fit and data steps (operators/item_batch.h).
  return Requirements::batched(/*linear_operator=*/options_.x0_step == "exact");
}

int64_t DapsSolver::nfe_per_sample() const {
  return options_.resolved_annealing_steps() * (options_.x0_hat == "ode" ? options_.resolved_ode_steps() : 1);
}

std::string DapsSolver::describe() const {
  return str_cat("daps: ", options_.resolved_annealing_steps(), " annealing levels ", options_.karras.sigma_max, " -> ",
                 options_.karras.sigma_min, ", x0_hat ", options_.x0_hat,
                 options_.x0_hat == "ode" ? str_cat(" (", options_.resolved_ode_steps(), " Euler steps)") : std::string(),
                 ", x0 step ", options_.x0_step,
                 options_.x0_step == "exact"
                     ? std::string()
                     : str_cat(" (K ", options_.langevin_steps, ", lr ", options_.lr, " -> x", options_.lr_min_ratio,
                               options_.x0_step == "hmc" ? str_cat(", momentum ", options_.momentum) : std::string(),
                               ")"),
                 ", tau ", options_.tau, options_.prior_sd > 0 ? str_cat(", prior_sd ", options_.prior_sd) : std::string());
}

// Damped HMC (cores/mcmc.py mc_update, mc_algo = hmc) on U(x) = ||y - A(x)||^2/(2 tau^2) + ||x - x0_hat||^2/(2 r2).
torch::Tensor DapsSolver::hmc_x0_step(const Operator& op, const torch::Tensor& y, const torch::Tensor& x0_hat,
                                      double r2, double lr, NoiseStream& noise,
                                      const std::vector<int64_t>& shape) const {
  const auto opts = x0_hat.options();
  const double step = std::sqrt(lr), m = options_.momentum, kick = std::sqrt(2.0 * (1.0 - m));
  torch::NoGradGuard no_grad;
  auto v = noise.gaussian(shape).to(opts);  // mc_prepare: the initial velocity
  auto x = x0_hat;
  for (int64_t j = 0; j < options_.langevin_steps; ++j) {
    const auto score = -(data_fit_gradient(op, x, y, options_.tau) + (x - x0_hat) / r2);
    v = m * v + step * score + kick * noise.gaussian(shape).to(opts);
    x = x + step * v;
  }
  return x;
}

// Random-walk Metropolis-Hastings (cores/mcmc.py sample_mh) on the same target; one uniform per sample.
torch::Tensor DapsSolver::mh_x0_step(const Operator& op, const torch::Tensor& y, const torch::Tensor& x0_hat,
                                     double r2, double lr, NoiseStream& noise,
                                     const std::vector<int64_t>& shape) const {
  const auto opts = x0_hat.options();
  const double tau2 = options_.tau * options_.tau;
  torch::NoGradGuard no_grad;
  auto x = x0_hat;
  auto energy = [&](const torch::Tensor& v) {  // -log target, per sample [B]
    return data_fit_squared(op, v, y) / (2.0 * tau2) + (v - x0_hat).square().flatten(1).sum(1) / (2.0 * r2);
  };
  auto e = energy(x);
  std::vector<int64_t> per_sample(x.dim(), 1);  // [B, 1, 1, 1]: one decision per sample
  per_sample[0] = x.size(0);
  for (int64_t j = 0; j < options_.langevin_steps; ++j) {
    const auto proposal = x + std::sqrt(lr) * noise.gaussian(shape).to(opts);
    const auto e_new = energy(proposal);
    const auto u = noise.uniform({}).to(opts);  // [B]
    const auto accept = u.log() < (e - e_new);
    x = torch::where(accept.view(per_sample), proposal, x);
    e = torch::where(accept, e_new, e);
  }
  return x;
}

SolveResult DapsSolver::solve(const Problem& problem, NoiseStream& noise) const {
  const auto shape = problem.prior.image_shape();
  TORCH_CHECK(!shape.empty(), "DAPS needs a prior with a fixed image shape");
  const bool exact = options_.x0_step == "exact";
  require(!exact || problem.op.linear(), "daps: x0_step = exact needs a linear operator; '", problem.op.name(),
          "' is nonlinear (use x0_step = langevin)");
  const auto opts = problem.y.options();
  const int64_t NA = options_.resolved_annealing_steps(), Node = options_.resolved_ode_steps();
  const double s2 = options_.prior_sd * options_.prior_sd;
  const auto& op = problem.op;
  auto sigma_k = [&](int64_t k) {  // Karras(N_A + 1, sigma_max, sigma_min); sigma_{N_A} = 0
    return k >= NA ? 0.0 : options_.karras.time(k, NA + 1);
  };

  torch::Tensor X;
  {
    torch::NoGradGuard ng;
    X = sigma_k(0) * noise.gaussian(shape).to(opts);  // z_0
  }
  for (int64_t k = 0; k < NA; ++k) {
    const double sigma = sigma_k(k);
    torch::Tensor x0_hat;
    {
      torch::NoGradGuard ng;
      if (options_.x0_hat == "denoise") {
        x0_hat = problem.prior.denoise(X, sigma_like(X, sigma));
      } else {  // Euler PF-ODE on Karras(N_ode + 1, sigma, ode_sigma_min), ends at ode_sigma_min
        auto x = X;
        for (int64_t i = 0; i < Node; ++i) {
          const double h = karras_time(i, Node + 1, options_.ode_sigma_min, sigma, options_.karras.rho);
          const double h_next = karras_time(i + 1, Node + 1, options_.ode_sigma_min, sigma, options_.karras.rho);
          x = x + (h_next - h) * (x - problem.prior.denoise(x, sigma_like(x, h))) / h;
        }
        x0_hat = x;
      }
    }
    const double r2 = s2 > 0 ? s2 * sigma * sigma / (s2 + sigma * sigma) : sigma * sigma;
    torch::Tensor x;
    if (exact) {
      torch::NoGradGuard ng;
      x = gaussian_data_step(op, problem.y, x0_hat, options_.tau, std::sqrt(r2), noise, options_.cg_iterations);
    } else {
      const double lr_k = options_.lr * (1.0 + static_cast<double>(k) / NA * (options_.lr_min_ratio - 1.0));
      if (options_.x0_step == "langevin") {
        x = langevin_data_step(op, problem.y, x0_hat, options_.tau, r2, lr_k, options_.langevin_steps, noise);
      } else if (options_.x0_step == "hmc") {
        x = hmc_x0_step(op, problem.y, x0_hat, r2, lr_k, noise, shape);
      } else {
        x = mh_x0_step(op, problem.y, x0_hat, r2, lr_k, noise, shape);
      }
    }
    torch::NoGradGuard ng;
    if (k + 1 < NA) {
      X = x + sigma_k(k + 1) * noise.gaussian(shape).to(opts);
    } else {
      noise.skip();  // sigma_{N_A} = 0: weight 0
      X = x;
    }
  }
  SolveResult result;
  result.x = X.detach();
  result.status = finite_status(result.x);
  result.nfe = nfe_per_sample();
  result.used = describe();
  return result;
}

}  // namespace ipbench
