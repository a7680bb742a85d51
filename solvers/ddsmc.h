#pragma once
// DDSMC: Decoupled Diffusion Sequential Monte Carlo (Ekstrom Kelvinius, Zhao, Lindsten, 2025),
// specs/solvers-2.md section 8; official filipekstrm/ddsmc ddsmc/ddsmc_sampler.py `DDSMCImage`, with
// InverseBench's line-for-line port algo/ddsmc.py (defaults in configs/algorithm/ddsmc.yaml, tuned by the
// DDSMC authors).
//
// Every returned sample (trajectory) is ONE SMC chain of N particles: a chain's particles live in the
// solver, the noise stream's draws have shape [N, C, H, W] per trajectory (and uniforms [N], then [1]),
// so chains never mix across the batch, records do not depend on batching, and a noise design couples
// the chains of a group draw by draw (antithetic: particle noise negated, resampling uniforms u -> 1 - u).
// The denoiser sees B * N images per call. In SVD coefficients c = V^T X (O = {i : s_i > 0}):
//   sigma_k = Karras(S, sigma_max, sigma_min) ++ [0],  rho_k = Karras(S, rho_max, sigma_min) ++ [0]
//   Delta_j = sigma_j^2 - sigma_{j+1}^2,  m_j = Delta_j/(eta sigma_{j+1}^2 + Delta_j),  p_j = 1 - m_j
//   l(x, r) = -sum_O (s_i x_i - y'_i)^2 / (2 (sigma_y^2 + r^2 s_i^2)),  y' = Ut_embed(y) (not divided by s)
//   c = sigma_0 z_0                                                             draw [N, d]
//   for k = 0 .. S-1:
//     x = V^T D(V c, sigma_k);  l_k = l(x, rho_k)
//     logw = l_k (k = 0), else l_k + log N(c; p_{k-1} c' + m_{k-1} x', sigma_k^2 m_{k-1}) - l' - log r
//     ESS = 1/sum w^2 < ess_threshold N: a = resample(w, uniform [N]) (draw) else a = identity (draw skipped)
//     (c', x', l') = (c, x, l_k)[a]                          (resampled, weights reset; else carried in logw)
//     obs: den = s^2 rho^2 + sigma_y^2, V = rho^2 sigma_y^2/den, mu = (rho^2 s y' + sigma_y^2 x')/den
//     free: V = rho^2, mu = x'
//     mean = m_k mu + p_k c';  var = max(0, sigma_{k+1}^2 m_k - m_k^2 rho_k^2 + m_k^2 V)  (0 at k = S-1)
//     c = mean + sqrt(var) z_{k+1}                                              draw [N, d] (skipped at k = S-1)
//   logw = -sum_O (s c - y')^2/(2 sigma_y^2) - l' - log r;  j = resample(w, uniform [1]);  return V c_j   draw
// Log densities drop terms constant within a chain. ess_threshold = 1 (default, official): resample every
// step. NFE per sample = N * S (3200 at the defaults). Needs the operator's closed-form SVD
// (Operator::svd(), operators/svd.h: inpaint, denoise, colorize, superres, gaussian_blur) and Gaussian noise
// with sigma_y > 0. V, V^T and U^T act on image-shaped coefficients, so the same code runs on diagonal
// (inpaint), per-pixel (colorize) and separable (blur, super-resolution) SVDs.

#include "models/schedule.h"
#include "solvers/solver.h"

namespace ipbench {

struct DdsmcOptions {
  /// Particles per chain (ddsmc.yaml: 16); >= 2.
  int64_t particles = 16;
  /// Annealing steps S (200), sigma_max -> sigma_min (100 -> 0.01), rho_max (47), Karras exponent 7.
  int64_t steps = 200;
  KarrasOptions karras{/*sigma_min=*/0.01, /*sigma_max=*/100.0, /*rho=*/7.0};  // the shared Karras range
  double rho_max = 47.0;
  /// Transition stochasticity in [0, 1] (0.5; eta = 1 is the DDPM posterior step, 0 DAPS re-noising).
  double eta = 0.5;
  /// multinomial (official) | systematic
  std::string resampling = "multinomial";
  /// Resample when ESS < ess_threshold * N; 1 = every step (official; ESS <= N always resamples).
  double ess_threshold = 1.0;

  template <class F>
  void fields(F&& f) {
    f("particles", particles, "particles per chain N, >= 2 (16)");
    f("steps", steps, "annealing steps S, >= 2 (200)");
    f("sigma_max", karras.sigma_max, "largest noise level (100)");
    f("sigma_min", karras.sigma_min, "smallest noise level, 0 < sigma_min < sigma_max (0.01)");
    f("rho_max", rho_max, "largest proposal scale rho, > sigma_min (47)");
    f("rho", karras.rho, "Karras exponent, > 0 (7)");
    f("eta", eta, "transition stochasticity in [0, 1] (0.5)");
    f("resampling", resampling, "multinomial (official) | systematic");
    f("ess_threshold", ess_threshold, "resample when ESS < threshold * N, in (0, 1] (1 = every step, official)");
  }
  void validate() const;
};

class DdsmcSolver : public Solver {
 public:
  explicit DdsmcSolver(DdsmcOptions options);
  SolveResult solve(const Problem& problem, NoiseStream& noise) const override;
  Requirements requirements() const override { return ddsmc_requirements(); }
  /// Linear operator with a closed-form SVD.
  static Requirements ddsmc_requirements();
  int64_t nfe_per_sample() const override { return options_.particles * options_.steps; }
  std::string describe() const override;

 private:
  DdsmcOptions options_;
};

/// Resampling indices per chain (specs/solvers-2.md 0.12): logw [B, N] unnormalised log-weights, u uniforms
/// [B, M] (multinomial: M draws; systematic: [B, 1] -> (j + u)/M for j < M). Returns [B, M] int64 ancestors
/// a_j = min{k : C_k > u_j}, C the per-row cumulative normalised weights with C_N := 1.
torch::Tensor resample_indices(const torch::Tensor& logw, const torch::Tensor& u, int64_t M, bool systematic);

/// Effective sample size 1 / sum w^2 of the per-row normalised weights: [B].
torch::Tensor effective_sample_size(const torch::Tensor& logw);

}  // namespace ipbench
