#pragma once
// `ipbench report RUN_DIR... [--out DIR]`: a leaderboard of one or more run folders (harness/run_folder.h)
// (stats/leaderboard.h) written as leaderboard.md, leaderboard.csv, leaderboard.json and a
// self-contained leaderboard.html (reports/leaderboard_report.h, docs/reports.md).
//
// Each folder must hold records.csv and config.resolved.ini; its statistics are recomputed from the
// records with the folder's own [benchmark] confidence and baseline design (the runs must agree on the
// confidence). When a run stored its reconstructions, the HTML page shows, per operator, the ground
// truth of the run's first item beside its measurement (rebuilt from the run's keys: y itself when it
// has the image's shape, A^T y for other linear operators), and per cell that ground truth followed by
// the cell's first reconstructions (the ground truth when the run's [dataset] is still there).
#include <string>
#include <vector>

#include "stats/leaderboard.h"

namespace ipbench {

struct ReportOptions {
  std::string primary = "psnr";   ///< the ranking metric (must have a better direction)
  int64_t images_per_cell = 7;    ///< reconstructions shown per cell in the HTML page (0 = none)
  std::string title = "ipbench leaderboard";
  /// Only cells of these designs (empty = all). Designs are estimation methods, not competitors: a
  /// board per design (or one design) compares solvers like with like.
  std::vector<std::string> designs;
};

/// Writes the four files into out_dir (created if needed; existing leaderboard files are replaced,
/// atomically) and returns their paths. Throws Error naming the folder, file or metric on bad input.
std::vector<std::string> write_report(const std::vector<std::string>& run_dirs, const std::string& out_dir,
                                      const ReportOptions& options);

}  // namespace ipbench
