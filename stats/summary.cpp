// From records to per-cell statistics. See summary.h for the contract and docs/statistics.md for
// the reasoning behind each estimator.
#include "stats/summary.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

#include "core/error.h"
#include "core/rng.h"

namespace ipbench {

namespace {

const MetricSummary* find_metric_summary(const CellSummary& c, const std::string& name) {
  for (const auto& m : c.metrics)
    if (m.name == name) return &m;
  return nullptr;
}

/// The records of one cell, by index into the input.
struct CellRecords {
  std::vector<size_t> rows;
};

/// One item's complete, finite groups of one metric: groups[j][k] = value of member k of group ids[j].
struct ItemGroups {
  std::vector<int64_t> ids;
  std::vector<std::vector<double>> groups;
};

/// Per-item statistics of one metric.
struct ItemStats {
  int64_t units = 0;
  double mean = kNaN;       ///< m_i, mean of the units (= mean of all members)
  double var_units = kNaN;  ///< s_i^2
  double width = kNaN;      ///< width of the per-item t interval
  GroupAnova anova;
};

void check_same(const Record& first, const Record& r) {
  require(r.op == first.op && r.solver == first.solver && r.design == first.design &&
              r.group_size == first.group_size,
          "records of cell '", r.cell, "' disagree on operator/solver/design/group_size (item ", r.item,
          ", group ", r.group, ", member ", r.member, ")");
}

/// Groups record rows by cell in order of first appearance, validating the cell's records.
std::vector<CellRecords> split_cells(const std::vector<Record>& records) {
  std::vector<CellRecords> cells;
  std::unordered_map<std::string, size_t> index;
  std::vector<std::set<std::tuple<int64_t, int64_t, int64_t>>> seen;
  for (size_t row = 0; row < records.size(); ++row) {
    const Record& r = records[row];
    auto it = index.find(r.cell);
    if (it == index.end()) {
      it = index.emplace(r.cell, cells.size()).first;
      cells.emplace_back();
      seen.emplace_back();
    }
    const size_t c = it->second;
    if (!cells[c].rows.empty()) check_same(records[cells[c].rows.front()], r);
    require(r.group_size >= 1, "cell '", r.cell, "': group_size = ", r.group_size, " (must be >= 1)");
    require(r.member >= 0 && r.member < r.group_size, "cell '", r.cell, "': member ", r.member,
            " outside 0..", r.group_size - 1, " (item ", r.item, ", group ", r.group, ")");
    require(seen[c].insert({r.item, r.group, r.member}).second, "cell '", r.cell,
            "': duplicate record for item ", r.item, ", group ", r.group, ", member ", r.member);
    cells[c].rows.push_back(row);
  }
  return cells;
}

std::vector<std::string> metric_names(const std::vector<Record>& records, const SummaryOptions& options) {
  if (!options.metrics.empty()) return options.metrics;
  std::set<std::string> names;
  for (const Record& r : records)
    for (const auto& kv : r.metrics) names.insert(kv.first);
  return {names.begin(), names.end()};
}

/// Complete groups per item (items sorted); counts non-finite values into `failed`. A missing value
/// (metric absent from a record) leaves its group incomplete without counting as a failure.
std::map<int64_t, ItemGroups> complete_groups(const std::vector<Record>& records, const CellRecords& cell,
                                              const std::string& metric, int64_t k, int64_t& failed) {
  // (item, group) -> values by member, NaN for missing or failed members.
  std::map<std::pair<int64_t, int64_t>, std::vector<double>> slots;
  for (size_t row : cell.rows) {
    const Record& r = records[row];
    auto& slot = slots[{r.item, r.group}];
    if (slot.empty()) slot.assign(static_cast<size_t>(k), kNaN);
    auto it = r.metrics.find(metric);
    if (it == r.metrics.end()) continue;
    if (!std::isfinite(it->second)) ++failed;
    slot[static_cast<size_t>(r.member)] = it->second;
  }
  std::map<int64_t, ItemGroups> items;
  for (auto& kv : slots) {
    auto& item = items[kv.first.first];  // an item with no complete group stays, with zero units
    const auto& v = kv.second;
    if (std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); })) {
      item.ids.push_back(kv.first.second);
      item.groups.push_back(v);
    }
  }
  return items;
}

ItemStats item_stats(const ItemGroups& item, double confidence) {
  ItemStats s;
  s.anova = group_anova(item.groups);
  const Interval iv = t_interval(s.anova.group_means, confidence);
  s.units = iv.units;
  s.mean = iv.mean;
  s.var_units = sample_variance(s.anova.group_means);
  s.width = iv.width();
  return s;
}

/// `ci`: mean of the item means given the items, Welch-Satterthwaite degrees of freedom.
Interval fixed_items_interval(const std::vector<ItemStats>& items, double confidence) {
  std::vector<double> means;
  double sum_a = 0.0, sum_a2 = 0.0, df_sum = 0.0;
  int64_t units = 0;
  for (const ItemStats& s : items) {
    if (s.units < 2) continue;
    const double a = s.var_units / static_cast<double>(s.units);
    means.push_back(s.mean);
    sum_a += a;
    sum_a2 += a * a / static_cast<double>(s.units - 1);
    df_sum += static_cast<double>(s.units - 1);
    units += s.units;
  }
  if (means.empty()) return Interval{};
  Interval out = satterthwaite_interval(mean(means), sum_a, sum_a2, static_cast<double>(means.size()), df_sum, confidence);
  out.units = units;
  return out;
}

/// Pooled variances and the ANOVA coupling intervals (stats/efficiency.h).
void pool_variances(const std::vector<ItemStats>& items, int64_t k, double confidence, MetricSummary& m) {
  std::vector<GroupAnova> anovas;
  for (const ItemStats& s : items) anovas.push_back(s.anova);
  const PooledAnova p = pool_anova(anovas);
  m.sigma2_member = p.sigma2_member;
  m.variance_df_member = p.df_member;
  m.var_group = p.var_group;
  m.variance_df_group = p.df_b;
  if (k < 2) return;
  const CouplingIntervals c = anova_coupling(p, k, confidence);
  m.anova_f = c.f_ratio;
  m.variance_df_within = p.df_w;
  m.rho = c.rho;
  m.efficiency_in_run = c.efficiency_in_run;
}

/// Clips an interval's ends into [lo, hi]; true when an end moved.
bool clip(double& low, double& high, const std::pair<double, double>& bounds) {
  bool moved = false;
  if (std::isfinite(low) && low < bounds.first) low = bounds.first, moved = true;
  if (std::isfinite(high) && high > bounds.second) high = bounds.second, moved = true;
  return moved;
}

/// Stein's two-stage interval and the compute it saved (stats/precision.h); groups with id < n0 are
/// the pilot.
PrecisionSummary two_stage_summary(const std::map<int64_t, ItemGroups>& groups, const std::vector<ItemStats>& items,
                                   int64_t k, int64_t n0, double target, double confidence) {
  PrecisionSummary p;
  p.active = true;
  p.target_halfwidth = target;
  std::vector<double> means, pilot_var, sigma2;
  std::vector<int64_t> units, pilot_units;
  size_t idx = 0;
  for (const auto& kv : groups) {
    const ItemGroups& g = kv.second;
    const ItemStats& s = items[idx++];
    std::vector<double> pilot;
    for (size_t j = 0; j < g.ids.size(); ++j) {
      if (g.ids[j] < n0) {
        pilot.push_back(s.anova.group_means[j]);
        p.pilot_samples += k;
      } else {
        p.stage2_samples += k;
      }
    }
    means.push_back(s.mean);
    units.push_back(s.units);
    pilot_var.push_back(sample_variance(pilot));
    pilot_units.push_back(static_cast<int64_t>(pilot.size()));
    const GroupAnova& a = s.anova;
    sigma2.push_back(k >= 2 ? ((static_cast<double>(k) - 1.0) * a.msw + a.msb) / static_cast<double>(k) : a.msb);
  }
  p.interval = two_stage_interval(means, units, pilot_var, pilot_units, confidence);
  p.achieved_halfwidth = 0.5 * p.interval.width();
  p.met = p.achieved_halfwidth <= target;
  const double q = student_t_quantile(0.5 * (1.0 + confidence), p.interval.df);
  p.iid_samples = iid_samples_for_halfwidth(sigma2, p.achieved_halfwidth, q);
  p.saved_samples = p.iid_samples - static_cast<double>(p.pilot_samples + p.stage2_samples);
  return p;
}

MetricSummary summarize_metric(const std::vector<Record>& records, const CellRecords& cell,
                               const std::string& name, int64_t k, const SummaryOptions& options) {
  const double confidence = options.confidence;
  MetricSummary m;
  m.name = name;
  const auto groups = complete_groups(records, cell, name, k, m.samples_failed);
  std::vector<ItemStats> items;
  std::vector<double> item_means, widths, noise;
  for (const auto& kv : groups) {
    items.push_back(item_stats(kv.second, confidence));
    const ItemStats& s = items.back();
    m.groups_used += s.units;
    ++m.items_total;
    if (s.units >= 1) item_means.push_back(s.mean);
    if (s.units >= 2) widths.push_back(s.width);
    if (s.units >= 2) noise.push_back(s.var_units / static_cast<double>(s.units));
  }
  m.items_scored = static_cast<int64_t>(widths.size());
  m.partial = m.items_scored < m.items_total;
  m.ci = fixed_items_interval(items, confidence);
  m.population = t_interval(item_means, confidence);
  auto bounds = options.bounds.find(name);
  if (bounds != options.bounds.end()) {
    m.ci_clipped = clip(m.ci.low, m.ci.high, bounds->second);
    m.population_clipped = clip(m.population.low, m.population.high, bounds->second);
  }
  m.ci_width_item_mean = mean(widths);
  m.var_item_means = sample_variance(item_means);
  m.var_noise_item_mean = mean(noise);
  // Method of moments: E[var of item means] = between-item variance + mean noise variance of an item
  // mean; a negative estimate means the spread is all noise.
  if (std::isfinite(m.var_item_means) && std::isfinite(m.var_noise_item_mean))
    m.var_between_items = std::max(0.0, m.var_item_means - m.var_noise_item_mean);
  pool_variances(items, k, confidence, m);
  for (const PrecisionTarget& t : options.targets)
    if (t.metric == name && options.pilot_groups >= 2)
      m.precision = two_stage_summary(groups, items, k, options.pilot_groups, t.halfwidth, confidence);
  return m;
}

CellSummary summarize_cell(const std::vector<Record>& records, const CellRecords& cell,
                           const std::vector<std::string>& metrics, const SummaryOptions& options) {
  const Record& first = records[cell.rows.front()];
  CellSummary c;
  c.cell = first.cell;
  c.op = first.op;
  c.solver = first.solver;
  c.design = first.design;
  c.group_size = first.group_size;
  std::map<int64_t, int64_t> per_item;
  double nfe = 0.0, seconds = 0.0;
  for (size_t row : cell.rows) {
    const Record& r = records[row];
    ++per_item[r.item];
    nfe += static_cast<double>(r.nfe);
    seconds += r.seconds;
    const bool finite = std::all_of(r.metrics.begin(), r.metrics.end(),
                                    [](const auto& kv) { return std::isfinite(kv.second); });
    if (r.status != "ok" || !finite) ++c.samples_failed;
  }
  const double n = static_cast<double>(cell.rows.size());
  c.items = static_cast<int64_t>(per_item.size());
  for (const auto& kv : per_item) c.samples_per_item = std::max(c.samples_per_item, kv.second);
  c.nfe_per_sample = nfe / n;
  c.seconds_per_sample = seconds / n;
  for (const std::string& name : metrics) {
    c.metrics.push_back(summarize_metric(records, cell, name, c.group_size, options));
    PrecisionSummary& p = c.metrics.back().precision;
    if (p.active) p.saved_nfe = p.saved_samples * c.nfe_per_sample;
  }
  return c;
}

/// Group means per item of one metric in one cell, aligned to `items` (empty where absent).
std::vector<std::vector<double>> aligned_units(const UnitValues& u, const std::vector<int64_t>& items) {
  std::vector<std::vector<double>> out;
  for (int64_t item : items) {
    out.emplace_back();
    auto it = u.find(item);
    if (it == u.end()) continue;
    for (const auto& kv : it->second) out.back().push_back(kv.second);
  }
  return out;
}

UnitValues unit_values(const std::vector<Record>& records, const CellRecords& cell, const std::string& metric,
                       int64_t k);

/// Equal-sample-budget efficiency against the baseline cell of the same operator and solver
/// (stats/efficiency.h): RE = sum_i w_i K_b s_b,i^2 / sum_i w_i K s_i^2, Satterthwaite F and BCa.
void add_baseline_efficiency(const std::vector<Record>& records, const std::vector<CellRecords>& rows,
                             BenchmarkSummary& summary, const SummaryOptions& options) {
  for (size_t ci = 0; ci < summary.cells.size(); ++ci) {
    CellSummary& c = summary.cells[ci];
    if (c.design == summary.baseline_design) continue;
    size_t bi = 0;
    while (bi < summary.cells.size() && !(summary.cells[bi].design == summary.baseline_design &&
                                          summary.cells[bi].op == c.op && summary.cells[bi].solver == c.solver))
      ++bi;
    if (bi == summary.cells.size()) continue;
    const CellSummary& base = summary.cells[bi];
    for (MetricSummary& m : c.metrics) {
      if (!find_metric_summary(base, m.name)) continue;
      const UnitValues ub = unit_values(records, rows[bi], m.name, base.group_size);
      const UnitValues uc = unit_values(records, rows[ci], m.name, c.group_size);
      std::vector<int64_t> items;
      for (const auto& kv : uc) items.push_back(kv.first);
      const uint64_t key = derive_key(hash_string("efficiency_bootstrap"), hash_string(c.cell), hash_string(m.name));
      const EfficiencyEstimate e =
          efficiency_vs_baseline(aligned_units(ub, items), base.group_size, aligned_units(uc, items), c.group_size,
                                 options.confidence, key, options.bootstrap_resamples);
      m.efficiency_vs_baseline = e.value;
      m.efficiency_method = e.method;
      m.efficiency_vs_baseline_f = e.f;
      m.efficiency_vs_baseline_bootstrap = e.bootstrap;
      m.efficiency_df_baseline = e.df_baseline;
      m.efficiency_df_design = e.df_design;
      m.efficiency_excess_kurtosis = e.excess_kurtosis;
      m.efficiency_single_group_factor = e.single_group_factor;
      m.efficiency_fragile = e.fragile();
    }
  }
}

/// One line per partial (cell, metric): the headline speaks about a subset of the items.
std::vector<std::string> partial_warnings(const BenchmarkSummary& summary) {
  std::vector<std::string> out;
  for (const CellSummary& c : summary.cells)
    for (const MetricSummary& m : c.metrics)
      if (m.partial)
        out.push_back(str_cat("warning: ", c.cell, " ", m.name, ": ", m.items_scored, " of ", m.items_total,
                              " items scored (the others have fewer than 2 complete groups): its mean and ci "
                              "are partial, n/a in leaderboards"));
  return out;
}

/// Unit values (group means of complete, finite groups) of one metric in one cell.
UnitValues unit_values(const std::vector<Record>& records, const CellRecords& cell, const std::string& metric,
                       int64_t k) {
  int64_t failed = 0;  // counted by the cell's own summary
  UnitValues out;
  for (const auto& [item, groups] : complete_groups(records, cell, metric, k, failed)) {
    auto& units = out[item];
    for (size_t j = 0; j < groups.ids.size(); ++j) units[groups.ids[j]] = mean(groups.groups[j]);
  }
  return out;
}

/// Cell a versus cell b (same operator and design) on one metric.
PairedComparison compare_pair(const std::vector<Record>& records, const CellRecords& rows_a, const CellSummary& a,
                              const CellRecords& rows_b, const CellSummary& b, const std::string& metric,
                              const SummaryOptions& options) {
  PairedComparison p;
  p.op = a.op;
  p.design = a.design;
  p.metric = metric;
  p.solver_a = a.solver;
  p.solver_b = b.solver;
  auto dir = options.lower_better.find(metric);
  if (dir != options.lower_better.end()) p.lower_better = dir->second ? 1 : 0;
  p.paired = paired_difference(unit_values(records, rows_a, metric, a.group_size),
                               unit_values(records, rows_b, metric, b.group_size), options.confidence);
  p.verdict = paired_verdict(p.paired.difference, p.lower_better);
  return p;
}

/// Every pair of solvers sharing an (operator, design), on every metric. The runner keys the noise by
/// (design, item), not by solver, so such cells share their noise draws: common random numbers.
std::vector<PairedComparison> compare_solvers(const std::vector<Record>& records,
                                              const std::vector<CellRecords>& cell_rows,
                                              const BenchmarkSummary& summary, const std::vector<std::string>& metrics,
                                              const SummaryOptions& options) {
  std::vector<PairedComparison> out;
  const auto& cells = summary.cells;
  std::vector<bool> done(cells.size(), false);  // (operator, design) groups in order of first appearance
  for (size_t first = 0; first < cells.size(); ++first) {
    if (done[first]) continue;
    std::vector<size_t> group;
    for (size_t c = first; c < cells.size(); ++c)
      if (cells[c].op == cells[first].op && cells[c].design == cells[first].design) {
        group.push_back(c);
        done[c] = true;
      }
    for (size_t x = 0; x < group.size(); ++x)
      for (size_t y = x + 1; y < group.size(); ++y)
        for (const std::string& metric : metrics)
          out.push_back(compare_pair(records, cell_rows[group[x]], cells[group[x]], cell_rows[group[y]],
                                     cells[group[y]], metric, options));
  }
  return out;
}

}  // namespace

std::string PairedComparison::better() const {
  if (verdict == Verdict::a_better) return solver_a;
  if (verdict == Verdict::b_better) return solver_b;
  return "";
}

BenchmarkSummary summarize(const std::vector<Record>& records, const SummaryOptions& options) {
  require(options.confidence > 0.0 && options.confidence < 1.0, "SummaryOptions::confidence = ",
          options.confidence, ". Violated: 0 < confidence < 1");
  BenchmarkSummary summary;
  summary.confidence = options.confidence;
  summary.baseline_design = options.baseline_design;
  const auto metrics = metric_names(records, options);
  const std::vector<CellRecords> cells = split_cells(records);
  for (const CellRecords& cell : cells)
    summary.cells.push_back(summarize_cell(records, cell, metrics, options));
  add_baseline_efficiency(records, cells, summary, options);
  summary.warnings = partial_warnings(summary);
  summary.comparisons = compare_solvers(records, cells, summary, metrics, options);
  return summary;
}

std::map<std::string, UnitValues> cell_unit_values(const std::vector<Record>& records, const std::string& metric) {
  std::map<std::string, UnitValues> out;
  for (const CellRecords& cell : split_cells(records)) {
    const Record& first = records[cell.rows.front()];
    out[first.cell] = unit_values(records, cell, metric, first.group_size);
  }
  return out;
}

}  // namespace ipbench
