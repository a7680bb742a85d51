#pragma once
// UNet: a small time-conditioned UNet for diffusion models, in the LibTorch C++ frontend.
//
// DDPM/ADM-style: a sinusoidal timestep embedding -> MLP; residual blocks (GroupNorm, SiLU, 3x3 conv,
// timestep embedding added after the first conv, dropout); downsampling by strided 3x3 conv and
// upsampling by nearest + 3x3 conv; skip connections concatenated on the way up; optional
// single-head self-attention at the lowest resolution. forward(x, t) -> [B, out_channels, H, W]
// where t is a float tensor [B] (timesteps for a VP eps model, c_noise for an EDM network).
// H and W must be divisible by 2^(levels-1), levels = channel_mult.size().
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/options.h"

namespace ipbench {

struct UNetOptions {
  /// Image channels in and out (out = 2*in with a learned variance is not used by ipbench's trainer).
  int64_t in_channels = 1;
  int64_t out_channels = 1;
  /// Channels of the first level; level l has base_channels * channel_mult[l]. The timestep
  /// embedding has base_channels sinusoids and the MLP 4 * base_channels units.
  /// The defaults (24; 1, 1, 2; one block per level; attention) give 428,881 parameters for one
  /// channel in and out: small enough to train on a CPU, resolutions 32, 16, 8 for 32x32 images.
  int64_t base_channels = 24;
  std::vector<int64_t> channel_mult{1, 1, 2};
  /// Residual blocks per level (on the way down; one more per level on the way up, as in DDPM).
  int64_t num_res_blocks = 1;
  /// Self-attention at the lowest resolution.
  bool attention = true;
  /// GroupNorm groups (every level's channel count must be divisible by it).
  int64_t groups = 8;
  double dropout = 0.0;
  /// Image side the network is trained for (checked against the data; the UNet itself only needs
  /// divisibility by 2^(levels-1)).
  int64_t image_size = 32;

  template <class F>
  void fields(F&& f) {
    f("in_channels", in_channels, "image channels in, >= 1");
    f("out_channels", out_channels, "channels out (= in_channels for eps prediction), >= 1");
    f("base_channels", base_channels, "channels of the first level, >= 2, divisible by groups");
    f("channel_mult", channel_mult, "channel multiplier per level (levels = its length, 1 to 8), each >= 1");
    f("num_res_blocks", num_res_blocks, "residual blocks per level, >= 1");
    f("attention", attention, "self-attention at the lowest resolution");
    f("groups", groups, "GroupNorm groups; divides every level's channels");
    f("dropout", dropout, "dropout in residual blocks, in [0, 1)");
    f("image_size", image_size, "image side, divisible by 2^(levels-1)");
  }
  void validate() const;
};

class UNetImpl : public torch::nn::Module {
 public:
  /// Validates `options` (Error naming the field) and builds the layers. Every parameter is drawn
  /// from ipbench's keyed generator with `init_seed` (see initialize()), never from LibTorch's global
  /// RNG: two UNets built with the same options and seed are bitwise identical.
  explicit UNetImpl(UNetOptions options, uint64_t init_seed = 0);
  /// x [B, in_channels, H, W], t [B] (any floating or integer dtype, any device) -> [B, out_channels, H, W]
  /// in x's dtype. Throws Error when x is not 4-D with in_channels channels, H or W is not divisible by
  /// 2^(levels-1), or t does not hold B entries. Batched: no per-sample loops.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& t);
  const UNetOptions& options() const { return options_; }
  int64_t parameter_count() const;
  /// Re-draws every parameter from the keyed generator (key = derive_key(hash_string("unet.init"),
  /// seed, hash_string(parameter name))), DDPM-style: conv/linear weights uniform in +-sqrt(3 / fan_avg),
  /// fan_avg = (fan_in + fan_out) / 2, biases 0, GroupNorm scale 1 and shift 0, and zero weights in the
  /// last conv of every residual block, the attention output projection and the output conv (so a
  /// fresh network predicts 0 and every block starts as the identity).
  void initialize(uint64_t seed);

 private:
  UNetOptions options_;
  // Registered submodules (names appear in model.pt). The residual and attention blocks are private
  // types of unet.cpp, held in ModuleLists in call order.
  torch::nn::Linear temb_in_{nullptr}, temb_out_{nullptr};  // timestep MLP
  torch::nn::Conv2d conv_in_{nullptr}, conv_out_{nullptr};
  torch::nn::GroupNorm norm_out_{nullptr};
  torch::nn::ModuleList down_, mid_, up_;            // residual (and attention) blocks
  torch::nn::ModuleList downsample_, upsample_;      // one conv between consecutive levels
};
TORCH_MODULE(UNet);

}  // namespace ipbench
