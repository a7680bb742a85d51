#pragma once
// Renders a Leaderboard (stats/leaderboard.h) for `ipbench report` (docs/reports.md): Markdown, CSV,
// JSON (format ipbench-leaderboard/1) and one self-contained HTML page (inline CSS, SVG interval
// plots, images embedded as data URIs: it opens anywhere without the run folders).
#include <string>
#include <vector>

#include "stats/leaderboard.h"

namespace ipbench {

/// An image for the HTML page: PNG bytes shown under an operator's board.
struct ReportImage {
  std::string op;       ///< the operator whose board shows it
  std::string caption;
  std::string png;      ///< PNG file bytes (datasets/png.h png_bytes)
};

struct ReportInfo {
  std::string title = "ipbench leaderboard";
  std::vector<std::string> runs;  ///< run folders, in the order given
  std::string context;            ///< core/runtime context_line() of the program that rendered it
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
