#pragma once
// GroupNorm whose gradient does not depend on the thread count.
//
// LibTorch 1.13's CPU GroupNorm backward (native_group_norm_backward) rounds differently with 1 and 2
// threads for some shapes: measured on the shipped UNet (models/fmnist32-ddpm), a [4, 48, 32, 32] input
// with 8 groups (6 channels a group) gave input gradients differing by up to 2.4e-7 between
// at::set_num_threads(1) and (2), which moved DPS records by up to 1.3e-5 relative. The forward pass is
// thread-count independent (one thread reduces a whole group).
//
// group_norm() returns the same values as torch::group_norm. On a CPU float32/float64 input that
// requires a gradient, its backward computes the input gradient with one thread per (sample, group),
// each summing in a fixed order in double precision, so the gradient is bitwise identical for any thread
// count (and within rounding of LibTorch's). The scale/shift gradients (training) come from LibTorch's
// kernel. Other devices and dtypes call torch::group_norm unchanged.
#include <torch/torch.h>

namespace ipbench {

/// GroupNorm of x [N, C, ...] in `groups` groups with per-channel `weight`/`bias` (either may be
/// undefined) and `eps`, differentiable in all three (see the header comment for determinism).
torch::Tensor group_norm(const torch::Tensor& x, int64_t groups, const torch::Tensor& weight,
                         const torch::Tensor& bias, double eps);

/// The module form used by the UNet: its weight, bias, groups and eps.
torch::Tensor group_norm(const torch::nn::GroupNorm& norm, const torch::Tensor& x);

}  // namespace ipbench
