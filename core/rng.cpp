#include "core/rng.h"

#include <ATen/Parallel.h>

#include <cmath>

namespace ipbench {

uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t derive_key(uint64_t parent, uint64_t tag) {
  // Two rounds so that nearby (parent, tag) pairs land far apart.
  return mix64(mix64(parent) ^ (tag * 0xd1342543de82ef95ULL + 0x2545f4914f6cdd1dULL));
}

uint64_t hash_string(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return mix64(h);
}

void philox4x32(uint64_t key, uint64_t counter, uint32_t out[4]) {
  constexpr uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u, W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  for (int r = 0; r < 10; ++r) {
    const uint64_t p0 = static_cast<uint64_t>(M0) * c0;
    const uint64_t p1 = static_cast<uint64_t>(M1) * c2;
    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    const uint32_t n1 = static_cast<uint32_t>(p1);
    const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    const uint32_t n3 = static_cast<uint32_t>(p0);
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += W0;
    k1 += W1;
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

namespace {

// 53-bit uniform in the open interval (0, 1) from two 32-bit words.
inline double to_unit(uint32_t hi, uint32_t lo) {
  const uint64_t bits = (static_cast<uint64_t>(hi) << 21) ^ (static_cast<uint64_t>(lo) >> 11);
  return (static_cast<double>(bits & ((1ULL << 53) - 1)) + 0.5) * 0x1.0p-53;
}

// Pair j of normals: Box-Muller on the two uniforms of Philox block j.
inline void normal_pair(uint64_t key, uint64_t j, double& a, double& b) {
  uint32_t w[4];
  philox4x32(key, j, w);
  const double u1 = to_unit(w[0], w[1]);
  const double u2 = to_unit(w[2], w[3]);
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double t = 2.0 * M_PI * u2;
  a = r * std::cos(t);
  b = r * std::sin(t);
}

template <class T>
void fill_normal_impl(T* out, int64_t n, uint64_t key, int64_t offset) {
  constexpr int64_t kGrain = 4096;
  at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
    int64_t i = begin;
    while (i < end) {
      const int64_t g = i + offset;  // global element index
      double a, b;
      normal_pair(key, static_cast<uint64_t>(g / 2), a, b);
      if (g % 2 == 0) {
        out[i++] = static_cast<T>(a);
        if (i < end) out[i++] = static_cast<T>(b);
      } else {
        out[i++] = static_cast<T>(b);
      }
    }
  });
}

}  // namespace

void fill_normal(double* out, int64_t n, uint64_t key, int64_t offset) { fill_normal_impl(out, n, key, offset); }
void fill_normal(float* out, int64_t n, uint64_t key, int64_t offset) { fill_normal_impl(out, n, key, offset); }

void fill_uniform(double* out, int64_t n, uint64_t key, int64_t offset) {
  at::parallel_for(0, n, 4096, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const uint64_t g = static_cast<uint64_t>(i + offset);
      uint32_t w[4];
      philox4x32(key, g / 2, w);
      out[i] = (g % 2 == 0) ? to_unit(w[0], w[1]) : to_unit(w[2], w[3]);
    }
  });
}

torch::Tensor keyed_normal(at::IntArrayRef shape, uint64_t key, torch::ScalarType dtype) {
  TORCH_CHECK(dtype == torch::kFloat || dtype == torch::kDouble, "keyed_normal: dtype must be float or double");
  auto t = torch::empty(shape, torch::TensorOptions().dtype(dtype));
  if (dtype == torch::kFloat) fill_normal(t.data_ptr<float>(), t.numel(), key);
  else fill_normal(t.data_ptr<double>(), t.numel(), key);
  return t;
}

torch::Tensor keyed_uniform(at::IntArrayRef shape, uint64_t key, torch::ScalarType dtype) {
  auto t = torch::empty(shape, torch::TensorOptions().dtype(torch::kDouble));
  fill_uniform(t.data_ptr<double>(), t.numel(), key);
  return dtype == torch::kDouble ? t : t.to(dtype);
}

double KeyedGenerator::uniform() {
  uint32_t w[4];
  philox4x32(key_, counter_++, w);
  return to_unit(w[0], w[1]);
}

int64_t KeyedGenerator::uniform_int(int64_t lo, int64_t hi) {
  TORCH_CHECK(hi >= lo, "uniform_int: empty range");
  const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
  // Rejection sampling on 64-bit words: unbiased for any span.
  const uint64_t limit = span == 0 ? 0 : (UINT64_MAX / span) * span;
  while (true) {
    uint32_t w[4];
    philox4x32(key_, counter_++, w);
    const uint64_t x = (static_cast<uint64_t>(w[0]) << 32) | w[1];
    if (span == 0) return lo + static_cast<int64_t>(x);
    if (x < limit) return lo + static_cast<int64_t>(x % span);
  }
}

double KeyedGenerator::normal() {
  double a, b;
  normal_pair(key_, counter_++, a, b);
  return a;
}

}  // namespace ipbench
