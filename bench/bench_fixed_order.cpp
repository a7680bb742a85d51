// What the UNet's fixed-order GroupNorm gradient and Linear layers (models/fixed_order.h) cost.
//
//   build/bench/bench_fixed_order [threads=2] [batch=4] [model folder=models/fmnist32-ddpm]
//
// Prints, per GroupNorm shape of models/fmnist32-ddpm at the given batch: the input-gradient time of
// LibTorch's kernel and of ipbench::group_norm (forward + backward, median of 21), then the sum over
// the UNet's 24 GroupNorms against one forward + backward pass of the whole UNet. Ratios, measured in
// this run; nothing is asserted. Then the same for the UNet's 13 Linear layers (forward + input
// gradient). Last, the same UNet pass with oneDNN allowed (LibTorch's default),
// against the native convolutions that use_deterministic_kernels() (core/runtime.h) keeps.
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/runtime.h"
#include "models/fixed_order.h"
#include "models/unet_checkpoint.h"
#include "timing.h"

using namespace ipbench;

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  const int64_t B = argc > 2 ? std::atoll(argv[2]) : 4;
  configure_threads(threads);
  torch::NoGradGuard outer;  // re-enabled per measurement below
  const auto ckpt = load_unet_checkpoint(argc > 3 ? argv[3] : "models/fmnist32-ddpm");
  auto net = ckpt.model;
  net->eval();
  for (auto& p : net->parameters()) p.set_requires_grad(false);
  // The UNet's GroupNorm inputs (channels, side) for base 24, channel_mult 1,1,2, one block a level,
  // attention in the middle, 32x32 images: down path, middle (with attention), up path, norm_out.
  const std::vector<std::pair<int64_t, int64_t>> shapes{
      {24, 32}, {24, 32}, {24, 16}, {24, 16}, {24, 8},  {48, 8},  {48, 8},  {48, 8},
      {48, 8},  {48, 8},  {48, 8},  {96, 8},  {48, 8},  {72, 8},  {48, 8},  {72, 16},
      {24, 16}, {48, 16}, {24, 16}, {48, 32}, {24, 32}, {48, 32}, {24, 32}, {24, 32}};
  std::printf("threads %d, batch %lld\n%-16s %12s %12s %8s\n", at::get_num_threads(), static_cast<long long>(B),
              "shape", "libtorch ms", "ipbench ms", "ratio");
  double sum_torch = 0, sum_ours = 0;
  torch::GradMode::set_enabled(true);
  auto time_norm = [&](int64_t C, int64_t S, bool ours) {
    const auto x0 = keyed_normal({B, C, S, S}, 1), dy = keyed_normal({B, C, S, S}, 2);
    const auto w = keyed_normal({C}, 3), b = keyed_normal({C}, 4);
    return bench::median_ms(
        [&] {
          const auto x = x0.clone().requires_grad_(true);
          const auto y = ours ? group_norm(x, 8, w, b, 1e-5) : torch::group_norm(x, 8, w, b, 1e-5);
          torch::autograd::grad(std::vector<torch::Tensor>{y}, std::vector<torch::Tensor>{x}, std::vector<torch::Tensor>{dy});
        },
        21);
  };
  for (const auto& [C, S] : shapes) {
    const double t = time_norm(C, S, false), o = time_norm(C, S, true);
    sum_torch += t;
    sum_ours += o;
    std::printf("[%lld,%lld,%lld,%lld] %9.3f %12.3f %8.2f\n", static_cast<long long>(B), static_cast<long long>(C),
                static_cast<long long>(S), static_cast<long long>(S), t, o, o / t);
  }
  // Linear layers: the time-embedding MLP (24 -> 96 -> 96) and each of the 11 residual blocks'
  // projection 96 -> its channels.
  double lin_torch = 0, lin_ours = 0;
  for (int64_t out : {96, 24, 24, 48, 48, 48, 48, 48, 24, 24, 24, 24}) {
    for (int64_t in : out == 96 ? std::vector<int64_t>{24, 96} : std::vector<int64_t>{96}) {
      const auto w = keyed_normal({out, in}, 7), b = keyed_normal({out}, 8), x1 = keyed_normal({B, in}, 9);
      const auto dy = keyed_normal({B, out}, 10);
      for (bool ours : {false, true}) {
        (ours ? lin_ours : lin_torch) += bench::median_ms(
            [&] {
              const auto x = x1.clone().requires_grad_(true);
              const auto y = ours ? linear(x, w, b) : torch::nn::functional::linear(x, w, b);
              torch::autograd::grad(std::vector<torch::Tensor>{y}, std::vector<torch::Tensor>{x},
                                    std::vector<torch::Tensor>{dy});
            },
            21);
      }
    }
  }
  const auto x0 = keyed_normal({B, 1, 32, 32}, 5);
  const auto t = torch::full({B}, 500.0);
  auto unet_pass = [&] {
    const auto x = x0.clone().requires_grad_(true);
    const auto out = net->forward(x, t);
    torch::autograd::grad(std::vector<torch::Tensor>{out.sum()}, std::vector<torch::Tensor>{x});
  };
  const double unet = bench::median_ms(unet_pass, 11);
  // oneDNN off (use_deterministic_kernels) against LibTorch's default choice, same UNet pass.
  at::globalContext().setUserEnabledMkldnn(true);
  const double unet_onednn = bench::median_ms(unet_pass, 11);
  use_deterministic_kernels();
  std::printf("all GroupNorms: libtorch %.3f ms, ipbench %.3f ms (x%.2f)\n", sum_torch, sum_ours, sum_ours / sum_torch);
  std::printf("all Linear layers: libtorch %.3f ms, ipbench %.3f ms (x%.2f)\n", lin_torch, lin_ours, lin_ours / lin_torch);
  std::printf("UNet forward + backward (with ipbench's GroupNorm and Linear): %.3f ms; their extra cost: %.1f%% of it\n",
              unet, unet > 0 ? 100.0 * (sum_ours - sum_torch + lin_ours - lin_torch) / unet : 0.0);
  std::printf("UNet forward + backward with oneDNN allowed (LibTorch's default, thread-count dependent): %.3f ms; "
              "native convolutions (use_deterministic_kernels) / oneDNN: x%.2f\n",
              unet_onednn, unet / unet_onednn);
  return 0;
}
