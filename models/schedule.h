#pragma once
// VP (DDPM) noise schedule: linear betas, cumulative products, respacing, VE conversion.
//
//   beta_i = linspace(beta_start, beta_end, T)[i] (float64), alpha_i = 1 - beta_i,
//   abar_i = prod_{s<=i} alpha_s, abar_{-1} := 1, VE-equivalent sigma_i = sqrt((1 - abar_i)/abar_i).
// Respacing to n steps (improved DDPM's space_timesteps with one section) keeps the timesteps
// round(k (T-1)/(n-1)), k = 0..n-1, and the betas of the respaced chain
// beta'_k = 1 - abar_{t_k}/abar_{t_{k-1}} (specs/solvers.md 0.1). Ties round to even, like Python's
// round() in the reference code (T = 1000, n = 7 keeps 166, not 167).
// Invalid arguments (T < 1, betas outside (0, 1), timesteps outside the range, sigma < 0 or NaN,
// n outside [1, T]) throw ipbench::Error.
//
// VpScheduleOptions and KarrasOptions are the one options form of each schedule: every solver, prior,
// model file ([diffusion] of model.ini) and trainer that names a schedule embeds one and lists its
// fields (the config keys T / beta_start / beta_end and sigma_min / sigma_max / rho), so defaults,
// rules and messages are written once.
#include <cstdint>
#include <vector>

namespace ipbench {

class VpSchedule {
 public:
  /// DDPM's linear schedule: T = 1000, beta from 1e-4 to 0.02.
  static VpSchedule linear(int64_t T = 1000, double beta_start = 1e-4, double beta_end = 0.02);

  int64_t num_timesteps() const { return static_cast<int64_t>(abar_.size()); }
  double abar(int64_t t) const;  ///< t = -1 gives 1
  double beta(int64_t t) const;
  double sigma(int64_t t) const;  ///< sqrt((1 - abar_t)/abar_t)
  /// Continuous timestep with sigma(t) = sigma, interpolating log sigma linearly between integers;
  /// clamped to [0, T-1]. Exact at integers: timestep_for_sigma(sigma(t)) == t.
  double timestep_for_sigma(double sigma) const;
  /// The n kept timesteps (increasing) of the respaced chain; n in [1, T].
  std::vector<int64_t> respaced_timesteps(int64_t n) const;

 private:
  std::vector<double> betas_, abar_;
};

/// The linear VP schedule as options (DDPM: T = 1000, beta from 1e-4 to 0.02).
struct VpScheduleOptions {
  int64_t T = 1000;
  double beta_start = 1e-4;
  double beta_end = 0.02;

  template <class F>
  void fields(F&& f) {
    f("T", T, "timesteps of the linear VP schedule, >= 2 (DDPM: 1000)");
    f("beta_start", beta_start, "first beta of the linear schedule, in (0, 1) (DDPM: 1e-4)");
    f("beta_end", beta_end, "last beta of the linear schedule, in [beta_start, 1) (DDPM: 0.02)");
  }
  /// T >= 2, 0 < beta_start <= beta_end < 1; Error naming `owner` ("DdimOptions"), field, value and rule.
  void validate(const char* owner) const;
  /// VpSchedule::linear(T, beta_start, beta_end).
  VpSchedule schedule() const { return VpSchedule::linear(T, beta_start, beta_end); }
};

/// Karras et al. (2022) noise levels, decreasing, i = 0..n-1 (specs/solvers.md 0.5):
/// sigma_i = (smax^(1/rho) + i/(n-1) (smin^(1/rho) - smax^(1/rho)))^rho, so sigma_0 = smax and
/// sigma_{n-1} = smin (both exact). TORCH_CHECK: n >= 2, 0 < smin < smax, rho > 0.
std::vector<double> karras_sigmas(int64_t n, double sigma_min, double sigma_max, double rho);

/// t(k) of the same grid, k in [0, steps-1], steps >= 2, computed directly and NOT clipped (CM
/// multistep sampling, specs/solvers.md 0.7).
double karras_time(int64_t k, int64_t steps, double sigma_min, double sigma_max, double rho);

/// The Karras (EDM) noise range as options: sigma_min, sigma_max and the exponent rho. The number of
/// levels stays with its owner (a sampler's `steps`, the distillation's `N`), whose meaning differs.
struct KarrasOptions {
  /// Smallest noise level (EDM / consistency models: 0.002).
  double sigma_min = 0.002;
  /// Largest noise level (EDM: 80).
  double sigma_max = 80.0;
  /// Schedule exponent (EDM: 7).
  double rho = 7.0;

  template <class F>
  void fields(F&& f) {
    f("sigma_min", sigma_min, "smallest noise level, > 0 (0.002)");
    f("sigma_max", sigma_max, "largest noise level, > sigma_min (80)");
    f("rho", rho, "Karras schedule exponent, > 0 (7)");
  }
  /// 0 < sigma_min < sigma_max, rho > 0, all finite; Error naming `owner`, field, value and rule.
  void validate(const char* owner) const;
  /// karras_sigmas(n, ...): n >= 2 levels from sigma_max down to sigma_min.
  std::vector<double> sigmas(int64_t n) const;
  /// The `steps` levels of a sampler followed by 0 (steps = 1: [sigma_max, 0]).
  std::vector<double> sigmas_with_zero(int64_t steps) const;
  /// karras_time(k, steps, ...).
  double time(int64_t k, int64_t steps) const;
};

}  // namespace ipbench
