#pragma once
// DDS: Decomposed Diffusion Sampler (Chung, Lee & Ye, ICLR 2024), specs/solvers.md section 3.
//
// On the VP chain with the official timesteps t_k = k (T / steps) (T = 1000, steps = 50: 0, 20, .., 980;
// abar_{-1} := 1):
//   x = z_T                                                   draw 0
//   for k = steps-1 .. 0:  (a = abar_{t_k}, a' = abar_{t_{k-1}})
//     x0  = D(x / sqrt(a), sigma_{t_k});  eps = (x - sqrt(a) x0)/sqrt(1 - a)      no clipping
//     x0c = CG(v -> v + gamma A^T A v,  b = x0 + gamma A^T y,  init x0, cg_iterations, tol)
//           noiseless: CG(v -> A^T A v, b = A^T y, init x0)
//     k > 0:  x = sqrt(a') x0c + sqrt(1 - a') (eta z_k + sqrt(1 - eta^2) eps)      draw z_k
//     k = 0:  x = x0c                                          (the k = 0 draw has weight 0: skipped)
// A^T is the operator's TRUE adjoint (Operator::adjoint). CG runs per sample: inner products and the
// stopping test ||r_b|| < tol are per sample (a converged sample stops moving), where the official
// utils.CG uses whole-batch inner products (coupling the samples of a batch).
// Random draws: z_T and z_k for k = steps-1..1 (eta > 0); with eta = 0 every z_k has weight 0 and is skipped.
#include "models/schedule.h"
#include "solvers/solver.h"

namespace ipbench {

struct DdsOptions {
  /// Network evaluations = DDIM steps (official 50); must divide nothing, t_k = k floor(T / steps).
  int64_t steps = 50;
  /// Stochasticity of the re-noising (official 0.85): eta z + sqrt(1 - eta^2) eps_hat.
  double eta = 0.85;
  /// CG iterations per step (official 5).
  int64_t cg_iterations = 5;
  /// Weight of the data term in (I + gamma A^T A) (official 1).
  double gamma = 1.0;
  /// CG stops early when a sample's residual norm falls below tol (official 1e-5).
  double cg_tol = 1e-5;
  /// Noiseless variant: CG on A^T A x = A^T y from x0_hat (no proximal term).
  bool noiseless = false;
  /// Linear beta schedule of the VP chain.
  VpScheduleOptions vp;

  template <class F>
  void fields(F&& f) {
    f("steps", steps, "DDIM steps = NFE, 1..T (official 50)");
    f("eta", eta, "re-noising stochasticity in [0, 1] (official 0.85)");
    f("cg_iterations", cg_iterations, "conjugate-gradient iterations per step, >= 1 (official 5)");
    f("gamma", gamma, "data weight of (I + gamma A^T A), > 0 (official 1)");
    f("cg_tol", cg_tol, "per-sample CG residual tolerance, >= 0 (official 1e-5)");
    f("noiseless", noiseless, "CG on A^T A x = A^T y (no proximal term)");
    vp.fields(f);
  }
  void validate() const;
};

/// Batched conjugate gradient for a symmetric positive (semi-)definite `apply` on [B, ...] tensors:
/// per-sample inner products and stopping (||r_b|| < tol freezes sample b). Returns x after at most
/// `iterations` iterations from `x0`.
torch::Tensor conjugate_gradient(const std::function<torch::Tensor(const torch::Tensor&)>& apply,
                                 const torch::Tensor& b, const torch::Tensor& x0, int64_t iterations, double tol);
/// The same with a tolerance per sample (`tol` [B]): a sample's stopping never depends on the others.
torch::Tensor conjugate_gradient(const std::function<torch::Tensor(const torch::Tensor&)>& apply,
                                 const torch::Tensor& b, const torch::Tensor& x0, int64_t iterations,
                                 const torch::Tensor& tol);

class DdsSolver : public Solver {
 public:
  explicit DdsSolver(DdsOptions options);
  SolveResult solve(const Problem& problem, NoiseStream& noise) const override;
  Requirements requirements() const override { return dds_requirements(); }
  int64_t nfe_per_sample() const override { return options_.steps; }
  std::string describe() const override;
  /// A linear operator (true adjoint); item-batch safe (audited: CG with per-sample inner products and
  /// stopping, y only through A^T y per sample; tests test_batching, test_cross_item).
  static Requirements dds_requirements() {
    return Requirements::batched(/*linear_operator=*/true);
  }

 private:
  DdsOptions options_;
};

}  // namespace ipbench
