#include "noise/noise_stream.h"

#include "noise/device.h"

namespace ipbench {

NoiseStream::NoiseStream(std::shared_ptr<const NoiseDesign> design, uint64_t stream_key, int64_t first_group,
                         int64_t num_groups, torch::Device device, torch::ScalarType dtype)
    : NoiseStream(std::move(design), std::vector<NoiseSegment>{{stream_key, first_group, num_groups}}, device,
                  dtype) {}

NoiseStream::NoiseStream(std::shared_ptr<const NoiseDesign> design, std::vector<NoiseSegment> segments,
                         torch::Device device, torch::ScalarType dtype)
    : design_(std::move(design)), segments_(std::move(segments)), device_(device), dtype_(dtype) {
  TORCH_CHECK(design_ != nullptr, "NoiseStream needs a design");
  TORCH_CHECK(!segments_.empty(), "NoiseStream needs at least one segment");
  for (const auto& s : segments_) {
    TORCH_CHECK(s.num_groups >= 1 && s.first_group >= 0, "NoiseStream: invalid group range");
    num_groups_ += s.num_groups;
  }
}

torch::Tensor NoiseStream::gaussian(at::IntArrayRef sample_shape) {
  // The design draws on the stream's device (noise/device.h): keyed base normals by the CUDA kernel,
  // its coupling transforms as tensor ops there. No gradient flows through noise: NoGradGuard, not
  // InferenceMode, whose tensors a solver could not later set requires_grad on (DPS's x = z_T).
  const torch::NoGradGuard no_grad;
  const NoiseDeviceScope on_device(device_);
  std::vector<torch::Tensor> parts;
  parts.reserve(segments_.size());
  for (const auto& s : segments_)
    parts.push_back(design_->draw(s.stream_key, s.first_group, s.num_groups, draws_, sample_shape, dtype_));
  ++draws_;
  auto z = parts.size() == 1 ? parts.front() : torch::cat(parts, 0);
  TORCH_CHECK(z.size(0) == batch_size(), "design returned ", z.size(0), " draws for a batch of ", batch_size());
  return device_.is_cpu() ? z : z.to(device_, /*non_blocking=*/true);
}

torch::Tensor NoiseStream::uniform(at::IntArrayRef sample_shape) {
  // Drawn on the CPU and copied: the designs' uniform rules mix keyed CPU uniforms with Gaussian
  // draws, so no NoiseDeviceScope here (resampling draws are rare next to the per-step Gaussians).
  std::vector<torch::Tensor> parts;
  parts.reserve(segments_.size());
  for (const auto& s : segments_)
    parts.push_back(design_->draw_uniform(s.stream_key, s.first_group, s.num_groups, draws_, sample_shape, dtype_));
  ++draws_;
  auto u = parts.size() == 1 ? parts.front() : torch::cat(parts, 0);
  TORCH_CHECK(u.size(0) == batch_size(), "design returned ", u.size(0), " uniforms for a batch of ", batch_size());
  return device_.is_cpu() ? u : u.to(device_, /*non_blocking=*/true);
}

}  // namespace ipbench
