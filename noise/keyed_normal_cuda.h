#pragma once
// The CUDA kernel of keyed normals (noise/keyed_normal.cu), compiled only when CMake finds CUDA and the
// LibTorch has CUDA (IPBENCH_WITH_CUDA). Plain C++ interface: no LibTorch types, so nvcc never sees
// the torch headers.
#include <cstdint>

namespace ipbench::cuda {

/// Fills out[g * n + i], g < num_groups, i < n, with element i of the keyed normal stream of key
/// derive_key(stream_key, first_group + g, draw): the values of fill_normal(out + g * n, n, key),
/// bitwise (core/philox.h). `out` is device memory of float (is_double = false) or double;
/// `stream` a cudaStream_t. Throws std::runtime_error naming the CUDA error when the launch fails.
void group_normals(void* out, bool is_double, int64_t num_groups, int64_t n, uint64_t stream_key,
                   int64_t first_group, int64_t draw, void* stream);

}  // namespace ipbench::cuda
