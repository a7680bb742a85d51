#pragma once
// Data steps of linear operators for the solvers (specs/solvers-2.md 0.10, 0.11; docs/operators.md).
//
// Each step uses the best form the operator offers, in this order:
//   svd        Operator::svd(): closed form per singular value
//   projector  Operator::equal_singular_value() = c (A A^T A = c^2 A): closed form with P = A^T A / c^2
//   cg         conjugate gradients (solvers/dds.h) with the operator's TRUE adjoint, a fixed number of
//              iterations (equal cost per trajectory), a sample stopping only once converged (residual
//              below 1e-10 of its own right-hand side; past that, CG divides rounding noise by itself)
// Shapes: x, z [B or 1, C, H, W]; y [B or 1, m...] (broadcast over the batch).
//
//   pseudo_inverse(y, cutoff)     A^+ y, the minimum-norm least-squares solution
//                                 (cg: CG on A^T A x = A^T y from 0, which stays in range(A^T)); singular
//                                 values below cutoff (default 0) count as 0, a truncated A^+ (svd:
//                                 OperatorSvd::kept_like, a separable SVD's 1-D factors as the official
//                                 H functions; projector: 0 when c < cutoff; cg: not applied)
//   least_squares_prox(y, z, s2, rho)
//                                 argmin_x ||y - A x||^2 / s2 + rho ||x - z||^2
//                                 (cg: CG on (A^T A + rho s2 I) x = A^T y + rho s2 z from z; s2 = 0 is the
//                                 constrained limit z - A^+(A z - y), cg: CG on A^T A from z)
//   adjoint_regularized_inverse(r, c)
//                                 A^T (A A^T + c I)^{-1} r, c >= 0 (c = 0: A^+ r; cg: CG in measurement space)
//   gaussian_data_step(y, x, sigma_y, rho, noise)
//                                 one draw z ~ N(Sigma (A^T y / sigma_y^2 + x / rho^2), Sigma),
//                                 Sigma = (A^T A / sigma_y^2 + I / rho^2)^{-1}  (PnP-DM's likelihood step,
//                                 DAPS's exact x0 step). Draws: svd and projector one gaussian of x's shape;
//                                 cg "perturb-then-optimise": one of y's shape, then one of x's shape,
//                                 and the prox of the perturbed problem. sigma_y = 0: observed directions
//                                 pinned to A^+ y (svd, projector; cg: the s2 = 0 prox).
//
// The nonlinear counterpart, for any operator differentiable by autograd (linear ones too):
//   langevin_data_step(y, x, sigma_y, rho2, lr, steps, noise)
//                                 `steps` unadjusted Langevin steps from z = x towards the same conditional
//                                 p(z) ~ exp(-||y - A(z)||^2 / (2 sigma_y^2) - ||z - x||^2 / (2 rho2)):
//                                   z <- z - lr [grad_z ||y - A(z)||^2 / (2 sigma_y^2) + (z - x) / rho2]
//                                          + sqrt(2 lr) xi                        (one draw of x's shape)
//                                 ||y - A(z)||^2: data_fit_squared (solvers/common.h): the squared residual
//                                 for linear operators, else data_fit_norm^2 (cross-entropy for classifiers).
//                                 PnP-DM's proximal_generator (nonlinear tasks), DAPS's Langevin x0 step.
//                                 Not a converged draw: `steps` x `lr` sets how far the chain moves.
#include <torch/torch.h>

#include <string>

#include "noise/noise_stream.h"
#include "operators/operator.h"

namespace ipbench {

/// "svd", "projector" or "cg": the form the data steps take for `op` (Error for a nonlinear operator).
std::string data_step_mode(const Operator& op);

torch::Tensor pseudo_inverse(const Operator& op, const torch::Tensor& y, int64_t cg_iterations = 100,
                             double cutoff = 0.0);

torch::Tensor least_squares_prox(const Operator& op, const torch::Tensor& y, const torch::Tensor& z, double s2,
                                 double rho, int64_t cg_iterations = 50);

torch::Tensor adjoint_regularized_inverse(const Operator& op, const torch::Tensor& r, double c,
                                          int64_t cg_iterations = 50);

torch::Tensor gaussian_data_step(const Operator& op, const torch::Tensor& y, const torch::Tensor& x, double sigma_y,
                                 double rho, NoiseStream& noise, int64_t cg_iterations = 50);

torch::Tensor langevin_data_step(const Operator& op, const torch::Tensor& y, const torch::Tensor& x, double sigma_y,
                                 double rho2, double lr, int64_t steps, NoiseStream& noise);

}  // namespace ipbench
