// Packing a cell's work pieces into batches (harness/batching.h).
#include "harness/batching.h"

#include <algorithm>
#include <cctype>
#include <new>

#include <c10/util/Exception.h>

#include "core/error.h"

namespace ipbench {

int64_t WorkBatch::groups() const {
  int64_t n = 0;
  for (const auto& p : parts) n += p.groups();
  return n;
}

std::vector<WorkBatch> pack_batches(const std::vector<WorkPiece>& pieces, int64_t max_groups, bool across_items) {
  require(max_groups >= 1, "pack_batches: max_groups = ", max_groups, ". Violated: a batch holds at least one group");
  std::vector<WorkBatch> out;
  WorkBatch current;
  int64_t filled = 0;
  auto flush = [&] {
    if (!current.parts.empty()) out.push_back(std::move(current));
    current = WorkBatch();
    filled = 0;
  };
  for (const auto& piece : pieces) {
    if (!across_items) flush();
    for (int64_t g = piece.g0; g < piece.g1;) {
      const int64_t take = std::min(piece.g1 - g, max_groups - filled);
      WorkPiece part = piece;
      part.g0 = g;
      part.g1 = g + take;
      current.parts.push_back(part);
      filled += take;
      g += take;
      if (filled == max_groups) flush();
    }
  }
  flush();
  return out;
}

std::pair<WorkBatch, WorkBatch> split_batch(const WorkBatch& batch) {
  const int64_t G = batch.groups();
  require(G >= 2, "split_batch: a batch of ", G, " group(s). Violated: at least two groups to split");
  const int64_t half = (G + 1) / 2;
  std::pair<WorkBatch, WorkBatch> out;
  int64_t seen = 0;
  for (const auto& p : batch.parts) {
    const int64_t cut = std::clamp(p.g0 + (half - seen), p.g0, p.g1);  // first group of the second half
    if (cut > p.g0) out.first.parts.push_back(WorkPiece{p.unit, p.g0, cut});
    if (cut < p.g1) out.second.parts.push_back(WorkPiece{p.unit, cut, p.g1});
    seen += p.groups();
  }
  return out;
}

bool solver_takes_item_batch(const Solver& solver) { return solver.requirements().item_batch; }

bool is_out_of_memory(const std::exception& e) {
  if (dynamic_cast<const c10::OutOfMemoryError*>(&e) != nullptr) return true;
  if (dynamic_cast<const std::bad_alloc*>(&e) != nullptr) return true;
  std::string message = e.what();
  std::transform(message.begin(), message.end(), message.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return message.find("out of memory") != std::string::npos || message.find("not enough memory") != std::string::npos;
}

BatchFaults& batch_faults() {
  static BatchFaults faults;
  return faults;
}

}  // namespace ipbench
