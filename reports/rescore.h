#pragma once
// rescore_run: metrics after the fact. Recomputes per-sample metrics of a finished run from its stored
// reconstructions (`save_reconstructions = true`) without solving, adds them as columns of records.csv,
// computes the set-level Frechet distance of every torchscript_feature metric per cell, and re-summarizes
// (write_summary) so that summary.json holds them.
//
// What a metric needs is rebuilt exactly: the ground truth from the run's [dataset] (config.resolved.ini),
// the operator and the measurement y of every item from its keys (make_item_problem: problem and
// measurement keys of (seed, operator label, item), harness/plan.h), A(x_hat) on the run's device and
// dtype. The reconstruction is the stored one: float32, clamped to [-1, 1] (docs/formats.md), so a metric
// of the clamped image (l1, psnr, ssim, the feature metrics, ...) equals the run's value, and `residual`
// (computed by the run on the unclamped output) equals it when the solver's output lay in [-1, 1].
// Samples whose status is not "ok" get NaN, as in the run.
//
// Metrics already stored that are asked for again are recomputed and compared with the stored column
// (RescoreCheck); the stored values are kept. New metrics are appended after the existing columns;
// records.csv is replaced atomically through the RunFolder (writer lock held), rescore.ini lists the added
// metrics and their [metric.<label>] sections (write_summary reads it), set_metrics/<metric>.json holds
// the set-level distances. A run folder with added columns cannot be `--resume`d (its columns differ).
//
// Errors (ipbench::Error, exit 2): a folder without stored reconstructions, a stored sample missing for an
// "ok" record (naming the batch file), the run's dataset not loadable, an unknown metric, a gallery
// metric (one value per coupled group: not supported by rescore), a feature network with a wrong output
// shape or non-finite output (metrics/feature_metric.h).
#include <cstdint>
#include <string>
#include <vector>

#include "core/record.h"
#include "reports/run_summary.h"
#include "stats/distribution_distance.h"

namespace ipbench {

struct RescoreOptions {
  std::vector<std::string> metrics;  ///< metrics to compute (registered names or [metric.<label>] labels)
  /// INI text with [metric.<label>] sections for `metrics` (e.g. `--config M.ini`, `--set`); a label
  /// without a section here may be configured in the run's own config.resolved.ini.
  std::string metric_config;
  std::string metric_config_origin = "rescore --config";
  int64_t resamples = 2000;  ///< bootstrap resamples of the set-level distances (keyed; 0 = no interval)
  bool progress = true;      ///< progress line on stderr
};

/// A metric that records.csv already held, recomputed: how far the recomputation is from the stored column.
struct RescoreCheck {
  std::string metric;
  int64_t compared = 0;             ///< records compared (NaN = NaN counts as equal)
  int64_t differing = 0;            ///< records whose recomputed value is not exactly the stored one
  double max_abs_difference = 0.0;  ///< over records where both are finite
};

/// The Frechet distance of one cell's reconstructions and its items' ground truths in a feature space.
struct SetMetricResult {
  std::string metric;  ///< the torchscript_feature metric (its network)
  std::string cell, op, solver, design;
  SetDistance distance;
  double confidence = 0.95;
};

struct RescoreOutcome {
  std::vector<std::string> added;       ///< new columns, in order
  std::vector<RescoreCheck> checked;    ///< requested metrics that were stored already
  std::vector<Record> records;          ///< as written: stored columns unchanged, added ones filled
  std::vector<Record> recomputed;       ///< every record with the requested metrics as recomputed
  std::vector<SetMetricResult> set_metrics;
  int64_t samples_scored = 0;           ///< "ok" samples scored
  double seconds = 0.0;
  SummaryOutcome summary;               ///< write_summary's outcome after the rescore
  std::vector<std::string> files;       ///< paths written
};

/// Rescores the run folder `dir` (see above). Takes the folder's writer lock.
RescoreOutcome rescore_run(const std::string& dir, const RescoreOptions& options);

/// The JSON array of set_metrics/<metric>.json (docs/formats.md).
std::string set_metrics_json(const std::vector<SetMetricResult>& results);

}  // namespace ipbench
