// Packing a cell's work pieces into batches (harness/batching.h).
#include "harness/batching.h"

#include <algorithm>
#include <cctype>
#include <new>

#include <c10/util/Exception.h>

#include "core/error.h"
#include "core/options.h"
#include "core/runtime.h"
#include "noise/device.h"

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

void MemoryBudgetOptions::validate() const {
  check_option(memory_budget_mib >= 0, "MemoryBudgetOptions", "memory_budget_mib", memory_budget_mib,
               "memory_budget_mib >= 0 (0 = off)");
}

int64_t read_memory_budget_bytes(const Section& benchmark, int64_t batch_size, const std::string& device) {
  if (!benchmark.has("memory_budget_mib")) return 0;
  const int64_t mib = read_options<MemoryBudgetOptions>(benchmark).memory_budget_mib;
  if (mib == 0) return 0;
  require(batch_size == 0, "config [benchmark] memory_budget_mib = ", mib, " with batch_size = ", batch_size,
          ". Violated: batch_size = 0 when memory_budget_mib > 0 (the budget sizes the batches)");
  if (batch_faults().peak_bytes_per_sample < 0) {
    const torch::Device d = resolve_device(device);
    require(d.is_cuda(), "config [benchmark] memory_budget_mib = ", mib, " with device = ", device, " (", d.str(),
            " here). Violated: memory_budget_mib needs a CUDA device, whose allocator measures a batch's peak; on the ",
            "CPU size batches with max_batch");
  }
  return mib * (int64_t{1} << 20);
}

int64_t groups_within_budget(int64_t budget_bytes, int64_t probe_peak_bytes, int64_t probe_samples,
                             int64_t group_size, int64_t cap_groups) {
  require(budget_bytes > 0 && probe_samples > 0 && group_size > 0, "groups_within_budget: budget ", budget_bytes,
          ", probe of ", probe_samples, " samples, K = ", group_size, ". Violated: all > 0");
  // Per-sample peak rounded up, so the estimate never exceeds the budget by rounding.
  const int64_t per_sample = std::max<int64_t>(1, (probe_peak_bytes + probe_samples - 1) / probe_samples);
  int64_t groups = std::max<int64_t>(1, budget_bytes / per_sample / group_size);
  if (cap_groups > 0) groups = std::min(groups, cap_groups);
  return groups;
}

PeakMemory::PeakMemory(torch::Device device) : device_(device) {
  if (batch_faults().peak_bytes_per_sample >= 0) return;
  cuda_peak_allocated_bytes(device_, /*reset=*/true);
  start_ = cuda_allocated_bytes(device_);
}

int64_t PeakMemory::bytes_above_start(int64_t samples) const {
  if (batch_faults().peak_bytes_per_sample >= 0) return samples * batch_faults().peak_bytes_per_sample;
  const int64_t peak = cuda_peak_allocated_bytes(device_, /*reset=*/false);
  return peak < 0 ? -1 : std::max<int64_t>(0, peak - start_);
}

BatchFaults& batch_faults() {
  static BatchFaults faults;
  return faults;
}

}  // namespace ipbench
