#pragma once
// Precision names and the autocast scope: `precision` of [train], [distill] (training/mixed_precision.h)
// and of [benchmark], the prior's forward in solvers (harness/autocast_prior.h).
//
//   fp32  everything in float32 (the default; autocast off, bitwise what it was without the key).
//   bf16  under autocast to bfloat16: convolutions and matmuls run in bf16, reductions and
//         normalizations in float32 (ATen's autocast op lists). bf16 has float32's exponent range.
//         CUDA (fast on compute capability >= 8.0) or CPU (runs; speed depends on the CPU's bf16 support).
//   fp16  under autocast to float16. CUDA only.
//
// Autocast is thread-local: an AutocastScope covers the calling thread's operations only; backward()
// may run after the scope closes (as with Python's torch.autocast). The scope clears autocast's cast
// cache when it closes, so no later pass sees bf16/fp16 copies of weights that have since changed.
// Autocast leaves float64 tensors alone (ATen casts only float32 / reduced-precision inputs).
#include <torch/torch.h>

#include <string>

namespace ipbench {

enum class Precision { kFloat32, kBFloat16, kFloat16 };

/// "fp32" | "bf16" | "fp16"; Error naming `field` and the accepted values otherwise.
Precision parse_precision(const std::string& value, const std::string& field);
const char* to_string(Precision p);
/// Error naming `field` when `p` cannot run on `device` (fp16 needs CUDA).
void check_precision_device(Precision p, const torch::Device& device, const std::string& field);

/// RAII: autocast on for `device_type` (CPU or CUDA) with the precision's dtype while alive; the
/// previous state (enabled flag, dtype) is restored on exit. A no-op for fp32.
class AutocastScope {
 public:
  AutocastScope(Precision p, torch::DeviceType device_type);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  torch::DeviceType device_type_;
  bool previous_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kFloat;
};

/// Whether autocast is on for `device_type` in this thread (for tests and assertions).
bool autocast_enabled(torch::DeviceType device_type);

}  // namespace ipbench
