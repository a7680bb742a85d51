#pragma once
// Gallery metrics: one value per coupled group of K >= 2 members (couple-to-control paper, section 5 and
// Appendix B). A coupling cannot change the expectation of a per-sample metric (paper Prop. 3.2) but it
// changes every metric of two or more samples jointly; these measure the gallery a group forms.
//
// Images on [0, 1]: u = (clamp(x, -1, 1) + 1)/2 (metrics/metric.h). For a group u_1..u_K with pairs
// i < j (P = K(K-1)/2 of them), D = C*H*W:
//   gallery_l2        mean over pairs of mean_pixels (u_i - u_j)^2: the paper's pixel-space L2
//                     ("mean pairwise per-pixel squared distance", App. B.1.1). Higher = more diverse.
//   gallery_ssim_dist mean over pairs of 1 - SSIM(u_i, u_j) (SSIM of metrics/image_metrics.h).
//                     Higher = more diverse.
//   gallery_vendi     Vendi score exp(-sum_k l_k log l_k), l = eigenvalues of S/K, S_ij the cosine
//                     similarity of the raw pixel vectors u_i, u_j (Friedman & Dieng 2023; the paper uses
//                     SSCD features, we use pixels). In [1, K]: the effective number of distinct images.
// For subspace designs (a pixel region R, 1 inside V, from the design's pixel_region):
//   gallery_fg_rmse   sqrt(mean over members and pixels of R of (u_k - ubar)^2), ubar the group's mean
//                     image: how far members stray from the gallery's common foreground. Lower = better
//                     preserved (0 when the foreground is identical).
//   gallery_bg_l2     gallery_l2 restricted to the pixels outside R: background diversity. Higher =
//                     more diverse.
// A group with a non-finite member gets NaN. The core functions take unit images [G, K, C, H, W] and are
// differentiable (the `couple learn` objectives); the registry entries wrap them without gradients.
#include <torch/torch.h>

#include "metrics/metric.h"

namespace ipbench {

/// u [G, K, C, H, W] on [0, 1] -> [G] mean pairwise per-pixel squared distance; `weight` (optional,
/// broadcastable to [C, H, W], 0/1) restricts the pixel mean to where it is 1.
torch::Tensor gallery_pairwise_l2(const torch::Tensor& u, const torch::Tensor& weight = {});
/// u [G, K, C, H, W] -> [G] mean pairwise 1 - SSIM.
torch::Tensor gallery_pairwise_ssim_distance(const torch::Tensor& u);
/// u [G, K, C, H, W] -> [G] Vendi score of the cosine-similarity kernel of the pixel vectors.
torch::Tensor gallery_vendi(const torch::Tensor& u);
/// u [G, K, C, H, W], region broadcastable to [C, H, W] -> [G] RMS deviation from the group mean on R.
torch::Tensor gallery_region_rmse(const torch::Tensor& u, const torch::Tensor& region);

/// Registers gallery_l2, gallery_ssim_dist, gallery_vendi, gallery_fg_rmse, gallery_bg_l2 in the metric
/// registry as gallery entries (MetricEntry::gallery; idempotent). Called by the harness, not by
/// register_builtin_metrics (per-sample users of the registry never see them).
void register_gallery_metrics();

/// Whether metric `name` is a registered gallery metric.
bool is_gallery_metric(const std::string& name);

}  // namespace ipbench
