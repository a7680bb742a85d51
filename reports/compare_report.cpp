// The regression gate's Markdown report and compare.json (reports/compare_report.h).
#include "reports/compare_report.h"

#include <sstream>

#include "core/error.h"
#include "reports/format.h"

namespace ipbench {

namespace {

std::string json_strings(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + json_string(v[i]);
  return out + "]";
}

std::string json_change(const MetricChange& c) {
  const PairedDifference& p = c.paired;
  const Interval& d = p.difference;
  std::ostringstream os;
  os << "{\"cell\": " << json_string(c.cell) << ", \"metric\": " << json_string(c.metric)
     << ", \"lower_better\": " << (c.lower_better ? "true" : "false") << ", \"margin\": " << json_number(c.margin)
     << ",\n      \"items\": " << p.items << ", \"units\": " << p.units << ", \"baseline\": " << json_number(p.mean_b)
     << ", \"candidate\": " << json_number(p.mean_a) << ", \"difference\": " << json_number(d.mean)
     << ", \"ci_low\": " << json_number(d.low) << ", \"ci_high\": " << json_number(d.high)
     << ", \"se\": " << json_number(d.se) << ", \"df\": " << json_number(d.df)
     << ",\n      \"correlation\": " << json_ratio(p.correlation)
     << ", \"variance_reduction\": " << json_number(p.variance_reduction)
     << ", \"change\": " << json_string(change_name(c.change)) << "}";
  return os.str();
}

std::string list_line(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out;
}

}  // namespace

std::string gate_line(const RegressionReport& r) {
  const int64_t regressed = r.regressions(), failures = r.new_failures();
  const auto missing = static_cast<int64_t>(r.missing_in_candidate.size());
  if (r.passed())
    return str_cat("gate: passed (", r.changes.size(), " cell-metric comparisons, none regressed; no new failed ",
                   "samples; no missing cell)");
  std::string why;
  auto add = [&](int64_t n, const std::string& what) {
    if (n > 0) why += str_cat(why.empty() ? "" : ", ", n, " ", what);
  };
  add(regressed, regressed == 1 ? "regressed metric" : "regressed metrics");
  add(failures, failures == 1 ? "cell with new failed samples" : "cells with new failed samples");
  add(missing, missing == 1 ? "cell missing from the candidate" : "cells missing from the candidate");
  return "gate: FAILED: " + why;
}

std::string compare_markdown(const RegressionReport& r, const CompareInfo& info) {
  const std::string level = fmt(100 * r.confidence, 3) + "%";
  std::ostringstream os;
  os << "# ipbench compare\n\n"
     << "- baseline: " << info.baseline << "\n- candidate: " << info.candidate << "\n"
     << "- common random numbers: "
     << (info.common_random_numbers ? "yes (same seed and noise designs: paired on identical noise draws)"
                                    : "no (another seed or noise design: paired intervals are valid but wider)")
     << "\n";
  if (info.config_differences.empty()) {
    os << "- configuration: identical (apart from the run name)\n";
  } else {
    os << "- configuration differences (the change under test):\n";
    for (const std::string& d : info.config_differences) os << "  - " << d << "\n";
  }
  os << "\nCandidate minus baseline, " << level << " intervals given the items, paired on the (item, group) "
     << "units both runs completed. A metric regresses when its interval lies beyond the margin on the worse "
     << "side.\n\n"
     << "| cell | metric | baseline | candidate | difference | " << level
     << " CI | margin | units | variance reduction | change |\n|---|---|---|---|---|---|---|---|---|---|\n";
  for (const MetricChange& c : r.changes) {
    const PairedDifference& p = c.paired;
    const std::string change = c.change == Change::regressed ? "**regressed**" : change_name(c.change);
    os << "| " << c.cell << " | " << c.metric << (c.lower_better ? " (lower is better)" : " (higher is better)")
       << " | " << fmt(p.mean_b) << " | " << fmt(p.mean_a) << " | " << fmt(p.difference.mean) << " | "
       << fmt_interval(p.difference.low, p.difference.high) << " | " << fmt(c.margin) << " | " << p.units << " | "
       << fmt(p.variance_reduction, 3) << " | " << change << " |\n";
  }
  bool any_failed = false;
  for (const CellFailures& f : r.failures) any_failed = any_failed || f.baseline > 0 || f.candidate > 0;
  if (any_failed) {
    os << "\nFailed samples (status not ok, or a non-finite metric):\n\n| cell | baseline | candidate |\n|---|---|---|\n";
    for (const CellFailures& f : r.failures)
      if (f.baseline > 0 || f.candidate > 0)
        os << "| " << f.cell << " | " << f.baseline << " | " << f.candidate
           << (f.candidate > f.baseline ? " (more: fails the gate)" : "") << " |\n";
  }
  os << "\n";
  if (!r.missing_in_candidate.empty())
    os << "Cells missing from the candidate (fail the gate): " << list_line(r.missing_in_candidate) << "\n";
  if (!r.new_in_candidate.empty())
    os << "Cells only in the candidate (not compared): " << list_line(r.new_in_candidate) << "\n";
  if (!r.not_compared.empty())
    os << "Metrics not compared (no better direction, or not asked for): " << list_line(r.not_compared) << "\n";
  os << "\n**" << gate_line(r) << "**\n";
  return os.str();
}

std::string compare_json(const RegressionReport& r, const CompareInfo& info) {
  std::ostringstream os;
  os << "{\n  \"baseline\": " << json_string(info.baseline) << ",\n  \"candidate\": " << json_string(info.candidate)
     << ",\n  \"passed\": " << (r.passed() ? "true" : "false") << ",\n  \"confidence\": " << json_number(r.confidence)
     << ",\n  \"common_random_numbers\": " << (info.common_random_numbers ? "true" : "false")
     << ",\n  \"config_differences\": " << json_strings(info.config_differences)
     << ",\n  \"metrics\": " << json_strings(r.metrics) << ",\n  \"not_compared\": " << json_strings(r.not_compared)
     << ",\n  \"regressions\": " << r.regressions() << ",\n  \"changes\": [";
  for (size_t i = 0; i < r.changes.size(); ++i) os << (i ? ",\n    " : "\n    ") << json_change(r.changes[i]);
  os << "\n  ],\n  \"failed_samples\": [";
  for (size_t i = 0; i < r.failures.size(); ++i)
    os << (i ? ",\n    " : "\n    ") << "{\"cell\": " << json_string(r.failures[i].cell)
       << ", \"baseline\": " << r.failures[i].baseline << ", \"candidate\": " << r.failures[i].candidate << "}";
  os << "\n  ],\n  \"missing_in_candidate\": " << json_strings(r.missing_in_candidate)
     << ",\n  \"new_in_candidate\": " << json_strings(r.new_in_candidate) << "\n}\n";
  return os.str();
}

}  // namespace ipbench
