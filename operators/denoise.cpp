#include "operators/denoise.h"

#include "core/options.h"

namespace ipbench {

DenoiseOperator::DenoiseOperator(MeasurementOptions noise, Options, const OperatorContext& ctx)
    : Operator(noise, ctx.image_shape) {
  require_image_shape(ctx, "denoise");
  svd_ = std::make_shared<DiagonalSvd>(torch::ones({1}, torch::kDouble), ctx.image_shape);
}

torch::Tensor DenoiseOperator::forward(const torch::Tensor& x) const {
  check_input(x);
  return x.clone();
}

torch::Tensor DenoiseOperator::adjoint(const torch::Tensor& y) const {
  check_measurement(y);
  return y.clone();
}

std::string DenoiseOperator::describe() const {
  const auto& s = image_shape();
  return str_cat("denoise(A = I, image ", s[0], "x", s[1], "x", s[2], ", sigma_y=", option_value(noise().sigma_y), ")");
}

OperatorEntry denoise_entry() {
  return make_operator_entry<DenoiseOperator>("denoise", "y = x + noise: denoising (A = I, DDRM's Denoising)",
                                              /*linear=*/true, OperatorCapabilities{/*svd=*/true, /*projector=*/true});
}

}  // namespace ipbench
