#include "metrics/gallery.h"

#include <limits>
#include <mutex>

#include "core/error.h"
#include "metrics/image_metrics.h"

namespace ipbench {

namespace {

/// (i, j) index tensors of the K(K-1)/2 pairs i < j.
std::pair<torch::Tensor, torch::Tensor> pairs(int64_t K, torch::Device device) {
  const auto ij = torch::triu_indices(K, K, 1, torch::TensorOptions().dtype(torch::kLong).device(device));
  return {ij[0], ij[1]};
}

/// Unit images [G, K, C, H, W] of a gallery batch, failed groups zeroed, and which groups are finite.
std::pair<torch::Tensor, torch::Tensor> unit_groups(const GalleryInput& in) {
  require(in.K >= 2, "a gallery metric needs coupled groups of K >= 2 members, got K = ", in.K);
  TORCH_CHECK(in.x_hat.dim() == 4 && in.x_hat.size(0) % in.K == 0, "gallery input x_hat ", in.x_hat.sizes(),
              " is not [G*K, C, H, W] with K = ", in.K);
  const auto x = in.x_hat.to(torch::kDouble);
  const int64_t G = x.size(0) / in.K;
  const auto ok = torch::isfinite(x).view({G, -1}).all(1);
  const auto clean = torch::where(ok.repeat_interleave(in.K).view({-1, 1, 1, 1}), x, torch::zeros_like(x));
  return {to_unit_range(clean).view({G, in.K, x.size(1), x.size(2), x.size(3)}), ok};
}

torch::Tensor with_nan(const torch::Tensor& value, const torch::Tensor& ok) {
  return torch::where(ok, value, torch::full_like(value, std::numeric_limits<double>::quiet_NaN())).to(torch::kCPU);
}

torch::Tensor region_of(const GalleryInput& in, const char* metric) {
  require(in.region.defined(), "gallery metric '", metric, "' splits by the design's pixel region, but the design ",
          "has none. Violated: use it with a [noise.*] type = subspace design whose subspace is box, operator or channel");
  return in.region.to(in.x_hat.device(), torch::kDouble);
}

}  // namespace

torch::Tensor gallery_pairwise_l2(const torch::Tensor& u, const torch::Tensor& weight) {
  const auto [i, j] = pairs(u.size(1), u.device());
  const auto d2 = (u.index_select(1, i) - u.index_select(1, j)).pow(2);  // [G, P, C, H, W]
  if (!weight.defined()) return d2.flatten(2).mean(2).mean(1);
  const auto w = weight.to(u.device(), u.scalar_type()).expand({u.size(2), u.size(3), u.size(4)});
  const auto n = w.sum();
  return (d2 * w).flatten(2).sum(2).mean(1) / n;
}

torch::Tensor gallery_pairwise_ssim_distance(const torch::Tensor& u) {
  const int64_t G = u.size(0);
  const auto [i, j] = pairs(u.size(1), u.device());
  const auto a = u.index_select(1, i).flatten(0, 1), b = u.index_select(1, j).flatten(0, 1);
  return (1.0 - ssim_unit(a, b)).view({G, -1}).mean(1);
}

torch::Tensor gallery_vendi(const torch::Tensor& u) {
  const int64_t K = u.size(1);
  const auto f = u.flatten(2);
  const auto norm = f.norm(2, 2, true).clamp_min(1e-12);
  const auto unit = f / norm;
  auto S = torch::matmul(unit, unit.transpose(1, 2));  // cosine kernel; k(x, x) = 1 (also for a black image)
  S.diagonal(0, 1, 2).fill_(1.0);
  S = S / static_cast<double>(K);  // [G, K, K], trace 1
  const auto l = torch::linalg_eigvalsh(S).clamp_min(0.0);
  const auto ent = -(l * torch::log(torch::where(l > 0, l, torch::ones_like(l)))).sum(1);
  return torch::exp(ent);
}

torch::Tensor gallery_region_rmse(const torch::Tensor& u, const torch::Tensor& region) {
  const auto w = region.to(u.device(), u.scalar_type()).expand({u.size(2), u.size(3), u.size(4)});
  const auto dev = (u - u.mean(1, true)).pow(2) * w;  // [G, K, C, H, W]
  return torch::sqrt(dev.flatten(1).sum(1) / (w.sum() * static_cast<double>(u.size(1))));
}

void register_gallery_metrics() {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  auto& registry = metric_registry();
  auto add = [&](const char* name, const char* description, bool lower_better, bool needs_region,
                 std::function<torch::Tensor(const GalleryInput&)> f) {
    if (registry.contains(name)) return;
    MetricEntry entry;
    entry.info = {name, description, {}};
    entry.lower_better = lower_better;
    entry.needs_region = needs_region;
    entry.gallery = std::move(f);
    registry.add(name, std::move(entry));
  };
  // Every entry: no gradients, unit images of the groups, NaN for a group with a failed member.
  using Core = std::function<torch::Tensor(const torch::Tensor& u, const GalleryInput& in)>;
  auto entry = [](Core core) {
    return [core](const GalleryInput& in) {
      torch::NoGradGuard no_grad;
      const auto [u, ok] = unit_groups(in);
      return with_nan(core(u, in), ok);
    };
  };
  add("gallery_l2", "gallery: mean pairwise per-pixel squared distance of a group's K members on [0, 1]", false,
      false, entry([](const torch::Tensor& u, const GalleryInput&) { return gallery_pairwise_l2(u); }));
  add("gallery_ssim_dist", "gallery: mean pairwise 1 - SSIM of a group's K members", false, false,
      entry([](const torch::Tensor& u, const GalleryInput&) { return gallery_pairwise_ssim_distance(u); }));
  add("gallery_vendi", "gallery: Vendi score (cosine kernel of pixel vectors), in [1, K]", false, false,
      entry([](const torch::Tensor& u, const GalleryInput&) { return gallery_vendi(u); }));
  add("gallery_fg_rmse", "gallery, subspace designs: RMS deviation from the group mean inside the design's region",
      true, true, entry([](const torch::Tensor& u, const GalleryInput& in) {
        return gallery_region_rmse(u, region_of(in, "gallery_fg_rmse"));
      }));
  add("gallery_bg_l2", "gallery, subspace designs: mean pairwise squared distance outside the design's region",
      false, true, entry([](const torch::Tensor& u, const GalleryInput& in) {
        return gallery_pairwise_l2(u, 1.0 - region_of(in, "gallery_bg_l2"));
      }));
}

bool is_gallery_metric(const std::string& name) {
  register_gallery_metrics();
  return metric_registry().contains(name) && static_cast<bool>(metric_registry().get(name).gallery);
}

}  // namespace ipbench
