// Shared prior helpers (see prior_util.h).
#include "models/prior_util.h"

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "core/rng.h"

namespace ipbench {

std::string shape_str(at::IntArrayRef shape) {
  if (shape.empty()) return "[]";
  std::string out;
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? "x" : "") + std::to_string(shape[i]);
  return out;
}

torch::Tensor sigma_per_sample(const torch::Tensor& x, const torch::Tensor& sigma) {
  TORCH_CHECK(sigma.defined(), "denoiser: sigma is undefined");
  const int64_t B = x.size(0);
  TORCH_CHECK(sigma.dim() == 0 || (sigma.dim() == 1 && (sigma.size(0) == B || sigma.size(0) == 1)),
              "denoiser: sigma must have shape [", B, "], [1] or [], got ", sigma.sizes());
  return sigma.to(x.options()).reshape({-1, 1, 1, 1}).expand({B, 1, 1, 1});
}

void check_denoiser_input(const torch::Tensor& x, const std::vector<int64_t>& shape, const std::string& who) {
  TORCH_CHECK(x.defined() && x.dim() == 4, who, ": x must be [B, C, H, W], got ",
              x.defined() ? x.sizes() : at::IntArrayRef{});
  TORCH_CHECK(x.is_floating_point(), who, ": x must be a floating tensor, got ", x.scalar_type());
  if (shape.empty()) return;
  require(x.sizes().slice(1).vec() == shape, who, ": image shape ", shape_str(x.sizes().slice(1)),
          " differs from the prior's ", shape_str(shape));
}

std::vector<int64_t> resolve_image_shape(const std::vector<int64_t>& option, const PriorContext& ctx,
                                         const std::string& who) {
  const std::vector<int64_t>& shape = option.empty() ? ctx.image_shape : option;
  require(shape.size() == 3 && std::all_of(shape.begin(), shape.end(), [](int64_t v) { return v > 0; }),
          who, ": needs an image shape C,H,W (set the option or the benchmark's image shape), got ",
          shape_str(shape));
  return shape;
}

torch::Tensor load_prior_images(const PriorContext& ctx, const std::string& source, const std::string& who) {
  require(static_cast<bool>(ctx.load_images), who, ": cannot load training images '", source,
          "': no image loader in the PriorContext");
  torch::Tensor images = ctx.load_images(source);
  require(images.defined() && images.dim() == 4 && images.size(0) >= 1, who, ": training images '", source,
          "' must be a non-empty [N, C, H, W] tensor, got ",
          images.defined() ? shape_str(images.sizes()) : std::string("undefined"));
  if (!ctx.image_shape.empty()) {
    require(images.sizes().slice(1).vec() == ctx.image_shape, who, ": training images '", source,
            "' have shape ", shape_str(images.sizes().slice(1)), " but the benchmark's images are ",
            shape_str(ctx.image_shape));
  }
  return images.to(torch::kCPU, images.is_floating_point() ? images.scalar_type() : torch::kFloat);
}

std::vector<int64_t> keyed_subset_indices(int64_t n, int64_t m, uint64_t key) {
  TORCH_CHECK(m >= 0 && m <= n, "keyed_subset_indices: need 0 <= m <= n, got m = ", m, ", n = ", n);
  std::vector<int64_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  KeyedGenerator gen(key);
  for (int64_t i = 0; i < m; ++i) std::swap(idx[i], idx[gen.uniform_int(i, n - 1)]);
  idx.resize(m);
  std::sort(idx.begin(), idx.end());
  return idx;
}

torch::Tensor select_images(const torch::Tensor& images, int64_t max_images, bool keyed, uint64_t key) {
  const int64_t n = images.size(0);
  if (max_images <= 0 || max_images >= n) return images;
  if (!keyed) return images.narrow(0, 0, max_images);
  const auto idx = keyed_subset_indices(n, max_images, key);
  return images.index_select(0, torch::tensor(idx, torch::kLong));
}

}  // namespace ipbench
