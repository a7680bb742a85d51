// Leaderboard rendering: Markdown, CSV, JSON and a self-contained HTML page (leaderboard_report.h).
#include "reports/leaderboard_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/error.h"
#include "core/options.h"
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

// Histogram of pair correlations on [-1, 1] (20 bins): centralized filled, standard as an outline.
std::string correlation_svg(const CorrelationHistogram& h) {
  const int bins = 20;
  const double left = 40, top = 22, w = 340, plot_h = 90, bottom = 34;
  auto counts = [&](const std::vector<double>& v) {
    std::vector<int> c(bins, 0);
    for (double r : v)
      if (std::isfinite(r)) c[std::clamp(static_cast<int>(std::floor((r + 1.0) / 2.0 * bins)), 0, bins - 1)]++;
    return c;
  };
  const std::vector<int> cc = counts(h.centralized), cs = counts(h.standard);
  int peak = 1;
  for (int b = 0; b < bins; ++b) peak = std::max({peak, cc[b], cs[b]});
  auto mean_of = [](const std::vector<double>& v) {
    double sum = 0;
    int n = 0;
    for (double r : v)
      if (std::isfinite(r)) sum += r, ++n;
    return n ? sum / n : kNaN;
  };
  const double bw = w / bins;
  std::ostringstream os;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"corr\" width=\"" << left + w + 70 << "\" height=\""
     << top + plot_h + bottom << "\" role=\"img\" aria-label=\"pair correlations " << html_escape(h.label) << "\">\n"
     << "<text x=\"" << left << "\" y=\"14\" font-size=\"12\">" << html_escape(h.label) << "</text>\n";
  for (int b = 0; b < bins; ++b) {
    const double hc = plot_h * cc[b] / peak, hs = plot_h * cs[b] / peak;
    if (cc[b] > 0)
      os << "<rect x=\"" << left + b * bw + 1 << "\" y=\"" << top + plot_h - hc << "\" width=\"" << bw - 2
         << "\" height=\"" << hc << "\" fill=\"#0969da\" fill-opacity=\"0.6\"><title>centralized: " << cc[b]
         << " pairs</title></rect>\n";
    if (cs[b] > 0)
      os << "<rect x=\"" << left + b * bw + 1 << "\" y=\"" << top + plot_h - hs << "\" width=\"" << bw - 2
         << "\" height=\"" << hs << "\" fill=\"none\" stroke=\"#57606a\"><title>standard: " << cs[b]
         << " pairs</title></rect>\n";
  }
  const double axis_y = top + plot_h;
  os << "<line x1=\"" << left << "\" y1=\"" << axis_y << "\" x2=\"" << left + w << "\" y2=\"" << axis_y
     << "\" stroke=\"#57606a\"/>\n";
  for (double v : {-1.0, -0.5, 0.0, 0.5, 1.0})
    os << "<text x=\"" << left + (v + 1) / 2 * w << "\" y=\"" << axis_y + 13 << "\" font-size=\"11\" "
       << "text-anchor=\"middle\">" << tick_label(v, 1) << "</text>\n";
  os << "<text x=\"" << left + w / 2 << "\" y=\"" << axis_y + 28 << "\" font-size=\"10\" text-anchor=\"middle\">"
     << "pair correlation r; filled: centralized (mean " << fmt(mean_of(h.centralized), 3) << "), outline: standard (mean "
     << fmt(mean_of(h.standard), 3) << ")</text>\n<text x=\"" << left - 6 << "\" y=\"" << top + 8
     << "\" font-size=\"11\" text-anchor=\"end\">" << peak << "</text>\n</svg>\n";
  return os.str();
}

// The run context block: facts per run, then the solvers' options.
std::string context_html(const RunContextTable& t) {
  if (t.runs.empty()) return "";
  std::ostringstream os;
  os << "<section id=\"run-context\">\n<h2>Run context</h2>\n<table class=\"context\">\n<tr><th class=\"l\"></th>";
  for (const std::string& r : t.runs) os << "<th class=\"l\">" << html_escape(r) << "</th>";
  os << "</tr>\n";
  for (const auto& [fact, values] : t.rows) {
    os << "<tr><th class=\"l\">" << html_escape(fact) << "</th>";
    for (const std::string& v : values) os << "<td class=\"l\">" << html_escape(v) << "</td>";
    os << "</tr>\n";
  }
  os << "</table>\n";
  if (!t.solvers.empty()) {
    os << "<table class=\"solvers\">\n<tr><th class=\"l\">run</th><th class=\"l\">solver</th><th class=\"l\">options"
       << "</th></tr>\n";
    for (const auto& row : t.solvers) {
      os << "<tr>";
      for (const std::string& v : row) os << "<td class=\"l\">" << html_escape(v) << "</td>";
      os << "</tr>\n";
    }
    os << "</table>\n<p>Solver options that differ between entries of the same solver: "
       << (t.differing.empty() ? std::string("none") : html_escape(option_value(t.differing))) << ".</p>\n";
  }
  os << "</section>\n";
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
    os << "\n## " << ob.title << "\n\n" << (ob.note.empty() ? "" : ob.note + "\n\n") << "| rank | solver | design |" << (several_runs(info) ? " run |" : "") << " "
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
    os << (o ? "," : "") << "\n    {\"operator\": " << json_string(ob.op) << ", \"board\": " << json_string(ob.title)
       << ", \"note\": " << json_string(ob.note) << ", \"entries\": [";
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
     << "different.</p>\n" << context_html(info.run_context);
  for (const std::string& n : info.notes) os << "<p class=\"note\">" << html_escape(n) << "</p>\n";
  for (const OperatorBoard& ob : board.operators) {
    os << "<h2>" << html_escape(ob.title) << "</h2>\n";
    if (!ob.note.empty()) os << "<p class=\"note\">" << html_escape(ob.note) << "</p>\n";
    os << interval_svg(ob, board, info);
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
    bool any_corr = false;
    for (const CorrelationHistogram& h : info.correlations)
      if (h.board == ob.title) {
        if (!any_corr) os << "<h3>Pair correlations of the stored reconstructions (PN: coupled pairs, RR: independent)</h3>\n";
        any_corr = true;
        os << correlation_svg(h);
      }
    bool items_heading = false;
    for (const ReportImage& im : images)
      if (im.op == ob.title) {
        if (im.kind == "item" && !items_heading) {
          os << "<h3>Items</h3>\n";
          items_heading = true;
        }
        os << "<figure class=\"" << im.kind << "\"><img alt=\"" << html_escape(im.caption)
           << "\" src=\"data:image/png;base64," << base64(im.png) << "\"><figcaption>" << html_escape(im.caption)
           << "</figcaption></figure>\n";
      }
  }
  os << "<p><small>" << html_escape(info.context) << "</small></p>\n</body>\n</html>\n";
  return os.str();
}

}  // namespace ipbench
