#pragma once
// Per-sample metrics. Convention: images are compared on the [0, 1] scale, u = (clamp(x, -1, 1) + 1)/2,
// one value per sample (never aggregated here). `residual` is measured in the measurement's own
// units ([-1, 1] image scale) on the unclamped reconstruction: ||y - A(x_hat)||_2 / sqrt(m).
#include <torch/torch.h>

#include <functional>
#include <map>
#include <string>

#include "core/registry.h"

namespace ipbench {

struct MetricInput {
  torch::Tensor x_hat;   ///< [B, C, H, W] reconstructions, [-1, 1] scale (may lie outside)
  torch::Tensor x_true;  ///< [1 or B, C, H, W] ground truth, [-1, 1]
  torch::Tensor y;       ///< [1 or B, m...] the measurement
  torch::Tensor a_x_hat; ///< [B, m...] A(x_hat), computed once by the caller
};

/// Input of a gallery metric (metrics/gallery.h): one batch of G coupled groups of K members.
struct GalleryInput {
  torch::Tensor x_hat;   ///< [G*K, C, H, W], [-1, 1] scale, members of a group contiguous
  int64_t K = 1;         ///< members per group (>= 2)
  torch::Tensor region;  ///< [1 or C, H, W] 0/1 pixel region of a subspace design (1 = inside V), or undefined
};

struct MetricEntry {
  ComponentInfo info;
  bool lower_better = true;
  /// False for estimands without a better direction (the image statistics): comparisons then say
  /// "higher"/"lower", never "better"; lower_better is meaningless.
  bool directional = true;
  /// Returns [B] float64 on the CPU; non-finite inputs give NaN for that sample.
  std::function<torch::Tensor(const MetricInput&)> compute;
  /// Gallery metrics (metrics/gallery.h) set this instead of compute: one value per coupled group,
  /// [G] float64 on the CPU (NaN for a group with a non-finite member). The runner stores it in the
  /// record of every member of the group.
  std::function<torch::Tensor(const GalleryInput&)> gallery;
  /// A gallery metric split by the design's pixel region (foreground / background).
  bool needs_region = false;
};

Registry<MetricEntry>& metric_registry();
/// Registers l1, psnr, ssim, residual and the image statistics pixel_mean, brightness, contrast,
/// centroid (idempotent).
void register_builtin_metrics();
/// Metric name -> lower is better, for every registered metric with a direction (registers the
/// built-ins first); what stats/ needs for verdicts, since it does not depend on metrics/.
std::map<std::string, bool> metric_directions();

}  // namespace ipbench
