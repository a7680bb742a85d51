#include "solvers/common.h"

#include <cmath>

#include "core/options.h"
#include "models/consistency.h"

namespace ipbench {

torch::Tensor data_fit_norm(const Operator& op, const torch::Tensor& x, const torch::Tensor& y) {
  return op.loss(op.forward(x), y);  // ||y - A(x)||_2 unless the operator defines another likelihood
}

void KarrasOptions::validate(const char* o) const {
  check_option(steps >= 1, o, "steps", steps, "steps >= 1");
  check_option(sigma_min > 0 && std::isfinite(sigma_min), o, "sigma_min", sigma_min, "sigma_min > 0");
  check_option(sigma_max > sigma_min && std::isfinite(sigma_max), o, "sigma_max", sigma_max, "sigma_max > sigma_min");
  check_option(rho > 0 && std::isfinite(rho), o, "rho", rho, "rho > 0");
}

std::vector<double> KarrasOptions::sigmas_with_zero() const {
  std::vector<double> s = steps >= 2 ? karras_sigmas(steps, sigma_min, sigma_max, rho) : std::vector<double>{sigma_max};
  s.push_back(0.0);
  return s;
}

void ancestral_split(double s, double s_next, double& s_up, double& s_down) {
  if (s_next <= 0) {
    s_up = s_down = 0;
    return;
  }
  s_up = std::sqrt(std::max(0.0, s_next * s_next * (s * s - s_next * s_next) / (s * s)));
  s_down = std::sqrt(std::max(0.0, s_next * s_next - s_up * s_up));
}

void CmSourceOptions::validate(const char* o) const {
  const std::string problem = consistency_source_problem(consistency);
  if (!problem.empty()) check_option(false, o, "consistency", consistency, problem.c_str());
  check_option(ode_steps >= 1, o, "ode_steps", ode_steps, "ode_steps >= 1");
}

double karras_time(int64_t k, int64_t steps, double smin, double smax, double rho) {
  const double a = std::pow(smax, 1.0 / rho), b = std::pow(smin, 1.0 / rho);
  return std::pow(a + static_cast<double>(k) / static_cast<double>(steps - 1) * (b - a), rho);
}

void validate_ts(const char* o, const std::vector<int64_t>& ts, int64_t steps, size_t min_size) {
  const std::string rule = str_cat("at least ", min_size, " entries");
  check_option(ts.size() >= min_size, o, "ts", ts, rule.c_str());
  for (size_t i = 0; i < ts.size(); ++i) {
    check_option(ts[i] >= 0 && ts[i] <= steps - 1, o, "ts", ts, "every entry in [0, steps - 1]");
    if (i > 0) check_option(ts[i] > ts[i - 1], o, "ts", ts, "ts strictly increasing");
  }
}

std::string join_ints(const std::vector<int64_t>& v) { return option_value(v); }

}  // namespace ipbench
