// Paired comparison of two solvers. See paired.h for the contract and docs/statistics.md for why.
#include "stats/paired.h"

#include <cmath>
#include <vector>

namespace ipbench {

namespace {

/// One item's paired units: a and b in the same group order.
struct PairedItem {
  std::vector<double> a, b, d;
};

std::vector<PairedItem> pair_units(const UnitValues& a, const UnitValues& b) {
  std::vector<PairedItem> items;
  for (const auto& [item, groups_a] : a) {
    auto it = b.find(item);
    if (it == b.end()) continue;
    PairedItem p;
    for (const auto& [group, value_a] : groups_a) {
      auto jt = it->second.find(group);
      if (jt == it->second.end()) continue;
      p.a.push_back(value_a);
      p.b.push_back(jt->second);
      p.d.push_back(value_a - jt->second);
    }
    if (!p.d.empty()) items.push_back(std::move(p));
  }
  return items;
}

/// Centered cross product of x and y (two passes: the means first).
double centered_cross(const std::vector<double>& x, const std::vector<double>& y) {
  const double mx = mean(x), my = mean(y);
  double s = 0.0;
  for (size_t j = 0; j < x.size(); ++j) s += (x[j] - mx) * (y[j] - my);
  return s;
}

}  // namespace

PairedDifference paired_difference(const UnitValues& a, const UnitValues& b, double confidence) {
  PairedDifference out;
  const std::vector<PairedItem> items = pair_units(a, b);
  std::vector<double> item_diffs, means_a, means_b, means_d;
  double sum_c = 0.0, sum_c2 = 0.0, sum_unpaired = 0.0, df_sum = 0.0;
  double s_aa = 0.0, s_bb = 0.0, s_ab = 0.0;
  for (const PairedItem& p : items) {
    item_diffs.push_back(mean(p.d));
    if (p.d.size() < 2) continue;
    const double n = static_cast<double>(p.d.size());
    const double c = sample_variance(p.d) / n;
    sum_c += c;
    sum_c2 += c * c / (n - 1.0);
    sum_unpaired += (sample_variance(p.a) + sample_variance(p.b)) / n;
    df_sum += n - 1.0;
    s_aa += centered_cross(p.a, p.a);
    s_bb += centered_cross(p.b, p.b);
    s_ab += centered_cross(p.a, p.b);
    means_a.push_back(mean(p.a));
    means_b.push_back(mean(p.b));
    means_d.push_back(item_diffs.back());
    out.units += static_cast<int64_t>(p.d.size());
  }
  out.population = t_interval(item_diffs, confidence);
  out.items = static_cast<int64_t>(means_d.size());
  if (out.items == 0) return out;
  const double n_items = static_cast<double>(out.items);
  out.mean_a = mean(means_a);
  out.mean_b = mean(means_b);
  out.difference = satterthwaite_interval(mean(means_d), sum_c, sum_c2, n_items, df_sum, confidence);
  out.difference.units = out.units;
  const double r = s_aa > 0.0 && s_bb > 0.0 ? s_ab / std::sqrt(s_aa * s_bb) : kNaN;
  // Centering each item at its own means costs one pair per item beyond the first.
  out.correlation = fisher_z_interval(r, static_cast<double>(out.units) - (n_items - 1.0), confidence);
  out.variance_reduction = sum_c > 0.0 ? sum_unpaired / sum_c : kNaN;
  return out;
}

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::no_difference: return "no_significant_difference";
    case Verdict::a_better: return "a_better";
    case Verdict::b_better: return "b_better";
    case Verdict::a_higher: return "a_higher";
    case Verdict::b_higher: return "b_higher";
    case Verdict::undefined: break;
  }
  return "undefined";
}

Verdict paired_verdict(const Interval& difference, int lower_better) {
  if (!std::isfinite(difference.low) || !std::isfinite(difference.high)) return Verdict::undefined;
  const bool a_higher = difference.low > 0.0, b_higher = difference.high < 0.0;
  if (!a_higher && !b_higher) return Verdict::no_difference;
  if (lower_better < 0) return a_higher ? Verdict::a_higher : Verdict::b_higher;
  const bool a_better = lower_better ? b_higher : a_higher;
  return a_better ? Verdict::a_better : Verdict::b_better;
}

}  // namespace ipbench
