#pragma once
// The plan of a benchmark: its cells, its (cell, item) units in plan order, which shard owns each
// unit, and the key of every random draw. The runner, merge and the reports all take plan order and
// keys from here (docs/ARCHITECTURE.md "Keys and determinism").
//
// Plan order: cells in the config's operator, then solver, then design order (cell label
// "<operator>/<solver>/<design>"), then items; within a unit, groups, then members. Units are numbered
// 0, 1, ... in that order and go round-robin to the shards: shard i of n owns the units u with
// u mod n = i (`ipbench run --shard i/n`, docs/scaling.md).
//
// Keys (all derived from [benchmark] seed, never a global RNG):
//   problem setup (masks, box positions)  problem_key(seed, operator label, item)
//   measurement noise                     measurement_key(seed, operator label, item)
//   solver noise stream                   noise_key(seed, design label, item); the design then keys each
//                                         draw by (group, draw index)
// so every solver and design sees the same measurement of an item, solvers share their noise (common
// random numbers), and records depend neither on the batch size nor on the shard.
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "core/record.h"

namespace ipbench {

struct Spec;

/// Shard i of n (0 <= i < n); n = 1 is the whole plan.
struct Shard {
  int64_t index = 0;
  int64_t count = 1;
  /// Parses "i/n" (0-based i, e.g. SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT); Error naming the value.
  static Shard parse(const std::string& text);
  std::string str() const;  ///< "i/n"
  /// Whether plan unit u (plan order) belongs to this shard.
  bool owns(int64_t unit) const { return unit % count == index; }
};

/// Samples of shard `shard`'s part of a plan of `cells` cells x `items` items x `samples_per_item`.
int64_t planned_samples(int64_t cells, int64_t items, int64_t samples_per_item, const Shard& shard);

/// "<operator>/<solver>/<design>": the cell column of records.csv.
std::string cell_label(const std::string& op, const std::string& solver, const std::string& design);

uint64_t problem_key(uint64_t seed, const std::string& op_label, int64_t item);
uint64_t measurement_key(uint64_t seed, const std::string& op_label, int64_t item);
uint64_t noise_key(uint64_t seed, const std::string& design_label, int64_t item);

/// One cell: indices into the spec's operators, solvers and designs.
struct PlanCell {
  size_t op = 0, solver = 0, design = 0;
  std::string label, op_label, solver_label, design_label;
  int64_t group_size = 1;  ///< the design's K
};

/// One (cell, item) unit.
struct PlanUnit {
  int64_t index = 0;   ///< plan-order number (for sharding)
  size_t cell = 0;     ///< index into Plan::cells()
  size_t item_pos = 0; ///< position of the item in the run (0 .. items-1)
  int64_t item = 0;    ///< dataset index ([dataset] first + item_pos)
  int64_t groups = 0;  ///< samples_per_item / K
};

/// (cell, item, group, member): a sample's identity; ordered by plan order when `cell` is the rank.
using SampleKey = std::tuple<std::string, int64_t, int64_t, int64_t>;

class Plan {
 public:
  explicit Plan(const Spec& spec, Shard shard = {});

  const std::vector<PlanCell>& cells() const { return cells_; }
  const Shard& shard() const { return shard_; }
  int64_t items() const { return items_; }
  int64_t first_item() const { return first_item_; }
  int64_t samples_per_item() const { return samples_per_item_; }
  /// Samples per solver call, in groups, for cell c (whole coupled groups; batch_size 0 = all).
  int64_t groups_per_batch(const PlanCell& c) const;

  /// Every unit in plan order, and the ones this shard owns.
  std::vector<PlanUnit> units() const;
  std::vector<PlanUnit> owned_units() const;
  /// Samples of the whole plan and of this shard's part.
  int64_t total_samples() const;
  int64_t owned_samples() const;

  bool has_cell(const std::string& label) const { return rank_.count(label) > 0; }
  /// Plan rank of a cell label; Error naming it when the plan has no such cell.
  size_t cell_rank(const std::string& label) const;
  /// Whether the record belongs to this shard's part of the plan (its cell exists and its unit is owned).
  bool owns(const Record& r) const;
  /// Sorts records into plan order (cell rank, item, group, member); Error for a cell not in the plan.
  void sort(std::vector<Record>& records) const;

 private:
  std::vector<PlanCell> cells_;
  std::map<std::string, size_t> rank_;
  Shard shard_;
  int64_t items_ = 0, first_item_ = 0, samples_per_item_ = 0, batch_size_ = 0;
};

}  // namespace ipbench
