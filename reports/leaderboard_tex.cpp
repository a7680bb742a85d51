// The leaderboard as a LaTeX booktabs table (leaderboard.tex), ready to \input into a paper.
#include <cmath>
#include <sstream>
#include <vector>

#include "reports/format.h"
#include "reports/leaderboard_report.h"

namespace ipbench {

namespace {

// Escapes the characters that are special in LaTeX text.
std::string tex_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\textbackslash{}"; break;
      case '&': case '%': case '$': case '#': case '_': case '{': case '}': out += '\\'; out += c; break;
      case '~': out += "\\textasciitilde{}"; break;
      case '^': out += "\\textasciicircum{}"; break;
      default: out += c;
    }
  }
  return out;
}

// "m [lo, hi]" with 4 significant digits, or "n/a"; math minus signs.
std::string tex_interval(double mean, double low, double high) {
  if (!std::isfinite(mean)) return "n/a";
  std::string text = fmt(mean) + " " + fmt_interval(low, high);
  std::string out;
  for (char c : text) out += c == '-' ? std::string("$-$") : std::string(1, c);
  return out;
}

}  // namespace

std::string leaderboard_latex(const Leaderboard& board, const ReportInfo& info) {
  const std::string level = fmt(100 * board.confidence, 3) + "\\%";
  std::ostringstream os;
  os << "% " << tex_escape(info.title) << ", written by `ipbench report` (" << info.context << ").\n"
     << "% Needs \\usepackage{booktabs}. Per operator: mean and " << fmt(100 * board.confidence, 3)
     << "% interval given the items; bold = leader by " << board.primary
     << "; * = significantly behind the leader (the interval of entry - leader excludes 0:\n"
     << "% paired under common random numbers within a run and design, Welch otherwise); no mark = tied.\n";
  const bool runs = info.runs.size() > 1;
  std::vector<std::string> metrics{board.primary};  // the ranking metric first
  for (const std::string& m : board.metrics)
    if (m != board.primary) metrics.push_back(m);
  for (const OperatorBoard& ob : board.operators) {
    os << "\n\\begin{table}[t]\n\\centering\n\\small\n\\begin{tabular}{l" << (runs ? "l" : "") << "l";
    for (size_t m = 0; m < metrics.size(); ++m) os << "r";
    os << "r}\n\\toprule\nsolver & " << (runs ? "run & " : "") << "design";
    for (const std::string& m : metrics)
      os << " & " << tex_escape(m) << (m == board.primary ? (board.lower_better ? " $\\downarrow$" : " $\\uparrow$") : "");
    os << " & NFE \\\\\n\\midrule\n";
    for (const LeaderboardEntry& e : ob.entries) {
      const CellSummary& c = e.cell;
      os << tex_escape(c.solver) << " & " << (runs ? tex_escape(e.run) + " & " : "") << tex_escape(c.design);
      for (const std::string& m : metrics) {
        const MetricSummary* s = find_metric(c, m);
        std::string cell = s ? tex_interval(s->ci.mean, s->ci.low, s->ci.high) : "n/a";
        if (m == board.primary) {
          if (e.standing == "leader") cell = "\\textbf{" + cell + "}";
          if (e.standing == "behind") cell += "$^{*}$";
        }
        os << " & " << cell;
      }
      os << " & " << fmt(c.nfe_per_sample) << " \\\\\n";
    }
    os << "\\bottomrule\n\\end{tabular}\n\\caption{" << tex_escape(ob.title) << ": mean and " << level
       << " interval given the items. Bold: leader by " << tex_escape(board.primary)
       << "; $^{*}$: significantly behind the leader.}\n\\end{table}\n";
  }
  return os.str();
}

}  // namespace ipbench
