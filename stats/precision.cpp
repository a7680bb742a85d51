// Two-stage (Stein) precision plans. See precision.h for the math.
#include "stats/precision.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "core/error.h"

namespace ipbench {

std::vector<PrecisionTarget> parse_precision_targets(const std::vector<std::string>& entries, const std::string& where) {
  std::vector<PrecisionTarget> out;
  std::set<std::string> seen;
  for (const std::string& e : entries) {
    const auto colon = e.find(':');
    PrecisionTarget t;
    bool ok = colon != std::string::npos && colon > 0 && colon + 1 < e.size();
    if (ok) {
      t.metric = e.substr(0, colon);
      try {
        size_t used = 0;
        t.halfwidth = std::stod(e.substr(colon + 1), &used);
        ok = used == e.size() - colon - 1;
      } catch (const std::exception&) {
        ok = false;
      }
    }
    require(ok, where, ": '", e, "' is not metric:halfwidth (e.g. psnr:0.05)");
    require(std::isfinite(t.halfwidth) && t.halfwidth > 0.0, where, ": '", e,
            "'. Violated: the half-width must be > 0 and finite");
    require(seen.insert(t.metric).second, where, ": metric '", t.metric, "' has two targets");
    out.push_back(t);
  }
  return out;
}

TwoStagePlan plan_two_stage(const std::vector<std::vector<double>>& pilot_var, const std::vector<double>& halfwidths,
                            int64_t n0, int64_t max_groups, double confidence) {
  TwoStagePlan plan;
  const size_t items = pilot_var.empty() ? 0 : pilot_var.front().size();
  const double id = static_cast<double>(items);
  std::vector<double> wanted(items, static_cast<double>(n0));
  for (size_t m = 0; m < pilot_var.size(); ++m) {
    const auto& v = pilot_var[m];
    double sum_s = 0.0, sum_s2 = 0.0;
    for (size_t i = 0; i < items; ++i) {
      if (!std::isfinite(v[i])) {
        wanted[i] = std::numeric_limits<double>::infinity();  // no pilot variance: take no risk
        continue;
      }
      sum_s += std::sqrt(v[i]);
      sum_s2 += v[i];
    }
    if (!(sum_s2 > 0.0)) continue;  // no noise: the pilot already meets any target
    const double nu = static_cast<double>(n0 - 1) * sum_s * sum_s / sum_s2;
    const double t = student_t_quantile(0.5 * (1.0 + confidence), nu);
    double lambda = t * t * sum_s / (id * id * halfwidths[m] * halfwidths[m]);
    // Rounding and the df at the rounded allocation can leave the half-width a hair above the
    // target: grow lambda until the two-stage interval at the planned groups meets it.
    for (int iter = 0; iter < 50; ++iter) {
      std::vector<int64_t> u(items);
      std::vector<double> zero(items, 0.0), pv(items);
      std::vector<int64_t> pilot(items, n0);
      for (size_t i = 0; i < items; ++i) {
        const double w = std::isfinite(v[i]) ? std::max(wanted[i], std::ceil(lambda * std::sqrt(v[i]) - 1e-9)) : wanted[i];
        u[i] = static_cast<int64_t>(std::min(w, static_cast<double>(max_groups)));
        pv[i] = std::isfinite(v[i]) ? v[i] : 0.0;
      }
      const Interval iv = two_stage_interval(zero, u, pv, pilot, confidence);
      const double half = 0.5 * iv.width();
      bool at_cap = true;
      for (size_t i = 0; i < items; ++i) at_cap &= u[i] >= max_groups;
      if (!(half > halfwidths[m]) || at_cap) break;
      lambda *= 1.0 + std::max(0.01, (half / halfwidths[m]) * (half / halfwidths[m]) - 1.0);
    }
    for (size_t i = 0; i < items; ++i)
      if (std::isfinite(v[i])) wanted[i] = std::max(wanted[i], std::ceil(lambda * std::sqrt(v[i]) - 1e-9));
  }
  for (double w : wanted) {
    if (w > static_cast<double>(max_groups)) plan.capped = true;
    plan.groups.push_back(static_cast<int64_t>(std::min(w, static_cast<double>(max_groups))));
  }
  return plan;
}

Interval two_stage_interval(const std::vector<double>& item_means, const std::vector<int64_t>& groups,
                            const std::vector<double>& pilot_var, const std::vector<int64_t>& pilot_units,
                            double confidence) {
  Interval out;
  if (item_means.empty()) return out;
  double sum_c = 0.0, sum_c2 = 0.0, df_sum = 0.0;
  int64_t units = 0;
  for (size_t i = 0; i < item_means.size(); ++i) {
    if (!std::isfinite(pilot_var[i]) || !std::isfinite(item_means[i]) || groups[i] < 1 || pilot_units[i] < 2)
      return out;
    const double c = pilot_var[i] / static_cast<double>(groups[i]);
    const double df = static_cast<double>(pilot_units[i] - 1);
    sum_c += c;
    sum_c2 += c * c / df;
    df_sum += df;
    units += groups[i];
  }
  const double n = static_cast<double>(item_means.size());
  out = satterthwaite_interval(mean(item_means), sum_c, sum_c2, n, df_sum, confidence);
  out.units = units;
  return out;
}

double iid_samples_for_halfwidth(const std::vector<double>& sigma2, double halfwidth, double q) {
  double sum_s = 0.0;
  for (double v : sigma2) {
    if (!std::isfinite(v)) return kNaN;
    sum_s += std::sqrt(std::max(0.0, v));
  }
  const double id = static_cast<double>(sigma2.size());
  return std::ceil(q * q * sum_s * sum_s / (id * id * halfwidth * halfwidth) - 1e-9);
}

}  // namespace ipbench
