#include "operators/gaussian_blur.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/options.h"

namespace ipbench {

namespace F = torch::nn::functional;

void GaussianBlurOptions::validate() const {
  check_option(std::isfinite(sigma) && sigma >= 0, "GaussianBlurOptions", "sigma", sigma,
               "sigma > 0 (or 0 = auto)");
  check_option(kernel_size == 0 || (kernel_size >= 1 && kernel_size % 2 == 1), "GaussianBlurOptions",
               "kernel_size", kernel_size, "kernel_size odd and >= 1 (or 0 = auto)");
  check_option(padding == "reflect" || padding == "circular" || padding == "zeros", "GaussianBlurOptions",
               "padding", padding, "padding in {reflect, circular, zeros}");
}

torch::Tensor gaussian_taps(double sigma, int64_t half) {
  TORCH_CHECK(sigma > 0 && half >= 0, "gaussian_taps: sigma > 0 and half >= 0 required");
  const int64_t r = std::min(static_cast<int64_t>(4.0 * sigma + 0.5), half);
  auto t = torch::arange(-r, r + 1, torch::kDouble);
  auto g = torch::exp(-0.5 * t * t / (sigma * sigma));
  return g / g.sum();
}

GaussianBlurOperator::GaussianBlurOperator(MeasurementOptions noise, Options options, const OperatorContext& ctx)
    : Operator(noise, ctx.image_shape), options_(std::move(options)) {
  require_image_shape(ctx, "gaussian_blur");
  const int64_t H = ctx.image_shape[1], W = ctx.image_shape[2];
  sigma_ = options_.sigma > 0 ? options_.sigma : std::max(1.0, 3.0 * static_cast<double>(std::min(H, W)) / 256.0);
  kernel_size_ = options_.kernel_size > 0 ? options_.kernel_size : 2 * static_cast<int64_t>(4.0 * sigma_ + 0.5) + 1;
  // kernel_size <= min(H, W) also gives the reflect-padding rule kernel_size / 2 < H and W.
  require(kernel_size_ <= std::min(H, W), "operator 'gaussian_blur': kernel_size = ", kernel_size_,
          " does not fit a ", H, "x", W, " image. Violated: kernel_size <= min(H, W)",
          options_.kernel_size == 0 ? " (auto from sigma; set sigma or kernel_size)" : "");
  taps64_ = gaussian_taps(sigma_, kernel_size_ / 2);
  radius_ = (taps64_.size(0) - 1) / 2;
  taps_ = taps64_.to(ctx.device, ctx.dtype);
  svd_ = std::make_shared<SeparableSvd>(convolution_matrix_1d(taps64_, H, options_.padding),
                                        convolution_matrix_1d(taps64_, W, options_.padding), ctx.image_shape);
}

torch::Tensor GaussianBlurOperator::forward(const torch::Tensor& x) const {
  check_input(x);
  const int64_t C = x.size(1), r = radius_;
  auto taps = constant_like(taps_, taps64_, x);
  auto kv = taps.view({1, 1, -1, 1}).expand({C, 1, 2 * r + 1, 1});  // vertical pass
  auto kh = taps.view({1, 1, 1, -1}).expand({C, 1, 1, 2 * r + 1});  // horizontal pass
  if (options_.padding == "zeros") {
    auto v = F::conv2d(x, kv, F::Conv2dFuncOptions().padding({r, 0}).groups(C));
    return F::conv2d(v, kh, F::Conv2dFuncOptions().padding({0, r}).groups(C));
  }
  // Pad once in 2-D, then two valid passes: equal to one 2-D convolution of the padded image.
  const auto mode = options_.padding == "reflect" ? F::PadFuncOptions::mode_t(torch::kReflect)
                                                  : F::PadFuncOptions::mode_t(torch::kCircular);
  auto padded = F::pad(x, F::PadFuncOptions({r, r, r, r}).mode(mode));
  auto v = F::conv2d(padded, kv, F::Conv2dFuncOptions().groups(C));
  return F::conv2d(v, kh, F::Conv2dFuncOptions().groups(C));
}

torch::Tensor GaussianBlurOperator::kernel() const {
  auto full = torch::zeros({kernel_size_, kernel_size_}, torch::kDouble);
  const int64_t off = kernel_size_ / 2 - radius_;
  full.narrow(0, off, 2 * radius_ + 1).narrow(1, off, 2 * radius_ + 1).copy_(torch::outer(taps64_, taps64_));
  return full;
}

std::string GaussianBlurOperator::describe() const {
  const auto& s = image_shape();
  return str_cat("gaussian_blur(sigma=", option_value(sigma_), ", kernel_size=", kernel_size_, ", radius=", radius_,
                 ", padding=", options_.padding, ", image ", s[0], "x", s[1], "x", s[2],
                 ", sigma_y=", option_value(noise().sigma_y), ")");
}

OperatorEntry gaussian_blur_entry() {
  return make_operator_entry<GaussianBlurOperator>(
      "gaussian_blur", "y = Gaussian blur of x (DPS: sigma 3, kernel 61 at 256, reflect padding; scaled to the image)",
      /*linear=*/true, OperatorCapabilities{/*svd=*/true, /*projector=*/false});
}

}  // namespace ipbench
