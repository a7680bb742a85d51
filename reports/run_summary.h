#pragma once
// write_summary: a run folder's records -> summary.json and summary.md (and the pair correlations of its
// stored reconstructions). The one library call that writes summary files: `ipbench run`, `summarize`,
// `merge` and the Python API all go through it.
//
// The statistics settings come from the folder's config.resolved.ini ([benchmark] confidence,
// baseline_design, metrics); the expected sample count from its plan (the shard's part for a shard
// folder). A run with fewer records says "incomplete: N of M samples" in summary.json, summary.md and
// the returned outcome. A records.csv without a single record is refused (Error naming the folder).
#include <string>
#include <vector>

#include "harness/run_folder.h"
#include "harness/spec.h"
#include "reports/summary_report.h"
#include "stats/correlation.h"
#include "stats/summary.h"

namespace ipbench {

/// The statistics settings of a run: confidence, baseline design, metric order, metric directions.
SummaryOptions summary_options(const BenchmarkOptions& bench);

/// Two-stage runs ([benchmark] target_halfwidth, harness/two_stage.h): sets the targets and the pilot
/// groups of `so` from the run's [benchmark] section, so that summarize() reports Stein's interval and
/// the compute saved (stats/precision.h); leaves `so` unchanged for a fixed-size run.
void add_two_stage_targets(SummaryOptions& so, const Section& benchmark);

/// Samples of the folder's plan: every cell x item x sample, or its shard's part; for a two-stage run,
/// the samples of its two_stage.csv.
int64_t expected_samples(const RunFolder& folder, const BenchmarkOptions& bench);

/// Pair correlations (stats/correlation.h) of every cell of `records` whose reconstructions the folder
/// stores, in record order. A sample is used when its record's status is "ok"; items are pooled per cell.
/// Error naming the file when a stored batch is unreadable, or when a stored sample has no record.
std::vector<CellCorrelation> correlate_run(const RunFolder& folder, const std::vector<Record>& records,
                                           double confidence);

struct SummaryOutcome {
  BenchmarkSummary summary;
  RunInfo info;                    ///< as written (records, expected samples, statuses filled in)
  std::vector<std::string> files;  ///< the paths written
};

/// Summarizes the run in `folder` and writes its summary files. `info`: the facts printed beside the
/// statistics; empty name / device / dtype / context are taken from the resolved config and
/// context_line(). `records`: the run's records when the caller holds them (else they are read).
SummaryOutcome write_summary(const RunFolder& folder, RunInfo info = {}, const std::vector<Record>* records = nullptr);

}  // namespace ipbench
