#pragma once
// `ipbench report RUN_DIR... [--out DIR]`: a leaderboard of one or more run folders (harness/run_folder.h)
// (stats/leaderboard.h) written as leaderboard.md, leaderboard.csv, leaderboard.json and a
// self-contained leaderboard.html (reports/leaderboard_report.h, docs/reports.md).
//
// Boards: a run's cells of one operator share a board with another run's only when their dataset, items,
// prior, [operator.<label>] section and measurement seed agree; otherwise each problem gets its own
// board, titled "inpaint — runs/a (fashion-mnist:test, 8 items, unet fmnist32-ddpm)" with a note
// naming the differing keys, or, with `strict`, the report is refused naming each key and both values.
// The HTML page opens with a run context block (prior, dataset, items, samples, designs, seed, run id,
// device, the run's recorded context line, solver options with those that differ between entries).
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
  /// Items shown in the HTML page (record item numbers, i.e. dataset indices; empty = each run's first):
  /// ground truth, measurement, a coupled pair, per-pixel mean, std and |error| maps per cell.
  std::vector<int64_t> items;
  /// Refuse (Error naming every differing key) instead of separate boards when runs measured different
  /// problems.
  bool strict = false;
};

/// Writes the four files into out_dir (created if needed; existing leaderboard files are replaced,
/// atomically) and returns their paths. Throws Error naming the folder, file or metric on bad input.
std::vector<std::string> write_report(const std::vector<std::string>& run_dirs, const std::string& out_dir,
                                      const ReportOptions& options);

}  // namespace ipbench
