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

}  // namespace ipbench
