// Precision names and the autocast scope (precision.h).
#include "models/precision.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include "core/error.h"

// LibTorch 2.4 replaced the per-device autocast functions (set_enabled, set_cpu_enabled, ...) by
// functions taking the device type; the old ones were deprecated, then removed.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define IPBENCH_AUTOCAST_BY_DEVICE_TYPE 1
#else
#define IPBENCH_AUTOCAST_BY_DEVICE_TYPE 0
#endif

namespace ipbench {

Precision parse_precision(const std::string& value, const std::string& field) {
  if (value == "fp32") return Precision::kFloat32;
  if (value == "bf16") return Precision::kBFloat16;
  if (value == "fp16") return Precision::kFloat16;
  throw Error(str_cat(field, " = ", value, ": not a precision (use fp32, bf16 or fp16)"));
}

const char* to_string(Precision p) {
  switch (p) {
    case Precision::kFloat32: return "fp32";
    case Precision::kBFloat16: return "bf16";
    case Precision::kFloat16: return "fp16";
  }
  return "?";
}

void check_precision_device(Precision p, const torch::Device& device, const std::string& field) {
  require(p != Precision::kFloat16 || device.is_cuda(), field, " = fp16 on device ", device.str(),
          ": float16 needs a CUDA device (LibTorch has no float16 autocast or loss-scaling kernels for ",
          "the CPU); use bf16 or fp32 on the CPU");
  require(device.is_cuda() || device.is_cpu(), field, " = ", to_string(p), " on device ", device.str(),
          ": mixed precision runs on cpu or cuda only");
}

namespace {

at::ScalarType autocast_dtype(Precision p) { return p == Precision::kFloat16 ? at::kHalf : at::kBFloat16; }

#if IPBENCH_AUTOCAST_BY_DEVICE_TYPE
bool is_enabled(torch::DeviceType t) { return at::autocast::is_autocast_enabled(t); }
void set_enabled(torch::DeviceType t, bool on) { at::autocast::set_autocast_enabled(t, on); }
at::ScalarType get_dtype(torch::DeviceType t) { return at::autocast::get_autocast_dtype(t); }
void set_dtype(torch::DeviceType t, at::ScalarType d) { at::autocast::set_autocast_dtype(t, d); }
#else
bool is_enabled(torch::DeviceType t) {
  return t == torch::kCUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
}
void set_enabled(torch::DeviceType t, bool on) {
  if (t == torch::kCUDA) at::autocast::set_enabled(on);
  else at::autocast::set_cpu_enabled(on);
}
at::ScalarType get_dtype(torch::DeviceType t) {
  return t == torch::kCUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
void set_dtype(torch::DeviceType t, at::ScalarType d) {
  if (t == torch::kCUDA) at::autocast::set_autocast_gpu_dtype(d);
  else at::autocast::set_autocast_cpu_dtype(d);
}
#endif

}  // namespace

bool autocast_enabled(torch::DeviceType device_type) { return is_enabled(device_type); }

AutocastScope::AutocastScope(Precision p, torch::DeviceType device_type) : device_type_(device_type) {
  if (p == Precision::kFloat32) return;
  require(device_type == torch::kCUDA || device_type == torch::kCPU,
          "autocast: mixed precision runs on cpu or cuda only");
  active_ = true;
  previous_enabled_ = is_enabled(device_type);
  previous_dtype_ = get_dtype(device_type);
  set_dtype(device_type, autocast_dtype(p));
  set_enabled(device_type, true);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // Cached casts of weights are valid within one forward pass only (the optimizer changes the weights).
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  set_enabled(device_type_, previous_enabled_);
  set_dtype(device_type_, previous_dtype_);
}

}  // namespace ipbench
