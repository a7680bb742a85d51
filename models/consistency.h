#pragma once
// Consistency models (Song et al., ICML 2023) in the EDM form of openai/consistency_models
// (specs/solvers.md 0.5): a UNet F behind the boundary-condition parameterization
//
//   f(x, sigma) = c_skip(sigma) x + c_out(sigma) F(c_in(sigma) x, c_noise(sigma))
//   c_skip  = sd^2 / ((sigma - smin)^2 + sd^2)          c_out   = (sigma - smin) sd / sqrt(sigma^2 + sd^2)
//   c_in    = 1 / sqrt(sigma^2 + sd^2)                  c_noise = 250 ln(sigma + 1e-44)
//
// in the VE convention x = x0 + sigma n (sd = sigma_data, smin = sigma_min). With parameterization =
// vp_eps, F is a VP eps-prediction UNet (the architecture `ipbench train` writes) and
//   f(x, sigma) = c_skip(sigma) x + (1 - c_skip(sigma)) (x - sigma F(x / sqrt(1 + sigma^2), t(sigma)))
// (the VP network's VE denoiser, models/vp_eps_denoiser.h), which satisfies the same boundary condition;
// a student initialized with its VP teacher's weights then starts as the teacher's posterior mean
// instead of an unrelated function (the CM paper initializes from an EDM teacher for the same reason). f maps any point of a
// probability-flow ODE trajectory to its end at smin: f(x, sigma) is the model's one-step estimate of x0.
// It is the consistency function, NOT the posterior mean E[x0 | x] that other priors' denoisers return.
// c_noise = 1000 * 0.25 ln(sigma) is openai's convention and is fed as the UNet's float timestep.
// Boundary condition: f(x, smin) == x exactly when sigma is given in x's dtype (c_skip = 1, c_out = 0
// are computed in that dtype; smin is rounded to it first) and F's output is finite; clamping to
// [-1, 1] (clip_denoised) then applies on top. The clamp is differentiable (torch::clamp: gradient 1
// inside, 0 where it clips), so solvers may take gradients through f.
// sigma is used as given: outside [smin, smax] the network extrapolates (and c_out < 0 below smin).
//
// The model folder (written by `ipbench distill`, training/distill.h), in the INI syntax of
// models/unet_checkpoint.h:
//   DIR/model.ini   [unet] UNetOptions (out_channels = in_channels), [diffusion] prediction = consistency,
//                   [consistency] sigma_min, sigma_max, sigma_data, [training] provenance (free-form)
//   DIR/model.pt    the weights of F (torch::save of the UNet module)
// The `cm` prior (registered in models/priors.cpp) loads such a folder.
#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/options.h"
#include "models/denoiser.h"
#include "models/schedule.h"
#include "models/unet.h"

namespace ipbench {

/// The noise range and data scale of a consistency model ([consistency] of model.ini).
struct ConsistencyOptions {
  /// Smallest noise level: f(x, sigma_min) = x (the boundary condition). openai/EDM: 0.002.
  double sigma_min = 0.002;
  /// Largest noise level: one-step samples are f(sigma_max z, sigma_max). openai/EDM: 80.
  double sigma_max = 80.0;
  /// Standard deviation of the data in the c_skip / c_out / c_in scalings. EDM: 0.5.
  double sigma_data = 0.5;
  /// How F enters f (see the header comment): edm (openai: F(c_in x, c_noise), c_out F) or vp_eps
  /// (F is a VP eps network: f = c_skip x + (1 - c_skip) D_F(x, sigma), D_F its VE denoiser), which
  /// lets a student distilled from a VP eps teacher start as the teacher's own denoiser.
  std::string parameterization = "edm";
  /// The linear VP schedule of a vp_eps network (as in its teacher's [diffusion]): T, beta_start, beta_end.
  VpScheduleOptions vp;

  template <class F>
  void fields(F&& f) {
    f("sigma_min", sigma_min, "smallest noise level (boundary condition f(x, sigma_min) = x), > 0");
    f("sigma_max", sigma_max, "largest noise level, > sigma_min");
    f("sigma_data", sigma_data, "data standard deviation of the scalings, > 0");
    f("parameterization", parameterization, "edm | vp_eps (F is a VP eps UNet; f = c_skip x + (1 - c_skip) D_F)");
    vp.fields(f);  // vp_eps: F's schedule
  }
  void validate() const;
};

/// The four scalings at noise levels `sigma` (any shape), in sigma's dtype and device.
struct CmScalings {
  torch::Tensor c_skip, c_out, c_in, c_noise;
};
CmScalings cm_scalings(const torch::Tensor& sigma, const ConsistencyOptions& options);

/// f(x, sigma) of network `net` (see the header comment). x [B, C, H, W] floating, sigma [B], [1] or 0-dim
/// (> 0). The network runs on its own device in float32; the result has x's dtype and device and is
/// differentiable in x and in the network's parameters. `net` is used in whatever train/eval mode it is in.
torch::Tensor consistency_function(UNet& net, const torch::Tensor& x, const torch::Tensor& sigma,
                                   const ConsistencyOptions& options, bool clip_denoised);

/// A trained consistency model: F plus its options.
class ConsistencyModel {
 public:
  /// TORCH_CHECK: net is defined with out_channels == in_channels; options valid (Error otherwise).
  ConsistencyModel(UNet net, ConsistencyOptions options, torch::Device device = torch::kCPU);

  /// f(x, sigma), clamped to [-1, 1] when clip_denoised (see consistency_function).
  torch::Tensor operator()(const torch::Tensor& x, const torch::Tensor& sigma, bool clip_denoised = true) const;

  const ConsistencyOptions& options() const { return options_; }
  const UNetOptions& unet_options() const { return net_->options(); }
  /// [C, H, W] = [in_channels, image_size, image_size].
  std::vector<int64_t> image_shape() const;
  torch::Device device() const { return device_; }
  /// The network F (eval mode), e.g. for solvers that optimize through it.
  UNet net() const { return net_; }
  /// Provenance read from [training] (empty for a model built in memory).
  std::map<std::string, std::string> training;

 private:
  mutable UNet net_;  // forward() is non-const in the module API; eval() mode, no state changes
  ConsistencyOptions options_;
  torch::Device device_;
};

/// Writes model.ini and model.pt of the folder format above into `dir` (created if needed), each file
/// atomically (temporary file, then rename). Throws Error naming the file when it cannot be written.
void save_consistency_model(const std::string& dir, UNet net, const ConsistencyOptions& options,
                            const std::map<std::string, std::string>& training);

/// Reads a consistency-model folder onto `device`. Throws Error naming the file when model.ini or model.pt
/// is missing or corrupt, when the folder is not a consistency model ([diffusion] prediction is not
/// "consistency", e.g. a DDPM from `ipbench train`), when an option is invalid or unknown, and when the
/// weights do not match the [unet] architecture.
std::shared_ptr<ConsistencyModel> load_consistency_model(const std::string& dir, torch::Device device = torch::kCPU);

/// Options of the `cm` prior.
struct CmPriorOptions {
  /// Model folder written by `ipbench distill` (model.ini + model.pt); required.
  std::string path = "";
  /// Clamp f to [-1, 1], as openai's samplers do (differentiable; see the header comment).
  bool clip_denoised = true;

  template <class F>
  void fields(F&& f) {
    f("path", path, "consistency-model folder (model.ini + model.pt), required");
    f("clip_denoised", clip_denoised, "clamp the one-step estimate f(x, sigma) to [-1, 1]");
  }
  void validate() const;
};

/// `cm`: a consistency model behind the Denoiser interface. predict(x, sigma).x0 = f(x, sigma), the
/// CM's one-step estimate of x0 (the consistency function, not the posterior mean); var_frac undefined.
/// CM solvers reach the model itself through model().
class CmPrior : public Denoiser {
 public:
  CmPrior(std::shared_ptr<ConsistencyModel> model, bool clip_denoised, std::string path);
  /// Loads options.path onto ctx.device; Error when the folder's image shape differs from the
  /// benchmark's (ctx.image_shape, when set).
  static std::shared_ptr<CmPrior> from_options(const CmPriorOptions& options, const PriorContext& ctx);

  Prediction predict(const torch::Tensor& x, const torch::Tensor& sigma) const override;
  std::vector<int64_t> image_shape() const override { return model_->image_shape(); }
  std::string describe() const override;

  const ConsistencyModel& model() const { return *model_; }
  bool clip_denoised() const { return clip_; }

 private:
  std::shared_ptr<ConsistencyModel> model_;
  bool clip_;
  std::string path_;
};

}  // namespace ipbench
