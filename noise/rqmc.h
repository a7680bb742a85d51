#pragma once
// `rqmc`: randomized quasi-Monte Carlo noise in any dimension (specs/noise-and-stats.md sections 1-3).
//
// A group is one randomization (replicate) r of a Sobol' point set of n = 2^m points; its members are the
// points i = 0..n-1 (K = n, from index 0, so each replicate is a full net). R groups per item give R iid
// replicate means: the group estimator's units, with Student-t intervals over R.
// For draw index t < qmc_draws, member i of replicate r is
//   a_j       = PhiInv(u_j),  u_j = Owen-scrambled + digitally shifted Sobol' coordinate t*s + j of point i,
//                                   j = 0..s-1 (noise/sobol.h; exact U(0,1), never 0 or 1)
//   a_{s..d}  = iid N(0, 1), keyed by (stream, replicate, draw, member) (Monte Carlo padding)
//   eps       = embedding^T a
// embedding = dct: a holds the coefficients of an orthonormal 2-D DCT-II per channel; coordinate j drives
// channel j mod C at zigzag (lowest frequency first) position floor(j / C), so QMC reaches the smooth,
// low-frequency directions that matter most to an image generator. The DCT is orthogonal and a is exactly
// N(0, I_d), so eps is exactly N(0, I_d). embedding = none: a is the noise itself, QMC drives the first
// s coordinates of the flattened sample.
// Draws t >= qmc_draws (per-step noise of stochastic samplers) are keyed iid per member: the QMC point set
// lives in the initial noise unless configured (every QMC draw takes its own s Sobol' dimensions, so
// qmc_draws * s <= 21,201).
// Sample shapes: [C, H, W] as is; [H, W] as C = 1; [d] as 1 x 1 x d; more leading dimensions fold into C.
#include "noise/design.h"

namespace ipbench {

struct RqmcOptions {
  /// log2 of the points per replicate: n = 2^m members per group (K = n). The paper: n = 64 (m = 6) for
  /// unconditional models, 8 for conditional ones.
  int64_t m = 4;
  /// Coordinates driven by QMC per draw; 0 = C * 64 (the 8 x 8 lowest frequencies of every channel),
  /// capped at the sample dimension d. Must be <= d and <= 21,201 / qmc_draws.
  int64_t s = 0;
  /// dct | none (see the header comment).
  std::string embedding = "dct";
  /// Draws (in solver order) driven by QMC; later draws are keyed iid. >= 1.
  int64_t qmc_draws = 1;
  template <class F>
  void fields(F&& f) {
    f("m", m, "points per replicate n = 2^m (group size K = n), 1 <= m <= 20");
    f("s", s, "QMC coordinates per draw; 0 = C*64 (8x8 lowest DCT frequencies per channel), capped at d");
    f("embedding", embedding, "dct (QMC on low-frequency DCT coefficients, iid rest) | none (first s coordinates)");
    f("qmc_draws", qmc_draws, "draws driven by QMC (1 = the initial noise); later draws keyed iid, >= 1");
  }
  void validate() const;
};

class RqmcDesign : public NoiseDesign {
 public:
  explicit RqmcDesign(RqmcOptions options);
  std::string name() const override { return "rqmc"; }
  int64_t group_size() const override { return int64_t{1} << options_.m; }
  torch::Tensor draw(uint64_t stream_key, int64_t first_group, int64_t num_groups, int64_t draw,
                     at::IntArrayRef sample_shape, torch::ScalarType dtype) const override;
  /// Uniform draws: for draw index t < qmc_draws, coordinates j < min(s, d) of the flattened sample are the
  /// scrambled Sobol' coordinates t*s + j themselves (no Phi, no embedding: uniforms are not rotation
  /// invariant), the rest keyed iid uniforms; later draws keyed iid per member.
  torch::Tensor draw_uniform(uint64_t stream_key, int64_t first_group, int64_t num_groups, int64_t draw,
                             at::IntArrayRef sample_shape, torch::ScalarType dtype) const override;
  std::string describe() const override;
  /// The QMC coordinates per draw for a sample shape (s resolved); Error when s > d or the direction
  /// table is exhausted.
  int64_t resolved_s(at::IntArrayRef sample_shape) const;

 private:
  RqmcOptions options_;
};

/// Orthonormal DCT-II matrix of size N (row k = frequency k), float64: C C^T = I.
torch::Tensor dct_matrix(int64_t N);
/// The (row, column) frequencies of an H x W coefficient array in zigzag order (JPEG order generalized to
/// rectangles: by anti-diagonal kh + kw, alternating direction).
std::vector<std::pair<int64_t, int64_t>> zigzag_order(int64_t H, int64_t W);

}  // namespace ipbench
