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

#include <cstdint>
#include <vector>

#include "stats/intervals.h"

namespace ipbench {

/// a [N, D], b [M, D] (N, M >= 2). Throws Error on mismatched D or too few rows.
double frechet_distance(const torch::Tensor& a, const torch::Tensor& b);

/// The Frechet distance of Gaussians N(mu_a, S_a), N(mu_b, S_b): mu [D], S [D, D] symmetric PSD (float64).
double frechet_distance_gaussians(const torch::Tensor& mu_a, const torch::Tensor& s_a, const torch::Tensor& mu_b,
                                  const torch::Tensor& s_b);

/// A set distance with its bootstrap interval over items.
struct SetDistance {
  RatioInterval value;    ///< the distance (value) and its BCa interval (low, high; NaN when undefined)
  int64_t items = 0;      ///< items pooled
  int64_t rows_a = 0, rows_b = 0;
  int64_t resamples = 0;  ///< bootstrap resamples drawn
};

/// Frechet distance between set A = the rows of a_items[i] pooled over items i and set B = the rows of
/// b_items[i] (each [n_i, D], float64 or float32; an item may have rows in one set only), with a BCa
/// interval by the bootstrap over items: resample r draws I items with replacement by
/// KeyedGenerator(derive_key(key, r)) and pools both sets' rows of the drawn items (the pairing of a
/// reconstruction with its ground truth is kept); acceleration from the delete-one-item jackknife.
/// Needs >= 2 rows in each pooled set (Error otherwise); the interval needs >= 3 items (NaN ends else).
/// Moments are pooled from per-item sums about a common centre, so a resample costs two D x D
/// eigendecompositions.
SetDistance frechet_distance_over_items(const std::vector<torch::Tensor>& a_items,
                                        const std::vector<torch::Tensor>& b_items, double confidence, uint64_t key,
                                        int64_t resamples);

/// Mean over rows of a [N, D] of min_j sqrt(mean_d (a_i - ref_j)^2), ref [M, D]. Chunked over N.
double mean_nearest_neighbor_distance(const torch::Tensor& a, const torch::Tensor& ref);

}  // namespace ipbench
