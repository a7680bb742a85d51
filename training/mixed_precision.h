#pragma once
// Mixed-precision training: `precision` in [train] and [distill].
//
//   fp32  everything in float32 (the default; on the CPU bitwise reproducible and exactly resumable).
//   bf16  forward passes under autocast to bfloat16: convolutions and matmuls run in bf16, reductions,
//         normalizations and the loss in float32 (ATen's autocast op lists). Weights, gradients,
//         optimizer state and the EMA stay float32. bf16 has float32's exponent range, so no loss
//         scaling. CUDA (fast on compute capability >= 8.0) or CPU (runs, usually slower: for tests).
//   fp16  autocast to float16 plus dynamic loss scaling (Micikevicius et al., "Mixed Precision
//         Training", ICLR 2018; the algorithm of PyTorch's torch.amp.GradScaler): loss * S is
//         back-propagated, gradients are divided by S before clipping; a step whose gradients hold
//         inf or NaN is skipped (no optimizer or EMA update, the step still counts) and S is halved;
//         after growth_interval consecutive finite steps S doubles. CUDA only.
//
// Autocast is thread-local: an AutocastScope covers the forward passes of the calling thread only,
// and backward() runs after the scope closes (as with Python's torch.autocast). The scope clears
// autocast's cast cache when it closes, so the next step never sees bf16/fp16 copies of weights the
// optimizer has since changed.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "models/precision.h"  // Precision, parse_precision, AutocastScope (moved there for the harness)

namespace ipbench {

struct LossScalerOptions {
  double init_scale = 65536.0;   ///< 2^16, PyTorch's default
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;
};

/// Dynamic loss scaling (see the top of this file). Disabled (identity, never skips) unless fp16.
/// Scales are powers of two, so unscaling is exact.
class LossScaler {
 public:
  explicit LossScaler(bool enabled = false, LossScalerOptions options = {});

  bool enabled() const { return enabled_; }
  /// loss * S (the loss itself when disabled).
  torch::Tensor scale(const torch::Tensor& loss) const;
  /// Divides the defined gradients of `params` by S in place; false when any of them holds inf or
  /// NaN (the step must then be skipped). Always true when disabled.
  bool unscale(const std::vector<torch::Tensor>& params) const;
  /// Records the step's outcome: backoff on overflow (and counts the skipped step), growth after
  /// growth_interval consecutive finite steps.
  void update(bool finite);

  double current_scale() const { return scale_; }
  int64_t growth_tracker() const { return growth_tracker_; }
  int64_t skipped_steps() const { return skipped_; }

  /// Keys loss_scale, loss_scale_growth, loss_scale_skipped. load() keeps the current values when the
  /// archive has none (a state written by an fp32 or bf16 run).
  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);

 private:
  bool enabled_;
  LossScalerOptions options_;
  double scale_;
  int64_t growth_tracker_ = 0;
  int64_t skipped_ = 0;
};

}  // namespace ipbench
