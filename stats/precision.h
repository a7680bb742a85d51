#pragma once
// Running to a target precision: Stein's two-stage procedure per cell with Neyman allocation across
// items ([benchmark] target_halfwidth, pilot_groups, max_samples_per_item; docs/statistics.md 8c).
//
// Stage 1 (pilot): n0 groups per item. From the pilot unit variances s0_i^2 of every targeted metric,
// stage 2 brings item i to U_i groups: for a metric with target half-width h, the given-items mean
// (1/I) sum_i mean_i has variance (1/I^2) sum_i s_i^2/U_i, minimized for a fixed total by Neyman's
// allocation U_i proportional to s_i; the smallest such allocation with half-width <= h is
//     U_i = ceil(lambda s0_i),   lambda = t^2 sum_j s0_j / (I^2 h^2),
// t = t_{(1+c)/2, nu} with nu = (n0 - 1) (sum s0_i)^2 / sum s0_i^2, the Satterthwaite df of the pilot
// variances at that allocation. Over several metrics the largest U_i wins; U_i is clamped to
// [n0, max_groups] (capped: the target may be missed, and the summary says so).
//
// The interval (Stein 1945, extended to items): mean = (1/I) sum_i mean_i over ALL U_i units of each
// item, but the variance from the PILOT only: se^2 = (1/I^2) sum_i s0_i^2 / U_i, Satterthwaite df over
// the pilot dfs n0 - 1. For normal units the pilot variances are independent of every unit mean, so
// given them the mean is exactly normal with the planned variance: coverage is valid although U_i
// depends on the data (re-estimating the variance from all units would not be). Its half-width is
// <= h by construction unless capped.
//
// Compute saved: an iid design (K = 1) with member variances sigma2_i under its own Neyman allocation
// needs N_iid = z'^2 (sum_i sigma_i)^2 / (I^2 h^2) samples for the same half-width (z' the t quantile
// of the achieved interval), against sum_i K U_i for the design.
#include <cstdint>
#include <string>
#include <vector>

#include "stats/intervals.h"

namespace ipbench {

struct PrecisionTarget {
  std::string metric;
  double halfwidth = kNaN;
};

/// Parses "metric:halfwidth" entries (halfwidth > 0, finite; each metric at most once). Throws
/// ipbench::Error naming `where` (e.g. "config [benchmark] target_halfwidth"), the entry and the rule.
std::vector<PrecisionTarget> parse_precision_targets(const std::vector<std::string>& entries, const std::string& where);

struct TwoStagePlan {
  std::vector<int64_t> groups;  ///< total groups per item (pilot included), in [n0, max_groups]
  bool capped = false;          ///< some item wanted more than max_groups
};

/// The stage-2 plan of one cell. pilot_var[m][i] = s0_i^2 of metric m (unit variance over the n0 pilot
/// groups of item i; NaN when undefined: that item then gets max_groups), halfwidths[m] its target.
/// n0 >= 2, max_groups >= n0.
TwoStagePlan plan_two_stage(const std::vector<std::vector<double>>& pilot_var, const std::vector<double>& halfwidths,
                            int64_t n0, int64_t max_groups, double confidence);

/// Stein's two-stage interval (header): item_means over all units, groups[i] = U_i, pilot_var[i] = s0_i^2
/// over pilot_units[i] pilot groups (its df: pilot_units[i] - 1). NaN fields when an item's pilot
/// variance is not finite.
Interval two_stage_interval(const std::vector<double>& item_means, const std::vector<int64_t>& groups,
                            const std::vector<double>& pilot_var, const std::vector<int64_t>& pilot_units,
                            double confidence);

/// Samples an iid design would need for half-width h at member variances sigma2[i] (Neyman allocation,
/// quantile q): q^2 (sum_i sigma_i)^2 / (I^2 h^2), rounded up. NaN when a variance is not finite.
double iid_samples_for_halfwidth(const std::vector<double>& sigma2, double halfwidth, double q);

}  // namespace ipbench
