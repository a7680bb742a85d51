#include "reports/summary_report.h"

#include "reports/format.h"

#include "core/config.h"
#include "core/error.h"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace ipbench {

namespace {

std::string json_metric(const MetricSummary& m) {
  std::ostringstream os;
  os << "{\"mean\": " << json_number(m.ci.mean) << ", \"ci_low\": " << json_number(m.ci.low)
     << ", \"ci_high\": " << json_number(m.ci.high) << ", \"se\": " << json_number(m.ci.se)
     << ", \"df\": " << json_number(m.ci.df) << ", \"ci_width_item_mean\": " << json_number(m.ci_width_item_mean)
     << ", \"population_ci_low\": " << json_number(m.population.low)
     << ", \"population_ci_high\": " << json_number(m.population.high) << ", \"groups\": " << m.groups_used
     << ", \"samples_failed\": " << m.samples_failed << ", \"sample_variance\": " << json_number(m.sigma2_member)
     << ", \"group_mean_variance\": " << json_number(m.var_group)
     << ", \"item_means_variance\": " << json_number(m.var_item_means)
     << ", \"item_mean_noise_variance\": " << json_number(m.var_noise_item_mean)
     << ", \"between_item_variance\": " << json_number(m.var_between_items)
     << ", \"sample_variance_df\": " << json_number(m.variance_df_member)
     << ", \"group_mean_variance_df\": " << json_number(m.variance_df_group)
     << ", \"items_total\": " << m.items_total << ", \"items_scored\": " << m.items_scored
     << ", \"partial\": " << (m.partial ? "true" : "false") << ", \"ci_clipped\": " << (m.ci_clipped ? "true" : "false")
     << ", \"population_clipped\": " << (m.population_clipped ? "true" : "false");
  if (m.precision.active) {
    const PrecisionSummary& p = m.precision;
    os << ",\n          \"precision\": {\"target_halfwidth\": " << json_number(p.target_halfwidth)
       << ", \"mean\": " << json_number(p.interval.mean) << ", \"ci_low\": " << json_number(p.interval.low)
       << ", \"ci_high\": " << json_number(p.interval.high) << ", \"df\": " << json_number(p.interval.df)
       << ", \"achieved_halfwidth\": " << json_number(p.achieved_halfwidth) << ", \"met\": " << (p.met ? "true" : "false")
       << ", \"pilot_samples\": " << p.pilot_samples << ", \"stage2_samples\": " << p.stage2_samples
       << ", \"iid_samples\": " << json_number(p.iid_samples) << ", \"saved_samples\": " << json_number(p.saved_samples)
       << ", \"saved_nfe\": " << json_number(p.saved_nfe) << "}";
  }
  os << "}";
  return os.str();
}

/// RE against the baseline: the reported interval, its method and both candidates.
std::string json_efficiency(const MetricSummary& m) {
  const RatioInterval& e = m.efficiency_vs_baseline;
  return "{\"value\": " + json_number(e.value) + ", \"ci_low\": " + json_number(e.low) + ", \"ci_high\": " +
         json_number(e.high) + ", \"method\": " + (m.efficiency_method.empty() ? "null" : json_string(m.efficiency_method)) +
         ", \"f_ci_low\": " + json_number(m.efficiency_vs_baseline_f.low) +
         ", \"f_ci_high\": " + json_number(m.efficiency_vs_baseline_f.high) +
         ", \"df_baseline\": " + json_number(m.efficiency_df_baseline) +
         ", \"df_design\": " + json_number(m.efficiency_df_design) +
         ", \"bootstrap_ci_low\": " + json_number(m.efficiency_vs_baseline_bootstrap.low) +
         ", \"bootstrap_ci_high\": " + json_number(m.efficiency_vs_baseline_bootstrap.high) +
         ", \"excess_kurtosis\": " + json_number(m.efficiency_excess_kurtosis) +
         ", \"single_group_factor\": " + json_number(m.efficiency_single_group_factor) +
         ", \"fragile\": " + (m.efficiency_fragile ? "true" : "false") + "}";
}

/// rho / in-run RE: the interval and the ANOVA it comes from.
std::string json_anova_ratio(const RatioInterval& r, const MetricSummary& m) {
  return "{\"value\": " + json_number(r.value) + ", \"ci_low\": " + json_number(r.low) + ", \"ci_high\": " +
         json_number(r.high) + ", \"method\": \"anova_f\", \"f_ratio\": " + json_number(m.anova_f) +
         ", \"df_between\": " + json_number(m.variance_df_group) + ", \"df_within\": " +
         json_number(m.variance_df_within) + "}";
}

std::string json_lower_better(int lower_better) {
  return lower_better < 0 ? "null" : lower_better ? "true" : "false";
}

std::string json_comparison(const PairedComparison& c) {
  const PairedDifference& p = c.paired;
  const Interval& d = p.difference;
  std::ostringstream os;
  os << "{\"operator\": " << json_string(c.op) << ", \"design\": " << json_string(c.design)
     << ", \"metric\": " << json_string(c.metric) << ", \"solver_a\": " << json_string(c.solver_a)
     << ", \"solver_b\": " << json_string(c.solver_b) << ", \"lower_better\": " << json_lower_better(c.lower_better)
     << ",\n      \"items\": " << p.items << ", \"units\": " << p.units << ", \"mean_a\": " << json_number(p.mean_a)
     << ", \"mean_b\": " << json_number(p.mean_b) << ", \"difference\": " << json_number(d.mean)
     << ", \"ci_low\": " << json_number(d.low) << ", \"ci_high\": " << json_number(d.high)
     << ", \"se\": " << json_number(d.se) << ", \"df\": " << json_number(d.df)
     << ",\n      \"population_ci_low\": " << json_number(p.population.low)
     << ", \"population_ci_high\": " << json_number(p.population.high)
     << ", \"correlation\": " << json_ratio(p.correlation)
     << ", \"variance_reduction\": " << json_number(p.variance_reduction)
     << ",\n      \"verdict\": " << json_string(verdict_name(c.verdict)) << ", \"better\": "
     << (c.better().empty() ? "null" : json_string(c.better())) << "}";
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

bool is_baseline(const BenchmarkSummary& s, const CellSummary& c) { return c.design == s.baseline_design; }

std::string json_correlation_stat(const CorrelationStat& c) {
  return "{\"mean\": " + json_number(c.mean) + ", \"sd\": " + json_number(c.sd) + ", \"ci_low\": " +
         json_number(c.ci.low) + ", \"ci_high\": " + json_number(c.ci.high) + "}";
}

std::vector<std::vector<std::string>> correlation_rows(const std::vector<CellCorrelation>& correlations,
                                                       double confidence) {
  const std::string pct = std::to_string(static_cast<int>(std::lround(100 * confidence))) + "% CI";
  std::vector<std::vector<std::string>> rows{
      {"operator", "solver", "design", "pairs", "n", "standard mean (sd)", pct, "centralized mean (sd)", pct}};
  auto mean_sd = [](const CorrelationStat& c) { return fmt(c.mean, 3) + " (" + fmt(c.sd, 2) + ")"; };
  for (const auto& c : correlations)
    rows.push_back({c.op, c.solver, c.design, c.pairs_kind, std::to_string(c.pairs), mean_sd(c.standard),
                    fmt_interval(c.standard.ci.low, c.standard.ci.high), mean_sd(c.centralized),
                    fmt_interval(c.centralized.ci.low, c.centralized.ci.high)});
  return rows;
}

}  // namespace

std::string correlations_json(const std::vector<CellCorrelation>& correlations) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < correlations.size(); ++i) {
    const auto& c = correlations[i];
    os << (i ? "," : "") << "\n    {\"cell\": " << json_string(c.cell) << ", \"operator\": " << json_string(c.op)
       << ", \"solver\": " << json_string(c.solver) << ", \"design\": " << json_string(c.design)
       << ", \"group_size\": " << c.group_size << ", \"pairs_kind\": " << json_string(c.pairs_kind)
       << ", \"pairs\": " << c.pairs << ",\n      \"standard\": " << json_correlation_stat(c.standard)
       << ", \"centralized\": " << json_correlation_stat(c.centralized) << "}";
  }
  os << (correlations.empty() ? "]" : "\n  ]");
  return os.str();
}

std::string correlation_table(const std::vector<CellCorrelation>& correlations, double confidence) {
  if (correlations.empty()) return "";
  return fixed_width(correlation_rows(correlations, confidence));
}

std::string RunInfo::incomplete() const {
  if (expected_records <= 0 || records >= expected_records) return "";
  return str_cat("incomplete: ", records, " of ", expected_records, " samples");
}

namespace {

std::string statuses_json(const RunInfo& info) {
  std::string out = "{";
  for (const auto& [status, n] : info.statuses)
    out += str_cat(out.size() > 1 ? ", " : "", json_string(status), ": ", n);
  return out + "}";
}

}  // namespace

std::string summary_json(const BenchmarkSummary& s, const RunInfo& info) {
  std::ostringstream os;
  os << "{\n  \"format\": \"ipbench-summary/1\",\n  \"name\": " << json_string(info.name)
     << ",\n  \"context\": " << json_string(info.context) << ",\n  \"device\": " << json_string(info.device)
     << ",\n  \"dtype\": " << json_string(info.dtype) << ",\n  \"seed\": " << info.seed
     << ",\n  \"seconds\": " << json_number(info.seconds) << ",\n  \"records\": " << info.records;
  if (info.expected_records > 0)
    os << ",\n  \"samples_expected\": " << info.expected_records << ",\n  \"complete\": "
       << (info.incomplete().empty() ? "true" : "false");
  if (!info.incomplete().empty()) os << ",\n  \"incomplete\": " << json_string(info.incomplete());
  os << ",\n  \"statuses\": " << statuses_json(info)
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
                            [](const MetricSummary& m) { return json_efficiency(m); });
    }
    if (c.group_size > 1) {
      os << json_metric_map(c, "efficiency_in_run", [](const MetricSummary&) { return true; },
                            [](const MetricSummary& m) { return json_anova_ratio(m.efficiency_in_run, m); });
      os << json_metric_map(c, "rho", [](const MetricSummary&) { return true; },
                            [](const MetricSummary& m) { return json_anova_ratio(m.rho, m); });
    }
    os << "}";
  }
  os << "\n  ],\n  \"comparisons\": [";
  for (size_t i = 0; i < s.comparisons.size(); ++i)
    os << (i ? "," : "") << "\n    " << json_comparison(s.comparisons[i]);
  os << (s.comparisons.empty() ? "]" : "\n  ]");
  if (!s.correlations.empty()) os << ",\n  \"correlations\": " << correlations_json(s.correlations);
  std::string set_entries;  // the entries of every array in info.set_metrics, joined
  for (const auto& array : info.set_metrics) {
    const auto open = array.find('['), close = array.rfind(']');
    const std::string inner = open == std::string::npos || close == std::string::npos || close <= open
                                  ? std::string()
                                  : trim(array.substr(open + 1, close - open - 1));
    if (!inner.empty()) set_entries += (set_entries.empty() ? "\n    " : ",\n    ") + inner;
  }
  if (!set_entries.empty()) os << ",\n  \"set_metrics\": [" << set_entries << "\n  ]";
  os << ",\n  \"warnings\": [";
  for (size_t i = 0; i < s.warnings.size(); ++i) os << (i ? ", " : "") << json_string(s.warnings[i]);
  os << "]";
  os << "\n}\n";
  return os.str();
}

namespace {

/// "mean" or "mean (partial)"; an interval with "*" when clipped to the metric's bounds.
std::string fmt_mean(const MetricSummary& m) { return fmt(m.ci.mean) + (m.partial ? " (partial)" : ""); }
std::string fmt_clipped(const Interval& iv, bool clipped) {
  return fmt_interval(iv.low, iv.high) + (clipped ? "*" : "");
}
std::string fmt_items(const MetricSummary& m) {
  return m.partial ? std::to_string(m.items_scored) + " of " + std::to_string(m.items_total)
                   : std::to_string(m.items_scored);
}
/// "value [lo, hi]" for RE vs the baseline; " boot" marks the bootstrap, " !" an estimate resting on one group.
std::string fmt_efficiency(const MetricSummary& m) {
  return fmt_ratio(m.efficiency_vs_baseline) + (m.efficiency_method == "bootstrap_bca" ? " boot" : "") +
         (m.efficiency_fragile ? " !" : "");
}

std::vector<std::vector<std::string>> summary_rows(const BenchmarkSummary& s) {
  std::vector<std::vector<std::string>> rows;
  const int pct = static_cast<int>(std::lround(100 * s.confidence));
  rows.push_back({"operator", "solver", "design", "metric", "items", "mean", std::to_string(pct) + "% CI",
                  "population CI", "item CI width", "rho [CI]", "RE vs " + s.baseline_design + " [CI]",
                  "RE in-run [CI]", "failed"});
  for (const auto& c : s.cells)
    for (const auto& m : c.metrics)
      rows.push_back({c.op, c.solver, c.design, m.name, fmt_items(m), fmt_mean(m), fmt_clipped(m.ci, m.ci_clipped),
                      fmt_clipped(m.population, m.population_clipped), fmt(m.ci_width_item_mean, 3),
                      c.group_size > 1 ? fmt_ratio(m.rho) : "-",
                      is_baseline(s, c) ? "1 (baseline)" : fmt_efficiency(m),
                      c.group_size > 1 ? fmt_ratio(m.efficiency_in_run) : "-", std::to_string(m.samples_failed)});
  return rows;
}

/// Notes under the table: what "*", "(partial)" and "boot" mean, when they occur.
std::string table_notes(const BenchmarkSummary& s) {
  bool clipped = false, partial = false, boot = false, fragile = false;
  for (const auto& c : s.cells)
    for (const auto& m : c.metrics) {
      clipped |= m.ci_clipped || m.population_clipped;
      partial |= m.partial;
      boot |= m.efficiency_method == "bootstrap_bca";
      fragile |= m.efficiency_fragile && !is_baseline(s, c);
    }
  std::string out;
  if (clipped) out += "* interval clipped to the metric's range\n";
  if (partial) out += "(partial): some items have fewer than 2 complete groups; items = scored of total\n";
  if (boot) out += "boot: heavy-tailed units, RE interval from the BCa bootstrap over groups (else Satterthwaite F)\n";
  if (fragile)
    out += str_cat("!: leaving out one group changes this RE by more than ", kFragileFactor,
                   "x: it rests on that group (an outlier among few groups); read it as unresolved, run more groups\n");
  return out;
}

/// A verdict in words: "dps better", "no sig. difference", "ddpm higher", "n/a".
std::string verdict_words(const PairedComparison& c) {
  switch (c.verdict) {
    case Verdict::a_better: return c.solver_a + " better";
    case Verdict::b_better: return c.solver_b + " better";
    case Verdict::a_higher: return c.solver_a + " higher";
    case Verdict::b_higher: return c.solver_b + " higher";
    case Verdict::no_difference: return "no sig. difference";
    case Verdict::undefined: break;
  }
  return "n/a";
}

std::vector<std::vector<std::string>> comparison_rows(const BenchmarkSummary& s) {
  const int pct = static_cast<int>(std::lround(100 * s.confidence));
  std::vector<std::vector<std::string>> rows{{"operator", "design", "metric", "A - B", "mean A", "mean B", "diff",
                                              std::to_string(pct) + "% CI", "units", "corr", "VR", "verdict"}};
  for (const auto& c : s.comparisons) {
    const PairedDifference& p = c.paired;
    rows.push_back({c.op, c.design, c.metric, c.solver_a + " - " + c.solver_b, fmt(p.mean_a), fmt(p.mean_b),
                    fmt(p.difference.mean), fmt_interval(p.difference.low, p.difference.high),
                    std::to_string(p.units), fmt(p.correlation.value, 3), fmt(p.variance_reduction, 3),
                    verdict_words(c)});
  }
  return rows;
}

std::vector<std::vector<std::string>> component_rows(const BenchmarkSummary& s) {
  const int pct = static_cast<int>(std::lround(100 * s.confidence));
  std::vector<std::vector<std::string>> rows{{"operator", "solver", "design", "metric", "population " +
                                              std::to_string(pct) + "% CI", "var(item means)",
                                              "noise var of an item mean", "between-item var", "between share"}};
  for (const auto& c : s.cells)
    for (const auto& m : c.metrics) {
      const double share = m.var_item_means > 0.0 ? m.var_between_items / m.var_item_means : kNaN;
      rows.push_back({c.op, c.solver, c.design, m.name, fmt_interval(m.population.low, m.population.high),
                      fmt(m.var_item_means), fmt(m.var_noise_item_mean), fmt(m.var_between_items), fmt(share, 3)});
    }
  return rows;
}

bool any_precision(const BenchmarkSummary& s) {
  for (const auto& c : s.cells)
    for (const auto& m : c.metrics)
      if (m.precision.active) return true;
  return false;
}

std::vector<std::vector<std::string>> precision_rows(const BenchmarkSummary& s) {
  std::vector<std::vector<std::string>> rows{{"operator", "solver", "design", "metric", "target", "achieved",
                                              "two-stage CI", "samples (pilot + stage 2)", "iid would need",
                                              "saved NFE"}};
  for (const auto& c : s.cells)
    for (const auto& m : c.metrics) {
      const PrecisionSummary& p = m.precision;
      if (!p.active) continue;
      rows.push_back({c.op, c.solver, c.design, m.name, fmt(p.target_halfwidth, 3),
                      fmt(p.achieved_halfwidth, 3) + (p.met ? "" : " (missed: capped)"),
                      fmt_interval(p.interval.low, p.interval.high),
                      std::to_string(p.pilot_samples + p.stage2_samples) + " (" + std::to_string(p.pilot_samples) +
                          " + " + std::to_string(p.stage2_samples) + ")",
                      fmt(p.iid_samples, 6), fmt(p.saved_nfe, 6)});
    }
  return rows;
}

constexpr const char* kPrecisionLegend =
    "two-stage (Stein) run to the target half-width: pilot groups, then Neyman-allocated groups per item; the "
    "interval uses the pilot variances (docs/statistics.md section 8c)";

constexpr const char* kComparisonLegend =
    "common random numbers: A - B on the (item, group) units of both cells, interval given the items; "
    "corr = correlation of the group means; VR = unpaired / paired variance";

}  // namespace

std::string comparison_table(const BenchmarkSummary& s) {
  if (s.comparisons.empty()) return "";
  return fixed_width(comparison_rows(s));
}

std::string summary_table(const BenchmarkSummary& s) {
  std::string out;
  for (const auto& w : s.warnings) out += w + "\n";
  out += fixed_width(summary_rows(s)) + table_notes(s);
  if (any_precision(s)) out += "\n" + std::string(kPrecisionLegend) + ":\n" + fixed_width(precision_rows(s));
  if (!s.comparisons.empty())
    out += "\npaired solver comparisons (" + std::string(kComparisonLegend) + "):\n" + comparison_table(s);
  if (!s.correlations.empty())
    out += "\npixel-wise pair correlations (PN = coupled pairs, RR = independent pairs):\n" +
           correlation_table(s.correlations, s.confidence);
  return out;
}

std::string summary_markdown(const BenchmarkSummary& s, const RunInfo& info) {
  std::ostringstream os;
  os << "# ipbench summary: " << info.name << "\n\n"
     << "- " << info.context << "\n- device " << info.device << ", dtype " << info.dtype << ", seed " << info.seed
     << "\n- " << info.records << " records, " << fmt(info.seconds, 4) << " s"
     << (info.incomplete().empty() ? std::string() : " (**" + info.incomplete() + "**)") << "\n"
     << "- intervals: " << fmt(100 * s.confidence, 3)
     << "% Student-t over coupled groups; mean over items given the items (docs/statistics.md)\n"
     << "- population CI: items as a random sample of the dataset (t over item means)\n"
     << "- RE: relative efficiency at equal sample budget (variance ratio), measured against design `"
     << s.baseline_design << "` (Satterthwaite F interval, or the BCa bootstrap for heavy-tailed units) and "
     << "estimated in-run (one-way ANOVA F interval, as rho)\n\n";
  auto markdown = [&os](const std::vector<std::vector<std::string>>& table) {
    for (size_t k = 0; k < table.size(); ++k) {
      os << "|";
      for (const auto& c : table[k]) os << " " << c << " |";
      os << "\n";
      if (k == 0) {
        os << "|";
        for (size_t i = 0; i < table[k].size(); ++i) os << "---|";
        os << "\n";
      }
    }
  };
  for (const auto& w : s.warnings) os << "> " << w << "\n\n";
  markdown(summary_rows(s));
  const std::string notes = table_notes(s);
  if (!notes.empty()) os << "\n" << notes;
  if (any_precision(s)) {
    os << "\n## Precision targets\n\n" << kPrecisionLegend << ".\n\n";
    markdown(precision_rows(s));
  }
  os << "\n## Variance components\n\nThe population interval's variance per item, split into item-to-item "
        "spread (between-item variance, which no noise design reduces) and the noise variance of one item mean "
        "(what `ci` measures); between share = between-item var / var(item means) (docs/statistics.md).\n\n";
  markdown(component_rows(s));
  if (!s.comparisons.empty()) {
    os << "\n## Paired solver comparisons\n\n" << kComparisonLegend
       << "; the verdict says whether the interval excludes 0, in the metric's direction (docs/statistics.md).\n\n";
    markdown(comparison_rows(s));
  }
  if (!s.correlations.empty()) {
    os << "\n## Pixel-wise pair correlations\n\nStandard and centralized Pearson correlation of paired "
          "samples (coupled = within a group, e.g. antithetic PN pairs; independent = consecutive iid samples, RR "
          "pairs), mean (sd) over pairs and a t interval for the mean (docs/statistics.md).\n\n";
    markdown(correlation_rows(s.correlations, s.confidence));
  }
  return os.str();
}

}  // namespace ipbench
