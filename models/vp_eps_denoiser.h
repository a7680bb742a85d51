#pragma once
// VpEpsDenoiser: any VP eps-prediction network behind the VE Denoiser interface. This is the one place
// where ipbench maps VP models to the VE convention (docs/priors.md, "VP <-> VE convention";
// specs/solvers.md 0.2); the `torchscript` and `unet` priors both wrap their networks with it.
//
// For x [B, C, H, W] and sigma [B] (a 0-dim or [1] sigma is broadcast), per sample:
//   t        = schedule.timestep_for_sigma(sigma), snapped to the nearest integer when within 1e-4
//   abar     = 1 / (1 + sigma^2)      (= abar_t at integer t; the interpolation of abar that matches
//                                      the log-sigma interpolation of t, so the scaling is exact)
//   out      = eps_fn(sqrt(abar) x, t)                  [B, C or 2C, H, W]
//   x0       = x - sigma * out[:, :C]   (= (x_VP - sqrt(1 - abar) eps) / sqrt(abar))
//   var_frac = out[:, C:] when out has 2C channels, unless LearnedVariance::kNo
// eps_fn receives x_VP in x's dtype and device (differentiable in x) and t as a float64 [B] CPU tensor;
// it converts both to its network's dtype and device. Its output is converted back to x's dtype and
// device (differentiably). sigma beyond the schedule's range clamps t to [0, T-1] while abar stays
// 1/(1 + sigma^2). Draws no random numbers; all work is batched (the B timestep look-ups are scalars).
// Errors (ipbench::Error, prefixed with `who`): x's [C, H, W] differs from image_shape (when set, both
// shapes named); an output that is not [B, C or 2C, H, W] (both shapes named); C output channels when
// LearnedVariance::kYes requires 2C. Non-finite output is NOT an error: the solver records it per sample.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/denoiser.h"
#include "models/schedule.h"

namespace ipbench {

class VpEpsDenoiser : public Denoiser {
 public:
  /// eps (or eps and v) of a VP network at VP input x_vp [B, C, H, W] and timesteps t [B] (float64, CPU).
  using EpsFunction = std::function<torch::Tensor(const torch::Tensor& x_vp, const torch::Tensor& t)>;
  /// Whether a 2C-channel output carries improved DDPM's learned-range v: kAuto (2C = yes, C = no),
  /// kYes (2C required), kNo (eps only; extra channels ignored).
  enum class LearnedVariance { kAuto, kYes, kNo };

  /// image_shape [C, H, W] may be empty (any shape). `who` prefixes error messages
  /// ("torchscript prior 'model.pt'"); describe() returns `description`.
  VpEpsDenoiser(EpsFunction eps_fn, VpSchedule schedule, std::vector<int64_t> image_shape, std::string who,
                std::string description, LearnedVariance learned_variance = LearnedVariance::kAuto);

  Prediction predict(const torch::Tensor& x, const torch::Tensor& sigma) const override;
  std::vector<int64_t> image_shape() const override { return shape_; }
  std::string describe() const override { return description_; }

  const VpSchedule& schedule() const { return schedule_; }
  /// The network's timestep input for each sigma [B]: float64 on the CPU (see the header comment).
  torch::Tensor timesteps_for_sigma(const torch::Tensor& sigma) const;

 private:
  /// Error unless out is [B, C or 2C, H, W] for x [B, C, H, W] (and 2C when kYes).
  void check_output(const torch::Tensor& out, const torch::Tensor& x) const;

  EpsFunction eps_fn_;
  VpSchedule schedule_;
  std::vector<int64_t> shape_;
  std::string who_;
  std::string description_;
  LearnedVariance learned_variance_;
};

}  // namespace ipbench
