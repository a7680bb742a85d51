#pragma once
// motion_blur: y = k * x, a depthwise convolution of every channel with one random motion kernel k
// drawn from the item's problem key when the operator is built (DPS's motion deblurring task).
//
// Kernel (the recipe of the `motionblur` package DPS uses, Kernel(size, intensity)): on a canvas of
// twice the kernel size, with diagonal D, a random camera path is drawn:
//   path length  L = 0.75 D (u1 + U(0, intensity^2));  steps s ~ Beta(1, 30) (1 - intensity) D until sum >= L
//   directions   a_0 ~ U(-amax, amax), amax ~ U(0, intensity pi); a_i ~ Triangular(0, intensity amax, amax)
//                with the sign of a_{i-1}, flipped with probability jitter ~ Beta(2, 20)
//   path         cumsum(s e^{i a}), centred on its mean, rotated by U(0, pi), moved to the canvas centre
// The polyline is rasterized (bilinear splats every 0.25 px), blurred by a Gaussian of radius
// int(0.01 D) when >= 1, averaged 2x2 down to kernel_size x kernel_size and normalized to sum 1.
// (The package draws with PIL and resizes with Lanczos; the splat and 2x2 mean are this port's own.)
//   forward(x) = conv2d(pad(x, kernel_size / 2), k), groups = C      (padding: reflect | circular | zeros)
//   adjoint(y) = the autograd vector-Jacobian product (exact for every padding, see gaussian_blur.h)
// Kernels wider than 15 are applied with real FFTs of the padded image (DPS's 61x61 at 256: ~50x faster
// than the direct 3721-tap convolution), smaller ones with conv2d.
// Defaults scale DPS's (kernel 61 at 256, intensity 0.5): kernel_size = 0 means the largest odd size
// <= 61 min(H, W) / 256, at least 5.
// Errors: validate() (kernel_size odd or 0, 0 <= intensity < 1, padding); the constructor throws
// Error when kernel_size > min(H, W).
#include <string>

#include "operators/operator.h"

namespace ipbench {

struct MotionBlurOptions {
  /// Odd side of the kernel in pixels (DPS: 61 at 256); 0 = auto = odd <= 61 min(H, W) / 256, >= 5.
  int64_t kernel_size = 0;
  /// Path randomness in [0, 1): 0 = a short straight path, larger = longer and more curved (DPS: 0.5).
  double intensity = 0.5;
  /// Boundary handling: "reflect" (as DPS), "circular" or "zeros".
  std::string padding = "reflect";

  template <class F>
  void fields(F&& f) {
    f("kernel_size", kernel_size, "odd kernel side <= min(H,W); 0 = auto = odd <= 61 min(H,W)/256, >= 5 (DPS: 61)");
    f("intensity", intensity, "path randomness, 0 <= intensity < 1 (DPS: 0.5)");
    f("padding", padding, "boundary: reflect | circular | zeros (DPS: reflect)");
  }
  void validate() const;
};

class MotionBlurOperator : public Operator {
 public:
  using Options = MotionBlurOptions;
  /// Draws the kernel from ctx.key; throws Error when it does not fit the image.
  MotionBlurOperator(MeasurementOptions noise, Options options, const OperatorContext& ctx);

  std::string name() const override { return "motion_blur"; }
  bool linear() const override { return true; }
  torch::Tensor forward(const torch::Tensor& x) const override;
  std::vector<int64_t> measurement_shape() const override { return image_shape(); }
  std::string describe() const override;

  /// The kernel [kernel_size, kernel_size] (float64, CPU; non-negative, sums to 1).
  const torch::Tensor& kernel() const { return kernel64_; }

 private:
  Options options_;
  int64_t kernel_size_ = 0;
  int64_t steps_ = 0;  ///< path segments drawn, for describe()
  torch::Tensor kernel_, kernel64_;
};

/// The motion kernel of the recipe above for (kernel_size, intensity) from `key` (float64 [k, k], sum 1).
/// `steps`, when given, receives the number of path segments.
torch::Tensor motion_kernel(int64_t kernel_size, double intensity, uint64_t key, int64_t* steps = nullptr);

/// Depthwise 2-D convolution of every channel of x [B, C, H, W] with one odd kernel [k, k] after padding
/// by k / 2 ("reflect", "circular" or "zeros"); the output has x's shape. Kernels wider than 15 go
/// through real FFTs of the padded grid (same result up to rounding).
torch::Tensor depthwise_blur(const torch::Tensor& x, const torch::Tensor& kernel, const std::string& padding);

OperatorEntry motion_blur_entry();

}  // namespace ipbench
