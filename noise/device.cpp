#include "noise/device.h"

#include <ATen/Parallel.h>

#include "core/rng.h"

#ifdef IPBENCH_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include "noise/keyed_normal_cuda.h"
#endif

namespace ipbench {

namespace {
thread_local torch::Device current_device = torch::kCPU;

void fill_cpu(torch::Tensor& out, uint64_t stream_key, int64_t first_group, int64_t draw) {
  const int64_t num_groups = out.size(0);
  const int64_t n = out.numel() / std::max<int64_t>(num_groups, 1);
  const bool is_float = out.scalar_type() == torch::kFloat;
  // One keyed stream per group: its values depend on (stream_key, group, draw) only.
  at::parallel_for(0, num_groups, 1, [&](int64_t begin, int64_t end) {
    for (int64_t g = begin; g < end; ++g) {
      const uint64_t key = derive_key(stream_key, static_cast<uint64_t>(first_group + g), static_cast<uint64_t>(draw));
      if (is_float) fill_normal(out.data_ptr<float>() + g * n, n, key);
      else fill_normal(out.data_ptr<double>() + g * n, n, key);
    }
  });
}
}  // namespace

torch::Device noise_device() { return current_device; }

NoiseDeviceScope::NoiseDeviceScope(torch::Device device) : previous_(current_device) { current_device = device; }
NoiseDeviceScope::~NoiseDeviceScope() { current_device = previous_; }

bool cuda_noise_kernel_built() {
#ifdef IPBENCH_WITH_CUDA
  return true;
#else
  return false;
#endif
}

void fill_group_normals(torch::Tensor& out, uint64_t stream_key, int64_t first_group, int64_t draw) {
  TORCH_CHECK(out.is_contiguous() && out.dim() >= 1, "fill_group_normals: a contiguous [G, ...] tensor");
  TORCH_CHECK(out.scalar_type() == torch::kFloat || out.scalar_type() == torch::kDouble,
              "noise dtype must be float or double");
  if (out.device().is_cpu()) return fill_cpu(out, stream_key, first_group, draw);
#ifdef IPBENCH_WITH_CUDA
  if (out.device().is_cuda()) {
    const c10::cuda::CUDAGuard guard(out.device());
    const int64_t num_groups = out.size(0);
    const int64_t n = out.numel() / std::max<int64_t>(num_groups, 1);
    cuda::group_normals(out.data_ptr(), out.scalar_type() == torch::kDouble, num_groups, n, stream_key,
                        first_group, draw, c10::cuda::getCurrentCUDAStream(out.device().index()).stream());
    return;
  }
#endif
  auto host = torch::empty(out.sizes(), out.options().device(torch::kCPU));
  fill_cpu(host, stream_key, first_group, draw);
  out.copy_(host);
}

int64_t cuda_peak_allocated_bytes(torch::Device device, bool reset) {
#ifdef IPBENCH_WITH_CUDA
  if (!device.is_cuda()) return -1;
  const auto index = device.has_index() ? device.index() : c10::cuda::current_device();
  // allocated_bytes[0]: the AGGREGATE statistic (every pool).
  const int64_t peak = c10::cuda::CUDACachingAllocator::getDeviceStats(index).allocated_bytes[0].peak;
  if (reset) c10::cuda::CUDACachingAllocator::resetPeakStats(index);
  return peak;
#else
  return -1;
#endif
}

int64_t cuda_allocated_bytes(torch::Device device) {
#ifdef IPBENCH_WITH_CUDA
  if (!device.is_cuda()) return -1;
  const auto index = device.has_index() ? device.index() : c10::cuda::current_device();
  return c10::cuda::CUDACachingAllocator::getDeviceStats(index).allocated_bytes[0].current;
#else
  return -1;
#endif
}

}  // namespace ipbench
