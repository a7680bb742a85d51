#pragma once
// Distances between two sets of images (rows = flattened images), for sample-quality evidence.
//
//  * Frechet distance between Gaussians fitted to the two sets (FID's formula, here in whatever
//    feature space the caller gives, e.g. raw pixels):
//      FD = ||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a^{1/2} S_b S_a^{1/2})^{1/2})
//    computed in double precision with symmetric eigendecompositions (Eigen).
//  * Nearest-neighbour distance: for each row of `a`, the RMS per-coordinate distance to the closest
//    row of `ref`; returns the mean over rows. A memorizing generator has distance ~0 to its
//    training set; real held-out images do not.
#include <torch/torch.h>

namespace ipbench {

/// a [N, D], b [M, D] (N, M >= 2). Throws Error on mismatched D or too few rows.
double frechet_distance(const torch::Tensor& a, const torch::Tensor& b);

/// Mean over rows of a [N, D] of min_j sqrt(mean_d (a_i - ref_j)^2), ref [M, D]. Chunked over N.
double mean_nearest_neighbor_distance(const torch::Tensor& a, const torch::Tensor& ref);

}  // namespace ipbench
