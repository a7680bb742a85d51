// Leaderboard rendering: Markdown, CSV, JSON and a self-contained HTML page (leaderboard_report.h).
#include "reports/leaderboard_report.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "core/error.h"
#include "reports/format.h"

namespace ipbench {

std::string base64(const std::string& bytes) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += k[(v >> s) & 63];
  }
  if (i < bytes.size()) {
    const bool two = i + 1 < bytes.size();
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (two ? uint8_t(bytes[i + 1]) << 8 : 0);
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += two ? k[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

namespace {

std::string direction(bool lower_better) { return lower_better ? "lower is better" : "higher is better"; }

bool several_runs(const ReportInfo& info) { return info.runs.size() > 1; }

std::string mean_ci(const MetricSummary* m) {
  if (!m) return "";
  return fmt(m->ci.mean) + " " + fmt_interval(m->ci.low, m->ci.high) +
         (m->partial ? " (partial: " + std::to_string(m->items_scored) + " of " + std::to_string(m->items_total) +
                           " items)"
                     : "") +
         " pop " + fmt_interval(m->population.low, m->population.high);
}

std::string vs_leader(const LeaderboardEntry& e) {
  if (e.standing == "leader") return "";
  return fmt(e.vs_leader.mean) + " " + fmt_interval(e.vs_leader.low, e.vs_leader.high) +
         (e.paired ? " (paired)" : " (Welch)");
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string csv_number(double v) {
  if (!std::isfinite(v)) return std::isinf(v) ? (v > 0 ? "inf" : "-inf") : "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string entry_label(const LeaderboardEntry& e, const ReportInfo& info) {
  std::string label = e.cell.solver + " / " + e.cell.design;
  if (several_runs(info)) label += " (" + e.run + ")";
  return label;
}

// A dot-and-whisker plot of the primary metric: one row per entry, best first.
std::string interval_svg(const OperatorBoard& ob, const Leaderboard& board, const ReportInfo& info) {
  const double row = 24, left = 260, right = 30, top = 10, plot_w = 420;
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& e : ob.entries)
    if (const MetricSummary* m = find_metric(e.cell, board.primary)) {
      for (double v : {m->ci.low, m->ci.high, m->ci.mean})
        if (std::isfinite(v)) {
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
    }
  if (!std::isfinite(lo)) return "";
  if (hi - lo < 1e-12) {
    lo -= 0.5;
    hi += 0.5;
  }
  const double pad = 0.05 * (hi - lo);
  lo -= pad;
  hi += pad;
  auto x = [&](double v) { return left + (v - lo) / (hi - lo) * plot_w; };
  const double height = top + row * ob.entries.size() + 30;
  std::ostringstream os;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << left + plot_w + right << "\" height=\"" << height
     << "\" role=\"img\" aria-label=\"" << html_escape(board.primary) << " with intervals\">\n";
  for (int t = 0; t <= 4; ++t) {
    const double v = lo + (hi - lo) * t / 4.0, px = x(v);
    os << "<line x1=\"" << px << "\" y1=\"" << top << "\" x2=\"" << px << "\" y2=\"" << height - 25
       << "\" stroke=\"#ddd\"/><text x=\"" << px << "\" y=\"" << height - 10
       << "\" font-size=\"11\" text-anchor=\"middle\">" << fmt(v, 4) << "</text>\n";
  }
  for (size_t r = 0; r < ob.entries.size(); ++r) {
    const auto& e = ob.entries[r];
    const double y = top + row * r + row / 2;
    const std::string color = e.standing == "leader" ? "#1a7f37" : e.standing == "tied" ? "#0969da" : "#888";
    os << "<text x=\"" << left - 8 << "\" y=\"" << y + 4 << "\" font-size=\"12\" text-anchor=\"end\">" << e.rank
       << ". " << html_escape(entry_label(e, info)) << "</text>\n";
    const MetricSummary* m = find_metric(e.cell, board.primary);
    if (!m || !std::isfinite(m->ci.mean)) continue;
    if (std::isfinite(m->ci.low) && std::isfinite(m->ci.high))
      os << "<line x1=\"" << x(m->ci.low) << "\" y1=\"" << y << "\" x2=\"" << x(m->ci.high) << "\" y2=\"" << y
         << "\" stroke=\"" << color << "\" stroke-width=\"2\"/>\n";
    os << "<circle cx=\"" << x(m->ci.mean) << "\" cy=\"" << y << "\" r=\"4\" fill=\"" << color << "\"><title>"
       << html_escape(board.primary + " " + mean_ci(m)) << "</title></circle>\n";
  }
  os << "</svg>\n";
  return os.str();
}

}  // namespace

std::string leaderboard_markdown(const Leaderboard& board, const ReportInfo& info) {
  const std::string level = fmt(100 * board.confidence, 3) + "%";
  std::ostringstream os;
  os << "# " << info.title << "\n\nRuns: ";
  for (size_t i = 0; i < info.runs.size(); ++i) os << (i ? ", " : "") << info.runs[i];
  os << ". Ranked by **" << board.primary << "** (" << direction(board.lower_better) << "); mean and " << level
     << " interval given the items; \"vs leader\" is entry - leader with its interval (paired under common random "
     << "numbers when both cells are in the same run and design, Welch otherwise); \"behind\" = significantly "
     << "worse than the leader.\n";
  for (const OperatorBoard& ob : board.operators) {
    os << "\n## " << ob.op << "\n\n| rank | solver | design |" << (several_runs(info) ? " run |" : "") << " "
       << board.primary << " | vs leader | standing |";
    for (const std::string& m : board.metrics)
      if (m != board.primary) os << " " << m << " |";
    os << " NFE/sample | s/sample | failed |\n|---|---|---|" << (several_runs(info) ? "---|" : "") << "---|---|---|";
    for (const std::string& m : board.metrics)
      if (m != board.primary) os << "---|";
    os << "---|---|---|\n";
    for (const LeaderboardEntry& e : ob.entries) {
      const CellSummary& c = e.cell;
      os << "| " << e.rank << " | " << c.solver << " | " << c.design << " |" << (several_runs(info) ? " " + e.run + " |" : "")
         << " " << mean_ci(find_metric(c, board.primary)) << " | " << vs_leader(e) << " | " << e.standing << " |";
      for (const std::string& m : board.metrics)
        if (m != board.primary) os << " " << mean_ci(find_metric(c, m)) << " |";
      os << " " << fmt(c.nfe_per_sample) << " | " << fmt(c.seconds_per_sample, 3) << " | " << c.samples_failed << " |\n";
    }
  }
  return os.str();
}

std::string leaderboard_csv(const Leaderboard& board) {
  std::ostringstream os;
  os << "operator,rank,solver,design,run,standing,vs_leader,vs_leader_ci_low,vs_leader_ci_high,vs_leader_paired";
  for (const std::string& m : board.metrics) os << "," << m << "," << m << "_ci_low," << m << "_ci_high";
  os << ",nfe_per_sample,seconds_per_sample,items,samples_per_item,samples_failed\n";
  for (const OperatorBoard& ob : board.operators)
    for (const LeaderboardEntry& e : ob.entries) {
      const CellSummary& c = e.cell;
      os << csv_field(c.op) << "," << e.rank << "," << csv_field(c.solver) << "," << csv_field(c.design) << ","
         << csv_field(e.run) << "," << e.standing << "," << csv_number(e.vs_leader.mean) << ","
         << csv_number(e.vs_leader.low) << "," << csv_number(e.vs_leader.high) << ","
         << (e.standing == "leader" ? "" : e.paired ? "true" : "false");
      for (const std::string& name : board.metrics) {
        const MetricSummary* m = find_metric(c, name);
        os << "," << (m ? csv_number(m->ci.mean) : "") << "," << (m ? csv_number(m->ci.low) : "") << ","
           << (m ? csv_number(m->ci.high) : "");
      }
      os << "," << csv_number(c.nfe_per_sample) << "," << csv_number(c.seconds_per_sample) << "," << c.items << ","
         << c.samples_per_item << "," << c.samples_failed << "\n";
    }
  return os.str();
}

std::string leaderboard_json(const Leaderboard& board, const ReportInfo& info) {
  std::ostringstream os;
  os << "{\n  \"format\": \"ipbench-leaderboard/1\",\n  \"runs\": [";
  for (size_t i = 0; i < info.runs.size(); ++i) os << (i ? ", " : "") << json_string(info.runs[i]);
  os << "],\n  \"primary\": " << json_string(board.primary) << ",\n  \"lower_better\": "
     << (board.lower_better ? "true" : "false") << ",\n  \"confidence\": " << json_number(board.confidence)
     << ",\n  \"operators\": [";
  for (size_t o = 0; o < board.operators.size(); ++o) {
    const OperatorBoard& ob = board.operators[o];
    os << (o ? "," : "") << "\n    {\"operator\": " << json_string(ob.op) << ", \"entries\": [";
    for (size_t i = 0; i < ob.entries.size(); ++i) {
      const LeaderboardEntry& e = ob.entries[i];
      const CellSummary& c = e.cell;
      os << (i ? "," : "") << "\n      {\"rank\": " << e.rank << ", \"solver\": " << json_string(c.solver)
         << ", \"design\": " << json_string(c.design) << ", \"run\": " << json_string(e.run)
         << ", \"standing\": " << json_string(e.standing) << ", \"vs_leader\": {\"difference\": "
         << json_number(e.vs_leader.mean) << ", \"ci_low\": " << json_number(e.vs_leader.low)
         << ", \"ci_high\": " << json_number(e.vs_leader.high) << ", \"paired\": " << (e.paired ? "true" : "false")
         << "},\n       \"metrics\": {";
      for (size_t k = 0; k < c.metrics.size(); ++k) {
        const MetricSummary& m = c.metrics[k];
        os << (k ? ", " : "") << json_string(m.name) << ": {\"mean\": " << json_number(m.ci.mean)
           << ", \"ci_low\": " << json_number(m.ci.low) << ", \"ci_high\": " << json_number(m.ci.high) << "}";
      }
      os << "},\n       \"nfe_per_sample\": " << json_number(c.nfe_per_sample)
         << ", \"seconds_per_sample\": " << json_number(c.seconds_per_sample) << ", \"items\": " << c.items
         << ", \"samples_per_item\": " << c.samples_per_item << ", \"samples_failed\": " << c.samples_failed << "}";
    }
    os << "\n    ]}";
  }
  os << "\n  ]\n}\n";
  return os.str();
}

std::string leaderboard_html(const Leaderboard& board, const ReportInfo& info, const std::vector<ReportImage>& images) {
  const std::string level = fmt(100 * board.confidence, 3) + "%";
  std::ostringstream os;
  os << "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" << html_escape(info.title)
     << "</title>\n<style>\n"
     << "body{font-family:system-ui,sans-serif;margin:2em;max-width:80em;color:#1f2328}\n"
     << "table{border-collapse:collapse;margin:1em 0;font-size:13px}\n"
     << "th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:right}\n"
     << "th{background:#f6f8fa}td.l,th.l{text-align:left}\n"
     << ".leader{color:#1a7f37;font-weight:600}.tied{color:#0969da}.behind{color:#6e7781}\n"
     << "figure{display:inline-block;margin:0 1em 1em 0}figcaption{font-size:12px;color:#57606a}\n"
     << "img{image-rendering:pixelated;border:1px solid #d0d7de;height:96px;width:auto}\n"
     << "</style>\n</head>\n<body>\n<h1>" << html_escape(info.title) << "</h1>\n<p>Runs: ";
  for (size_t i = 0; i < info.runs.size(); ++i) os << (i ? ", " : "") << "<code>" << html_escape(info.runs[i]) << "</code>";
  os << ". Ranked by <b>" << html_escape(board.primary) << "</b> (" << direction(board.lower_better) << "), mean and "
     << level << " interval given the items. <i>vs leader</i>: entry &minus; leader with its interval, paired under "
     << "common random numbers when both cells are in the same run and design, Welch otherwise. <span class=\"behind\">"
     << "behind</span> = significantly worse than the leader; <span class=\"tied\">tied</span> = not significantly "
     << "different.</p>\n";
  for (const OperatorBoard& ob : board.operators) {
    os << "<h2>" << html_escape(ob.op) << "</h2>\n" << interval_svg(ob, board, info);
    os << "<table>\n<tr><th>rank</th><th class=\"l\">solver</th><th class=\"l\">design</th>"
       << (several_runs(info) ? "<th class=\"l\">run</th>" : "") << "<th>" << html_escape(board.primary)
       << "</th><th>vs leader</th><th>standing</th>";
    for (const std::string& m : board.metrics)
      if (m != board.primary) os << "<th>" << html_escape(m) << "</th>";
    os << "<th>NFE/sample</th><th>s/sample</th><th>failed</th></tr>\n";
    for (const LeaderboardEntry& e : ob.entries) {
      const CellSummary& c = e.cell;
      os << "<tr class=\"" << e.standing << "\"><td>" << e.rank << "</td><td class=\"l\">" << html_escape(c.solver)
         << "</td><td class=\"l\">" << html_escape(c.design) << "</td>"
         << (several_runs(info) ? "<td class=\"l\">" + html_escape(e.run) + "</td>" : "") << "<td>"
         << html_escape(mean_ci(find_metric(c, board.primary))) << "</td><td>" << html_escape(vs_leader(e))
         << "</td><td>" << e.standing << "</td>";
      for (const std::string& m : board.metrics)
        if (m != board.primary) os << "<td>" << html_escape(mean_ci(find_metric(c, m))) << "</td>";
      os << "<td>" << fmt(c.nfe_per_sample) << "</td><td>" << fmt(c.seconds_per_sample, 3) << "</td><td>"
         << c.samples_failed << "</td></tr>\n";
    }
    os << "</table>\n";
    for (const ReportImage& im : images)
      if (im.op == ob.op)
        os << "<figure><img alt=\"" << html_escape(im.caption) << "\" src=\"data:image/png;base64," << base64(im.png)
           << "\"><figcaption>" << html_escape(im.caption) << "</figcaption></figure>\n";
  }
  os << "<p><small>" << html_escape(info.context) << "</small></p>\n</body>\n</html>\n";
  return os.str();
}

}  // namespace ipbench
