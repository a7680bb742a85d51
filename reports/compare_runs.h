#pragma once
// `ipbench compare BASELINE CANDIDATE`: two run folders (harness/run_folder.h) compared by the regression gate of
// stats/regression.h (docs/compare.md).
//
// Each folder must hold records.csv and config.resolved.ini (what `ipbench run` writes). The resolved
// configs decide what the comparison means:
//  * [dataset] and every [operator.<label>] section present in both must be equal: otherwise the runs
//    measured different problems and the comparison is refused (Error naming the section and keys);
//  * the same [benchmark] seed and [noise.<label>] sections give both runs the same measurements and
//    noise draws: common random numbers (otherwise the paired intervals stay valid, only wider);
//  * every other difference (solver options, prior, sample counts, ...) is the change under test
//    and is listed.
// Metric directions come from the metric registry when options.lower_better is empty.
#include <string>
#include <vector>

#include "stats/regression.h"

namespace ipbench {

struct RunComparison {
  RegressionReport report;
  /// "[solver.dps] zeta: 1 -> 0.5", "[prior] path: a -> b", "[solver.lgd] (only in the candidate)", ...
  std::vector<std::string> config_differences;
  /// Same [benchmark] seed and [noise.*] sections: both runs drew the same noise.
  bool common_random_numbers = true;
};

RunComparison compare_run_folders(const std::string& baseline_dir, const std::string& candidate_dir,
                                  RegressionOptions options);

}  // namespace ipbench
