#include "stats/gallery.h"

#include <map>
#include <set>
#include <sstream>

namespace ipbench {

std::vector<DesignComparison> compare_designs(const std::vector<Record>& records, const std::vector<std::string>& metrics,
                                              const SummaryOptions& options) {
  struct CellInfo {
    std::string cell, op, solver, design;
    int64_t K;
  };
  std::vector<CellInfo> cells;
  std::map<std::string, size_t> seen;
  for (const auto& r : records)
    if (seen.emplace(r.cell, cells.size()).second) cells.push_back({r.cell, r.op, r.solver, r.design, r.group_size});
  std::set<std::string> baselines;  // comma-separated labels
  std::stringstream list(options.baseline_design);
  for (std::string label; std::getline(list, label, ',');) {
    label.erase(0, label.find_first_not_of(' '));
    label.erase(label.find_last_not_of(' ') + 1);
    if (!label.empty()) baselines.insert(label);
  }
  std::vector<DesignComparison> out;
  for (const auto& metric : metrics) {
    bool present = false;
    for (const auto& r : records) present |= r.metrics.count(metric) > 0;
    if (!present) continue;
    const auto units = cell_unit_values(records, metric);
    const auto dir = options.lower_better.find(metric);
    const int lower_better = dir == options.lower_better.end() ? -1 : (dir->second ? 1 : 0);
    for (size_t a = 0; a < cells.size(); ++a)
      for (size_t b = a + 1; b < cells.size(); ++b) {
        const CellInfo* A = &cells[a];
        const CellInfo* B = &cells[b];
        if (A->op != B->op || A->solver != B->solver || A->K != B->K || A->K < 2) continue;
        if (baselines.count(A->design) && !baselines.count(B->design)) std::swap(A, B);  // "A over baseline"
        DesignComparison c;
        c.op = A->op;
        c.solver = A->solver;
        c.metric = metric;
        c.design_a = A->design;
        c.design_b = B->design;
        c.K = A->K;
        c.lower_better = lower_better;
        const auto ua = units.find(A->cell), ub = units.find(B->cell);
        if (ua == units.end() || ub == units.end()) continue;
        c.paired = paired_difference(ua->second, ub->second, options.confidence);
        c.verdict = paired_verdict(c.paired.difference, lower_better);
        out.push_back(std::move(c));
      }
  }
  return out;
}

}  // namespace ipbench
