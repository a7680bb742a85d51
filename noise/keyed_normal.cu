// Keyed normals on the GPU: the same Philox4x32-10 + Box-Muller arithmetic as the CPU (core/philox.h),
// one thread per Philox block (= one Box-Muller pair = two consecutive elements). Compiled with
// --fmad=false (noise/CMakeLists.txt) so that no multiply-add is fused and the values are bitwise
// the CPU's.
#include <cuda_runtime.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "core/philox.h"
#include "noise/keyed_normal_cuda.h"

namespace ipbench::cuda {
namespace {

template <class T>
__global__ void group_normals_kernel(T* out, int64_t num_groups, int64_t n, int64_t pairs_per_group,
                                     uint64_t stream_key, int64_t first_group, int64_t draw) {
  const int64_t total = num_groups * pairs_per_group;
  for (int64_t p = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; p < total;
       p += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t g = p / pairs_per_group, j = p % pairs_per_group;
    const uint64_t key = philox::derive(philox::derive(stream_key, static_cast<uint64_t>(first_group + g)),
                                        static_cast<uint64_t>(draw));
    double a, b;
    philox::normal_pair(key, static_cast<uint64_t>(j), a, b);
    T* o = out + g * n + 2 * j;
    o[0] = static_cast<T>(a);
    if (2 * j + 1 < n) o[1] = static_cast<T>(b);
  }
}

}  // namespace

void group_normals(void* out, bool is_double, int64_t num_groups, int64_t n, uint64_t stream_key,
                   int64_t first_group, int64_t draw, void* stream) {
  const int64_t pairs = (n + 1) / 2;
  const int64_t total = num_groups * pairs;
  if (total == 0) return;
  constexpr int threads = 256;
  const int64_t blocks = std::min<int64_t>((total + threads - 1) / threads, int64_t{1} << 20);
  auto s = static_cast<cudaStream_t>(stream);
  if (is_double)
    group_normals_kernel<double><<<static_cast<unsigned>(blocks), threads, 0, s>>>(
        static_cast<double*>(out), num_groups, n, pairs, stream_key, first_group, draw);
  else
    group_normals_kernel<float><<<static_cast<unsigned>(blocks), threads, 0, s>>>(
        static_cast<float*>(out), num_groups, n, pairs, stream_key, first_group, draw);
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("keyed normal kernel launch failed: ") + cudaGetErrorString(err));
}

}  // namespace ipbench::cuda
