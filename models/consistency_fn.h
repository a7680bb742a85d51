#pragma once
// ConsistencyFunction: what a CM solver (cm_dps, cm_inversion, cm_sample) calls, whatever its source.
//
//   f(x, sigma) -> x0 estimate      x [B, C, H, W] in the VE convention x = x0 + sigma n, sigma [B], [1] or 0-dim
//
// f maps a point of the prior's probability-flow ODE trajectory at noise level sigma to the trajectory's
// end at sigma_min (specs/solvers.md 0.5, 0.7). It is differentiable in x (solvers backpropagate through
// it), draws no random numbers and is clamped to [-1, 1] when clip_denoised (torch::clamp: gradient 1
// inside, 0 where it clips). Four sources (make_consistency_function, a solver's `consistency` option):
//
//   <folder>            a consistency model written by `ipbench distill` (models/consistency.h), boundary-
//                       condition parameterization f = c_skip x + c_out F(c_in x, c_noise); its own sigma_min
//   ode                 the prior's own probability-flow ODE dx/dsigma = (x - D(x, sigma))/sigma solved from
//                       sigma to sigma_min with `ode_steps` Heun steps on a Karras grid (rho): 2 ode_steps
//                       denoiser evaluations per call, differentiable; the exact consistency function of the
//                       prior as ode_steps -> infinity. Works with every prior.
//   gaussian            the closed-form flow map of the `gaussian` prior N(mu, Sigma) (Sigma diagonal in its
//                       basis, eigenvalues v):  f = mu + sqrt((v + smin^2)/(v + sigma^2)) (x - mu)  per
//                       eigen-direction (pixel or Fourier). Error for any other prior.
//   torchscript:<file>  a scripted module whose forward(x, sigma) returns f(x, sigma) itself (x [B, C, H, W]
//                       float, sigma [B] float; the module carries its own preconditioning and boundary
//                       condition); converted to the module's dtype and back, differentiably.
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/denoiser.h"

namespace ipbench {

class ConsistencyFunction {
 public:
  virtual ~ConsistencyFunction() = default;
  /// f(x, sigma) (see the header comment), in x's dtype and device.
  virtual torch::Tensor operator()(const torch::Tensor& x, const torch::Tensor& sigma) const = 0;
  /// Network evaluations per call (ode: 2 ode_steps denoiser calls; others 1).
  virtual int64_t nfe_per_call() const { return 1; }
  /// [C, H, W] it works on (empty = any).
  virtual std::vector<int64_t> image_shape() const = 0;
  /// One line: the source and its resolved facts.
  virtual std::string describe() const = 0;
};

/// How a CM solver gets its consistency function (solver options `consistency`, `ode_steps`; the
/// solver's sigma_min and rho; clip_denoised).
struct ConsistencySource {
  std::string source;      ///< <folder> | ode | gaussian | torchscript:<file>
  int64_t ode_steps = 18;  ///< Heun steps of `ode`
  double sigma_min = 0.002;
  double rho = 7.0;
  bool clip_denoised = true;
  /// Denoiser evaluations per call of the function this source builds (ode: 2 ode_steps, else 1).
  int64_t nfe_per_call() const { return source == "ode" ? 2 * ode_steps : 1; }
  /// A key identifying the built function (for caching one instance per distinct source).
  std::string key() const;
};

/// Empty when `source` names a source syntactically (non-empty; `torchscript:` followed by a path),
/// else the rule it breaks (for Options::validate messages).
std::string consistency_source_problem(const std::string& source);

/// Builds the consistency function of `src` for `prior` on `device`. Throws Error: a missing or corrupt
/// folder or file (named), `gaussian` with a prior that is not `gaussian`, a model whose image shape differs
/// from the prior's (both named), ode_steps < 1.
std::shared_ptr<const ConsistencyFunction> make_consistency_function(const ConsistencySource& src,
                                                                     std::shared_ptr<const Denoiser> prior,
                                                                     torch::Device device = torch::kCPU);

/// The probability-flow ODE of `prior` from sigma to sigma_min, `steps` Heun steps on the Karras grid
/// s_k = (sigma^(1/rho) + k/steps (smin^(1/rho) - sigma^(1/rho)))^rho, k = 0..steps (per sample). No clamp.
/// Differentiable in x. sigma [B], [1] or 0-dim, >= sigma_min.
torch::Tensor probability_flow_ode(const Denoiser& prior, const torch::Tensor& x, const torch::Tensor& sigma,
                                   double sigma_min, int64_t steps, double rho);

}  // namespace ipbench
