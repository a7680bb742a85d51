#pragma once
// Scrambled Sobol' points and the inverse normal CDF (specs/noise-and-stats.md sections 1-2).
//
// Direction numbers: the Joe-Kuo new-joe-kuo-6.21201 table that LibTorch ships behind
// torch.quasirandom.SobolEngine (ATen `_sobol_engine_initialize_state_`, 21,201 dimensions, 30 bits),
// shifted to 32-bit integers V_{j,k} = m_k << (32 - k). Points in natural order,
// X_j(i) = xor_{k: bit k-1 of i} V_{j,k}; the first 2^m points are a (t, m, s)-net.
// Randomization (the harness choice of the spec): exact Owen nested uniform scrambling of all 32
// digits, every output digit flipped by a keyed SplitMix64 hash of (key, level, all more significant
// input digits), THEN an independent 32-bit XOR digital shift; finally u = (X + V) 2^-32 with V ~ U(0, 1)
// open, keyed per (replicate, point, dimension), which completes the scramble below digit 32: every u
// is exactly U(0, 1), never 0 or 1, and the net structure of the first 32 digits is kept.
#include <cstdint>

#include <torch/torch.h>

namespace ipbench {

/// Dimensions with direction numbers (Joe-Kuo 6.21201 via LibTorch).
constexpr int64_t kSobolMaxDimension = 21201;

/// The 32 direction integers V_{j,1..32} of dimension j (0-based, j < kSobolMaxDimension); V_31, V_32
/// are 0 (the table has 30 bits), so at most 2^30 distinct points.
const uint32_t* sobol_directions(int64_t dimension);

/// Unscrambled point `index` of dimension j in natural order, as a 32-bit integer (u = X 2^-32).
uint32_t sobol_integer(int64_t dimension, uint64_t index);

/// Owen's nested uniform scramble of all 32 digits of x (digit 0 = most significant) with a keyed hash.
uint32_t owen_scramble(uint32_t x, uint64_t key);

/// Phi^{-1}(p) for p in (0, 1): Boost.Math erfc_inv on min(p, 1 - p) (accurate to a few ulp in double,
/// symmetric by construction). Error when p is not in the open interval (0, 1).
double inverse_normal_cdf(double p);

/// Randomized Sobol' uniforms of one replicate: [n, dims] float64, row i = point i (natural order, from
/// index 0), column c = Sobol' dimension first_dim + c. Digit scramble and shift are keyed by
/// (replicate_key, dimension), the sub-digit completion by (replicate_key, point, dimension).
/// TORCH_CHECK: n >= 1, first_dim >= 0, first_dim + dims <= kSobolMaxDimension.
torch::Tensor rqmc_uniforms(int64_t n, int64_t first_dim, int64_t dims, uint64_t replicate_key);

}  // namespace ipbench
