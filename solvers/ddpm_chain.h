#pragma once
// The respaced DDPM chain shared by DPS and the unconditional `ddpm` sampler (specs/solvers.md 0.3).
//
// Linear betas over T timesteps, respaced to n steps t_0 < ... < t_{n-1} (improved DDPM's
// space_timesteps), with the betas of the respaced chain beta'_k = 1 - abar_{t_k}/abar_{t_{k-1}}.
// One ancestral step from x (VP scaling, at step k) given x0_hat:
//   x_{k-1} = mu_k(x0_hat, x) + [k > 0] exp(logvar_k / 2) z_k
//   mu_k = beta'_k sqrt(abar_{k-1})/(1 - abar_k) x0_hat + (1 - abar_{k-1}) sqrt(1 - beta'_k)/(1 - abar_k) x
// logvar: learned_range (frac log beta' + (1 - frac) log btilde_clipped), fixed_small (log btilde_clipped)
// or fixed_large (log of [btilde_1, beta'_1, beta'_2, ...]), as guided_diffusion.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "models/denoiser.h"
#include "models/schedule.h"
#include "noise/noise_stream.h"

namespace ipbench {

struct DdpmChainOptions {
  /// Respaced DDPM steps (official: 1000).
  int64_t steps = 1000;
  /// auto | learned_range | fixed_small | fixed_large. auto: learned_range when the prior returns a
  /// learned variance, else fixed_small.
  std::string variance = "auto";
  /// Clamp x0_hat to [-1, 1] (official: true).
  bool clip_denoised = true;
  /// Linear beta schedule of the chain (must match a VP model's training schedule).
  VpScheduleOptions vp;

  template <class F>
  void fields(F&& f) {
    f("steps", steps, "respaced DDPM steps, 1..T (official 1000)");
    f("variance", variance, "auto | learned_range | fixed_small | fixed_large");
    f("clip_denoised", clip_denoised, "clamp x0_hat to [-1,1] (official true)");
    vp.fields(f);
  }
  void validate() const;
};

class DdpmChain {
 public:
  struct Step {
    double abar = 1, sigma = 0;  ///< abar_{t_k} and its VE sigma = sqrt((1 - abar)/abar)
    double coef_x0 = 0, coef_xt = 0;
    double log_beta = 0, log_btilde_clipped = 0, log_fixed_large = 0;
  };

  explicit DdpmChain(DdpmChainOptions options);
  int64_t size() const { return static_cast<int64_t>(steps_.size()); }
  const Step& step(int64_t k) const { return steps_.at(static_cast<size_t>(k)); }
  const DdpmChainOptions& options() const { return options_; }

  /// x0_hat at step k from the prior (VP x -> VE x / sqrt(abar)); clamped when clip_denoised.
  /// The gradient flows through the clamp.
  Prediction denoise(const Denoiser& prior, const torch::Tensor& x, int64_t k) const;

  /// One ancestral step to k - 1. Draws z_k from `noise` when k > 0 and skips the zero-weight draw
  /// at k = 0. `var_frac` is the prior's learned variance (may be undefined).
  torch::Tensor ancestral(int64_t k, const torch::Tensor& x0, const torch::Tensor& x, const torch::Tensor& var_frac,
                          NoiseStream& noise) const;

  /// The guided step of DPS and LGD: ancestral(k, pred.x0, x) - zeta * grad, without gradient, with
  /// every input detached. Sets `learned` when the prior returned a learned variance.
  torch::Tensor guided_ancestral(int64_t k, const Prediction& pred, const torch::Tensor& x, const torch::Tensor& grad,
                                 double zeta, NoiseStream& noise, bool& learned) const;

  /// The variance rule in effect for a prior with (true) or without a learned variance.
  std::string variance_used(bool learned) const;

 private:
  DdpmChainOptions options_;
  std::vector<Step> steps_;
};

/// Unconditional DDPM ancestral sampling: x = z_T, then n ancestral steps. Returns [G*K, C, H, W].
/// Draws: z_T and z_k for k = n-1..1 (the k = 0 draw is skipped). No gradients are recorded.
torch::Tensor ddpm_sample(const Denoiser& prior, NoiseStream& noise, const DdpmChainOptions& options,
                          torch::ScalarType dtype = torch::kFloat, torch::Device device = torch::kCPU);

}  // namespace ipbench
