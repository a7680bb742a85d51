// ANOVA coupling intervals and efficiency against a baseline. See efficiency.h for the math.
#include "stats/efficiency.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/rng.h"
#include "stats/bootstrap.h"

namespace ipbench {

namespace {

/// Sum of squared deviations from the mean (two passes, corrected).
double centered_ss(const std::vector<double>& v, double m) {
  double ss = 0.0, s = 0.0;
  for (double x : v) {
    ss += (x - m) * (x - m);
    s += x - m;
  }
  return std::max(0.0, ss - s * s / static_cast<double>(v.size()));
}

/// One cell's items for the efficiency ratio: units, mean, SS and the weight of each used item.
struct RatioSide {
  std::vector<const std::vector<double>*> units;
  std::vector<double> means, ss;
  double k = 1.0;
};

/// sum_i w_i K var_i for the given per-item variances.
double weighted(const std::vector<double>& w, const std::vector<double>& var, double k) {
  double s = 0.0;
  for (size_t i = 0; i < w.size(); ++i) s += w[i] * k * var[i];
  return s;
}

/// The delete-one-group jackknife values of RE = V_b / V over both cells (every item >= 3 groups):
/// SS' = SS - U/(U-1) (x - m)^2, var' = SS'/(U - 2).
std::vector<double> jackknife_ratios(const RatioSide& base, const RatioSide& cell, const std::vector<double>& w) {
  const size_t n_items = w.size();
  std::vector<double> vb0(n_items), vc0(n_items);
  for (size_t j = 0; j < n_items; ++j) {
    vb0[j] = base.ss[j] / static_cast<double>(base.units[j]->size() - 1);
    vc0[j] = cell.ss[j] / static_cast<double>(cell.units[j]->size() - 1);
  }
  std::vector<double> jack;
  for (int side = 0; side < 2; ++side) {
    const RatioSide& s = side == 0 ? base : cell;
    for (size_t i = 0; i < n_items; ++i) {
      const double u = static_cast<double>(s.units[i]->size());
      for (double x : *s.units[i]) {
        std::vector<double> vb = vb0, vc = vc0;
        const double reduced = std::max(0.0, s.ss[i] - u / (u - 1.0) * (x - s.means[i]) * (x - s.means[i]));
        (side == 0 ? vb : vc)[i] = reduced / (u - 2.0);
        const double den = weighted(w, vc, cell.k);
        jack.push_back(den > 0.0 ? weighted(w, vb, base.k) / den : std::numeric_limits<double>::infinity());
      }
    }
  }
  return jack;
}

/// BCa interval of RE = V_b / V (efficiency.h); acceleration from the jackknife values `jack`.
RatioInterval efficiency_bca(const RatioSide& base, const RatioSide& cell, const std::vector<double>& w, double re,
                             const std::vector<double>& jack, double confidence, uint64_t key, int64_t resamples) {
  const size_t n_items = w.size();
  std::vector<double> var_b(n_items), var_c(n_items), stats;
  stats.reserve(static_cast<size_t>(resamples));
  std::vector<double> draw;
  auto resample_var = [&draw](const std::vector<double>& u, KeyedGenerator& gen) {
    const int64_t n = static_cast<int64_t>(u.size());
    draw.resize(u.size());
    for (int64_t j = 0; j < n; ++j) draw[static_cast<size_t>(j)] = u[static_cast<size_t>(gen.uniform_int(0, n - 1))];
    return sample_variance(draw);
  };
  for (int64_t r = 0; r < resamples; ++r) {
    KeyedGenerator gen(derive_key(key, static_cast<uint64_t>(r)));
    for (size_t i = 0; i < n_items; ++i) var_b[i] = resample_var(*base.units[i], gen);
    for (size_t i = 0; i < n_items; ++i) var_c[i] = resample_var(*cell.units[i], gen);
    const double den = weighted(w, var_c, cell.k);
    if (den > 0.0) stats.push_back(weighted(w, var_b, base.k) / den);
  }
  std::vector<double> finite;
  for (double t : jack)
    if (std::isfinite(t)) finite.push_back(t);
  return bca_interval(re, std::move(stats), finite, confidence, resamples);
}

}  // namespace

GroupAnova group_anova(const std::vector<std::vector<double>>& groups) {
  GroupAnova a;
  a.units = static_cast<int64_t>(groups.size());
  if (groups.empty()) return a;
  a.k = static_cast<int64_t>(groups.front().size());
  const double kd = static_cast<double>(a.k);
  std::vector<double> all;
  double w = 0.0;
  for (const auto& g : groups) {
    const double gm = mean(g);
    a.group_means.push_back(gm);
    w += centered_ss(g, gm);
    all.insert(all.end(), g.begin(), g.end());
  }
  a.mean = mean(all);
  if (a.units >= 2) a.msb = kd * sample_variance(a.group_means);
  if (a.k >= 2) a.msw = w / (static_cast<double>(a.units) * (kd - 1.0));
  return a;
}

PooledAnova pool_anova(const std::vector<GroupAnova>& items) {
  PooledAnova p;
  double wsum = 0.0;
  for (const GroupAnova& a : items)
    if (a.units >= 2) {
      wsum += 1.0 / static_cast<double>(a.units);
      ++p.items;
    }
  if (p.items == 0) return p;
  SatterthwaiteSum b, w, member;
  const int64_t k = items.front().k;
  const double kd = static_cast<double>(k);
  for (const GroupAnova& a : items) {
    if (a.units < 2) continue;
    const double wi = 1.0 / static_cast<double>(a.units) / wsum, u = static_cast<double>(a.units);
    b.add(wi * a.msb, u - 1.0);
    member.add(wi * a.msb / kd, u - 1.0);
    if (k >= 2) {
      w.add(wi * a.msw, u * (kd - 1.0));
      member.add(wi * (kd - 1.0) * a.msw / kd, u * (kd - 1.0));
    }
  }
  // Every term 0 (constant metric): the df of the pooled sums is the plain sum of dfs.
  double df_b = 0.0, df_w = 0.0;
  for (const GroupAnova& a : items)
    if (a.units >= 2) {
      df_b += static_cast<double>(a.units - 1);
      df_w += static_cast<double>(a.units) * (kd - 1.0);
    }
  p.msb = b.sum;
  p.df_b = b.df(df_b);
  p.var_group = p.msb / kd;
  p.sigma2_member = member.sum;
  p.df_member = member.df(df_b + df_w);
  if (k >= 2) {
    p.msw = w.sum;
    p.df_w = w.df(df_w);
  }
  return p;
}

CouplingIntervals anova_coupling(const PooledAnova& p, int64_t k, double confidence) {
  CouplingIntervals out;
  if (k < 2 || !(p.msw > 0.0) || !std::isfinite(p.msb)) return out;
  const double kd = static_cast<double>(k);
  const double f0 = p.msb / p.msw;
  out.f_ratio = f0;
  auto rho = [kd](double theta) { return (theta - 1.0) / (theta + kd - 1.0); };
  auto re = [kd](double theta) {
    return theta > 0.0 ? (theta + kd - 1.0) / (kd * theta) : std::numeric_limits<double>::infinity();
  };
  out.rho.value = rho(f0);
  out.efficiency_in_run.value = re(f0);
  // F0 / theta ~ F(nu_B, nu_W): theta in [F0 / F_hi, F0 / F_lo].
  const double f_hi = fisher_f_quantile(0.5 * (1.0 + confidence), p.df_b, p.df_w);
  const double f_lo = fisher_f_quantile(0.5 * (1.0 - confidence), p.df_b, p.df_w);
  if (std::isnan(f_hi) || std::isnan(f_lo)) return out;
  const double theta_low = f0 / f_hi, theta_high = f0 / f_lo;
  out.rho.low = rho(theta_low);
  out.rho.high = rho(theta_high);
  out.efficiency_in_run.low = re(theta_high);
  out.efficiency_in_run.high = re(theta_low);
  return out;
}

double pooled_excess_kurtosis(const std::vector<std::vector<double>>& units, int64_t* n_units) {
  double num = 0.0, n = 0.0;
  for (const auto& u : units) {
    if (u.size() < 4) continue;
    const double m = mean(u), un = static_cast<double>(u.size());
    const double m2 = centered_ss(u, m) / un;
    if (!(m2 > 0.0)) continue;
    double m4 = 0.0;
    for (double x : u) m4 += std::pow(x - m, 4);
    m4 /= un;
    num += un * (m4 / (m2 * m2) - 3.0 * (un - 1.0) / (un + 1.0));
    n += un;
  }
  if (n_units) *n_units = static_cast<int64_t>(n);
  return n > 0.0 ? num / n : kNaN;
}

EfficiencyEstimate efficiency_vs_baseline(const std::vector<std::vector<double>>& baseline_units, int64_t k_baseline,
                                          const std::vector<std::vector<double>>& units, int64_t k,
                                          double confidence, uint64_t key, int64_t resamples) {
  EfficiencyEstimate out;
  RatioSide base, cell;
  base.k = static_cast<double>(k_baseline);
  cell.k = static_cast<double>(k);
  std::vector<double> w, var_b, var_c;
  int64_t min_groups = -1;
  std::vector<std::vector<double>> used_b, used_c;
  for (size_t i = 0; i < std::min(baseline_units.size(), units.size()); ++i) {
    const auto& ub = baseline_units[i];
    const auto& uc = units[i];
    if (ub.size() < 2 || uc.size() < 2) continue;
    base.units.push_back(&ub);
    cell.units.push_back(&uc);
    base.means.push_back(mean(ub));
    cell.means.push_back(mean(uc));
    base.ss.push_back(centered_ss(ub, base.means.back()));
    cell.ss.push_back(centered_ss(uc, cell.means.back()));
    var_b.push_back(base.ss.back() / static_cast<double>(ub.size() - 1));
    var_c.push_back(cell.ss.back() / static_cast<double>(uc.size() - 1));
    w.push_back(1.0 / static_cast<double>(uc.size()));
    const int64_t m = static_cast<int64_t>(std::min(ub.size(), uc.size()));
    min_groups = min_groups < 0 ? m : std::min(min_groups, m);
    used_b.push_back(ub);
    used_c.push_back(uc);
  }
  out.items = static_cast<int64_t>(w.size());
  if (w.empty()) return out;
  double wsum = 0.0;
  for (double x : w) wsum += x;
  for (double& x : w) x /= wsum;
  SatterthwaiteSum sb, sc;
  double df_b = 0.0, df_c = 0.0;
  for (size_t i = 0; i < w.size(); ++i) {
    sb.add(w[i] * base.k * var_b[i], static_cast<double>(base.units[i]->size() - 1));
    sc.add(w[i] * cell.k * var_c[i], static_cast<double>(cell.units[i]->size() - 1));
    df_b += static_cast<double>(base.units[i]->size() - 1);
    df_c += static_cast<double>(cell.units[i]->size() - 1);
  }
  out.df_baseline = sb.df(df_b);
  out.df_design = sc.df(df_c);
  const double re = sc.sum > 0.0 ? sb.sum / sc.sum : kNaN;
  out.f = variance_ratio_interval(re, out.df_baseline, out.df_design, confidence);
  int64_t nb = 0, nc = 0;
  const double kb = pooled_excess_kurtosis(used_b, &nb), kc = pooled_excess_kurtosis(used_c, &nc);
  out.excess_kurtosis = std::isnan(kb) ? kc : std::isnan(kc) ? kb : std::max(kb, kc);
  out.heavy_tails = (nb > 0 && kb > 2.0 * std::sqrt(24.0 / static_cast<double>(nb))) ||
                    (nc > 0 && kc > 2.0 * std::sqrt(24.0 / static_cast<double>(nc)));
  std::vector<double> jack;
  if (min_groups >= 3 && std::isfinite(re) && re > 0.0) {
    jack = jackknife_ratios(base, cell, w);
    out.single_group_factor = 1.0;
    for (double t : jack) out.single_group_factor = std::max({out.single_group_factor, t / re, re / t});
  }
  const bool can_bootstrap = min_groups >= 3 && resamples > 0 && std::isfinite(re);
  if (can_bootstrap) out.bootstrap = efficiency_bca(base, cell, w, re, jack, confidence, key, resamples);
  const bool use_bootstrap = out.heavy_tails && min_groups >= kMinBootstrapGroups && std::isfinite(out.bootstrap.low) &&
                             std::isfinite(out.bootstrap.high);
  out.value = use_bootstrap ? out.bootstrap : out.f;
  if (std::isfinite(out.value.value)) out.method = use_bootstrap ? "bootstrap_bca" : "satterthwaite_f";
  return out;
}

}  // namespace ipbench
