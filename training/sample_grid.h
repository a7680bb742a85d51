#pragma once
// Sample grids of a model being trained: DDPM ancestral samples of the EMA UNet as one PNG.
//
// The UNet (a VP eps network of the linear schedule) is wrapped as a VE Denoiser by VpEpsDenoiser
// (models/vp_eps_denoiser.h), like the `unet` and `torchscript` priors: x0 = x - sigma * eps. Noise comes from an iid NoiseStream keyed
// by derive_key(seed, "train.samples"), so every grid of a run starts from the same noise and grids
// of different steps are directly comparable.
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>

#include "models/denoiser.h"
#include "models/unet.h"
#include "models/unet_checkpoint.h"

namespace ipbench {

/// A UNet eps model of the linear VP schedule behind the Denoiser interface (no learned variance).
/// The network is put in eval() mode and runs in float32 on `device`; outputs come back to x's device.
std::shared_ptr<Denoiser> unet_denoiser(UNet net, const DiffusionOptions& diffusion, std::vector<int64_t> image_shape,
                                        torch::Device device);

/// Draws `count` samples of `net` with `steps` respaced DDPM steps and writes them as an image grid
/// of ceil(sqrt(count)) columns to `path`. Returns the samples [count, C, H, W] (on `device`).
torch::Tensor write_sample_grid(const std::string& path, UNet net, const DiffusionOptions& diffusion,
                                const std::vector<int64_t>& image_shape, int64_t count, int64_t steps, uint64_t seed,
                                torch::Device device);

}  // namespace ipbench
