#pragma once
// `unet`: a UNet trained by `ipbench train` (a model folder, models/unet_checkpoint.h) as a prior.
//
// The folder's UNet predicts eps of the linear VP schedule of its [diffusion] section; it is wrapped
// to the VE denoiser by VpEpsDenoiser (models/vp_eps_denoiser.h):
//   x0 = x - sigma * eps(sqrt(abar) x, t(sigma)),  abar = 1 / (1 + sigma^2)
// and a model with out_channels = 2 * in_channels also returns var_frac.
// The network is loaded onto PriorContext::device, cast to PriorContext::dtype, put in eval mode and
// its parameters stop requiring gradients (solvers differentiate in x only); forward runs under the
// caller's grad mode. image_shape() = [in_channels, image_size, image_size].
// Errors (ipbench::Error): empty path; a missing or inconsistent model folder (load_unet_checkpoint);
// out_channels neither in_channels nor 2 * in_channels; a PriorContext::image_shape that differs from
// the model's (both shapes named).
#include <memory>
#include <string>

#include "core/options.h"
#include "models/denoiser.h"
#include "models/vp_eps_denoiser.h"

namespace ipbench {

struct UNetPriorOptions {
  /// Model folder written by `ipbench train` (model.ini, model.pt); required.
  std::string path = "";

  template <class F>
  void fields(F&& f) {
    f("path", path, "model folder (model.ini, model.pt), required");
  }
  void validate() const;
};

/// Loads the model folder `options.path` and wraps it (see the header comment).
std::shared_ptr<VpEpsDenoiser> make_unet_prior(const UNetPriorOptions& options, const PriorContext& ctx);

}  // namespace ipbench
