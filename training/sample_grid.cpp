// Sample grids during training (see sample_grid.h).
#include "training/sample_grid.h"

#include <cmath>

#include "core/error.h"
#include "core/rng.h"
#include "datasets/png.h"
#include "models/prior_util.h"
#include "models/schedule.h"
#include "models/vp_eps_denoiser.h"
#include "noise/designs.h"
#include "noise/noise_stream.h"
#include "solvers/ddpm_chain.h"

namespace ipbench {

std::shared_ptr<Denoiser> unet_denoiser(UNet net, const DiffusionOptions& diffusion, std::vector<int64_t> image_shape,
                                        torch::Device device) {
  net->eval();
  auto eps = [net, device](const torch::Tensor& x_vp, const torch::Tensor& t) mutable {
    const auto opts = torch::TensorOptions().dtype(torch::kFloat).device(device);
    return net->forward(x_vp.to(opts), t.to(opts));
  };
  const std::string what = str_cat("unet (training): VP eps model, T = ", diffusion.vp.T, ", image ", shape_str(image_shape));
  return std::make_shared<VpEpsDenoiser>(eps, diffusion.vp.schedule(),
                                         std::move(image_shape), "unet (training)", what,
                                         VpEpsDenoiser::LearnedVariance::kNo);
}

torch::Tensor write_sample_grid(const std::string& path, UNet net, const DiffusionOptions& diffusion,
                                const std::vector<int64_t>& image_shape, int64_t count, int64_t steps, uint64_t seed,
                                torch::Device device) {
  const auto prior = unet_denoiser(net, diffusion, image_shape, device);
  NoiseStream noise(std::make_shared<IidDesign>(), derive_key(seed, hash_string("train.samples")), 0, count, device);
  DdpmChainOptions chain;
  chain.steps = steps;
  chain.vp = diffusion.vp;
  chain.validate();
  const torch::Tensor x = ddpm_sample(*prior, noise, chain, torch::kFloat, device);
  const auto nrow = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(count)) - 1e-9));
  write_png(path, image_grid(x, nrow));
  return x;
}

}  // namespace ipbench
