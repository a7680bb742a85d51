#pragma once
// Renders the regression gate of `ipbench compare` (stats/regression.h, reports/compare_runs.h): a Markdown
// report (also what the terminal shows) and compare.json (docs/formats.md).
#include <string>
#include <vector>

#include "stats/regression.h"

namespace ipbench {

/// What the report says beside the statistics.
struct CompareInfo {
  std::string baseline, candidate;              ///< the run folders
  std::vector<std::string> config_differences;  ///< the change under test (reports/compare_runs.h)
  bool common_random_numbers = true;
};

/// The verdict line: "gate: passed ..." or "gate: FAILED: ..." with the reasons counted.
std::string gate_line(const RegressionReport& report);
std::string compare_markdown(const RegressionReport& report, const CompareInfo& info);
std::string compare_json(const RegressionReport& report, const CompareInfo& info);

}  // namespace ipbench
