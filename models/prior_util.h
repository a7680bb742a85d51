#pragma once
// Helpers shared by the built-in priors: input checks, sigma broadcasting, training-image loading
// and deterministic subsets. Not a user-facing concept; the priors' headers hold their contracts.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "models/denoiser.h"

namespace ipbench {

/// "1x28x28" (or "[]" for an empty shape), for messages and describe().
std::string shape_str(at::IntArrayRef shape);

/// sigma as a [B, 1, 1, 1] tensor with x's dtype and device. Accepts sigma of shape [B], [1] or a
/// 0-dim tensor (broadcast to the batch); any other shape fails a TORCH_CHECK (a caller's bug).
torch::Tensor sigma_per_sample(const torch::Tensor& x, const torch::Tensor& sigma);

/// Checks a denoiser input: TORCH_CHECK that x is a 4-D floating tensor; ipbench::Error naming both
/// shapes when `shape` ([C, H, W], may be empty = any) differs from x's [C, H, W]. `who` names the prior.
void check_denoiser_input(const torch::Tensor& x, const std::vector<int64_t>& shape, const std::string& who);

/// The [C, H, W] a prior models: `option` when set (3 positive values), otherwise ctx.image_shape.
/// Throws Error when neither gives a shape.
std::vector<int64_t> resolve_image_shape(const std::vector<int64_t>& option, const PriorContext& ctx,
                                         const std::string& who);

/// Training images from ctx.load_images(source): a [N, C, H, W] float tensor on the CPU.
/// Throws Error when no loader is injected, the result is not 4-D with N >= 1, or its [C, H, W]
/// differs from ctx.image_shape (when set; the message names both shapes).
torch::Tensor load_prior_images(const PriorContext& ctx, const std::string& source, const std::string& who);

/// m distinct indices of [0, n) drawn by a partial Fisher-Yates shuffle driven by KeyedGenerator(key),
/// sorted increasingly. Deterministic in (n, m, key). Requires 0 <= m <= n.
std::vector<int64_t> keyed_subset_indices(int64_t n, int64_t m, uint64_t key);

/// At most `max_images` rows of `images` (0 = all): the first ones, or the keyed subset
/// keyed_subset_indices(N, max_images, key) when `keyed`.
torch::Tensor select_images(const torch::Tensor& images, int64_t max_images, bool keyed, uint64_t key);

}  // namespace ipbench
