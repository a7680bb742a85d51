// VP eps network -> VE denoiser (see vp_eps_denoiser.h).
#include "models/vp_eps_denoiser.h"

#include <cmath>

#include "core/error.h"
#include "models/prior_util.h"

namespace ipbench {

VpEpsDenoiser::VpEpsDenoiser(EpsFunction eps_fn, VpSchedule schedule, std::vector<int64_t> image_shape,
                             std::string who, std::string description, LearnedVariance learned_variance)
    : eps_fn_(std::move(eps_fn)),
      schedule_(std::move(schedule)),
      shape_(std::move(image_shape)),
      who_(std::move(who)),
      description_(std::move(description)),
      learned_variance_(learned_variance) {
  TORCH_CHECK(static_cast<bool>(eps_fn_), "VpEpsDenoiser: empty eps function");
}

torch::Tensor VpEpsDenoiser::timesteps_for_sigma(const torch::Tensor& sigma) const {
  const torch::Tensor s = sigma.detach().to(torch::kCPU, torch::kDouble).contiguous();
  torch::Tensor t = torch::empty_like(s);
  const double* sp = s.data_ptr<double>();
  double* tp = t.data_ptr<double>();
  for (int64_t i = 0; i < s.numel(); ++i) {  // B scalar look-ups, not per-sample network work
    const double ti = schedule_.timestep_for_sigma(sp[i]);
    // A solver stepping on the schedule's own sigmas must hit the integer timesteps the network was
    // trained on, despite float32 round-off in sigma.
    tp[i] = std::abs(ti - std::round(ti)) < 1e-4 ? std::round(ti) : ti;
  }
  return t;
}

void VpEpsDenoiser::check_output(const torch::Tensor& out, const torch::Tensor& x) const {
  const int64_t B = x.size(0), C = x.size(1);
  require(out.defined(), who_, ": the network returned no tensor for input ", shape_str(x.sizes()));
  const bool two = out.dim() == 4 && out.size(1) == 2 * C;
  require(out.dim() == 4 && out.size(0) == B && out.size(2) == x.size(2) && out.size(3) == x.size(3) &&
              (out.size(1) == C || two),
          who_, ": output shape ", shape_str(out.sizes()), " for input ", shape_str(x.sizes()), "; expected ", C,
          " (eps) or ", 2 * C, " (eps, variance) channels");
  require(two || learned_variance_ != LearnedVariance::kYes, who_, ": learned_variance = true but the output ",
          shape_str(out.sizes()), " has ", C, " channels, not ", 2 * C);
}

Prediction VpEpsDenoiser::predict(const torch::Tensor& x, const torch::Tensor& sigma) const {
  check_denoiser_input(x, shape_, who_);
  const int64_t B = x.size(0), C = x.size(1);
  const torch::Tensor s = sigma_per_sample(x, sigma);            // [B, 1, 1, 1], x's dtype
  const torch::Tensor t = timesteps_for_sigma(s.reshape({B}));   // [B] float64 CPU
  const torch::Tensor sqrt_abar = (1 + s.square()).rsqrt();      // abar = 1 / (1 + sigma^2)
  torch::Tensor out = eps_fn_(sqrt_abar * x, t);
  check_output(out, x);
  out = out.to(x.options());
  Prediction p{x - s * out.narrow(1, 0, C), torch::Tensor()};
  if (out.size(1) == 2 * C && learned_variance_ != LearnedVariance::kNo) p.var_frac = out.narrow(1, C, C);
  return p;
}

}  // namespace ipbench
