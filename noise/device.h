#pragma once
// Noise on the stream's device (issue 17).
//
// NoiseStream::gaussian opens a NoiseDeviceScope for its device around NoiseDesign::draw, and
// group_base_normals (noise/designs.h) allocates the keyed base draws there: with a CUDA build they are
// computed by the CUDA kernel (noise/keyed_normal.cu), bitwise the CPU's values; without one they are
// computed on the CPU and copied. A design built on group_base_normals with tensor ops (creating its
// own tensors on u.device()) therefore runs on the device with no change, and never depends on where
// it runs beyond the rounding of its own tensor ops.
#include <torch/torch.h>

#include <cstdint>

namespace ipbench {

/// The device group_base_normals draws on: the innermost active NoiseDeviceScope of this thread, else CPU.
torch::Device noise_device();

/// RAII: sets noise_device() for this thread, restores the previous one on exit.
class NoiseDeviceScope {
 public:
  explicit NoiseDeviceScope(torch::Device device);
  ~NoiseDeviceScope();
  NoiseDeviceScope(const NoiseDeviceScope&) = delete;
  NoiseDeviceScope& operator=(const NoiseDeviceScope&) = delete;

 private:
  torch::Device previous_;
};

/// Whether this build has the CUDA noise kernel (CMake found CUDA and a CUDA LibTorch).
bool cuda_noise_kernel_built();

/// Fills `out` ([num_groups, ...] contiguous float or double, any device) with the keyed base normals:
/// row g = fill_normal(.., derive_key(stream_key, first_group + g, draw)). CUDA tensors use the kernel
/// when built, else a CPU draw copied over.
void fill_group_normals(torch::Tensor& out, uint64_t stream_key, int64_t first_group, int64_t draw);

}  // namespace ipbench

namespace ipbench {

/// Peak bytes allocated by LibTorch's CUDA caching allocator on `device` since the last reset (and
/// resets the peak when `reset`); -1 on a CPU device or a build without CUDA. For benchmarks.
int64_t cuda_peak_allocated_bytes(torch::Device device, bool reset);

/// Bytes allocated now by LibTorch's CUDA caching allocator on `device` (what tensors hold, not the
/// allocator's cache); -1 on a CPU device or a build without CUDA.
int64_t cuda_allocated_bytes(torch::Device device);

}  // namespace ipbench
