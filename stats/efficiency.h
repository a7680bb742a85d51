#pragma once
// Coupling and efficiency intervals that stay valid when items differ in variance
// (specs/noise-and-stats.md section 4.1, docs/statistics.md sections 6-8).
//
// One-way ANOVA of one item with U complete groups of K members x_gk, group means g_g, item mean m:
//     B = K sum_g (g_g - m)^2          MSB = B / (U - 1)            (df U - 1)
//     W = sum_g sum_k (x_gk - g_g)^2   MSW = W / (U (K - 1))        (df U (K - 1); undefined for K = 1)
// For exchangeable members with variance sigma^2 and pairwise correlation rho (the covariance has
// eigenvalues sigma^2 (1 - rho) within groups and sigma^2 (1 + (K - 1) rho) along the group mean),
// E[MSW] = sigma^2 (1 - rho), E[MSB] = sigma^2 (1 + (K - 1) rho) = K Var(group mean), and under
// normality W and B are independent scaled chi-squares. The unbiased member variance is
// sigma2 = [W/U + B/(U - 1)] / K = [(K - 1) MSW + MSB] / K.
//
// Pooling over items: item i enters with weight w_i = 1 / U_i (normalized to sum 1): the weight of
// its variance in the variance of the given-items mean (docs/statistics.md section 4), so every pooled
// ratio below is a ratio of variances of the dataset-level estimator at equal sample budget. A pooled
// mean square V = sum_i w_i v_i of independent estimates v_i on df_i has the Welch-Satterthwaite
// df nu = V^2 / sum_i (w_i v_i)^2 / df_i; V nu / E[V] is approximately chi^2_nu.
//
// Coupling (K >= 2): theta = sum_i w_i E[MSB_i] / sum_i w_i E[MSW_i] and F0 = MSB / MSW (pooled):
// F0 / theta ~ F(nu_B, nu_W) (Satterthwaite dfs; exact for one normal item: F(U - 1, U (K - 1))), so
// theta lies in [F0 / F_{(1+c)/2}(nu_B, nu_W), F0 / F_{(1-c)/2}(nu_B, nu_W)]. Monotone maps give the
// intraclass correlation rho = (theta - 1)/(theta + K - 1) (rho is the sigma^2-weighted mean of the
// items' correlations) and the in-run efficiency RE = sigma2 / MSB = (theta + K - 1)/(K theta)
// = 1/(1 + (K - 1) rho).
//
// Efficiency against a baseline cell (independent runs): RE = V_b / V with V_b = sum_i w_i K_b s_b,i^2
// (baseline: K_b times the variance of its group means) and V = sum_i w_i K s_i^2 (w_i from the design
// cell), over the items with >= 2 groups in both cells. Two intervals:
//  * "satterthwaite_f": [RE / F_{(1+c)/2}(nu_b, nu), RE / F_{(1-c)/2}(nu_b, nu)] with Satterthwaite dfs:
//    for normal units whatever the items' variances (pooling with df = sum of dfs is not). Measured
//    (docs/statistics.md section 8): 0.93 when one item holds 90% of the variance with 16 and 8
//    groups, 0.95-0.98 otherwise (conservative when items are alike: the estimated df is biased low);
//  * "bootstrap_bca": B resamples of the groups within each item of each cell (keyed: resample r draws
//    with KeyedGenerator(derive_key(key, r)), deterministic), bias-corrected and accelerated percentile
//    interval (Efron 1987; acceleration from the delete-one-group jackknife): robust to heavy tails but
//    needs groups (NaN when an item has fewer than 3).
// The reported interval is the bootstrap when the units are heavy-tailed (pooled within-item
// standardized excess kurtosis, bias-corrected, above 2 sqrt(24 / N) in either cell, N its units) and
// every item has at least kMinBootstrapGroups groups in both cells; the Satterthwaite F otherwise.
// Either interval speaks for the groups it saw: with few groups one outlying group can carry the
// ratio. single_group_factor is the largest change of RE (as a factor, either way) when one group of
// either cell is left out (the delete-one-group jackknife, every item >= 3 groups); above
// kFragileFactor the estimate "rests on one group" and the summary marks it ("!", docs/statistics.md).
#include <cstdint>
#include <string>
#include <vector>

#include "stats/intervals.h"

namespace ipbench {

/// A weighted sum of independent variance estimates with its Welch-Satterthwaite degrees of freedom.
struct SatterthwaiteSum {
  double sum = 0.0;
  double sum2_over_df = 0.0;
  /// Adds c = w v, an estimate on df degrees of freedom (df > 0).
  void add(double c, double df) {
    sum += c;
    sum2_over_df += c * c / df;
  }
  /// sum^2 / sum2_over_df, or `fallback` when every term is 0.
  double df(double fallback = kNaN) const { return sum2_over_df > 0.0 ? sum * sum / sum2_over_df : fallback; }
};

/// One item's one-way ANOVA (the header's formulas).
struct GroupAnova {
  int64_t units = 0;   ///< U, complete groups
  int64_t k = 1;       ///< members per group
  double mean = kNaN;  ///< m, the mean of all members
  double msb = kNaN;   ///< K x sample variance of the group means (U >= 2)
  double msw = kNaN;   ///< within-group mean square (K >= 2, U >= 1)
  std::vector<double> group_means;
};

/// groups[g][k]: U groups of K finite members (equal K). U = 0 gives units 0 and NaN fields.
GroupAnova group_anova(const std::vector<std::vector<double>>& groups);

/// The items' mean squares pooled with weights 1/U_i (normalized), over items with U_i >= 2.
struct PooledAnova {
  int64_t items = 0;
  double msb = kNaN, df_b = kNaN;             ///< pooled K Var(group mean), Satterthwaite df
  double msw = kNaN, df_w = kNaN;             ///< pooled within mean square (K >= 2)
  double sigma2_member = kNaN, df_member = kNaN;  ///< pooled [(K-1) MSW + MSB]/K, Satterthwaite df
  double var_group = kNaN;                    ///< msb / K: pooled variance of a group mean (df df_b)
};
PooledAnova pool_anova(const std::vector<GroupAnova>& items);

struct CouplingIntervals {
  double f_ratio = kNaN;            ///< F0 = MSB / MSW pooled
  RatioInterval rho;                ///< intraclass correlation
  RatioInterval efficiency_in_run;  ///< 1 / (1 + (K - 1) rho)
};
constexpr int64_t kMinBootstrapGroups = 10;
constexpr int64_t kDefaultResamples = 2000;
/// single_group_factor above this: the RE estimate rests on one group (marked, not hidden).
constexpr double kFragileFactor = 2.0;

/// The ANOVA intervals of the header from pooled mean squares (K >= 2; NaN fields otherwise).
CouplingIntervals anova_coupling(const PooledAnova& pooled, int64_t k, double confidence = 0.95);

struct EfficiencyEstimate {
  RatioInterval value;        ///< the reported interval (`method`)
  std::string method;         ///< "satterthwaite_f" | "bootstrap_bca" (empty when undefined)
  RatioInterval f;            ///< Satterthwaite F interval
  RatioInterval bootstrap;    ///< BCa interval (NaN ends when not computed)
  double df_baseline = kNaN, df_design = kNaN;  ///< Satterthwaite dfs of V_b and V
  double excess_kurtosis = kNaN;  ///< the larger of the two cells' (bias-corrected)
  bool heavy_tails = false;
  /// Largest factor by which leaving out one group (of either cell) changes RE; NaN when an item has
  /// fewer than 3 groups. > kFragileFactor: fragile().
  double single_group_factor = kNaN;
  bool fragile() const { return single_group_factor > kFragileFactor; }
  int64_t items = 0;          ///< items with >= 2 groups in both cells
};

/// Units (group means) per item, aligned by index between the cells (an item absent from a cell is
/// an empty vector). `key` seeds the bootstrap (`resamples`, 0 = none).
EfficiencyEstimate efficiency_vs_baseline(const std::vector<std::vector<double>>& baseline_units, int64_t k_baseline,
                                          const std::vector<std::vector<double>>& units, int64_t k,
                                          double confidence, uint64_t key, int64_t resamples = kDefaultResamples);

/// Bias-corrected pooled excess kurtosis of units standardized within each item (items with >= 4
/// units): mean of z^4 - 3 (U-1)/(U+1) per item (the normal expectation of the sample kurtosis),
/// averaged with weights U_i; NaN without such items. Also returns the number of units used.
double pooled_excess_kurtosis(const std::vector<std::vector<double>>& units, int64_t* n_units = nullptr);

}  // namespace ipbench
