#pragma once
// Counter-based random numbers: every draw is a pure function of a 64-bit key and an index.
//
// ipbench never uses a global RNG. A key is derived from (seed, item, group, draw index, ...) with
// derive_key(); the values of element i depend only on (key, i), so results do not depend on batch
// size, thread count, device or sharding. The generator is Philox4x32-10 (Salmon et al., SC 2011);
// normals use Box-Muller on two 53-bit uniforms in double precision, uniforms lie in the open (0, 1).
#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace ipbench {

/// SplitMix64 finalizer: a bijective 64-bit mixer.
uint64_t mix64(uint64_t x);
/// Combines a parent key with a tag into a child key (order matters: derive(a, b) != derive(b, a)).
uint64_t derive_key(uint64_t parent, uint64_t tag);
/// Variadic convenience: derive_key(derive_key(parent, t1), t2) ...
template <class... Tags>
uint64_t derive_key(uint64_t parent, uint64_t tag, Tags... tags) {
  return derive_key(derive_key(parent, tag), static_cast<uint64_t>(tags)...);
}
/// Stable 64-bit hash of a string (FNV-1a then mix64), for keys named by text ("mask", operator names).
uint64_t hash_string(const std::string& s);

/// Philox4x32-10 block for (key, counter): four independent 32-bit words.
void philox4x32(uint64_t key, uint64_t counter, uint32_t out[4]);

/// Standard normals: element i is a function of (key, i). Filled in parallel.
void fill_normal(double* out, int64_t n, uint64_t key, int64_t offset = 0);
void fill_normal(float* out, int64_t n, uint64_t key, int64_t offset = 0);
/// Uniforms in the open interval (0, 1), 53-bit resolution.
void fill_uniform(double* out, int64_t n, uint64_t key, int64_t offset = 0);

/// A contiguous CPU tensor of standard normals (kFloat or kDouble) keyed by `key`.
torch::Tensor keyed_normal(at::IntArrayRef shape, uint64_t key, torch::ScalarType dtype = torch::kFloat);
/// A contiguous CPU tensor of (0, 1) uniforms keyed by `key`.
torch::Tensor keyed_uniform(at::IntArrayRef shape, uint64_t key, torch::ScalarType dtype = torch::kDouble);

/// A small sequential generator for setup-time choices (masks, kernels, subsets): draw i of a
/// KeyedGenerator is philox(key, i), so the sequence is fully determined by the key.
class KeyedGenerator {
 public:
  explicit KeyedGenerator(uint64_t key) : key_(key) {}
  double uniform();                          ///< in (0, 1)
  int64_t uniform_int(int64_t lo, int64_t hi);  ///< in [lo, hi], unbiased
  double normal();
  uint64_t key() const { return key_; }

 private:
  uint64_t key_;
  uint64_t counter_ = 0;
};

}  // namespace ipbench
