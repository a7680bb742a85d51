// Leaderboard rendering: Markdown, CSV, JSON and a self-contained HTML page (leaderboard_report.h).
#include "reports/leaderboard_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
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
  return fmt(m->ci.mean) + " " + fmt_interval(m->ci.low, m->ci.high);
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

// Tick positions for [lo, hi]: multiples of 1, 2 or 5 x 10^k, about `target` of them, and the
// digits after the decimal point that print them exactly.
struct Ticks {
  std::vector<double> at;
  int decimals = 0;
};

Ticks nice_ticks(double lo, double hi, int target = 5) {
  Ticks t;
  const double raw = (hi - lo) / std::max(1, target), mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  t.decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + 1e-9 * step; v += step)
    t.at.push_back(std::abs(v) < 1e-12 * step ? 0.0 : v);
  return t;
}

std::string tick_label(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// One row of a dot-and-whisker plot.
struct PlotRow {
  std::string label, color, tooltip;
  double value = NAN, low = NAN, high = NAN;
};

// A dot-and-whisker plot: one row per entry, a labelled x axis with rounded ticks, and an optional
// dashed reference line (the leader's mean; 1 for efficiencies). `log_scale` for ratios.
std::string dot_plot(const std::vector<PlotRow>& rows, const std::string& axis_label, double reference,
                     const std::string& reference_label, bool log_scale) {
  const double row = 24, left = 260, right = 30, top = 10, plot_w = 420;
  auto tr = [&](double v) { return log_scale ? std::log10(v) : v; };
  auto usable = [&](double v) { return std::isfinite(v) && (!log_scale || v > 0); };
  double lo = INFINITY, hi = -INFINITY;
  for (const PlotRow& r : rows)
    for (double v : {r.low, r.high, r.value})
      if (usable(v)) {
        lo = std::min(lo, tr(v));
        hi = std::max(hi, tr(v));
      }
  if (!std::isfinite(lo)) return "";
  if (usable(reference)) {
    lo = std::min(lo, tr(reference));
    hi = std::max(hi, tr(reference));
  }
  if (hi - lo < 1e-12) {
    lo -= 0.5;
    hi += 0.5;
  }
  const double pad = 0.05 * (hi - lo);
  lo -= pad;
  hi += pad;
  auto x = [&](double v) { return left + (tr(v) - lo) / (hi - lo) * plot_w; };
  const double axis_y = top + row * rows.size() + 4, height = axis_y + 46;
  std::ostringstream os;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << left + plot_w + right << "\" height=\"" << height
     << "\" role=\"img\" aria-label=\"" << html_escape(axis_label) << "\">\n";
  // Ticks: rounded values of the metric (log scale: 1-2-5 decades of the ratio).
  std::vector<std::pair<double, std::string>> ticks;
  if (log_scale) {
    for (int k = static_cast<int>(std::floor(lo)); k <= static_cast<int>(std::ceil(hi)); ++k)
      for (double m : {1.0, 2.0, 5.0}) {
        const double v = m * std::pow(10.0, k);
        if (std::log10(v) >= lo && std::log10(v) <= hi) ticks.emplace_back(v, tick_label(v, std::max(0, -k)));
      }
  } else {
    const Ticks t = nice_ticks(lo, hi);
    for (double v : t.at) ticks.emplace_back(v, tick_label(v, t.decimals));
  }
  for (const auto& [v, text] : ticks) {
    const double px = x(v);
    os << "<line x1=\"" << px << "\" y1=\"" << top << "\" x2=\"" << px << "\" y2=\"" << axis_y
       << "\" stroke=\"#ddd\"/><text x=\"" << px << "\" y=\"" << axis_y + 14
       << "\" font-size=\"11\" text-anchor=\"middle\">" << text << "</text>\n";
  }
  os << "<line x1=\"" << left << "\" y1=\"" << axis_y << "\" x2=\"" << left + plot_w << "\" y2=\"" << axis_y
     << "\" stroke=\"#57606a\"/>\n<text x=\"" << left + plot_w / 2 << "\" y=\"" << axis_y + 34
     << "\" font-size=\"12\" text-anchor=\"middle\">" << html_escape(axis_label) << "</text>\n";
  if (usable(reference))
    os << "<line x1=\"" << x(reference) << "\" y1=\"" << top - 4 << "\" x2=\"" << x(reference) << "\" y2=\"" << axis_y
       << "\" stroke=\"#1a7f37\" stroke-dasharray=\"4 3\"><title>" << html_escape(reference_label)
       << "</title></line>\n";
  for (size_t r = 0; r < rows.size(); ++r) {
    const PlotRow& e = rows[r];
    const double y = top + row * r + row / 2;
    os << "<text x=\"" << left - 8 << "\" y=\"" << y + 4 << "\" font-size=\"12\" text-anchor=\"end\">"
       << html_escape(e.label) << "</text>\n";
    if (!usable(e.value)) continue;
    if (usable(e.low) && usable(e.high))
      os << "<line x1=\"" << x(e.low) << "\" y1=\"" << y << "\" x2=\"" << x(e.high) << "\" y2=\"" << y
         << "\" stroke=\"" << e.color << "\" stroke-width=\"2\"/>\n";
    os << "<circle cx=\"" << x(e.value) << "\" cy=\"" << y << "\" r=\"4\" fill=\"" << e.color << "\"><title>"
       << html_escape(e.tooltip) << "</title></circle>\n";
  }
  os << "</svg>\n";
  return os.str();
}

std::string standing_color(const std::string& standing) {
  return standing == "leader" ? "#1a7f37" : standing == "tied" ? "#0969da" : "#888";
}

// The primary metric of every entry with its interval, the leader's mean as a dashed line.
std::string interval_svg(const OperatorBoard& ob, const Leaderboard& board, const ReportInfo& info) {
  std::vector<PlotRow> rows;
  double leader = NAN;
  for (const auto& e : ob.entries) {
    PlotRow r;
    r.label = str_cat(e.rank, ". ", entry_label(e, info));
    r.color = standing_color(e.standing);
    if (const MetricSummary* m = find_metric(e.cell, board.primary)) {
      r.value = m->ci.mean;
      r.low = m->ci.low;
      r.high = m->ci.high;
      r.tooltip = board.primary + " " + mean_ci(m);
      if (e.standing == "leader") leader = m->ci.mean;
    }
    rows.push_back(r);
  }
  const std::string level = fmt(100 * board.confidence, 3) + "%";
  return dot_plot(rows, str_cat(board.primary, ": mean and ", level, " interval given the items (",
                                direction(board.lower_better), ")"),
                  leader, "leader's mean", false);
}

// Each design's relative efficiency on the primary metric (vs the baseline design when measured, else
// in-run), log scale with a line at 1; empty when no entry has one.
std::string efficiency_svg(const OperatorBoard& ob, const Leaderboard& board, const ReportInfo& info) {
  std::vector<PlotRow> rows;
  bool any = false;
  for (const auto& e : ob.entries) {
    const MetricSummary* m = find_metric(e.cell, board.primary);
    if (!m) continue;
    const bool measured = std::isfinite(m->efficiency_vs_baseline.value);
    const RatioInterval& re = measured ? m->efficiency_vs_baseline : m->efficiency_in_run;
    if (!std::isfinite(re.value)) continue;
    any = true;
    PlotRow r;
    r.label = str_cat(entry_label(e, info), measured ? " (vs baseline)" : " (in-run)");
    r.color = re.low > 1 ? "#1a7f37" : re.high < 1 ? "#cf222e" : "#0969da";
    r.value = re.value;
    r.low = re.low;
    r.high = re.high;
    r.tooltip = "relative efficiency " + fmt_ratio(re);
    rows.push_back(r);
  }
  if (!any) return "";
  return dot_plot(rows, "relative efficiency on " + board.primary + " (> 1: fewer samples needed), log scale",
                  1.0, "efficiency 1 (no gain)", true);
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
    const std::string efficiency = efficiency_svg(ob, board, info);
    if (!efficiency.empty()) os << "<h3>Relative efficiency of the designs</h3>\n" << efficiency;
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
