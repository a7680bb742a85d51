#pragma once
// Paired comparison of two solvers under common random numbers (docs/statistics.md section 5).
//
// The runner derives the measurement from (seed, operator, item) and the solver noise stream from
// (seed, design, item), never from the solver: two solvers in the same (operator, design) see the same
// measurement and the same noise draws for every (item, group, member). Their group means on a unit
// (item, group) are therefore positively correlated, and the difference of the two estimators is
// measured far more precisely from the unit-wise differences than from two independent intervals.
//
// Units are (item, group) pairs with a complete, finite group in BOTH cells (the rule of summary.h,
// applied to each cell). Unit value d_ig = a_ig - b_ig (group mean of A minus group mean of B). Item i
// has P_i paired units, mean dbar_i and variance s_d,i^2 over them. Given the items (noise only), over
// items with P_i >= 2 (I of them), the same Welch-Satterthwaite combination as the cells' `ci`:
//     mean = sum_i dbar_i / I,  Var = sum_i s_d,i^2/P_i / I^2,
//     df = (sum c_i)^2 / sum c_i^2/(P_i - 1),  c_i = s_d,i^2/P_i  (sum (P_i - 1) when every s_d,i^2 = 0).
// Items as a sample of the dataset: a t interval over dbar_i (items with P_i >= 1), which removes the
// between-item variance that each cell's `population` interval carries.
// Diagnostics over the items of the given-items interval:
//  * correlation r = S_ab / sqrt(S_aa S_bb) of a and b, each centered at its per-item mean, sums pooled
//    over items (Pearson: A and B need not share a variance), with a Fisher-z interval at
//    n_eff = sum_i P_i - (I - 1);
//  * variance_reduction = sum_i (s_a,i^2 + s_b,i^2)/P_i / sum_i s_d,i^2/P_i: the variance of the
//    unpaired difference (two independent estimators on the same units) over the paired one. About
//    1/(1 - r) for equal variances; 1 for independent noise; > 1 is what common random numbers buy.
// Undefined quantities are NaN.
#include <cstdint>
#include <map>
#include <string>

#include "stats/intervals.h"

namespace ipbench {

/// Unit values of one metric in one cell: item -> group -> group mean, complete finite groups only.
using UnitValues = std::map<int64_t, std::map<int64_t, double>>;

/// The paired difference A - B of two cells on their shared units (the math above).
struct PairedDifference {
  int64_t items = 0;          ///< items with P_i >= 2: the items of `difference`
  int64_t units = 0;          ///< paired units in those items
  double mean_a = kNaN;       ///< mean over those items of A's item mean on the paired units
  double mean_b = kNaN;       ///< the same for B; difference.mean = mean_a - mean_b
  Interval difference;        ///< given the items (noise only): comparable with the cells' `ci`
  Interval population;        ///< items as a random sample: t interval over the item mean differences
  RatioInterval correlation;  ///< pooled within-item Pearson correlation of a and b, Fisher z
  double variance_reduction = kNaN;  ///< Var(unpaired difference) / Var(paired difference)
};

/// Pairs the units present in both `a` and `b`. Values must be finite (the caller keeps complete,
/// finite groups only).
PairedDifference paired_difference(const UnitValues& a, const UnitValues& b, double confidence = 0.95);

/// The conclusion of a comparison from whether `difference` excludes 0 and the metric's direction.
enum class Verdict {
  undefined,       ///< no interval (fewer than two paired units in every item)
  no_difference,   ///< the interval contains 0: no significant difference
  a_better,        ///< the interval excludes 0 on A's side of the metric's direction
  b_better,
  a_higher,        ///< direction unknown (metric not in SummaryOptions::lower_better): A - B > 0
  b_higher,
};

/// "undefined", "no_significant_difference", "a_better", "b_better", "a_higher", "b_higher".
const char* verdict_name(Verdict v);

/// `lower_better`: 1 lower is better, 0 higher is better, -1 unknown.
Verdict paired_verdict(const Interval& difference, int lower_better);

}  // namespace ipbench
