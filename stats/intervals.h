#pragma once
// Interval estimators over iid units (specs/noise-and-stats.md section 4).
//
// Variances are computed in two passes. Undefined quantities (fewer than two units, zero variance
// in a ratio) are NaN, never 0.
#include <cstdint>
#include <limits>
#include <vector>

namespace ipbench {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Quantile of Student's t with `df` degrees of freedom (df may be fractional, > 0; df >= 1e12 or
/// infinite uses the normal quantile). NaN when p is outside (0, 1) or df is not > 0.
double student_t_quantile(double p, double df);
/// Quantile of the F distribution F(df1, df2) (Boost.Math). NaN when p is outside (0, 1) or a df is
/// not a finite positive number.
double fisher_f_quantile(double p, double df1, double df2);

/// Arithmetic mean (summed relative to v[0], so a large common offset costs no precision); NaN when empty.
double mean(const std::vector<double>& v);
/// Unbiased sample variance by the corrected two-pass algorithm
/// (sum d^2 - (sum d)^2/n)/(n-1), d = x - mean; NaN when v.size() < 2.
double sample_variance(const std::vector<double>& v);

struct Interval {
  double mean = kNaN;
  double se = kNaN;    ///< standard error of the mean
  double low = kNaN;
  double high = kNaN;
  double df = kNaN;    ///< degrees of freedom of the t quantile
  int64_t units = 0;
  double width() const { return high - low; }
};

/// mean +- t_{U-1, (1+c)/2} s_U / sqrt(U) over iid units (which must be finite: the caller filters).
/// U = 1: `mean` is the unit, se/low/high/df are NaN; U = 0: every field NaN. Zero variance gives
/// se = 0 and low = high = mean.
Interval t_interval(const std::vector<double>& units, double confidence = 0.95);

/// Student-t interval for an estimator `mean` whose variance is sum_k c_k / n^2, with c_k >= 0 each
/// estimated on df_k degrees of freedom: se = sqrt(sum_c) / n and the Welch-Satterthwaite
/// df = sum_c^2 / sum_c2_over_df (sum_c2_over_df = sum_k c_k^2 / df_k), or fallback_df when every c_k
/// is 0 (the ratio is 0/0; the interval is then the point `mean` whatever df is). `units` stays 0.
Interval satterthwaite_interval(double mean, double sum_c, double sum_c2_over_df, double n, double fallback_df,
                                double confidence);

struct RatioInterval {
  double value = kNaN;
  double low = kNaN;
  double high = kNaN;
};

/// Fisher-z interval for a correlation: tanh(atanh(rho) -+ z_{(1+c)/2} / sqrt(n_eff - 3)).
/// `value` = rho (clamped to [-1, 1]); rho is clamped into (-1, 1) by 1e-12 before atanh, so an
/// exact +-1 gives a degenerate interval at +-1. Every field NaN when rho is not finite or
/// |rho| > 1 + 1e-9; low/high NaN when n_eff <= 3.
RatioInterval fisher_z_interval(double rho, double n_eff, double confidence = 0.95);

/// Interval for a ratio of variances RE = v1/v2 estimated with df1 and df2 degrees of freedom:
/// [RE / F_{(1+c)/2}(df1, df2), RE / F_{(1-c)/2}(df1, df2)]: exact when v1 and v2 are independent
/// variance estimates of normal data (v_j df_j / sigma_j^2 ~ chi^2_{df_j}), approximate otherwise.
/// `value` = ratio; every field NaN when ratio is not finite or negative; low/high NaN when a df is
/// not a finite positive number.
RatioInterval variance_ratio_interval(double ratio, double df1, double df2, double confidence = 0.95);

}  // namespace ipbench
