// The regression gate: paired candidate - baseline differences per shared cell and metric
// (stats/regression.h).
#include "stats/regression.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/error.h"
#include "core/options.h"
#include "stats/summary.h"

namespace ipbench {

const char* change_name(Change c) {
  switch (c) {
    case Change::undefined: return "undefined";
    case Change::unchanged: return "unchanged";
    case Change::improved: return "improved";
    case Change::regressed: return "regressed";
  }
  return "?";
}

int64_t RegressionReport::regressions() const {
  return std::count_if(changes.begin(), changes.end(), [](const MetricChange& c) { return c.change == Change::regressed; });
}

int64_t RegressionReport::new_failures() const {
  return std::count_if(failures.begin(), failures.end(), [](const CellFailures& f) { return f.candidate > f.baseline; });
}

bool RegressionReport::passed() const { return regressions() == 0 && new_failures() == 0 && missing_in_candidate.empty(); }

namespace {

std::set<std::string> metric_set(const std::vector<Record>& records) {
  std::set<std::string> names;
  for (const Record& r : records)
    for (const auto& kv : r.metrics) names.insert(kv.first);
  return names;
}

Change classify(const Interval& d, bool lower_better, double margin) {
  if (!std::isfinite(d.low) || !std::isfinite(d.high)) return Change::undefined;
  const bool worse = lower_better ? d.low > margin : d.high < -margin;
  if (worse) return Change::regressed;
  const bool better = lower_better ? d.high < 0 : d.low > 0;
  return better ? Change::improved : Change::unchanged;
}

// The compared metrics (requested or every shared directional one) and the shared ones left out.
void choose_metrics(const std::vector<Record>& baseline, const std::vector<Record>& candidate,
                    const RegressionOptions& o, RegressionReport& report) {
  const std::set<std::string> in_base = metric_set(baseline), in_cand = metric_set(candidate);
  std::vector<std::string> shared;
  std::set_intersection(in_base.begin(), in_base.end(), in_cand.begin(), in_cand.end(), std::back_inserter(shared));
  if (!o.metrics.empty()) {
    for (const std::string& m : o.metrics) {
      require(in_base.count(m), "compare: metric '", m, "' is not in the baseline's records");
      require(in_cand.count(m), "compare: metric '", m, "' is not in the candidate's records");
      require(o.lower_better.count(m), "compare: metric '", m,
              "' has no better direction (an image statistic): it cannot regress; leave it out");
    }
    report.metrics = o.metrics;
  } else {
    for (const std::string& m : shared)
      if (o.lower_better.count(m)) report.metrics.push_back(m);
  }
  for (const std::string& m : shared)
    if (std::find(report.metrics.begin(), report.metrics.end(), m) == report.metrics.end())
      report.not_compared.push_back(m);
  for (const auto& [m, margin] : o.margins) {
    require(std::isfinite(margin) && margin >= 0, "compare: margin ", m, " = ", margin, ". Violated: margin >= 0");
    require(std::find(report.metrics.begin(), report.metrics.end(), m) != report.metrics.end(), "compare: margin for '",
            m, "', which is not a compared metric (compared: ", option_value(report.metrics), ")");
  }
}

}  // namespace

RegressionReport compare_runs(const std::vector<Record>& baseline, const std::vector<Record>& candidate,
                              const RegressionOptions& o) {
  require(o.confidence > 0.0 && o.confidence < 1.0, "compare: confidence = ", o.confidence,
          ". Violated: 0 < confidence < 1");
  RegressionReport report;
  report.confidence = o.confidence;
  choose_metrics(baseline, candidate, o, report);

  SummaryOptions so;
  so.confidence = o.confidence;
  const BenchmarkSummary base = summarize(baseline, so), cand = summarize(candidate, so);
  std::map<std::string, int64_t> base_failed;
  for (const CellSummary& c : base.cells) base_failed[c.cell] = c.samples_failed;
  std::vector<std::string> shared;
  for (const CellSummary& c : cand.cells) {
    auto b = base_failed.find(c.cell);
    if (b == base_failed.end()) {
      report.new_in_candidate.push_back(c.cell);
      continue;
    }
    shared.push_back(c.cell);
    report.failures.push_back({c.cell, b->second, c.samples_failed});
  }
  for (const CellSummary& c : base.cells)
    if (std::find(shared.begin(), shared.end(), c.cell) == shared.end()) report.missing_in_candidate.push_back(c.cell);
  require(!shared.empty(), "compare: the runs have no cell in common (baseline: ", base.cells.size(),
          " cells, candidate: ", cand.cells.size(), "); cells are <operator>/<solver>/<design> labels");

  std::map<std::string, std::map<std::string, UnitValues>> base_units, cand_units;  // metric -> cell -> units
  for (const std::string& m : report.metrics) {
    base_units[m] = cell_unit_values(baseline, m);
    cand_units[m] = cell_unit_values(candidate, m);
  }
  for (const std::string& cell : shared)
    for (const std::string& m : report.metrics) {
      MetricChange c;
      c.cell = cell;
      c.metric = m;
      c.lower_better = o.lower_better.at(m);
      auto margin = o.margins.find(m);
      c.margin = margin == o.margins.end() ? 0.0 : margin->second;
      c.paired = paired_difference(cand_units[m][cell], base_units[m][cell], o.confidence);
      c.change = classify(c.paired.difference, c.lower_better, c.margin);
      report.changes.push_back(c);
    }
  return report;
}

}  // namespace ipbench
