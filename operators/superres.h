#pragma once
// superres: y = downsample(x) by an integer factor f in {2, 4}; y is [B, C, H/f, W/f].
//
// method = avgpool:  y = avg_pool2d(x, f)            (mean of each f x f block)
//                    A^T y = nearest_upsample(y, f) / f^2
// method = bicubic:  y = Wh x Ww^T  (per channel),   A^T y = Wh^T y Ww
//   Wh [H/f, H] and Ww [W/f, W] follow MATLAB's imresize with antialiasing, as DPS's util/resizer.py
//   (Shocher's Resizer) builds them: for output pixel j (1-based) the input-space centre is
//   c = j f + (1 - f) / 2; the taps are the integers t within the stretched support of the kernel
//   s k(s (c - t - 1)) with s = 1/f and k the Keys cubic (a = -0.5), support width 4 f; the weights
//   are normalized to sum 1 per output pixel, and taps outside [0, n) are mirrored (symmetric
//   boundary: -1 -> 0, n -> n - 1) and their weights added into the matrix. Built once in float64.
// Properties: a constant image maps to the same constant; a linear ramp maps to the ramp sampled at
// the block centres (away from the mirrored border).
// Errors: validate() (factor in {2, 4}, method); the constructor throws Error unless H and W are
// divisible by factor and H/factor, W/factor >= 2.
#include <string>

#include "operators/operator.h"

namespace ipbench {

struct SuperresOptions {
  /// Downsampling factor: 2 or 4 (DPS: 4).
  int64_t factor = 4;
  /// "bicubic" (DPS's antialiased MATLAB-style resizer) or "avgpool" (block mean).
  std::string method = "bicubic";

  template <class F>
  void fields(F&& f) {
    f("factor", factor, "downsampling factor: 2 | 4 (DPS: 4); H and W must be divisible by it");
    f("method", method, "bicubic (antialiased MATLAB imresize, as DPS) | avgpool (block mean)");
  }
  void validate() const;
};

class SuperresOperator : public Operator {
 public:
  using Options = SuperresOptions;
  /// Builds the resize matrices for ctx.image_shape; throws Error when the shape does not fit.
  SuperresOperator(MeasurementOptions noise, Options options, const OperatorContext& ctx);

  std::string name() const override { return "superres"; }
  bool linear() const override { return true; }
  torch::Tensor forward(const torch::Tensor& x) const override;
  /// Closed form: nearest upsampling / f^2 (avgpool) or Wh^T y Ww (bicubic).
  torch::Tensor adjoint(const torch::Tensor& y) const override;
  std::vector<int64_t> measurement_shape() const override;
  std::string describe() const override;
  /// Separable: two 1-D SVDs of the block-average or bicubic matrices (exact for both methods).
  const OperatorSvd* svd() const override { return svd_.get(); }
  /// avgpool: every singular value is 1/factor (A A^T = I / factor^2); bicubic: NaN.
  double equal_singular_value() const override;

 private:
  Options options_;
  torch::Tensor wh_, ww_;      ///< bicubic: [H/f, H], [W/f, W] on ctx.device in ctx.dtype
  torch::Tensor wh64_, ww64_;  ///< CPU float64 masters
  std::shared_ptr<const OperatorSvd> svd_;
};

/// The [n / factor, n] antialiased bicubic downsampling matrix of DPS's resizer for one axis (float64).
torch::Tensor bicubic_resize_matrix(int64_t n, int64_t factor);

OperatorEntry superres_entry();

}  // namespace ipbench
