#pragma once
// `ipbench couple learn`: amortized learning of a Gaussian coupling matrix (couple-to-control paper,
// section 3.4 "Amortized optimization of the coupling matrix", Theorem 3.3, Appendix B.1.5 / B.2).
//
// Parameterization (marginal-preserving by construction): B in R^{K x K} free, A = B with every row
// divided by its norm, z = A u with u_1..u_K iid N(0, I), so each z_m is exactly N(0, I) and
// Cov(z_i, z_j) = (A A^T)_ij I. Step t (keyed: base draws from derive_key(seed, "couple-learn", t), so the
// run is reproducible and independent of threads):
//   1. draw `groups` coupled groups through a NoiseStream whose design applies the current A to every
//      draw, run the sampler -> x [G*K, C, H, W];
//   2. objective R(x) per group on u = (clamp(x, -1, 1) + 1)/2, averaged over groups:
//        l2                mean pairwise per-pixel squared distance (metrics/gallery.h gallery_l2)
//        ssim              mean pairwise 1 - SSIM
//        brightness_split  K = 4: |(b1+b2)/2 - (b3+b4)/2| + lambda (|b1-b2| + |b3-b4|)/2, b = mean of u
//                          (paper eq. 4, lambda = 0.35);
//   3. the paper's skip-gradient estimator (App. B.1.5): x~ = stopgrad(x) + z_0 - stopgrad(z_0), i.e.
//      dR/dz_0 := dR/dx with z_0 the initial noise (draw 0): the gradient of the surrogate
//      sum <z_0(A), stopgrad(dR/dx)> flows to B through A, and Adam ascends it (learning rate `lr` with a
//      cosine decay to 0 over `steps`).
// No gradient goes through the sampler, so any solver works (deterministic ones such as ddim make the
// estimator most faithful). For a linear map x = m + S z with S = s I the estimator is exact up to the
// factor s.
#include <functional>
#include <string>
#include <vector>

#include "core/config.h"
#include "noise/noise_stream.h"

namespace ipbench {

struct CoupleLearnOptions {
  int64_t K = 3;
  /// l2 | ssim | brightness_split (K = 4).
  std::string objective = "l2";
  /// brightness_split: weight of the within-pair term (paper: 0.35).
  double lambda = 0.35;
  int64_t steps = 60;
  /// Coupled groups per step (the Monte Carlo batch of the objective).
  int64_t groups = 4;
  /// Adam learning rate on B.
  double lr = 0.05;
  /// identity (the paper's start: iid) | random (keyed Gaussian B).
  std::string init = "identity";
  template <class F>
  void fields(F&& f) {
    f("K", K, "gallery size: members per coupled group, >= 2");
    f("objective", objective, "l2 (mean pairwise L2) | ssim (mean pairwise 1-SSIM) | brightness_split (K = 4)");
    f("lambda", lambda, "brightness_split: within-pair weight (paper eq. 4: 0.35), >= 0");
    f("steps", steps, "optimizer steps, >= 1");
    f("groups", groups, "coupled groups per step, >= 1");
    f("lr", lr, "Adam learning rate, > 0");
    f("init", init, "identity (start from iid) | random (keyed)");
  }
  void validate() const;
};

struct CoupleLearnResult {
  torch::Tensor A;                  ///< [K, K] float64, unit-norm rows
  torch::Tensor correlation;        ///< A A^T
  std::vector<double> objective;    ///< per step, before the update
  double mean_offdiagonal = 0;      ///< mean of the off-diagonal of A A^T
};

/// The sampler of one step: maps a stream of coupled groups to x [G*K, C, H, W] on [-1, 1].
using GallerySampler = std::function<torch::Tensor(NoiseStream& noise, int64_t step)>;

/// The objective of `o` per group: u [G, K, C, H, W] on [0, 1] -> [G], differentiable.
torch::Tensor gallery_objective(const torch::Tensor& u, const CoupleLearnOptions& o);

/// The optimization above with keyed draws from `seed`; `on_step(t, objective)` reports progress.
/// The noise streams live on `device` in `dtype` (the sampler's).
CoupleLearnResult learn_coupling(const GallerySampler& sampler, const CoupleLearnOptions& o, uint64_t seed,
                                 const std::function<void(int64_t, double)>& on_step = {},
                                 torch::Device device = torch::kCPU, torch::ScalarType dtype = torch::kDouble);

/// The sampler of a benchmark config: its [dataset], [prior], first operator and first solver
/// ([benchmark] operators / solvers), items cycling over [benchmark] items; device and dtype of
/// [benchmark]. Then learn_coupling with [benchmark] seed. Reads [couple] for the options.
CoupleLearnResult learn_coupling_from_config(const Config& config, const std::function<void(int64_t, double)>& on_step = {});

/// Writes A as a coupling matrix file (`[noise.<label>] type = coupling, matrix_file = PATH`): '#' header
/// lines (`header`, then A A^T), then one row per line with 17 significant digits; atomically.
void write_coupling_file(const std::string& path, const torch::Tensor& A, const std::string& header);

}  // namespace ipbench
