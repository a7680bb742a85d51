// UNet (see unet.h): the DDPM architecture (Ho et al. 2020, diffusion_tf/models/unet.py; ADM's
// PyTorch port for the attention block) in the LibTorch C++ frontend, initialized from keyed RNG.
#include "models/unet.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/rng.h"
#include "models/group_norm.h"
#include "models/prior_util.h"

namespace ipbench {

namespace {
namespace nn = torch::nn;

nn::Conv2d conv2d(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2));
}

nn::GroupNorm make_group_norm(int64_t groups, int64_t channels) {
  return nn::GroupNorm(nn::GroupNormOptions(groups, channels));
}

// GroupNorm's input in float32 when autocast made it bf16 / fp16 (training/mixed_precision.h): the
// normalization statistics need float32, and the CPU kernel refuses a bf16 input with float32 weights.
// CUDA autocast does the same cast by itself; float32 and float64 inputs pass unchanged.
torch::Tensor norm_input(const torch::Tensor& x) {
  const auto t = x.scalar_type();
  return t == torch::kBFloat16 || t == torch::kHalf ? x.to(torch::kFloat) : x;
}

// DDPM's get_timestep_embedding: [sin(t f_k), cos(t f_k)], f_k = 10000^(-k / (half - 1)), k < half,
// computed in float64 (t up to 1000 times f_0 = 1 loses digits in float32), zero-padded to odd dims.
torch::Tensor timestep_embedding(const torch::Tensor& t, int64_t dim) {
  const int64_t half = dim / 2;
  const double scale = std::log(10000.0) / static_cast<double>(std::max<int64_t>(half - 1, 1));
  const auto opts = torch::TensorOptions().dtype(torch::kDouble).device(t.device());
  const torch::Tensor freqs = torch::exp(torch::arange(half, opts) * -scale);
  const torch::Tensor args = t.to(torch::kDouble).reshape({-1, 1}) * freqs.unsqueeze(0);
  torch::Tensor emb = torch::cat({args.sin(), args.cos()}, 1);
  return dim % 2 == 1 ? torch::constant_pad_nd(emb, {0, 1}) : emb;
}

// GroupNorm -> SiLU -> conv3x3 -> + Linear(SiLU(temb)) -> GroupNorm -> SiLU -> Dropout -> conv3x3,
// plus the input (through a 1x1 conv when the channel count changes).
struct ResBlockImpl : nn::Module {
  ResBlockImpl(int64_t in, int64_t out, int64_t emb_dim, int64_t groups, double dropout)
      : norm1(register_module("norm1", make_group_norm(groups, in))),
        conv1(register_module("conv1", conv2d(in, out, 3))),
        emb_proj(register_module("emb_proj", nn::Linear(emb_dim, out))),
        norm2(register_module("norm2", make_group_norm(groups, out))),
        drop(register_module("dropout", nn::Dropout(dropout))),
        conv2(register_module("conv2", conv2d(out, out, 3))) {
    if (in != out) skip = register_module("skip", conv2d(in, out, 1));
  }
  /// emb_act = SiLU(timestep MLP output), [B, emb_dim].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& emb_act) {
    torch::Tensor h = conv1(torch::silu(group_norm(norm1, norm_input(x))));
    h = h + emb_proj(emb_act).unsqueeze(-1).unsqueeze(-1);
    h = conv2(drop(torch::silu(group_norm(norm2, norm_input(h)))));
    return (skip ? skip(x) : x) + h;
  }
  nn::GroupNorm norm1;
  nn::Conv2d conv1;
  nn::Linear emb_proj;
  nn::GroupNorm norm2;
  nn::Dropout drop;
  nn::Conv2d conv2;
  nn::Conv2d skip{nullptr};
};
TORCH_MODULE(ResBlock);

// Single-head self-attention over the H*W positions, with a residual: x + proj(softmax(q^T k / sqrt(C)) v).
struct AttentionImpl : nn::Module {
  AttentionImpl(int64_t channels, int64_t groups)
      : norm(register_module("norm", make_group_norm(groups, channels))),
        qkv(register_module("qkv", conv2d(channels, 3 * channels, 1))),
        proj(register_module("proj", conv2d(channels, channels, 1))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
    const torch::Tensor h = qkv(group_norm(norm, norm_input(x))).reshape({B, 3, C, H * W});
    const torch::Tensor q = h.select(1, 0), k = h.select(1, 1), v = h.select(1, 2);  // [B, C, N]
    const torch::Tensor w = torch::softmax(torch::bmm(q.transpose(1, 2), k) / std::sqrt(double(C)), 2);
    const torch::Tensor a = torch::bmm(v, w.transpose(1, 2));  // a[:, :, i] = sum_j w[i, j] v[:, :, j]
    return x + proj(a.reshape({B, C, H, W}));
  }
  nn::GroupNorm norm;
  nn::Conv2d qkv, proj;
};
TORCH_MODULE(Attention);

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// DDPM zero-initializes the layers that close a residual branch and the output layer.
bool starts_at_zero(const std::string& name) {
  return ends_with(name, ".conv2.weight") || ends_with(name, ".proj.weight") || name == "conv_out.weight";
}

void check_input(const UNetOptions& o, const torch::Tensor& x, const torch::Tensor& t) {
  require(x.defined() && x.dim() == 4, "UNet: x must be [B, C, H, W], got ",
          x.defined() ? shape_str(x.sizes()) : std::string("undefined"));
  const int64_t B = x.size(0), H = x.size(2), W = x.size(3);
  require(x.size(1) == o.in_channels, "UNet: x ", shape_str(x.sizes()), " has ", x.size(1),
          " channels but the network has in_channels = ", o.in_channels);
  const int64_t levels = static_cast<int64_t>(o.channel_mult.size()), f = int64_t{1} << (levels - 1);
  require(H > 0 && W > 0 && H % f == 0 && W % f == 0, "UNet: image size ", H, "x", W,
          " is not allowed: H and W must be positive multiples of 2^(levels-1) = ", f, " (levels = ", levels, ")");
  require(t.defined() && t.dim() <= 1 && t.numel() == B, "UNet: t must hold one timestep per sample ([", B,
          "]), got ", t.defined() ? shape_str(t.sizes()) : std::string("undefined"));
}
}  // namespace

void UNetOptions::validate() const {
  const char* o = "UNetOptions";
  check_option(in_channels >= 1, o, "in_channels", in_channels, "in_channels >= 1");
  check_option(out_channels >= 1, o, "out_channels", out_channels, "out_channels >= 1");
  check_option(base_channels >= 2, o, "base_channels", base_channels, "base_channels >= 2");
  check_option(!channel_mult.empty() && channel_mult.size() <= 8, o, "channel_mult", channel_mult,
               "channel_mult has 1 to 8 entries (one per level)");
  for (int64_t m : channel_mult) check_option(m >= 1, o, "channel_mult", channel_mult, "every entry >= 1");
  check_option(num_res_blocks >= 1, o, "num_res_blocks", num_res_blocks, "num_res_blocks >= 1");
  check_option(groups >= 1, o, "groups", groups, "groups >= 1");
  // conv_in feeds base_channels to the first GroupNorm; every level's channels are multiples of it.
  check_option(base_channels % groups == 0, o, "groups", groups,
               "groups divides base_channels (and so base_channels * channel_mult[l] for every level)");
  check_option(dropout >= 0 && dropout < 1, o, "dropout", dropout, "0 <= dropout < 1");
  const int64_t f = int64_t{1} << (channel_mult.size() - 1);
  const std::string rule = str_cat("image_size >= 1 and divisible by 2^(levels-1) = ", f);
  check_option(image_size >= 1 && image_size % f == 0, o, "image_size", image_size, rule.c_str());
}

UNetImpl::UNetImpl(UNetOptions options, uint64_t init_seed) : options_(std::move(options)) {
  options_.validate();
  const UNetOptions& o = options_;
  const int64_t ch = o.base_channels, emb = 4 * ch, levels = static_cast<int64_t>(o.channel_mult.size());
  auto res_block = [&](int64_t in, int64_t out) { return ResBlock(in, out, emb, o.groups, o.dropout); };
  temb_in_ = register_module("temb_in", nn::Linear(ch, emb));
  temb_out_ = register_module("temb_out", nn::Linear(emb, emb));
  conv_in_ = register_module("conv_in", conv2d(o.in_channels, ch, 3));
  std::vector<int64_t> skips{ch};  // channels of every activation the up path concatenates
  int64_t cur = ch;
  for (int64_t l = 0; l < levels; ++l) {
    for (int64_t i = 0; i < o.num_res_blocks; ++i) {
      down_->push_back(res_block(cur, ch * o.channel_mult[l]));
      cur = ch * o.channel_mult[l];
      skips.push_back(cur);
    }
    if (l + 1 < levels) {
      downsample_->push_back(conv2d(cur, cur, 3, 2));
      skips.push_back(cur);
    }
  }
  mid_->push_back(res_block(cur, cur));
  if (o.attention) mid_->push_back(Attention(cur, o.groups));
  mid_->push_back(res_block(cur, cur));
  for (int64_t l = levels - 1; l >= 0; --l) {
    for (int64_t i = 0; i <= o.num_res_blocks; ++i) {
      up_->push_back(res_block(cur + skips.back(), ch * o.channel_mult[l]));
      skips.pop_back();
      cur = ch * o.channel_mult[l];
    }
    if (l > 0) upsample_->push_back(conv2d(cur, cur, 3));
  }
  TORCH_CHECK(skips.empty(), "UNet: unbalanced skip connections");
  norm_out_ = register_module("norm_out", make_group_norm(o.groups, cur));
  conv_out_ = register_module("conv_out", conv2d(cur, o.out_channels, 3));
  register_module("down", down_);
  register_module("downsample", downsample_);
  register_module("mid", mid_);
  register_module("up", up_);
  register_module("upsample", upsample_);
  initialize(init_seed);
}

void UNetImpl::initialize(uint64_t seed) {
  torch::NoGradGuard no_grad;
  const uint64_t key = derive_key(hash_string("unet.init"), seed);
  for (auto& item : named_parameters()) {
    torch::Tensor& p = item.value();
    const std::string& name = item.key();
    if (p.dim() >= 2 && !starts_at_zero(name)) {
      const double fan_avg = 0.5 * static_cast<double>((p.size(0) + p.size(1)) * p[0][0].numel());
      const double bound = std::sqrt(3.0 / fan_avg);  // variance_scaling(1, fan_avg, uniform)
      p.copy_((2 * keyed_uniform(p.sizes(), derive_key(key, hash_string(name))) - 1) * bound);
    } else if (p.dim() == 1 && ends_with(name, ".weight")) {  // GroupNorm scale (the only 1-D weights)
      p.fill_(1);
    } else {
      p.zero_();
    }
  }
}

torch::Tensor UNetImpl::forward(const torch::Tensor& x, const torch::Tensor& t) {
  check_input(options_, x, t);
  const UNetOptions& o = options_;
  const int64_t levels = static_cast<int64_t>(o.channel_mult.size());
  const torch::Tensor temb = timestep_embedding(t.to(x.device()), o.base_channels).to(x.scalar_type());
  const torch::Tensor emb = torch::silu(temb_out_(torch::silu(temb_in_(temb))));  // SiLU(temb), as every block uses it
  std::vector<torch::Tensor> hs{conv_in_(x)};
  size_t block = 0;
  for (int64_t l = 0; l < levels; ++l) {
    for (int64_t i = 0; i < o.num_res_blocks; ++i) hs.push_back(down_->at<ResBlockImpl>(block++).forward(hs.back(), emb));
    if (l + 1 < levels) hs.push_back(downsample_->at<nn::Conv2dImpl>(l).forward(hs.back()));
  }
  torch::Tensor h = hs.back();
  for (const auto& m : *mid_) {
    if (auto* r = m->as<ResBlockImpl>()) h = r->forward(h, emb);
    else h = m->as<AttentionImpl>()->forward(h);
  }
  block = 0;
  for (int64_t l = levels - 1; l >= 0; --l) {
    for (int64_t i = 0; i <= o.num_res_blocks; ++i) {
      h = up_->at<ResBlockImpl>(block++).forward(torch::cat({h, hs.back()}, 1), emb);
      hs.pop_back();
    }
    if (l > 0) {
      h = torch::nn::functional::interpolate(
          h, torch::nn::functional::InterpolateFuncOptions().size(std::vector<int64_t>{2 * h.size(2), 2 * h.size(3)})
                 .mode(torch::kNearest));
      h = upsample_->at<nn::Conv2dImpl>(levels - 1 - l).forward(h);
    }
  }
  return conv_out_(torch::silu(group_norm(norm_out_, norm_input(h))));
}

int64_t UNetImpl::parameter_count() const {
  int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

}  // namespace ipbench
