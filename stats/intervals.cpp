// Interval estimators over iid units. See intervals.h for the contract.
#include "stats/intervals.h"

#include <algorithm>
#include <cmath>

#include <boost/math/distributions/fisher_f.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>

namespace ipbench {

namespace {

// Beyond this many degrees of freedom t and the normal agree to ~1e-10 in the quantiles used here,
// and Boost's t with a huge df spends its time in the incomplete beta for nothing.
constexpr double kNormalLimitDf = 1e12;

bool valid_probability(double p) { return p > 0.0 && p < 1.0; }

}  // namespace

double student_t_quantile(double p, double df) {
  if (!valid_probability(p) || !(df > 0.0)) return kNaN;
  if (df >= kNormalLimitDf) return boost::math::quantile(boost::math::normal_distribution<double>(), p);
  return boost::math::quantile(boost::math::students_t_distribution<double>(df), p);
}

double fisher_f_quantile(double p, double df1, double df2) {
  if (!valid_probability(p) || !(df1 > 0.0) || !(df2 > 0.0)) return kNaN;
  if (std::isinf(df1) || std::isinf(df2)) return kNaN;
  return boost::math::quantile(boost::math::fisher_f_distribution<double>(df1, df2), p);
}

double mean(const std::vector<double>& v) {
  if (v.empty()) return kNaN;
  // Shifting by the first value keeps the sum small when all values share a large offset.
  const double shift = v[0];
  double sum = 0.0;
  for (double x : v) sum += x - shift;
  return shift + sum / static_cast<double>(v.size());
}

double sample_variance(const std::vector<double>& v) {
  if (v.size() < 2) return kNaN;
  const double m = mean(v);
  // Corrected two-pass algorithm (Chan, Golub & LeVeque 1983): the second sum removes the rounding
  // error left in the mean.
  double ss = 0.0, s = 0.0;
  for (double x : v) {
    const double d = x - m;
    ss += d * d;
    s += d;
  }
  const double n = static_cast<double>(v.size());
  return std::max(0.0, (ss - s * s / n) / (n - 1.0));
}

Interval t_interval(const std::vector<double>& units, double confidence) {
  Interval out;
  out.units = static_cast<int64_t>(units.size());
  out.mean = mean(units);
  if (units.size() < 2) return out;
  const double u = static_cast<double>(units.size());
  out.df = u - 1.0;
  out.se = std::sqrt(sample_variance(units) / u);
  const double half = student_t_quantile(0.5 * (1.0 + confidence), out.df) * out.se;
  out.low = out.mean - half;
  out.high = out.mean + half;
  return out;
}

RatioInterval fisher_z_interval(double rho, double n_eff, double confidence) {
  RatioInterval out;
  // |rho| slightly above 1 is rounding in a ratio of sums of squares; beyond that it is not a
  // correlation.
  if (!std::isfinite(rho) || std::fabs(rho) > 1.0 + 1e-9) return out;
  out.value = std::clamp(rho, -1.0, 1.0);
  if (!(n_eff > 3.0)) return out;
  const double r = std::clamp(rho, -1.0 + 1e-12, 1.0 - 1e-12);
  const double z = std::atanh(r);
  const double q = boost::math::quantile(boost::math::normal_distribution<double>(), 0.5 * (1.0 + confidence));
  const double half = q / std::sqrt(n_eff - 3.0);
  out.low = std::tanh(z - half);
  out.high = std::tanh(z + half);
  return out;
}

RatioInterval variance_ratio_interval(double ratio, double df1, double df2, double confidence) {
  RatioInterval out;
  if (!std::isfinite(ratio) || ratio < 0.0) return out;
  out.value = ratio;
  const double f_high = fisher_f_quantile(0.5 * (1.0 + confidence), df1, df2);
  const double f_low = fisher_f_quantile(0.5 * (1.0 - confidence), df1, df2);
  if (std::isnan(f_high) || std::isnan(f_low)) return out;
  out.low = ratio / f_high;
  out.high = ratio / f_low;
  return out;
}

Interval satterthwaite_interval(double mean, double sum_c, double sum_c2_over_df, double n, double fallback_df,
                                double confidence) {
  Interval out;
  out.mean = mean;
  out.se = std::sqrt(sum_c) / n;
  out.df = sum_c2_over_df > 0.0 ? sum_c * sum_c / sum_c2_over_df : fallback_df;
  const double half = student_t_quantile(0.5 * (1.0 + confidence), out.df) * out.se;
  out.low = out.mean - half;
  out.high = out.mean + half;
  return out;
}

}  // namespace ipbench
