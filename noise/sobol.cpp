#include "noise/sobol.h"

#include <ATen/Parallel.h>
#include <ATen/ops/_sobol_engine_initialize_state.h>

#include <boost/math/special_functions/erf.hpp>
#include <cmath>
#include <mutex>
#include <vector>

#include "core/error.h"
#include "core/rng.h"

namespace ipbench {

namespace {

/// [kSobolMaxDimension][32] direction integers, built once from LibTorch's table.
const std::vector<uint32_t>& direction_table() {
  static std::vector<uint32_t> table;
  static std::once_flag once;
  std::call_once(once, [] {
    constexpr int64_t kTorchBits = 30;  // at::native::sobol_utils::MAXBIT
    auto state = torch::zeros({kSobolMaxDimension, kTorchBits}, torch::kLong);
    at::_sobol_engine_initialize_state_(state, kSobolMaxDimension);
    const auto acc = state.accessor<int64_t, 2>();
    table.assign(static_cast<size_t>(kSobolMaxDimension) * 32, 0u);
    for (int64_t j = 0; j < kSobolMaxDimension; ++j)
      for (int64_t k = 0; k < kTorchBits; ++k)
        table[static_cast<size_t>(j * 32 + k)] = static_cast<uint32_t>(acc[j][k]) << (32 - kTorchBits);
  });
  return table;
}

}  // namespace

const uint32_t* sobol_directions(int64_t dimension) {
  TORCH_CHECK(dimension >= 0 && dimension < kSobolMaxDimension, "Sobol' dimension ", dimension, " outside [0, ",
              kSobolMaxDimension, ")");
  return direction_table().data() + dimension * 32;
}

uint32_t sobol_integer(int64_t dimension, uint64_t index) {
  const uint32_t* v = sobol_directions(dimension);
  uint32_t x = 0;
  for (int k = 0; index != 0 && k < 32; ++k, index >>= 1)
    if (index & 1u) x ^= v[k];
  return x;
}

uint32_t owen_scramble(uint32_t x, uint64_t key) {
  uint32_t out = x;
  for (int k = 0; k < 32; ++k) {
    const uint64_t prefix = k == 0 ? 0 : static_cast<uint64_t>(x >> (32 - k));
    // The flip of digit k depends on the key, the level and every more significant input digit.
    const uint64_t h = mix64(derive_key(key, static_cast<uint64_t>(k), prefix));
    out ^= static_cast<uint32_t>(h & 1u) << (31 - k);
  }
  return out;
}

double inverse_normal_cdf(double p) {
  require(p > 0.0 && p < 1.0, "inverse_normal_cdf(", p, "): p must lie in the open interval (0, 1)");
  const double q = p < 0.5 ? p : 1.0 - p;  // the tail on the small side, where erfc_inv is accurate
  const double z = -std::sqrt(2.0) * boost::math::erfc_inv(2.0 * q);
  return p < 0.5 ? z : -z;
}

torch::Tensor rqmc_uniforms(int64_t n, int64_t first_dim, int64_t dims, uint64_t replicate_key) {
  TORCH_CHECK(n >= 1 && first_dim >= 0 && dims >= 0 && first_dim + dims <= kSobolMaxDimension,
              "rqmc_uniforms: n = ", n, ", dimensions [", first_dim, ", ", first_dim + dims, ")");
  auto out = torch::empty({n, dims}, torch::kDouble);
  auto* data = out.data_ptr<double>();
  // Sub-digit completion V ~ U(0, 1): one keyed uniform per (point, dimension).
  const auto completion = keyed_uniform({n, dims}, derive_key(replicate_key, hash_string("completion"),
                                                              static_cast<uint64_t>(first_dim)));
  const auto* v = completion.data_ptr<double>();
  at::parallel_for(0, dims, 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      const int64_t j = first_dim + c;
      const uint64_t key = derive_key(replicate_key, hash_string("owen"), static_cast<uint64_t>(j));
      const auto shift = static_cast<uint32_t>(mix64(derive_key(replicate_key, hash_string("shift"),
                                                                static_cast<uint64_t>(j))) >> 32);
      for (int64_t i = 0; i < n; ++i) {
        const uint32_t x = owen_scramble(sobol_integer(j, static_cast<uint64_t>(i)), key) ^ shift;
        // u = (X + V) 2^-32 with V quantized to 2^-21 cells at their midpoints: X 2^21 + the cell index
        // is an exact integer below 2^53, so u is in (0, 1) exactly, never 0 or 1.
        const auto cell = static_cast<uint64_t>(v[i * dims + c] * 0x1p20);  // 0 .. 2^20 - 1
        data[i * dims + c] = (static_cast<double>((static_cast<uint64_t>(x) << 21) | (cell << 1) | 1u)) * 0x1p-53;
      }
    }
  });
  return out;
}

}  // namespace ipbench
