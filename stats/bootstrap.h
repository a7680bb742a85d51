#pragma once
// The bias-corrected and accelerated (BCa) percentile interval of a bootstrap (Efron 1987), shared by
// the efficiency bootstrap (stats/efficiency.h) and the set-distance bootstrap over items
// (stats/distribution_distance.h). Resamples are drawn by the callers with keyed generators
// (core/rng.h: resample r uses KeyedGenerator(derive_key(key, r))), never a global RNG.
//
//   z0 = Phi^-1(share of replicates below the estimate, ties counting half)
//   a  = sum (m - t_j)^3 / (6 (sum (m - t_j)^2)^{3/2})    over the jackknife values t_j, m their mean
//   [low, high] = replicate quantiles at Phi(z0 + (z0 + z_p) / (1 - a (z0 + z_p))), p = (1 -+ c)/2
#include <vector>

#include "stats/intervals.h"

namespace ipbench {

/// BCa interval around `estimate` from the bootstrap `replicates` (any order; non-finite ones are
/// dropped) and the jackknife (delete-one) values (fewer than 2: no acceleration, a = 0). NaN ends
/// when fewer than half of `planned` replicates are finite or the estimate lies outside them all.
RatioInterval bca_interval(double estimate, std::vector<double> replicates, const std::vector<double>& jackknife,
                           double confidence, int64_t planned);

/// Quantile of sorted values at probability p (linear interpolation between order statistics).
double sorted_quantile(const std::vector<double>& sorted, double p);

}  // namespace ipbench
