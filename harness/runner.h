#pragma once
// Runner: (spec, plan, run folder) -> records.
//
// For every (cell, item) unit of the plan that the run's shard owns (harness/plan.h: plan order, keys,
// sharding), the runner solves the item's measurement in batches of whole coupled groups (per item with
// batch_size, or across items with max_batch: harness/batching.h), scores each reconstruction with the
// configured metrics, and appends one Record per sample to the run folder (harness/run_folder.h: flushed
// per batch, resumable, locked). A batch that runs out of memory is halved and retried (logged on stderr,
// counted in RunOutcome::oom_splits); one group that does not fit is recorded as error:<message>. It never computes statistics: reports/
// (write_summary) turns the records into summaries.
//
// Failures are data: a solver or model exception inside a batch (c10::Error or another std::exception;
// not an ipbench::Error, which is a user error and stops the run) is caught, the batch's samples are
// recorded with status "error:<message>" and NaN metrics, and the run goes on with the other batches
// and cells. A sample whose reconstruction is not finite is "non_finite"; a finite one beyond
// kDivergedMagnitude is "diverged".
#include <map>
#include <string>
#include <vector>

#include "core/record.h"
#include "harness/plan.h"
#include "harness/spec.h"

namespace ipbench {

class RunFolder;

struct RunOptions {
  std::string out_dir;       ///< the run folder (run_benchmark(spec, options) only)
  bool resume = false;       ///< continue a run in the folder (same resolved config) instead of refusing
  bool progress = true;      ///< progress line on stderr
  /// Seconds between progress lines; < 0: 0.2 s on a terminal, 10 s in a log (core/progress.h).
  double progress_every_s = -1;
  Shard shard;               ///< the part of the plan this invocation runs
};

/// A cell's batches under [benchmark] memory_budget_mib (harness/batching.h): the probe, the size it gave,
/// and the largest measured batch of this invocation.
struct BatchMemory {
  int64_t group_size = 0;             ///< K of the cell's design
  int64_t probe_samples = 0;          ///< samples of the probe batch (one group)
  int64_t probe_peak_bytes = -1;      ///< its peak above what was allocated when it started
  int64_t groups_per_batch = 0;       ///< what fits the budget (groups_within_budget)
  int64_t largest_batch_samples = 0;  ///< the batch with the largest measured peak
  int64_t largest_peak_bytes = -1;
};

/// One line for the console: "<cell>: a group of K samples peaked P MiB -> batches of N samples; largest
/// measured batch ..." (the probe line when this invocation solved no more).
std::string describe_batch_memory(const std::string& cell, const BatchMemory& m);

struct RunOutcome {
  std::vector<Record> records;  ///< every record of the run (resumed ones included)
  double seconds = 0.0;         ///< wall time of this invocation
  int64_t solved_samples = 0;   ///< samples solved by this invocation
  int64_t failed_batches = 0;   ///< batches whose solver threw (recorded as error:<message>)
  int64_t oom_splits = 0;       ///< batches that ran out of memory and were halved and retried
  /// Per cell label, with [benchmark] memory_budget_mib only.
  std::map<std::string, BatchMemory> batch_memory;
};

/// One operator instance and its measurement of one item: what run_benchmark solves.
struct ItemProblem {
  std::unique_ptr<Operator> op;
  torch::Tensor y;  ///< [1, m...]
};

/// Builds `op` for dataset item `item` (problem key) and measures x [1, C, H, W] with it (measurement
/// key): the keys of harness/plan.h, so the result equals the run's. Error naming the operator's
/// section when it cannot be built for this image shape.
ItemProblem make_item_problem(const OperatorSpec& op, const torch::Tensor& x, int64_t item, uint64_t seed);

/// Loads the data and the prior, checks that every config key was read, starts (or resumes) the run in
/// `folder` (open_for_writing), then solves every unit of `plan` the folder does not hold yet. Throws
/// Error for user errors (before anything is solved when possible).
RunOutcome run_benchmark(const Spec& spec, const Plan& plan, RunFolder& folder, const RunOptions& options);

/// The same with Plan(spec, options.shard) in RunFolder::open_for_writing(options.out_dir).
RunOutcome run_benchmark(const Spec& spec, const RunOptions& options);

/// A finite reconstruction with a value beyond this magnitude is recorded as "diverged": images live on
/// [-1, 1], so 1e6 is no reconstruction but an iteration that blew up (an exploding step or gradient).
constexpr double kDivergedMagnitude = 1e6;

/// "error:<message>": the message's first line, commas, quotes and control characters replaced, at most
/// 160 characters: one CSV-safe field.
std::string error_status(const std::string& message);

}  // namespace ipbench
