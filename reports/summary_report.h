#pragma once
// Renders a BenchmarkSummary: summary.json (the contract in docs/formats.md), summary.md and the
// console table. Reporters only render: they never run solvers or compute statistics.
// Undefined values are written as JSON null and rendered as "n/a".
#include <map>
#include <string>
#include <vector>

#include "stats/summary.h"

namespace ipbench {

/// Facts about the run printed beside the statistics.
struct RunInfo {
  std::string name;
  std::string context;      ///< core/runtime context_line()
  std::string device;
  std::string dtype;
  int64_t seed = 0;
  double seconds = 0.0;     ///< wall time of the run
  int64_t records = 0;
  int64_t expected_records = 0;  ///< samples of the run's plan (its shard's part); 0 = unknown
  std::map<std::string, int64_t> statuses;  ///< records per status (ok, non_finite, diverged, error:...)
  /// Set-level metrics of `ipbench rescore` (reports/rescore.h): JSON arrays of entries, written into
  /// summary.json as one array "set_metrics" (absent when empty).
  std::vector<std::string> set_metrics;
  /// "incomplete: N of M samples" when records < expected_records, else "".
  std::string incomplete() const;
};

std::string summary_json(const BenchmarkSummary& summary, const RunInfo& info);
std::string summary_markdown(const BenchmarkSummary& summary, const RunInfo& info);
/// A fixed-width table for the terminal: one row per (cell, metric), then the paired comparisons
/// (when the run has two or more solvers in an (operator, design)) and the pair correlations.
std::string summary_table(const BenchmarkSummary& summary);
/// The paired solver comparison table (one row per comparison); empty string when there are none.
std::string comparison_table(const BenchmarkSummary& summary);
/// The pair-correlation table (one row per cell): pairs, standard and centralized mean (sd) [CI];
/// empty string when summary.correlations is empty.
std::string correlation_table(const std::vector<CellCorrelation>& correlations, double confidence);
/// {"cell": ..., "pairs_kind": ..., "pairs": n, "standard": {...}, "centralized": {...}} objects.
std::string correlations_json(const std::vector<CellCorrelation>& correlations);

}  // namespace ipbench
