// Cells, units, plan order, shards and keys (harness/plan.h).
#include "harness/plan.h"

#include <algorithm>

#include "core/error.h"
#include "core/rng.h"
#include "harness/spec.h"

namespace ipbench {

std::string cell_label(const std::string& op, const std::string& solver, const std::string& design) {
  return op + "/" + solver + "/" + design;
}

uint64_t problem_key(uint64_t seed, const std::string& op_label, int64_t item) {
  return derive_key(seed, hash_string("problem"), hash_string(op_label), static_cast<uint64_t>(item));
}

uint64_t measurement_key(uint64_t seed, const std::string& op_label, int64_t item) {
  return derive_key(seed, hash_string("measurement"), hash_string(op_label), static_cast<uint64_t>(item));
}

uint64_t noise_key(uint64_t seed, const std::string& design_label, int64_t item) {
  return derive_key(seed, hash_string("noise"), hash_string(design_label), static_cast<uint64_t>(item));
}

Plan::Plan(const Spec& spec, Shard shard)
    : shard_(shard),
      items_(spec.benchmark.items),
      first_item_(spec.dataset.first),
      samples_per_item_(spec.benchmark.samples_per_item),
      batch_size_(spec.benchmark.batch_size) {
  for (size_t o = 0; o < spec.operators.size(); ++o)
    for (size_t s = 0; s < spec.solvers.size(); ++s)
      for (size_t d = 0; d < spec.designs.size(); ++d) {
        PlanCell c;
        c.op = o;
        c.solver = s;
        c.design = d;
        c.op_label = spec.operators[o].label;
        c.solver_label = spec.solvers[s].label;
        c.design_label = spec.designs[d].label;
        c.label = cell_label(c.op_label, c.solver_label, c.design_label);
        c.group_size = spec.designs[d].design->group_size();
        rank_.emplace(c.label, cells_.size());
        cells_.push_back(std::move(c));
      }
}

int64_t Plan::groups_per_batch(const PlanCell& c) const {
  const int64_t groups = samples_per_item_ / c.group_size;
  return batch_size_ > 0 ? batch_size_ / c.group_size : groups;
}

std::vector<PlanUnit> Plan::units() const {
  std::vector<PlanUnit> out;
  for (size_t c = 0; c < cells_.size(); ++c)
    for (int64_t i = 0; i < items_; ++i) {
      PlanUnit u;
      u.index = static_cast<int64_t>(out.size());
      u.cell = c;
      u.item_pos = static_cast<size_t>(i);
      u.item = first_item_ + i;
      u.groups = samples_per_item_ / cells_[c].group_size;
      out.push_back(u);
    }
  return out;
}

std::vector<PlanUnit> Plan::owned_units() const {
  std::vector<PlanUnit> out;
  for (const PlanUnit& u : units())
    if (shard_.owns(u.index)) out.push_back(u);
  return out;
}

int64_t Plan::total_samples() const { return static_cast<int64_t>(cells_.size()) * items_ * samples_per_item_; }

int64_t Plan::owned_samples() const {
  return planned_samples(static_cast<int64_t>(cells_.size()), items_, samples_per_item_, shard_);
}

int64_t planned_samples(int64_t cells, int64_t items, int64_t samples_per_item, const Shard& shard) {
  int64_t units = 0;
  for (int64_t u = 0; u < cells * items; ++u) units += shard.owns(u);
  return units * samples_per_item;
}

size_t Plan::cell_rank(const std::string& label) const {
  const auto it = rank_.find(label);
  require(it != rank_.end(), "cell '", label, "' is not in the configuration's plan");
  return it->second;
}

bool Plan::owns(const Record& r) const {
  const auto it = rank_.find(r.cell);
  if (it == rank_.end() || r.item < first_item_ || r.item >= first_item_ + items_) return false;
  return shard_.owns(static_cast<int64_t>(it->second) * items_ + (r.item - first_item_));
}

void Plan::sort(std::vector<Record>& records) const {
  for (const Record& r : records) cell_rank(r.cell);
  std::stable_sort(records.begin(), records.end(), [&](const Record& a, const Record& b) {
    return std::make_tuple(rank_.at(a.cell), a.item, a.group, a.member) <
           std::make_tuple(rank_.at(b.cell), b.item, b.group, b.member);
  });
}

Shard Shard::parse(const std::string& text) {
  const auto slash = text.find('/');
  Shard s;
  try {
    require(slash != std::string::npos, "");
    size_t used_i = 0, used_n = 0;
    const std::string a = text.substr(0, slash), b = text.substr(slash + 1);
    s.index = std::stoll(a, &used_i);
    s.count = std::stoll(b, &used_n);
    require(used_i == a.size() && used_n == b.size(), "");
  } catch (const std::exception&) {
    throw Error(str_cat("--shard ", text, ": expected i/n with whole numbers, e.g. --shard 0/4"));
  }
  require(s.count >= 1 && s.index >= 0 && s.index < s.count, "--shard ", text,
          ": violated 0 <= i < n (shards are numbered from 0)");
  return s;
}

std::string Shard::str() const { return str_cat(index, "/", count); }

}  // namespace ipbench
