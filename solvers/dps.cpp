#include "solvers/dps.h"

#include <cmath>

#include "core/options.h"
#include "models/schedule.h"

namespace ipbench {

void DpsOptions::validate() const {
  check_option(zeta > 0 && std::isfinite(zeta), "DpsOptions", "zeta", zeta, "zeta > 0");
  check_option(T >= 2, "DpsOptions", "T", T, "T >= 2");
  check_option(steps >= 1 && steps <= T, "DpsOptions", "steps", steps, "1 <= steps <= T");
  check_option(variance == "auto" || variance == "learned_range" || variance == "fixed_small" ||
                   variance == "fixed_large",
               "DpsOptions", "variance", variance, "one of auto, learned_range, fixed_small, fixed_large");
  check_option(beta_start > 0 && beta_start < beta_end && beta_end < 1, "DpsOptions", "beta_start", beta_start,
               "0 < beta_start < beta_end < 1");
}

DpsSolver::DpsSolver(DpsOptions options) : options_(std::move(options)) { options_.validate(); }

std::string DpsSolver::describe() const {
  return str_cat("dps: zeta ", options_.zeta, ", ", options_.steps, " of ", options_.T, " steps, variance ",
                 options_.variance, options_.clip_denoised ? ", clip" : "");
}

namespace {

// Coefficients of one step of the respaced chain (specs/solvers.md 0.3), all float64.
struct StepCoefficients {
  double abar, sigma, coef_x0, coef_xt, log_beta, log_btilde_clipped, noise_weight_fixed_large;
};

std::vector<StepCoefficients> respaced_coefficients(const VpSchedule& schedule, int64_t steps) {
  const auto ts = schedule.respaced_timesteps(steps);
  const int64_t n = static_cast<int64_t>(ts.size());
  std::vector<StepCoefficients> c(n);
  std::vector<double> beta(n), btilde(n);
  for (int64_t k = 0; k < n; ++k) {
    const double abar = schedule.abar(ts[k]);
    const double abar_prev = k == 0 ? 1.0 : schedule.abar(ts[k - 1]);
    beta[k] = 1.0 - abar / abar_prev;
    btilde[k] = beta[k] * (1.0 - abar_prev) / (1.0 - abar);
    c[k].abar = abar;
    c[k].sigma = std::sqrt((1.0 - abar) / abar);
    c[k].coef_x0 = beta[k] * std::sqrt(abar_prev) / (1.0 - abar);
    c[k].coef_xt = (1.0 - abar_prev) * std::sqrt(1.0 - beta[k]) / (1.0 - abar);
    c[k].log_beta = std::log(beta[k]);
  }
  // guided_diffusion: log([btilde_1, btilde_1, btilde_2, ...]) and [btilde_1, beta_1, beta_2, ...].
  for (int64_t k = 0; k < n; ++k) {
    const double bt = (k == 0 && n > 1) ? btilde[1] : btilde[k];
    c[k].log_btilde_clipped = std::log(std::max(bt, 1e-20));
    c[k].noise_weight_fixed_large = k == 0 && n > 1 ? btilde[1] : beta[k];
  }
  return c;
}

// Per-sample L2 data-fit norm ||y - A(x0)||_2: [B].
torch::Tensor data_fit(const Operator& op, const torch::Tensor& x0, const torch::Tensor& y) {
  auto r = (y - op.forward(x0)).flatten(1);
  return r.pow(2).sum(1).sqrt();
}

std::vector<SampleStatus> finite_status(const torch::Tensor& x) {
  auto ok = torch::isfinite(x).flatten(1).all(1).to(torch::kCPU);
  std::vector<SampleStatus> status(ok.size(0));
  auto acc = ok.accessor<bool, 1>();
  for (int64_t b = 0; b < ok.size(0); ++b) status[b] = acc[b] ? SampleStatus::kOk : SampleStatus::kNonFinite;
  return status;
}

}  // namespace

SolveResult DpsSolver::solve(const Problem& problem, NoiseStream& noise) const {
  const auto schedule = VpSchedule::linear(options_.T, options_.beta_start, options_.beta_end);
  const auto coef = respaced_coefficients(schedule, options_.steps);
  const auto& y = problem.y;
  const int64_t B = noise.batch_size();
  auto shape = problem.prior.image_shape();
  TORCH_CHECK(!shape.empty(), "DPS needs a prior with a fixed image shape");
  const auto opts = y.options();

  std::string used_variance = options_.variance;
  torch::Tensor x = noise.gaussian(shape).to(opts);  // z_T
  for (int64_t k = static_cast<int64_t>(coef.size()) - 1; k >= 0; --k) {
    const auto& c = coef[k];
    x.requires_grad_(true);
    auto sigma = torch::full({B}, c.sigma, opts);
    Prediction pred = problem.prior.predict(x / std::sqrt(c.abar), sigma);
    auto x0 = options_.clip_denoised ? pred.x0.clamp(-1.0, 1.0) : pred.x0;
    auto loss = data_fit(problem.op, x0, y);
    auto grad = torch::autograd::grad({loss.sum()}, {x})[0];

    torch::NoGradGuard no_grad;
    auto mean = c.coef_x0 * x0.detach() + c.coef_xt * x.detach();
    if (used_variance == "auto") used_variance = pred.var_frac.defined() ? "learned_range" : "fixed_small";
    torch::Tensor std_dev;
    if (used_variance == "learned_range") {
      TORCH_CHECK(pred.var_frac.defined(), "variance = learned_range needs a prior with a learned variance");
      auto frac = (pred.var_frac.detach() + 1.0) / 2.0;
      std_dev = torch::exp(0.5 * (frac * c.log_beta + (1.0 - frac) * c.log_btilde_clipped));
    } else {
      const double logvar =
          used_variance == "fixed_small" ? c.log_btilde_clipped : std::log(c.noise_weight_fixed_large);
      std_dev = torch::full({1}, std::exp(0.5 * logvar), opts);
    }
    torch::Tensor xp = mean;
    if (k > 0) xp = mean + std_dev * noise.gaussian(shape).to(opts);
    else noise.skip();  // the k = 0 draw has weight 0
    x = (xp - options_.zeta * grad).detach();
  }

  SolveResult result;
  result.status = finite_status(x);
  result.x = x;
  result.nfe = options_.steps;
  result.used = str_cat("dps steps ", options_.steps, ", variance ", used_variance, ", zeta ", options_.zeta);
  return result;
}

}  // namespace ipbench
