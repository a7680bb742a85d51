#pragma once
// The regression gate of `ipbench compare BASELINE CANDIDATE` (docs/compare.md): a candidate run
// against a baseline run of the same benchmark.
//
// For every cell present in both runs and every compared metric, the paired difference
// candidate - baseline over the (item, group) units both runs completed (stats/paired.h, A = candidate,
// B = baseline). The runner derives measurements from (seed, operator, item) and solver noise from
// (seed, design, item): two runs of the same config and seed see the same measurements and the same
// noise draws, so the comparison uses common random numbers and resolves small changes with few
// samples (a run with another seed is still compared correctly, without that gain).
//
// With margin m >= 0 for the metric (in its units; default 0) and the interval [lo, hi] of the
// difference given the items (noise only), at the run's confidence:
//   regressed  the interval lies beyond the margin on the worse side:
//              lower is better: lo > m;  higher is better: hi < -m
//   improved   the interval lies on the better side of 0:  lower: hi < 0;  higher: lo > 0
//   unchanged  otherwise;  undefined: no interval (fewer than 2 paired units in every item).
// The gate fails when any metric regressed, when a shared cell has more failed samples (status not ok
// or a non-finite metric) in the candidate than in the baseline, or when a baseline cell is missing
// from the candidate. Metrics without a direction (image statistics) are not compared: their value
// changing is not a regression.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/record.h"
#include "stats/paired.h"

namespace ipbench {

struct RegressionOptions {
  double confidence = 0.95;
  /// Metrics to compare; empty = every metric both runs hold that has a direction.
  std::vector<std::string> metrics;
  /// Metric -> margin (>= 0, the metric's units): a worsening smaller than this never fails the gate.
  std::map<std::string, double> margins;
  /// Metric -> lower is better. Filled by the caller from the metric registry (stats does not depend on
  /// metrics/); a metric missing here has no direction and is not compared.
  std::map<std::string, bool> lower_better;
};

enum class Change { undefined, unchanged, improved, regressed };
/// "undefined", "unchanged", "improved", "regressed".
const char* change_name(Change c);

struct MetricChange {
  std::string cell, metric;
  bool lower_better = true;
  double margin = 0.0;
  PairedDifference paired;  ///< A = candidate, B = baseline: difference = candidate - baseline
  Change change = Change::undefined;
};

struct CellFailures {
  std::string cell;
  int64_t baseline = 0, candidate = 0;  ///< failed samples
};

struct RegressionReport {
  double confidence = 0.95;
  std::vector<std::string> metrics;        ///< the compared metrics, in order
  std::vector<std::string> not_compared;   ///< metrics of both runs left out (no direction, or not asked for)
  std::vector<MetricChange> changes;       ///< shared cells in the candidate's order, then metrics
  std::vector<CellFailures> failures;      ///< every shared cell
  std::vector<std::string> missing_in_candidate;  ///< baseline cells the candidate lacks (gate fails)
  std::vector<std::string> new_in_candidate;      ///< candidate cells the baseline lacks (not compared)

  int64_t regressions() const;
  /// Shared cells with more failed samples in the candidate.
  int64_t new_failures() const;
  /// No regression, no new failures, no missing cell.
  bool passed() const;
};

/// Throws ipbench::Error for an invalid confidence or margin, a requested metric that a run lacks or
/// that has no direction, records without a shared cell, or inconsistent records (as summarize()).
RegressionReport compare_runs(const std::vector<Record>& baseline, const std::vector<Record>& candidate,
                              const RegressionOptions& options);

}  // namespace ipbench
