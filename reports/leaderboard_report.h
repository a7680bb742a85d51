#pragma once
// Renders a Leaderboard (stats/leaderboard.h) for `ipbench report` (docs/reports.md): Markdown, CSV,
// JSON (format ipbench-leaderboard/1) and one self-contained HTML page (inline CSS, SVG interval
// plots, images embedded as data URIs: it opens anywhere without the run folders).
#include <string>
#include <vector>

#include "stats/leaderboard.h"

namespace ipbench {

/// An image for the HTML page: PNG bytes shown under a board.
struct ReportImage {
  std::string op;       ///< the board (OperatorBoard::title) that shows it
  std::string caption;
  std::string png;      ///< PNG file bytes (datasets/png.h png_bytes)
  std::string kind = "reconstructions";  ///< "measurement", "reconstructions" or "item" (an item panel)
};

/// Pair correlations of one cell (stats/correlation.h) for a histogram under its board.
struct CorrelationHistogram {
  std::string board;   ///< OperatorBoard::title
  std::string label;   ///< "dps / antithetic: PN pairs (coupled), 48 pairs"
  std::vector<double> standard, centralized;
};

/// The run context block of the HTML page: one column per run, one row per fact.
struct RunContextTable {
  std::vector<std::string> runs;                                       ///< column heads
  std::vector<std::pair<std::string, std::vector<std::string>>> rows;  ///< fact -> value per run
  /// Solver options, one row per (run, solver): {run, solver, options}; keys that differ between entries
  /// of the same solver type are listed in `differing`.
  std::vector<std::vector<std::string>> solvers;
  std::vector<std::string> differing;
};

struct ReportInfo {
  std::string title = "ipbench leaderboard";
  std::vector<std::string> runs;  ///< run folders, in the order given
  std::string context;            ///< core/runtime context_line() of the program that rendered it
  RunContextTable run_context;    ///< HTML only; empty = no block
  std::vector<CorrelationHistogram> correlations;  ///< HTML only
  std::vector<std::string> notes;  ///< HTML only: what the page cannot show and why
};

std::string leaderboard_markdown(const Leaderboard& board, const ReportInfo& info);
std::string leaderboard_csv(const Leaderboard& board);
std::string leaderboard_json(const Leaderboard& board, const ReportInfo& info);
/// One LaTeX booktabs table per operator (leaderboard.tex): mean [low, high] of every metric, the
/// leader in bold, `*` on entries significantly behind it; needs \usepackage{booktabs}.
std::string leaderboard_latex(const Leaderboard& board, const ReportInfo& info);
std::string leaderboard_html(const Leaderboard& board, const ReportInfo& info, const std::vector<ReportImage>& images);

/// RFC 4648 base64 (for data URIs).
std::string base64(const std::string& bytes);

}  // namespace ipbench
