#include "solvers/ddpm_chain.h"

#include <cmath>

#include "core/options.h"
#include "models/schedule.h"

namespace ipbench {

void DdpmChainOptions::validate() const {
  const char* o = "DdpmChainOptions";
  vp.validate(o);
  check_option(steps >= 1 && steps <= vp.T, o, "steps", steps, "1 <= steps <= T");
  check_option(variance == "auto" || variance == "learned_range" || variance == "fixed_small" ||
                   variance == "fixed_large",
               o, "variance", variance, "one of auto, learned_range, fixed_small, fixed_large");
}

DdpmChain::DdpmChain(DdpmChainOptions options) : options_(std::move(options)) {
  options_.validate();
  const auto schedule = options_.vp.schedule();
  const auto ts = schedule.respaced_timesteps(options_.steps);
  const size_t n = ts.size();
  steps_.resize(n);
  std::vector<double> beta(n), btilde(n);
  for (size_t k = 0; k < n; ++k) {
    const double abar = schedule.abar(ts[k]);
    const double abar_prev = k == 0 ? 1.0 : schedule.abar(ts[k - 1]);
    beta[k] = 1.0 - abar / abar_prev;
    btilde[k] = beta[k] * (1.0 - abar_prev) / (1.0 - abar);
    Step& s = steps_[k];
    s.abar = abar;
    s.sigma = std::sqrt((1.0 - abar) / abar);
    s.coef_x0 = beta[k] * std::sqrt(abar_prev) / (1.0 - abar);
    s.coef_xt = (1.0 - abar_prev) * std::sqrt(1.0 - beta[k]) / (1.0 - abar);
    s.log_beta = std::log(beta[k]);
  }
  // guided_diffusion: log([btilde_1, btilde_1, btilde_2, ...]) and log([btilde_1, beta_1, beta_2, ...]).
  for (size_t k = 0; k < n; ++k) {
    const double bt = (k == 0 && n > 1) ? btilde[1] : btilde[k];
    steps_[k].log_btilde_clipped = std::log(std::max(bt, 1e-20));
    steps_[k].log_fixed_large = std::log(k == 0 && n > 1 ? btilde[1] : beta[k]);
  }
}

std::string DdpmChain::variance_used(bool learned) const {
  if (options_.variance != "auto") return options_.variance;
  return learned ? "learned_range" : "fixed_small";
}

Prediction DdpmChain::denoise(const Denoiser& prior, const torch::Tensor& x, int64_t k) const {
  const Step& s = step(k);
  auto sigma = torch::full({x.size(0)}, s.sigma, x.options().requires_grad(false));
  Prediction p = prior.predict(x / std::sqrt(s.abar), sigma);
  if (options_.clip_denoised) p.x0 = p.x0.clamp(-1.0, 1.0);
  return p;
}

torch::Tensor DdpmChain::guided_ancestral(int64_t k, const Prediction& pred, const torch::Tensor& x,
                                          const torch::Tensor& grad, double zeta, NoiseStream& noise,
                                          bool& learned) const {
  torch::NoGradGuard no_grad;
  learned = pred.var_frac.defined();
  const auto var_frac = learned ? pred.var_frac.detach() : torch::Tensor();
  const auto xp = ancestral(k, pred.x0.detach(), x.detach(), var_frac, noise);
  return (xp - zeta * grad).detach();
}

torch::Tensor DdpmChain::ancestral(int64_t k, const torch::Tensor& x0, const torch::Tensor& x,
                                   const torch::Tensor& var_frac, NoiseStream& noise) const {
  const Step& s = step(k);
  auto mean = s.coef_x0 * x0 + s.coef_xt * x;
  if (k == 0) {
    noise.skip();  // the k = 0 draw has weight 0
    return mean;
  }
  const std::string rule = variance_used(var_frac.defined());
  torch::Tensor std_dev;
  if (rule == "learned_range") {
    TORCH_CHECK(var_frac.defined(), "variance = learned_range needs a prior with a learned variance");
    auto frac = (var_frac + 1.0) / 2.0;
    std_dev = torch::exp(0.5 * (frac * s.log_beta + (1.0 - frac) * s.log_btilde_clipped));
  } else {
    std_dev = torch::full({1}, std::exp(0.5 * (rule == "fixed_small" ? s.log_btilde_clipped : s.log_fixed_large)),
                          x.options());
  }
  auto shape = x.sizes().slice(1);
  return mean + std_dev * noise.gaussian(shape).to(x.options());
}

torch::Tensor ddpm_sample(const Denoiser& prior, NoiseStream& noise, const DdpmChainOptions& options,
                          torch::ScalarType dtype, torch::Device device) {
  torch::NoGradGuard no_grad;
  const DdpmChain chain(options);
  const auto shape = prior.image_shape();
  TORCH_CHECK(!shape.empty(), "ddpm_sample needs a prior with a fixed image shape");
  const auto opts = torch::TensorOptions().dtype(dtype).device(device);
  torch::Tensor x = noise.gaussian(shape).to(opts);  // z_T
  for (int64_t k = chain.size() - 1; k >= 0; --k) {
    Prediction p = chain.denoise(prior, x, k);
    x = chain.ancestral(k, p.x0, x, p.var_frac, noise);
  }
  return x;
}

}  // namespace ipbench
