#include "core/rng.h"

#include "core/philox.h"

#include <ATen/Parallel.h>

#include <cmath>

namespace ipbench {

uint64_t mix64(uint64_t x) { return philox::mix64(x); }

uint64_t derive_key(uint64_t parent, uint64_t tag) { return philox::derive(parent, tag); }

uint64_t hash_string(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return mix64(h);
}

void philox4x32(uint64_t key, uint64_t counter, uint32_t out[4]) { philox::block(key, counter, out); }

namespace {

using philox::normal_pair;
using philox::to_unit;

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
