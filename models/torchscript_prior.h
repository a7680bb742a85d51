#pragma once
// `torchscript`: a user's VP eps-prediction network (TorchScript) behind the VE Denoiser interface.
//
// Model contract (docs/priors.md): `forward(x, t) -> out` with x [B, C, H, W] in VP scaling
// (x_t = sqrt(abar_t) x0 + sqrt(1 - abar_t) eps, data in [-1, 1]) and t a floating tensor [B] of
// (possibly non-integer) timesteps in [0, T-1] of the linear VpSchedule. out has C channels (eps) or
// 2C with a learned variance (first C = eps, last C = v in [-1, 1], improved DDPM's learned_range).
//
// Wrapping: models/vp_eps_denoiser.h (the VP <-> VE mapping shared with the `unet` prior):
//   t = timestep_for_sigma(sigma) (snapped to integers within 1e-4), abar = 1 / (1 + sigma^2),
//   x0 = x - sigma * out(sqrt(abar) x, t)[:, :C], var_frac = out[:, C:] with 2C channels.
// The network runs in its own parameter dtype on its own device (PriorContext::device); inputs are
// converted there and outputs back to x's dtype and device (differentiably).
// Errors (ipbench::Error): empty, missing or unreadable path (named), a corrupt file, output of
// neither C nor 2C channels (shapes named), 2C required but C given (learned_variance = true).
// Non-finite output is NOT an error: the solver records it per sample.
#include <torch/script.h>
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/options.h"
#include "models/denoiser.h"
#include "models/schedule.h"
#include "models/vp_eps_denoiser.h"

namespace ipbench {

struct TorchScriptPriorOptions {
  /// Path of the scripted model (torch.jit.save / torch::jit::Module::save); required.
  std::string path = "";
  /// Whether the model outputs a learned variance: "auto" (2C output channels = yes, C = no),
  /// "true" (requires 2C) or "false" (eps only; extra variance channels are ignored).
  std::string learned_variance = "auto";
  /// The model's linear VP schedule (DDPM: T = 1000, betas 1e-4 .. 0.02).
  VpScheduleOptions vp;
  /// Image shape C,H,W the model expects; empty = the benchmark's image shape (PriorContext).
  std::vector<int64_t> image_shape = {};

  template <class F>
  void fields(F&& f) {
    f("path", path, "scripted VP eps model (.pt), required");
    f("learned_variance", learned_variance, "variance channels: auto | true | false");
    vp.fields(f);
    f("image_shape", image_shape, "image shape C,H,W (empty = benchmark's)");
  }
  void validate() const;
};

class TorchScriptPrior : public Denoiser {
 public:
  using LearnedVariance = VpEpsDenoiser::LearnedVariance;

  /// Loads `path` onto `device`; image_shape may be empty (any shape). Throws Error on load failure.
  TorchScriptPrior(const std::string& path, const VpSchedule& schedule, LearnedVariance learned_variance,
                   std::vector<int64_t> image_shape, torch::Device device = torch::kCPU);
  static std::shared_ptr<TorchScriptPrior> from_options(const TorchScriptPriorOptions& options,
                                                        const PriorContext& ctx);

  Prediction predict(const torch::Tensor& x, const torch::Tensor& sigma) const override {
    return vp_.predict(x, sigma);
  }
  std::vector<int64_t> image_shape() const override { return vp_.image_shape(); }
  std::string describe() const override { return vp_.describe(); }

  const VpSchedule& schedule() const { return vp_.schedule(); }
  /// The network's timestep input for each sigma [B] (float64, on the CPU): see vp_eps_denoiser.h.
  torch::Tensor timesteps_for_sigma(const torch::Tensor& sigma) const { return vp_.timesteps_for_sigma(sigma); }
  /// The raw network output for VP input x_vp at timesteps t (no conversion).
  torch::Tensor forward_raw(const torch::Tensor& x_vp, const torch::Tensor& t) const;

 private:
  // forward() is non-const in the jit API; the module is stateless. A jit::Module is a handle: the
  // copy inside vp_'s eps function shares it.
  mutable torch::jit::Module module_;
  torch::ScalarType model_dtype_;
  std::string path_;
  VpEpsDenoiser vp_;
};

/// "auto" / "true" / "false"; Error for anything else.
TorchScriptPrior::LearnedVariance parse_learned_variance(const std::string& name);

}  // namespace ipbench
