#include "noise/noise_stream.h"

#include "noise/device.h"

namespace ipbench {

NoiseStream::NoiseStream(std::shared_ptr<const NoiseDesign> design, uint64_t stream_key, int64_t first_group,
                         int64_t num_groups, torch::Device device, torch::ScalarType dtype)
    : design_(std::move(design)),
      key_(stream_key),
      first_group_(first_group),
      num_groups_(num_groups),
      device_(device),
      dtype_(dtype) {
  TORCH_CHECK(design_ != nullptr, "NoiseStream needs a design");
  TORCH_CHECK(num_groups_ >= 1 && first_group_ >= 0, "NoiseStream: invalid group range");
}

torch::Tensor NoiseStream::gaussian(at::IntArrayRef sample_shape) {
  // The design draws on the stream's device (noise/device.h): keyed base normals by the CUDA kernel,
  // its coupling transforms as tensor ops there. No gradient flows through noise: NoGradGuard, not
  // InferenceMode, whose tensors a solver could not later set requires_grad on (DPS's x = z_T).
  const torch::NoGradGuard no_grad;
  const NoiseDeviceScope on_device(device_);
  auto z = design_->draw(key_, first_group_, num_groups_, draws_++, sample_shape, dtype_);
  TORCH_CHECK(z.size(0) == batch_size(), "design returned ", z.size(0), " draws for a batch of ", batch_size());
  return device_.is_cpu() ? z : z.to(device_, /*non_blocking=*/true);
}

torch::Tensor NoiseStream::uniform(at::IntArrayRef sample_shape) {
  auto u = design_->draw_uniform(key_, first_group_, num_groups_, draws_++, sample_shape, dtype_);
  TORCH_CHECK(u.size(0) == batch_size(), "design returned ", u.size(0), " uniforms for a batch of ", batch_size());
  return device_.is_cpu() ? u : u.to(device_, /*non_blocking=*/true);
}

}  // namespace ipbench
