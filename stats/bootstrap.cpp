// BCa bootstrap interval (stats/bootstrap.h).
#include "stats/bootstrap.h"

#include <algorithm>
#include <cmath>

#include <boost/math/distributions/normal.hpp>

namespace ipbench {

namespace {

double normal_quantile(double p) { return boost::math::quantile(boost::math::normal_distribution<double>(), p); }
double normal_cdf(double x) { return boost::math::cdf(boost::math::normal_distribution<double>(), x); }

}  // namespace

double sorted_quantile(const std::vector<double>& sorted, double p) {
  if (sorted.empty() || !(p >= 0.0 && p <= 1.0)) return kNaN;
  const double pos = p * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

RatioInterval bca_interval(double estimate, std::vector<double> stats, const std::vector<double>& jack,
                           double confidence, int64_t planned) {
  RatioInterval out;
  stats.erase(std::remove_if(stats.begin(), stats.end(), [](double v) { return !std::isfinite(v); }), stats.end());
  if (!std::isfinite(estimate) || stats.empty() || stats.size() < static_cast<size_t>(planned) / 2) return out;
  std::sort(stats.begin(), stats.end());
  // Bias correction: the share of resamples below the estimate (ties count half).
  const auto lower = std::lower_bound(stats.begin(), stats.end(), estimate) - stats.begin();
  const auto upper = std::upper_bound(stats.begin(), stats.end(), estimate) - stats.begin();
  const double below = (static_cast<double>(lower) + 0.5 * static_cast<double>(upper - lower)) /
                       static_cast<double>(stats.size());
  if (!(below > 0.0 && below < 1.0)) return out;
  const double z0 = normal_quantile(below);
  double a = 0.0;
  if (jack.size() >= 2) {
    const double jm = mean(jack);
    double s2 = 0.0, s3 = 0.0;
    for (double t : jack) {
      s2 += (jm - t) * (jm - t);
      s3 += (jm - t) * (jm - t) * (jm - t);
    }
    if (s2 > 0.0) a = s3 / (6.0 * std::pow(s2, 1.5));
  }
  auto adjusted = [&](double alpha) {
    const double z = normal_quantile(alpha);
    return normal_cdf(z0 + (z0 + z) / (1.0 - a * (z0 + z)));
  };
  out.value = estimate;
  out.low = sorted_quantile(stats, adjusted(0.5 * (1.0 - confidence)));
  out.high = sorted_quantile(stats, adjusted(0.5 * (1.0 + confidence)));
  return out;
}

}  // namespace ipbench
