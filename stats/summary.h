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
//  * pooled within-item variances from the one-way ANOVA of each item (stats/efficiency.h), items
//    with U_i >= 2 weighted by 1/U_i: sigma2_member = sum_i w_i [W_i/U_i + B_i/(U_i - 1)]/K (unbiased
//    member variance, coupling accounted for), var_group = sum_i w_i s_i^2, with Welch-Satterthwaite df;
//  * for K > 1: rho (intraclass correlation) and the in-run efficiency sigma2_member / (K var_group)
//    = 1/(1 + (K-1) rho), both with the one-way ANOVA F interval (exact for one normal item,
//    Satterthwaite dfs over items: stats/efficiency.h);
//  * for a cell whose design is not options.baseline_design, when a cell with the same operator and
//    solver and the baseline design exists: the measured relative efficiency at equal sample budget,
//    RE = sum_i w_i K_b s_b,i^2 / sum_i w_i K s_i^2 (N times the variance of each estimator; K_b = 1 for
//    iid; items with >= 2 groups in both cells), with a Satterthwaite F interval and a keyed BCa
//    bootstrap over groups within items; `efficiency_method` says which one is reported
//    (stats/efficiency.h);
//  * honesty of the headline: items_total (items with a record), items_scored (items in `ci`);
//    partial = items_scored < items_total; intervals of metrics with bounds in options.bounds are
//    clipped to them (ci_clipped / population_clipped say so).
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
#include "stats/efficiency.h"
#include "stats/intervals.h"
#include "stats/paired.h"
#include "stats/precision.h"

namespace ipbench {

/// The outcome of a two-stage run for one (cell, metric) with a target (stats/precision.h).
struct PrecisionSummary {
  bool active = false;
  double target_halfwidth = kNaN;
  Interval interval;               ///< Stein's two-stage interval (pilot variances)
  double achieved_halfwidth = kNaN;
  int64_t pilot_samples = 0, stage2_samples = 0;  ///< samples (complete groups x K) by stage
  bool met = false;                ///< achieved_halfwidth <= target
  double iid_samples = kNaN;       ///< samples an iid design needs for the achieved half-width
  double saved_samples = kNaN;     ///< iid_samples - samples used (negative: the design cost more)
  double saved_nfe = kNaN;         ///< saved_samples x nfe_per_sample
};

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
  double variance_df_member = kNaN, variance_df_group = kNaN;  ///< Welch-Satterthwaite
  int64_t items_total = 0;     ///< items of the cell (with at least one record)
  int64_t items_scored = 0;    ///< items with >= 2 complete groups: the items of `ci`
  bool partial = false;        ///< items_scored < items_total: `ci` speaks about a subset
  bool ci_clipped = false, population_clipped = false;  ///< an end was clipped to the metric's bounds
  double anova_f = kNaN;            ///< K > 1: pooled MSB / MSW
  double variance_df_within = kNaN; ///< K > 1: Satterthwaite df of the pooled MSW
  RatioInterval rho;                ///< K > 1 only: intraclass correlation, ANOVA F interval
  RatioInterval efficiency_in_run;  ///< K > 1 only: sigma2_member/(K var_group), ANOVA F interval
  RatioInterval efficiency_vs_baseline;  ///< non-baseline cells with a baseline cell: the reported interval
  std::string efficiency_method;         ///< "satterthwaite_f" | "bootstrap_bca" ("" when undefined)
  RatioInterval efficiency_vs_baseline_f, efficiency_vs_baseline_bootstrap;  ///< both candidate intervals
  double efficiency_df_baseline = kNaN, efficiency_df_design = kNaN;      ///< Satterthwaite dfs
  double efficiency_excess_kurtosis = kNaN;  ///< of the units, the larger of the two cells
  double efficiency_single_group_factor = kNaN;  ///< EfficiencyEstimate::single_group_factor
  bool efficiency_fragile = false;               ///< one group moves RE by more than kFragileFactor
  PrecisionSummary precision;  ///< two-stage runs, metrics with a target
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
  /// Metric name -> [low, high] range of its values (SSIM [-1, 1], L1 [0, 1], ...): intervals are
  /// clipped to it. Filled by the caller (harness summary_options); a metric not listed is unbounded.
  std::map<std::string, std::pair<double, double>> bounds;
  /// Resamples of the efficiency bootstrap (0 = none); keyed by (cell, metric), deterministic.
  int64_t bootstrap_resamples = 2000;
  /// Two-stage runs (stats/precision.h): the targets and the pilot's groups per item (groups
  /// 0..pilot_groups-1 are stage 1, the rest stage 2); pilot_groups = 0: not a two-stage run.
  std::vector<PrecisionTarget> targets;
  int64_t pilot_groups = 0;
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
  /// Lines a reader must see (partial cells): printed above the console table and in summary.md.
  std::vector<std::string> warnings;
};

/// Throws ipbench::Error when options.confidence is outside (0, 1) or the records are inconsistent
/// (see above).
BenchmarkSummary summarize(const std::vector<Record>& records, const SummaryOptions& options);

/// The units of `ci` (group means of complete, finite groups) of `metric` in every cell, by cell name:
/// what paired comparisons pair. Throws ipbench::Error on inconsistent records, as summarize() does.
std::map<std::string, UnitValues> cell_unit_values(const std::vector<Record>& records, const std::string& metric);

}  // namespace ipbench
