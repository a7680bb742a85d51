#include "reports/summary_report.h"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace ipbench {

namespace {

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string json_ratio(const RatioInterval& r) {
  return "{\"value\": " + json_number(r.value) + ", \"ci_low\": " + json_number(r.low) +
         ", \"ci_high\": " + json_number(r.high) + "}";
}

std::string json_metric(const MetricSummary& m) {
  std::ostringstream os;
  os << "{\"mean\": " << json_number(m.ci.mean) << ", \"ci_low\": " << json_number(m.ci.low)
     << ", \"ci_high\": " << json_number(m.ci.high) << ", \"se\": " << json_number(m.ci.se)
     << ", \"df\": " << json_number(m.ci.df) << ", \"ci_width_item_mean\": " << json_number(m.ci_width_item_mean)
     << ", \"population_ci_low\": " << json_number(m.population.low)
     << ", \"population_ci_high\": " << json_number(m.population.high) << ", \"groups\": " << m.groups_used
     << ", \"samples_failed\": " << m.samples_failed << ", \"sample_variance\": " << json_number(m.sigma2_member)
     << ", \"group_mean_variance\": " << json_number(m.var_group) << "}";
  return os.str();
}

// "key": {metric: <render(metric)>, ...} for the metrics where `has` holds; empty when none does.
template <class Has, class Render>
std::string json_metric_map(const CellSummary& c, const std::string& key, Has has, Render render) {
  std::string body;
  for (const auto& m : c.metrics)
    if (has(m)) body += std::string(body.empty() ? "" : ", ") + json_string(m.name) + ": " + render(m);
  return body.empty() ? "" : ",\n      " + json_string(key) + ": {" + body + "}";
}

std::string fmt(double v, int precision = 4) {
  if (!std::isfinite(v)) return std::isinf(v) ? (v > 0 ? "inf" : "-inf") : "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*g", precision, v);
  return buf;
}

std::string fmt_interval(double lo, double hi) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return "n/a";
  return "[" + fmt(lo) + ", " + fmt(hi) + "]";
}

std::string fmt_ratio(const RatioInterval& r) {
  if (!std::isfinite(r.value)) return "n/a";
  return fmt(r.value, 3) + " " + fmt_interval(r.low, r.high);
}

bool is_baseline(const BenchmarkSummary& s, const CellSummary& c) { return c.design == s.baseline_design; }

}  // namespace

std::string summary_json(const BenchmarkSummary& s, const RunInfo& info) {
  std::ostringstream os;
  os << "{\n  \"format\": \"ipbench-summary/1\",\n  \"name\": " << json_string(info.name)
     << ",\n  \"context\": " << json_string(info.context) << ",\n  \"device\": " << json_string(info.device)
     << ",\n  \"dtype\": " << json_string(info.dtype) << ",\n  \"seed\": " << info.seed
     << ",\n  \"seconds\": " << json_number(info.seconds) << ",\n  \"records\": " << info.records
     << ",\n  \"confidence\": " << json_number(s.confidence)
     << ",\n  \"baseline_design\": " << json_string(s.baseline_design) << ",\n  \"cells\": [";
  for (size_t i = 0; i < s.cells.size(); ++i) {
    const auto& c = s.cells[i];
    os << (i ? "," : "") << "\n    {\"cell\": " << json_string(c.cell) << ", \"solver\": " << json_string(c.solver)
       << ", \"operator\": " << json_string(c.op) << ", \"design\": " << json_string(c.design)
       << ", \"group_size\": " << c.group_size << ", \"items\": " << c.items
       << ", \"samples_per_item\": " << c.samples_per_item << ", \"nfe_per_sample\": " << json_number(c.nfe_per_sample)
       << ", \"seconds_per_sample\": " << json_number(c.seconds_per_sample)
       << ", \"samples_failed\": " << c.samples_failed << ",\n      \"metrics\": {";
    for (size_t m = 0; m < c.metrics.size(); ++m)
      os << (m ? ", " : "") << "\n        " << json_string(c.metrics[m].name) << ": " << json_metric(c.metrics[m]);
    os << "}";
    if (!is_baseline(s, c)) {  // null values when the run has no baseline cell for this pair
      os << json_metric_map(c, "efficiency_vs_" + s.baseline_design, [](const MetricSummary&) { return true; },
                            [](const MetricSummary& m) { return json_ratio(m.efficiency_vs_baseline); });
    }
    if (c.group_size > 1) {
      os << json_metric_map(c, "efficiency_in_run", [](const MetricSummary&) { return true; },
                            [](const MetricSummary& m) { return json_ratio(m.efficiency_in_run); });
      os << json_metric_map(c, "rho", [](const MetricSummary&) { return true; },
                            [](const MetricSummary& m) { return json_ratio(m.rho); });
    }
    os << "}";
  }
  os << "\n  ]\n}\n";
  return os.str();
}

namespace {

struct Row {
  std::vector<std::string> cols;
};

std::vector<Row> summary_rows(const BenchmarkSummary& s) {
  std::vector<Row> rows;
  const int pct = static_cast<int>(std::lround(100 * s.confidence));
  rows.push_back({{"operator", "solver", "design", "metric", "mean", std::to_string(pct) + "% CI", "item CI width",
                   "rho [CI]", "RE vs " + s.baseline_design + " [CI]", "RE in-run", "failed"}});
  for (const auto& c : s.cells)
    for (const auto& m : c.metrics)
      rows.push_back({{c.op, c.solver, c.design, m.name, fmt(m.ci.mean), fmt_interval(m.ci.low, m.ci.high),
                       fmt(m.ci_width_item_mean, 3), c.group_size > 1 ? fmt_ratio(m.rho) : "-",
                       is_baseline(s, c) ? "1 (baseline)" : fmt_ratio(m.efficiency_vs_baseline),
                       c.group_size > 1 ? fmt(m.efficiency_in_run.value, 3) : "-", std::to_string(m.samples_failed)}});
  return rows;
}

}  // namespace

std::string summary_table(const BenchmarkSummary& s) {
  const auto rows = summary_rows(s);
  std::vector<size_t> width(rows[0].cols.size(), 0);
  for (const auto& r : rows)
    for (size_t i = 0; i < r.cols.size(); ++i) width[i] = std::max(width[i], r.cols[i].size());
  std::ostringstream os;
  for (size_t k = 0; k < rows.size(); ++k) {
    for (size_t i = 0; i < rows[k].cols.size(); ++i) {
      os << rows[k].cols[i] << std::string(width[i] - rows[k].cols[i].size(), ' ');
      if (i + 1 < rows[k].cols.size()) os << "  ";
    }
    os << "\n";
    if (k == 0) {
      size_t total = 0;
      for (auto w : width) total += w + 2;
      os << std::string(total - 2, '-') << "\n";
    }
  }
  return os.str();
}

std::string summary_markdown(const BenchmarkSummary& s, const RunInfo& info) {
  std::ostringstream os;
  os << "# ipbench summary: " << info.name << "\n\n"
     << "- " << info.context << "\n- device " << info.device << ", dtype " << info.dtype << ", seed " << info.seed
     << "\n- " << info.records << " records, " << fmt(info.seconds, 4) << " s\n"
     << "- intervals: " << fmt(100 * s.confidence, 3)
     << "% Student-t over coupled groups; mean over items given the items (docs/statistics.md)\n"
     << "- RE: relative efficiency at equal sample budget (variance ratio), measured against design `"
     << s.baseline_design << "` and estimated in-run\n\n";
  const auto rows = summary_rows(s);
  for (size_t k = 0; k < rows.size(); ++k) {
    os << "|";
    for (const auto& c : rows[k].cols) os << " " << c << " |";
    os << "\n";
    if (k == 0) {
      os << "|";
      for (size_t i = 0; i < rows[k].cols.size(); ++i) os << "---|";
      os << "\n";
    }
  }
  return os.str();
}

}  // namespace ipbench
