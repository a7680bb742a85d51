#include "operators/colorize.h"

#include "core/error.h"
#include "core/options.h"

namespace ipbench {

void ColorizeOptions::validate() const {
  check_option(weights == "luma" || weights == "mean", "ColorizeOptions", "weights", weights,
               "weights in {luma, mean}");
}

ColorizeOperator::ColorizeOperator(MeasurementOptions noise, Options options, const OperatorContext& ctx)
    : Operator(noise, ctx.image_shape), options_(std::move(options)) {
  require_image_shape(ctx, "colorize");
  const int64_t C = ctx.image_shape[0];
  if (C == 1) {
    w64_ = torch::ones({1}, torch::kDouble);
  } else if (options_.weights == "luma") {
    require(C == 3, "operator 'colorize': weights = luma needs 1 or 3 channels, got C = ", C,
            ". Violated: C in {1, 3} (use weights = mean)");
    w64_ = torch::tensor({0.299, 0.587, 0.114}, torch::kDouble);
  } else {
    w64_ = torch::full({C}, 1.0 / static_cast<double>(C), torch::kDouble);
  }
  w64_ = w64_.view({1, C, 1, 1});
  w_ = w64_.to(ctx.device, ctx.dtype);
  svd_ = std::make_shared<ChannelSvd>(w64_.flatten(), ctx.image_shape);
}

std::vector<int64_t> ColorizeOperator::measurement_shape() const {
  const auto& s = image_shape();
  return {1, s[1], s[2]};
}

torch::Tensor ColorizeOperator::forward(const torch::Tensor& x) const {
  check_input(x);
  return (x * constant_like(w_, w64_, x)).sum(1, /*keepdim=*/true);
}

torch::Tensor ColorizeOperator::adjoint(const torch::Tensor& y) const {
  check_measurement(y);
  return y * constant_like(w_, w64_, y);
}

torch::Tensor ColorizeOperator::normal(const torch::Tensor& x) const {
  auto w = constant_like(w_, w64_, x);
  return (x * w).sum(1, true) * w;
}

double ColorizeOperator::known_norm() const { return w64_.norm().item<double>(); }

std::string ColorizeOperator::describe() const {
  const auto& s = image_shape();
  return str_cat("colorize(weights=", s[0] == 1 ? "identity (1 channel)" : options_.weights, ", image ", s[0], "x",
                 s[1], "x", s[2], " -> 1x", s[1], "x", s[2], ", sigma_y=", option_value(noise().sigma_y), ")");
}

OperatorEntry colorize_entry() {
  return make_operator_entry<ColorizeOperator>(
      "colorize", "y = grey image sum_c w_c x_c (BT.601 luma or channel mean)", /*linear=*/true,
      OperatorCapabilities{/*svd=*/true, /*projector=*/true});
}

}  // namespace ipbench
