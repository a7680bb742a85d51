#pragma once
// `ipbench merge --out DIR SHARD_DIR...`: joins the run folders of the shards of one benchmark
// (`ipbench run --shard i/n`, harness/runner.h) into one run folder.
//
// Checks, each an Error naming the folder: every folder holds records.csv, config.resolved.ini and a
// `shard` file; the resolved configs are identical; the shards are 0..n-1 of one n, each once (a
// missing shard is refused unless allow_partial); no (cell, item, group, member) appears twice; with
// every shard present, every sample of the plan is present (a shard still running or killed is
// refused: finish it with --resume first).
// Output: DIR/config.resolved.ini, DIR/records.csv in plan order (cells in the config's operator,
// solver, design order, then item, group, member): byte-identical to an unsharded run's records.csv
// apart from the `seconds` column; and DIR/reconstructions/ when the shards stored theirs. DIR must not
// hold a run already.
#include <string>
#include <vector>

#include "core/record.h"

namespace ipbench {

struct MergeOutcome {
  std::vector<Record> records;  ///< in plan order
  int64_t shards = 0;           ///< shard folders merged
  int64_t shard_count = 0;      ///< n of the shards
};

MergeOutcome merge_runs(const std::vector<std::string>& shard_dirs, const std::string& out_dir,
                        bool allow_partial = false);

}  // namespace ipbench
