// VpSchedule: float64 linear betas and the VE <-> VP conversions (specs/solvers.md 0.1, 0.2).
#include "models/schedule.h"

#include <algorithm>
#include <c10/util/Exception.h>

#include <cmath>

#include "core/error.h"
#include "core/options.h"

namespace ipbench {

VpSchedule VpSchedule::linear(int64_t T, double beta_start, double beta_end) {
  require(T >= 1, "VpSchedule: T = ", T, ". Violated: T >= 1");
  require(beta_start > 0 && beta_start < 1, "VpSchedule: beta_start = ", beta_start,
          ". Violated: 0 < beta_start < 1");
  require(beta_end > 0 && beta_end < 1, "VpSchedule: beta_end = ", beta_end, ". Violated: 0 < beta_end < 1");
  VpSchedule s;
  s.betas_.resize(T);
  s.abar_.resize(T);
  // numpy.linspace: start + i * step, with the last value exactly `beta_end`.
  const double step = T > 1 ? (beta_end - beta_start) / static_cast<double>(T - 1) : 0.0;
  double prod = 1.0;
  for (int64_t i = 0; i < T; ++i) {
    s.betas_[i] = (T > 1 && i == T - 1) ? beta_end : beta_start + static_cast<double>(i) * step;
    prod *= 1.0 - s.betas_[i];
    s.abar_[i] = prod;
  }
  return s;
}

double VpSchedule::abar(int64_t t) const {
  require(t >= -1 && t < num_timesteps(), "VpSchedule::abar: timestep ", t, " outside [-1, ",
          num_timesteps() - 1, "]");
  return t < 0 ? 1.0 : abar_[t];
}

double VpSchedule::beta(int64_t t) const {
  require(t >= 0 && t < num_timesteps(), "VpSchedule::beta: timestep ", t, " outside [0, ",
          num_timesteps() - 1, "]");
  return betas_[t];
}

double VpSchedule::sigma(int64_t t) const {
  const double a = abar(t);
  return std::sqrt((1.0 - a) / a);
}

double VpSchedule::timestep_for_sigma(double sigma) const {
  require(sigma >= 0 && std::isfinite(sigma), "VpSchedule::timestep_for_sigma: sigma = ", sigma,
          ". Violated: finite sigma >= 0");
  const int64_t T = num_timesteps();
  if (T == 1 || sigma <= this->sigma(0)) return 0.0;
  if (sigma >= this->sigma(T - 1)) return static_cast<double>(T - 1);
  // sigma_t increases strictly with t: find i with sigma_i <= sigma < sigma_{i+1}.
  int64_t lo = 0, hi = T - 1;
  while (hi - lo > 1) {
    const int64_t mid = (lo + hi) / 2;
    (this->sigma(mid) <= sigma ? lo : hi) = mid;
  }
  const double l0 = std::log(this->sigma(lo)), l1 = std::log(this->sigma(hi));
  // At sigma == sigma_lo the fraction is exactly 0, so integer timesteps round-trip exactly.
  return static_cast<double>(lo) + (std::log(sigma) - l0) / (l1 - l0);
}

std::vector<int64_t> VpSchedule::respaced_timesteps(int64_t n) const {
  const int64_t T = num_timesteps();
  require(n >= 1 && n <= T, "VpSchedule::respaced_timesteps: n = ", n, ". Violated: 1 <= n <= T = ", T);
  if (n == 1) return {T - 1};
  std::vector<int64_t> out(n);
  for (int64_t k = 0; k < n; ++k) {
    // k (T-1) is exact; nearbyint rounds ties to even like Python's round() in improved DDPM.
    const double v = static_cast<double>(k * (T - 1)) / static_cast<double>(n - 1);
    out[k] = static_cast<int64_t>(std::nearbyint(v));
  }
  return out;
}

void VpScheduleOptions::validate(const char* o) const {
  check_option(T >= 2, o, "T", T, "T >= 2");
  check_option(beta_start > 0 && beta_start < 1, o, "beta_start", beta_start, "0 < beta_start < 1");
  check_option(beta_end >= beta_start && beta_end < 1, o, "beta_end", beta_end, "beta_start <= beta_end < 1");
}

std::vector<double> karras_sigmas(int64_t n, double sigma_min, double sigma_max, double rho) {
  TORCH_CHECK(n >= 2 && sigma_min > 0 && sigma_max > sigma_min && rho > 0, "karras_sigmas: invalid arguments n = ", n,
              ", sigma_min = ", sigma_min, ", sigma_max = ", sigma_max, ", rho = ", rho);
  const double a = std::pow(sigma_max, 1.0 / rho), b = std::pow(sigma_min, 1.0 / rho);
  std::vector<double> s(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) s[i] = std::pow(a + static_cast<double>(i) / static_cast<double>(n - 1) * (b - a), rho);
  s.front() = sigma_max;  // exact ends (pow(pow(s, 1/rho), rho) may differ in the last bit)
  s.back() = sigma_min;
  return s;
}

double karras_time(int64_t k, int64_t steps, double smin, double smax, double rho) {
  const double a = std::pow(smax, 1.0 / rho), b = std::pow(smin, 1.0 / rho);
  return std::pow(a + static_cast<double>(k) / static_cast<double>(steps - 1) * (b - a), rho);
}

void KarrasOptions::validate(const char* o) const {
  check_option(sigma_min > 0 && std::isfinite(sigma_min), o, "sigma_min", sigma_min, "sigma_min > 0");
  check_option(sigma_max > sigma_min && std::isfinite(sigma_max), o, "sigma_max", sigma_max, "sigma_max > sigma_min");
  check_option(rho > 0 && std::isfinite(rho), o, "rho", rho, "rho > 0");
}

std::vector<double> KarrasOptions::sigmas(int64_t n) const { return karras_sigmas(n, sigma_min, sigma_max, rho); }

std::vector<double> KarrasOptions::sigmas_with_zero(int64_t steps) const {
  std::vector<double> s = steps >= 2 ? sigmas(steps) : std::vector<double>{sigma_max};
  s.push_back(0.0);
  return s;
}

double KarrasOptions::time(int64_t k, int64_t steps) const { return karras_time(k, steps, sigma_min, sigma_max, rho); }

}  // namespace ipbench
