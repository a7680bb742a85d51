#pragma once
// Runner: spec -> plan -> records.
//
// For every cell (operator x solver x design) and item, the runner solves the item's measurement
// in batches of whole coupled groups, scores each reconstruction with the configured metrics, and
// appends one Record per sample to DIR/records.csv (flushed per batch). It never computes
// statistics: the CLI hands the records to stats/ and reports/.
//
// Keys (all derived from [benchmark] seed, never a global RNG):
//   problem setup (masks, box positions)  derive(seed, "problem", operator label, item)
//   measurement noise                     derive(seed, "measurement", operator label, item)
//   solver noise stream                   derive(seed, "noise", design label, item); the design then
//                                         keys each draw by (group, draw index)
// so every solver and design sees the same measurement of an item, solvers share their noise
// (common random numbers, for paired comparisons), and records do not depend on batch size.
#include <string>
#include <vector>

#include "core/config.h"
#include "core/record.h"
#include "harness/spec.h"

namespace ipbench {

struct RunOptions {
  std::string out_dir;       ///< where config.resolved.ini and records.csv go
  bool resume = false;       ///< continue a run in out_dir (same resolved config) instead of refusing
  bool progress = true;      ///< progress line on stderr
};

struct RunOutcome {
  std::vector<Record> records;  ///< every record of the run (resumed ones included)
  double seconds = 0.0;         ///< wall time of this invocation
  int64_t solved_samples = 0;   ///< samples solved by this invocation
};

/// Loads the data and the prior, checks that every config key was read, writes the resolved config,
/// then runs every cell. Throws Error for user errors (before anything is solved when possible).
RunOutcome run_benchmark(const Config& config, const Spec& spec, const RunOptions& options);

}  // namespace ipbench
