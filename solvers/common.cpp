#include "solvers/common.h"

#include <cmath>

#include "core/options.h"
#include "models/consistency.h"

namespace ipbench {

torch::Tensor data_fit_norm(const Operator& op, const torch::Tensor& x, const torch::Tensor& y) {
  return op.loss(op.forward(x), y);  // ||y - A(x)||_2 unless the operator defines another likelihood
}

torch::Tensor data_fit_squared(const Operator& op, const torch::Tensor& x, const torch::Tensor& y) {
  return op.linear() ? (op.forward(x) - y).square().flatten(1).sum(1) : data_fit_norm(op, x, y).square();
}

torch::Tensor data_fit_gradient(const Operator& op, const torch::Tensor& x, const torch::Tensor& y, double sigma_y) {
  torch::AutoGradMode enable_grad(true);
  auto xg = x.detach().requires_grad_(true);
  const auto fit2 = data_fit_squared(op, xg, y);  // [B]
  return torch::autograd::grad({(fit2 / (2.0 * (sigma_y * sigma_y))).sum()}, {xg})[0];
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
