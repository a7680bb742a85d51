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

namespace ipbench {

namespace {

/// The records of one cell, by index into the input.
struct CellRecords {
  std::vector<size_t> rows;
};

/// One item's complete, finite groups of one metric: groups[j][k] = value of member k of group ids[j].
struct ItemGroups {
  std::vector<int64_t> ids;
  std::vector<std::vector<double>> groups;
};

/// Per-item sufficient statistics of one metric.
struct ItemStats {
  int64_t units = 0;
  double mean = kNaN;       ///< m_i, mean of the units (= mean of all members)
  double var_units = kNaN;  ///< s_i^2
  double width = kNaN;      ///< width of the per-item t interval
  double ss_member = 0.0;   ///< sum over members of (x - m_i)^2
  double s_aa = 0.0, s_bb = 0.0, s_ab = 0.0;  ///< K = 2: centered sums of the two members
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

ItemStats item_stats(const ItemGroups& item, int64_t k, double confidence) {
  ItemStats s;
  std::vector<double> units;
  for (const auto& g : item.groups) units.push_back(mean(g));
  const Interval iv = t_interval(units, confidence);
  s.units = iv.units;
  s.mean = iv.mean;
  s.var_units = sample_variance(units);
  s.width = iv.width();
  if (s.units == 0) return s;
  for (const auto& g : item.groups)
    for (double x : g) s.ss_member += (x - s.mean) * (x - s.mean);
  if (k == 2) {
    std::vector<double> a, b;
    for (const auto& g : item.groups) {
      a.push_back(g[0]);
      b.push_back(g[1]);
    }
    const double ma = mean(a), mb = mean(b);
    for (size_t j = 0; j < a.size(); ++j) {
      s.s_aa += (a[j] - ma) * (a[j] - ma);
      s.s_bb += (b[j] - mb) * (b[j] - mb);
      s.s_ab += (a[j] - ma) * (b[j] - mb);
    }
  }
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

/// Pooled within-item variances of single members and of group means.
void pool_variances(const std::vector<ItemStats>& items, int64_t k, MetricSummary& m) {
  double ss_member = 0.0, df_member = 0.0, ss_group = 0.0, df_group = 0.0;
  for (const ItemStats& s : items) {
    if (s.units < 1) continue;
    ss_member += s.ss_member;
    df_member += static_cast<double>(s.units * k - 1);
    if (s.units < 2) continue;
    ss_group += static_cast<double>(s.units - 1) * s.var_units;
    df_group += static_cast<double>(s.units - 1);
  }
  if (df_member > 0.0) {
    m.sigma2_member = ss_member / df_member;
    m.variance_df_member = df_member;
  }
  if (df_group > 0.0) {
    m.var_group = ss_group / df_group;
    m.variance_df_group = df_group;
  }
}

/// rho (K = 2) or rhobar (K > 2) with its Fisher-z interval, and the in-run efficiency.
void coupling(const std::vector<ItemStats>& items, int64_t k, double confidence, MetricSummary& m) {
  if (k < 2) return;
  const double kd = static_cast<double>(k);
  if (k == 2) {
    double s_aa = 0.0, s_bb = 0.0, s_ab = 0.0, n_eff = 1.0;
    for (const ItemStats& s : items) {
      if (s.units < 1) continue;
      s_aa += s.s_aa;
      s_bb += s.s_bb;
      s_ab += s.s_ab;
      n_eff += static_cast<double>(s.units - 1);  // sum_i U_i - (I - 1): one df per item centering
    }
    const double denom = s_aa + s_bb;
    m.rho = fisher_z_interval(denom > 0.0 ? 2.0 * s_ab / denom : kNaN, n_eff, confidence);
  } else {
    const double rhobar = (kd * m.var_group / m.sigma2_member - 1.0) / (kd - 1.0);
    m.rho = fisher_z_interval(rhobar, static_cast<double>(m.groups_used), confidence);
  }
  const double in_run = m.sigma2_member / (kd * m.var_group);
  m.efficiency_in_run =
      variance_ratio_interval(in_run, m.variance_df_member, m.variance_df_group, confidence);
}

MetricSummary summarize_metric(const std::vector<Record>& records, const CellRecords& cell,
                               const std::string& name, int64_t k, double confidence) {
  MetricSummary m;
  m.name = name;
  const auto groups = complete_groups(records, cell, name, k, m.samples_failed);
  std::vector<ItemStats> items;
  std::vector<double> item_means, widths, noise;
  for (const auto& kv : groups) {
    items.push_back(item_stats(kv.second, k, confidence));
    const ItemStats& s = items.back();
    m.groups_used += s.units;
    if (s.units >= 1) item_means.push_back(s.mean);
    if (s.units >= 2) widths.push_back(s.width);
    if (s.units >= 2) noise.push_back(s.var_units / static_cast<double>(s.units));
  }
  m.ci = fixed_items_interval(items, confidence);
  m.population = t_interval(item_means, confidence);
  m.ci_width_item_mean = mean(widths);
  m.var_item_means = sample_variance(item_means);
  m.var_noise_item_mean = mean(noise);
  // Method of moments: E[var of item means] = between-item variance + mean noise variance of an item
  // mean; a negative estimate means the spread is all noise.
  if (std::isfinite(m.var_item_means) && std::isfinite(m.var_noise_item_mean))
    m.var_between_items = std::max(0.0, m.var_item_means - m.var_noise_item_mean);
  pool_variances(items, k, m);
  coupling(items, k, confidence, m);
  return m;
}

CellSummary summarize_cell(const std::vector<Record>& records, const CellRecords& cell,
                           const std::vector<std::string>& metrics, double confidence) {
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
  for (const std::string& name : metrics)
    c.metrics.push_back(summarize_metric(records, cell, name, c.group_size, confidence));
  return c;
}

/// Equal-sample-budget efficiency against the baseline cell of the same operator and solver:
/// RE = (K_b var_group_b) / (K var_group), i.e. N Var(estimator) of the baseline over the cell's.
void add_baseline_efficiency(BenchmarkSummary& summary, double confidence) {
  for (CellSummary& c : summary.cells) {
    if (c.design == summary.baseline_design) continue;
    auto base = std::find_if(summary.cells.begin(), summary.cells.end(), [&](const CellSummary& b) {
      return b.design == summary.baseline_design && b.op == c.op && b.solver == c.solver;
    });
    if (base == summary.cells.end()) continue;
    for (MetricSummary& m : c.metrics) {
      auto bm = std::find_if(base->metrics.begin(), base->metrics.end(),
                             [&](const MetricSummary& x) { return x.name == m.name; });
      if (bm == base->metrics.end()) continue;
      const double num = static_cast<double>(base->group_size) * bm->var_group;
      const double den = static_cast<double>(c.group_size) * m.var_group;
      const double re = den > 0.0 ? num / den : kNaN;
      m.efficiency_vs_baseline =
          variance_ratio_interval(re, bm->variance_df_group, m.variance_df_group, confidence);
    }
  }
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
    summary.cells.push_back(summarize_cell(records, cell, metrics, options.confidence));
  add_baseline_efficiency(summary, options.confidence);
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
