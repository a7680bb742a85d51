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
//
// Sharding (`ipbench run --shard i/n`): the plan's (cell, item) units, numbered in plan order
// (operators, then solvers, then designs, then items), go round-robin to n shards, and shard i runs
// the units u with u mod n = i. The keys above do not depend on the shard, so the shards' records
// together are the records of an unsharded run; `ipbench merge` joins them (harness/merge.h). A
// sharded run folder holds a `shard` file ("i/n"); --resume requires the same shard.
#include <string>
#include <vector>

#include "core/config.h"
#include "core/record.h"
#include "harness/spec.h"

namespace ipbench {

/// Shard i of n (0 <= i < n); n = 1 is the whole plan.
struct Shard {
  int64_t index = 0;
  int64_t count = 1;
  /// Parses "i/n" (0-based i, e.g. SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT); Error naming the value.
  static Shard parse(const std::string& text);
  std::string str() const;  ///< "i/n"
  /// Whether plan unit u (plan order, see above) belongs to this shard.
  bool owns(int64_t unit) const { return unit % count == index; }
};

struct RunOptions {
  std::string out_dir;       ///< where config.resolved.ini and records.csv go
  bool resume = false;       ///< continue a run in out_dir (same resolved config) instead of refusing
  bool progress = true;      ///< progress line on stderr
  Shard shard;               ///< the part of the plan this invocation runs
};

struct RunOutcome {
  std::vector<Record> records;  ///< every record of the run (resumed ones included)
  double seconds = 0.0;         ///< wall time of this invocation
  int64_t solved_samples = 0;   ///< samples solved by this invocation
};

/// One operator instance and its measurement of one item: what run_benchmark solves.
struct ItemProblem {
  std::unique_ptr<Operator> op;
  torch::Tensor y;  ///< [1, m...]
};

/// Builds `op` for dataset item `item` (problem key) and measures x [1, C, H, W] with it (measurement
/// key): the keys of the header above, so the result equals the run's. Error naming the operator's
/// section when it cannot be built for this image shape.
ItemProblem make_item_problem(const OperatorSpec& op, const torch::Tensor& x, int64_t item, uint64_t seed);

/// Loads the data and the prior, checks that every config key was read, writes the resolved config,
/// then runs every cell. Throws Error for user errors (before anything is solved when possible).
RunOutcome run_benchmark(const Config& config, const Spec& spec, const RunOptions& options);

}  // namespace ipbench
