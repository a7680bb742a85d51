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
#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

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
/// measurement only per sample, through the operator's forward / adjoint / loss, and uses no per-operator
/// closed form: SVD, projector, pixel mask), so every sample gets its per-item result. Declared by the
/// audited dps, dds (tests: test_batching, test_cross_item) and the unconditional ddpm, ddim; a plugin or
/// Python solver may declare it. The others are batched per item.
bool solver_takes_item_batch(const Solver& solver);

/// Whether `e` is an out-of-memory error: c10::OutOfMemoryError, std::bad_alloc, or a message saying
/// "out of memory" / "not enough memory" (CUDA and the CPU allocator word it so).
bool is_out_of_memory(const std::exception& e);

/// Test hook (tests/test_cross_item.cpp): when >= 0, a batch of more samples than this throws
/// c10::OutOfMemoryError before its solver call, as a device that cannot hold it would.
struct BatchFaults {
  int64_t oom_above_samples = -1;
};
BatchFaults& batch_faults();

}  // namespace ipbench
