#pragma once
// Denoiser: every prior behind one interface, in the VE convention x = x0 + sigma * n.
//
//   x0_hat = D(x, sigma)       x: [B, C, H, W], sigma: [B] (> 0), result [B, C, H, W]
//
// D is differentiable in x (solvers take gradients through it) and draws no random numbers.
// A VP model (x_t = sqrt(abar) x0 + sqrt(1 - abar) eps) is wrapped by scaling x_VP = sqrt(abar) x_VE
// and mapping sigma = sqrt((1 - abar)/abar) to its timestep, so every solver runs on every prior.
// Models trained with a learned variance (DPS checkpoints, 2C output channels) also return the
// variance interpolation v in [-1, 1] of improved DDPM's "learned_range" (specs/solvers.md 0.3).
// The built-in priors also accept a 0-dim (or [1]) sigma, broadcast over the batch.
//
// Built-in priors (docs/priors.md): models/empirical_prior.h, gaussian_prior.h, gmm_prior.h,
// torchscript_prior.h; their registry entries live in models/priors.cpp.
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/registry.h"

namespace ipbench {

struct Prediction {
  torch::Tensor x0;        ///< [B, C, H, W] posterior-mean estimate E[x0 | x]
  torch::Tensor var_frac;  ///< [B, C, H, W] learned-range v in [-1, 1]; undefined when the model has none
};

class Denoiser {
 public:
  virtual ~Denoiser() = default;
  /// x0_hat (and the learned variance, when the model has one) at noise level sigma.
  virtual Prediction predict(const torch::Tensor& x, const torch::Tensor& sigma) const = 0;
  torch::Tensor denoise(const torch::Tensor& x, const torch::Tensor& sigma) const { return predict(x, sigma).x0; }
  /// [C, H, W] the prior models; an empty vector when it accepts any shape.
  virtual std::vector<int64_t> image_shape() const = 0;
  /// One line: type and key facts ("empirical: 10000 images 1x32x32").
  virtual std::string describe() const = 0;
};

/// What a prior factory may use. `load_images` is injected by the harness (models/ does not read
/// datasets itself): it returns a [N, C, H, W] float32 tensor in [-1, 1] for a dataset source string.
struct PriorContext {
  torch::Device device = torch::kCPU;
  torch::ScalarType dtype = torch::kFloat;
  std::vector<int64_t> image_shape;  ///< [C, H, W] of the benchmark's images
  std::function<torch::Tensor(const std::string& source)> load_images;
};

struct PriorEntry {
  ComponentInfo info;
  std::function<std::shared_ptr<Denoiser>(const Section&, const PriorContext&)> make;
};

Registry<PriorEntry>& prior_registry();
/// Registers empirical, gaussian, gmm and torchscript (idempotent).
void register_builtin_priors();

}  // namespace ipbench
