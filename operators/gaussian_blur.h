#pragma once
// gaussian_blur: y = k * x, a depthwise convolution of every channel with one normalized Gaussian.
//
// DPS's recipe (measurements.py, GaussianBlur): kernel = scipy.ndimage.gaussian_filter(delta, sigma)
// in a kernel_size x kernel_size window, i.e. the separable kernel k = g g^T with
//   g(t) = exp(-t^2 / (2 sigma^2)) / sum_{|s| <= r} exp(-s^2 / (2 sigma^2)),  |t| <= r = int(4 sigma + 0.5)
// (scipy's truncate = 4), zero outside radius r (and cropped to the window, then renormalized, when the
// window is smaller than 2r + 1); then
//   forward(x) = conv2d(pad(x, kernel_size / 2), k), groups = C      (padding: reflect | circular | zeros)
//   adjoint(y) = the autograd vector-Jacobian product (Operator::vjp_adjoint): exact for every padding,
//                including reflect, whose adjoint folds the padded border back onto the image.
// The convolution runs as two 1-D passes over the taps within radius min(r, kernel_size / 2); the
// dropped taps are zero, so the result equals the full kernel_size x kernel_size convolution.
//
// Defaults scale DPS's (sigma 3.0, kernel 61 at 256x256) to the image: sigma = 0 means
// max(1.0, 3.0 * min(H, W) / 256) and kernel_size = 0 means 2 * int(4 sigma + 0.5) + 1 (at 256: 25,
// which gives the same operator as DPS's 61 because taps beyond radius 12 are zero). The 1-pixel floor
// keeps small images (32x32 would get sigma = 0.375, a near-identity) an actual deblurring problem.
// Errors: validate() (sigma >= 0, kernel_size odd or 0, padding); the constructor throws Error when
// kernel_size > min(H, W).
#include <string>

#include "operators/operator.h"

namespace ipbench {

struct GaussianBlurOptions {
  /// Gaussian standard deviation in pixels (DPS `intensity`, 3.0 at 256); 0 = auto = max(1, 3*min(H,W)/256).
  double sigma = 0.0;
  /// Odd side of the kernel window (DPS: 61 at 256); 0 = auto = 2*int(4*sigma+0.5)+1; <= min(H, W).
  int64_t kernel_size = 0;
  /// Boundary handling: "reflect" (DPS's ReflectionPad2d), "circular" or "zeros".
  std::string padding = "reflect";

  template <class F>
  void fields(F&& f) {
    f("sigma", sigma, "Gaussian std in pixels, >= 0; 0 = auto = max(1, 3*min(H,W)/256) (DPS: 3.0 at 256)");
    f("kernel_size", kernel_size, "odd kernel side <= min(H,W); 0 = auto = 2*int(4*sigma+0.5)+1 (DPS: 61)");
    f("padding", padding, "boundary: reflect | circular | zeros (DPS: reflect)");
  }
  void validate() const;
};

class GaussianBlurOperator : public Operator {
 public:
  using Options = GaussianBlurOptions;
  /// Resolves sigma and kernel_size for ctx.image_shape; throws Error when the kernel does not fit.
  GaussianBlurOperator(MeasurementOptions noise, Options options, const OperatorContext& ctx);

  std::string name() const override { return "gaussian_blur"; }
  bool linear() const override { return true; }
  torch::Tensor forward(const torch::Tensor& x) const override;
  std::vector<int64_t> measurement_shape() const override { return image_shape(); }
  std::string describe() const override;
  /// Separable for every padding (A x = H x H'^T per channel, H the 1-D padded convolution matrix):
  /// two 1-D SVDs, exact.
  const OperatorSvd* svd() const override { return svd_.get(); }

  /// The full kernel_size x kernel_size kernel (float64, CPU; sums to 1).
  torch::Tensor kernel() const;
  double sigma() const { return sigma_; }
  int64_t kernel_size() const { return kernel_size_; }

 private:
  Options options_;
  double sigma_ = 0;
  int64_t kernel_size_ = 0;
  int64_t radius_ = 0;    ///< taps actually used: [-radius_, radius_]
  torch::Tensor taps_;    ///< normalized 1-D taps [2 radius_ + 1], ctx.device, ctx.dtype
  torch::Tensor taps64_;  ///< CPU float64 master
  std::shared_ptr<const OperatorSvd> svd_;
};

/// scipy.ndimage's normalized 1-D Gaussian for `sigma` truncated at radius int(4 sigma + 0.5) and then
/// cropped to [-half, half] and renormalized (float64, length 2 min(r, half) + 1).
torch::Tensor gaussian_taps(double sigma, int64_t half);

OperatorEntry gaussian_blur_entry();

}  // namespace ipbench
