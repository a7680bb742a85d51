#include "reports/gallery_report.h"

#include <sstream>

#include "core/error.h"
#include "reports/format.h"
#include "stats/gallery.h"

namespace ipbench {

std::string gallery_markdown(const std::vector<Record>& records, const std::vector<std::string>& gallery_metrics,
                             const SummaryOptions& options) {
  std::vector<std::string> present;
  for (const auto& m : gallery_metrics) {
    bool found = false;
    for (const auto& r : records) found |= r.metrics.count(m) > 0;
    if (found) present.push_back(m);
  }
  require(!present.empty(), "gallery report: the records hold no gallery metric (gallery_l2, gallery_ssim_dist, ",
          "gallery_vendi, gallery_fg_rmse, gallery_bg_l2); add them to [benchmark] metrics");
  SummaryOptions so = options;
  so.metrics = present;
  const auto summary = summarize(records, so);
  const std::string level = fmt(100 * options.confidence, 3) + "%";
  std::ostringstream os;
  os << "## Gallery metrics (one value per coupled group; " << level << " intervals)\n\n"
     << "`ci`: across groups, given the items (noise only); `population`: across items (t over item means).\n\n"
     << "| cell | K | metric | mean | ci | population | groups | items |\n|---|---|---|---|---|---|---|---|\n";
  for (const auto& c : summary.cells)
    for (const auto& m : c.metrics)
      os << "| " << c.cell << " | " << c.group_size << " | " << m.name << " | " << fmt(m.ci.mean) << " | "
         << fmt_interval(m.ci.low, m.ci.high) << " | " << fmt_interval(m.population.low, m.population.high) << " | "
         << m.groups_used << " | " << c.items << " |\n";
  const auto comparisons = compare_designs(records, present, so);
  os << "\n## Design comparisons at equal gallery size K (A - B; the coupling's effect)\n\n";
  if (comparisons.empty()) {
    os << "No two designs with the same K >= 2 in the same (operator, solver).\n";
    return os.str();
  }
  os << "`difference`: given the items (units matched on (item, group), independent noise); `population`: "
     << "paired by item, t over item mean differences.\n\n"
     << "| operator | solver | K | metric | A | B | mean A | mean B | A - B | relative | difference | population | "
        "verdict |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& c : comparisons)
    os << "| " << c.op << " | " << c.solver << " | " << c.K << " | " << c.metric << " | " << c.design_a << " | "
       << c.design_b << " | " << fmt(c.paired.mean_a) << " | " << fmt(c.paired.mean_b) << " | "
       << fmt(c.paired.difference.mean) << " | " << fmt(100 * c.relative(), 3) << "% | "
       << fmt_interval(c.paired.difference.low, c.paired.difference.high) << " | "
       << fmt_interval(c.paired.population.low, c.paired.population.high) << " | " << verdict_name(c.verdict)
       << " |\n";
  return os.str();
}

}  // namespace ipbench
