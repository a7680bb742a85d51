#pragma once
// From records to per-cell statistics: the group estimator, dataset-level intervals, coupling
// diagnostics and relative efficiency (specs/noise-and-stats.md section 4, docs/statistics.md).
//
// Units are coupled groups: a group's value is the mean of its K members; a group with a member whose
// value is not finite (counted in samples_failed) or missing (absent from the record's metrics, not
// counted) is excluded. Item i has U_i complete groups, units u_ig, item mean m_i, unit variance
// s_i^2 and a Student-t interval over its units. Per cell and metric:
//  * `ci`          interval for the mean over the benchmark's items given those items (noise only):
//                  items with U_i >= 2 (I of them), mean = sum m_i / I, Var = sum_i s_i^2/U_i / I^2,
//                  Welch-Satterthwaite df = (sum a_i)^2 / sum a_i^2/(U_i - 1), a_i = s_i^2/U_i
//                  (df = sum (U_i - 1) when every s_i^2 = 0); `ci.units` = groups in those items;
//  * `population`  t interval over item means m_i (U_i >= 1; items as a sample of the dataset:
//                  includes between-item variance);
//  * variance components of the population interval (one-way random effects, method of moments):
//    var_item_means = sample variance of the m_i (population.se^2 = var_item_means / I_pop),
//    var_noise_item_mean = mean over items with U_i >= 2 of s_i^2/U_i (noise variance of one item
//    mean; ci.se^2 = var_noise_item_mean / I), var_between_items = max(0, var_item_means -
//    var_noise_item_mean) (item-to-item spread, which no noise design reduces);
//  * `ci_width_item_mean` mean over items with U_i >= 2 of the per-item interval width (antithetic
//                  paper Table 3);
//  * pooled within-item variances: sigma2_member = sum_i sum_{g,k} (x_igk - m_i)^2 / sum_i (U_i K - 1)
//    (every member of a used group, coupling ignored: each member is marginally one plain sample),
//    var_group = sum_i (U_i - 1) s_i^2 / sum_i (U_i - 1), with those denominators as their df;
//  * for K > 1: rho with a Fisher-z interval. K = 2: 2 S_ab/(S_aa + S_bb), centered cross products of
//    member 0 (a) and member 1 (b) at per-item member means, pooled over items, n_eff = sum_i U_i -
//    (I - 1) (one pair lost per item centering beyond the first). K > 2: rhobar = (K var_group /
//    sigma2_member - 1)/(K - 1), n_eff = groups_used (a heuristic interval);
//  * for K > 1: in-run efficiency sigma2_member / (K var_group) = 1/(1 + (K-1) rhobar), with an
//    approximate F interval variance_ratio_interval(value, df_member, df_group) (approximate: both
//    variances come from the same samples and are dependent);
//  * for a cell whose design is not options.baseline_design, when a cell with the same operator and
//    solver and the baseline design exists: the measured relative efficiency at equal sample budget,
//    RE = (K_b var_group_b) / (K var_group) (N times the variance of each estimator; K_b = 1 for iid),
//    pooled over items, with the F interval variance_ratio_interval(RE, df_group_b, df_group).
// Across cells: for every operator, design and metric and every pair of solvers (A, B) with both cells
// present (A's cell first in record order), a paired comparison on their shared units (stats/paired.h).
// Undefined quantities are NaN. Records of one cell must agree on op/solver/design/group_size and
// hold each (item, group, member) at most once with 0 <= member < K; otherwise summarize() throws
// ipbench::Error (corrupt or mis-merged record stores are user errors).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/record.h"
#include "stats/correlation.h"
#include "stats/intervals.h"
#include "stats/paired.h"

namespace ipbench {

struct MetricSummary {
  std::string name;
  Interval ci;                 ///< dataset level, given the items (what noise designs shrink)
  Interval population;         ///< dataset level, items as a random sample
  double ci_width_item_mean = kNaN;
  int64_t groups_used = 0;     ///< groups with all members finite, over all items
  int64_t samples_failed = 0;  ///< samples whose value was not finite
  double sigma2_member = kNaN; ///< pooled within-item variance of single samples
  double var_group = kNaN;     ///< pooled within-item variance of group means
  double var_item_means = kNaN;       ///< sample variance of the item means (what `population` uses)
  double var_noise_item_mean = kNaN;  ///< mean over items of s_i^2/U_i: noise variance of one item mean
  double var_between_items = kNaN;    ///< max(0, var_item_means - var_noise_item_mean): item spread
  double variance_df_member = kNaN, variance_df_group = kNaN;
  RatioInterval rho;                ///< K > 1 only
  RatioInterval efficiency_in_run;  ///< K > 1 only: sigma2_member/(K var_group), approximate F interval
  RatioInterval efficiency_vs_baseline;  ///< non-baseline cells with a baseline cell present
};

struct CellSummary {
  std::string cell, op, solver, design;
  int64_t group_size = 1;
  int64_t items = 0;              ///< distinct items
  int64_t samples_per_item = 0;   ///< records per item, the maximum over items
  double nfe_per_sample = kNaN;   ///< mean over the cell's records (failed ones included)
  double seconds_per_sample = kNaN;
  int64_t samples_failed = 0;     ///< records with status != "ok" or any non-finite metric value
  std::vector<MetricSummary> metrics;
};

struct SummaryOptions {
  double confidence = 0.95;
  std::string baseline_design = "iid";
  std::vector<std::string> metrics;  ///< order of metrics; empty = every metric found in the records
  /// Metric name -> whether lower values are better, for the verdict of paired comparisons. Filled by
  /// the caller from the metric registry (stats does not depend on metrics/); a metric not listed gets
  /// a direction-free verdict (a_higher / b_higher).
  std::map<std::string, bool> lower_better;
};

/// Solver A versus solver B in one (operator, design) on one metric (stats/paired.h).
struct PairedComparison {
  std::string op, design, metric, solver_a, solver_b;
  int lower_better = -1;  ///< 1 lower is better, 0 higher is better, -1 unknown
  PairedDifference paired;
  Verdict verdict = Verdict::undefined;
  /// The label of the better solver; empty unless the verdict is a_better or b_better.
  std::string better() const;
};

struct BenchmarkSummary {
  double confidence = 0.95;
  std::string baseline_design;
  std::vector<CellSummary> cells;  ///< in order of first appearance in the records
  /// Pixel-wise pair correlations (stats/correlation.h), filled by the caller when the run stored its
  /// reconstructions (reports/run_summary.h); empty otherwise.
  std::vector<CellCorrelation> correlations;
  /// Paired solver comparisons (common random numbers): (operator, design) in order of first
  /// appearance, solver pairs in cell order, metrics in metric order; empty with fewer than 2 solvers.
  std::vector<PairedComparison> comparisons;
};

/// Throws ipbench::Error when options.confidence is outside (0, 1) or the records are inconsistent
/// (see above).
BenchmarkSummary summarize(const std::vector<Record>& records, const SummaryOptions& options);

/// The units of `ci` (group means of complete, finite groups) of `metric` in every cell, by cell name:
/// what paired comparisons pair. Throws ipbench::Error on inconsistent records, as summarize() does.
std::map<std::string, UnitValues> cell_unit_values(const std::vector<Record>& records, const std::string& metric);

}  // namespace ipbench
