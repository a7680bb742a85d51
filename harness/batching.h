#pragma once
// Batches of one cell (issue 17): the (item, group-range) work pieces still to solve, packed into solver
// calls of whole coupled groups, per item or across items ([benchmark] max_batch, docs/performance.md).
//
// A batch across items is solved with one solver call on an ItemBatchOperator (each item's operator on
// its samples, per-sample measurements) and a NoiseStream of NoiseSegments (each item's own keyed
// stream), then scored and recorded per item: every sample gets the values of a per-item batch, so the
// records are the same whatever the packing. Only solvers audited for per-sample measurements take such
// batches (Requirements::item_batch); the others, and designs bound to one item's operator mask, are
// packed per item. A batch that runs out of memory is halved at a group boundary and retried
// (split_batch; the runner logs each split).
//
// [benchmark] memory_budget_mib sizes the batches from memory instead of max_batch (CUDA): a cell's
// first batch is one group (the probe); its peak memory above what was allocated when it started,
// per sample, gives the groups per batch that fit the budget (groups_within_budget), and the rest of
// the cell is packed so. The records do not depend on the packing, so they equal per-item batching.
#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "core/config.h"
#include "harness/plan.h"
#include "solvers/solver.h"

namespace ipbench {

/// Groups [g0, g1) of one (cell, item) unit, to be solved.
struct WorkPiece {
  PlanUnit unit;
  int64_t g0 = 0, g1 = 0;
  int64_t groups() const { return g1 - g0; }
};

/// One solver call: consecutive pieces of whole groups, of one item or of several (plan order).
struct WorkBatch {
  std::vector<WorkPiece> parts;
  int64_t groups() const;
};

/// Packs `pieces` (one cell's, in plan order) into batches of at most `max_groups` groups each, keeping
/// the order of pieces and groups. `across_items`: a batch is filled with the next pieces, a piece cut at
/// a group boundary where the batch is full; otherwise each batch holds groups of one piece only (per-item
/// batching: a piece in chunks of max_groups from its g0). Pieces with g1 <= g0 are skipped. Error unless
/// max_groups >= 1.
std::vector<WorkBatch> pack_batches(const std::vector<WorkPiece>& pieces, int64_t max_groups, bool across_items);

/// The out-of-memory retry: `batch` cut at group ceil(G/2) into two batches (G >= 2, Error otherwise).
std::pair<WorkBatch, WorkBatch> split_batch(const WorkBatch& batch);

/// Whether a solver takes a batch across items: it declares Requirements::item_batch (it reads the
/// measurement and the operator only per sample, closed forms through the batch operator's per-item SVD),
/// so every sample gets its per-item result. Every built-in solver declares it after an audit
/// (tests/test_cross_item.cpp); a plugin or Python solver may. The others are batched per item.
bool solver_takes_item_batch(const Solver& solver);

/// [benchmark] memory_budget_mib, read only when written (so the resolved config of a run without it
/// is unchanged).
struct MemoryBudgetOptions {
  int64_t memory_budget_mib = 0;

  template <class F>
  void fields(F&& f) {
    f("memory_budget_mib", memory_budget_mib,
      "> 0: batches across items sized so the solver's measured peak fits this many MiB (CUDA; batch_size "
      "must be 0; max_batch, when set, caps it); 0 = off");
  }
  void validate() const;
};

/// The budget in bytes (0 when the key is absent or 0). Error (naming the key, the value and the rule)
/// for a negative value, batch_size > 0, or a device that is not CUDA (only the CUDA allocator measures a
/// batch's peak; on the CPU use max_batch).
int64_t read_memory_budget_bytes(const Section& benchmark, int64_t batch_size, const std::string& device);

/// Groups per batch within `budget_bytes` when a batch of `probe_samples` peaked `probe_peak_bytes`
/// above its start: floor(budget / per-sample peak) samples in whole groups of `group_size`, at least one
/// group (a group that does not fit runs out of memory and is recorded so), at most `cap_groups` when > 0.
int64_t groups_within_budget(int64_t budget_bytes, int64_t probe_peak_bytes, int64_t probe_samples,
                             int64_t group_size, int64_t cap_groups);

/// The peak memory of one solver batch above the memory allocated when it started (CUDA caching
/// allocator, every pool; what tensors hold, not the allocator's cache).
class PeakMemory {
 public:
  /// Resets the device's peak and remembers what is allocated now.
  explicit PeakMemory(torch::Device device);
  /// Bytes above the start at the peak since construction; `samples` only feeds the test hook.
  int64_t bytes_above_start(int64_t samples) const;

 private:
  torch::Device device_;
  int64_t start_ = 0;
};

/// Whether `e` is an out-of-memory error: c10::OutOfMemoryError, std::bad_alloc, or a message saying
/// "out of memory" / "not enough memory" (CUDA and the CPU allocator word it so).
bool is_out_of_memory(const std::exception& e);

/// Test hook (tests/test_cross_item.cpp): when >= 0, a batch of more samples than this throws
/// c10::OutOfMemoryError before its solver call, as a device that cannot hold it would.
struct BatchFaults {
  int64_t oom_above_samples = -1;
  /// When >= 0: PeakMemory reports this many bytes per sample of the batch, and memory_budget_mib is
  /// accepted on any device (a deterministic stand-in for the CUDA allocator).
  int64_t peak_bytes_per_sample = -1;
};
BatchFaults& batch_faults();

}  // namespace ipbench
