#pragma once
// From records to per-cell statistics: the group estimator, dataset-level intervals, coupling
// diagnostics and relative efficiency (specs/noise-and-stats.md section 4, docs/statistics.md).
//
// Units are coupled groups: a group's value is the mean of its K members; a group with a failed
// member is excluded (and counted). Per item, a Student-t interval over its groups. Per cell:
//  * `ci`          interval for the mean over the benchmark's items given those items (noise only):
//                  Var = sum_i s_i^2/U_i / I^2, Welch-Satterthwaite degrees of freedom;
//  * `population`  t interval over item means (items as a sample of the dataset: includes
//                  between-item variance);
//  * `ci_width_item_mean` mean over items of the per-item interval width (antithetic paper Table 3);
//  * for K > 1: rho (K = 2: 2 s_ab/(s_a^2 + s_b^2), pooled over items; K > 2: rhobar) with a Fisher-z
//    interval, and the in-run efficiency sigma^2/(K Var(g)) from pooled member variances;
//  * against the baseline design (iid) of the same operator and solver: measured relative efficiency
//    at equal sample budget, sum_i s^2_MC,i / sum_i K s^2_g,i, with an F interval.
#include <cstdint>
#include <string>
#include <vector>

#include "core/record.h"
#include "stats/intervals.h"

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
  double variance_df_member = kNaN, variance_df_group = kNaN;
  RatioInterval rho;                ///< K > 1 only
  RatioInterval efficiency_in_run;  ///< K > 1 only: 1/(1 + (K-1) rhobar), point value only
  RatioInterval efficiency_vs_baseline;  ///< non-baseline cells with a baseline cell present
};

struct CellSummary {
  std::string cell, op, solver, design;
  int64_t group_size = 1;
  int64_t items = 0;
  int64_t samples_per_item = 0;
  double nfe_per_sample = kNaN;
  double seconds_per_sample = kNaN;
  int64_t samples_failed = 0;
  std::vector<MetricSummary> metrics;
};

struct SummaryOptions {
  double confidence = 0.95;
  std::string baseline_design = "iid";
  std::vector<std::string> metrics;  ///< order of metrics; empty = every metric found in the records
};

struct BenchmarkSummary {
  double confidence = 0.95;
  std::string baseline_design;
  std::vector<CellSummary> cells;  ///< in order of first appearance in the records
};

BenchmarkSummary summarize(const std::vector<Record>& records, const SummaryOptions& options);

}  // namespace ipbench
