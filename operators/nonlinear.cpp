#include "operators/nonlinear.h"

#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/options.h"
#include "operators/mri.h"

namespace ipbench {

namespace F = torch::nn::functional;

void PhaseRetrievalOptions::validate() const {
  check_option(std::isfinite(oversample) && oversample >= 0, "PhaseRetrievalOptions", "oversample", oversample,
               "oversample >= 0");
}

PhaseRetrievalOperator::PhaseRetrievalOperator(MeasurementOptions noise, Options options, const OperatorContext& ctx)
    : Operator(noise, ctx.image_shape), options_(std::move(options)) {
  require_image_shape(ctx, "phase_retrieval");
  pad_h_ = static_cast<int64_t>(options_.oversample / 8.0 * static_cast<double>(ctx.image_shape[1]));
  pad_w_ = static_cast<int64_t>(options_.oversample / 8.0 * static_cast<double>(ctx.image_shape[2]));
}

std::vector<int64_t> PhaseRetrievalOperator::measurement_shape() const {
  const auto& s = image_shape();
  return {s[0], s[1] + 2 * pad_h_, s[2] + 2 * pad_w_};
}

torch::Tensor PhaseRetrievalOperator::forward(const torch::Tensor& x) const {
  check_input(x);
  auto padded = F::pad(x, F::PadFuncOptions({pad_w_, pad_w_, pad_h_, pad_h_}));
  return fft2c(torch::complex(padded, torch::zeros_like(padded))).abs();
}

std::string PhaseRetrievalOperator::describe() const {
  const auto& s = image_shape();
  const auto m = measurement_shape();
  return str_cat("phase_retrieval(oversample=", option_value(options_.oversample), ", pad ", pad_h_, "x", pad_w_,
                 ", image ", s[0], "x", s[1], "x", s[2], " -> ", m[0], "x", m[1], "x", m[2],
                 ", sigma_y=", option_value(noise().sigma_y), ")");
}

torch::Tensor phase_retrieval_align(const torch::Tensor& x_hat, const torch::Tensor& x_ref, int64_t max_shift) {
  TORCH_CHECK(x_hat.sizes() == x_ref.sizes() && x_hat.dim() == 4, "phase_retrieval_align: shapes differ");
  torch::NoGradGuard no_grad;
  auto best = x_hat.clone();
  auto best_err = torch::full({x_hat.size(0)}, std::numeric_limits<double>::infinity(), x_hat.options());
  for (const auto& candidate : {x_hat, x_hat.flip({2, 3})}) {
    for (int64_t dy = -max_shift; dy <= max_shift; ++dy) {
      for (int64_t dx = -max_shift; dx <= max_shift; ++dx) {
        auto c = candidate.roll({dy, dx}, {2, 3});
        auto err = (c - x_ref).flatten(1).square().sum(1);
        auto better = err < best_err;
        best = torch::where(better.view({-1, 1, 1, 1}), c, best);
        best_err = torch::where(better, err, best_err);
      }
    }
  }
  return best;
}

void SaturationOptions::validate() const {
  check_option(std::isfinite(gain) && gain > 0, "SaturationOptions", "gain", gain, "gain > 0 and finite");
}

SaturationOperator::SaturationOperator(MeasurementOptions noise, Options options, const OperatorContext& ctx)
    : Operator(noise, ctx.image_shape), options_(std::move(options)) {
  require_image_shape(ctx, "saturation");
}

torch::Tensor SaturationOperator::forward(const torch::Tensor& x) const {
  check_input(x);
  return torch::tanh(options_.gain * x);
}

std::string SaturationOperator::describe() const {
  const auto& s = image_shape();
  return str_cat("saturation(y = tanh(", option_value(options_.gain), " x), image ", s[0], "x", s[1], "x", s[2],
                 ", sigma_y=", option_value(noise().sigma_y), ")");
}

OperatorEntry phase_retrieval_entry() {
  return make_operator_entry<PhaseRetrievalOperator>(
      "phase_retrieval", "y = |centered orthonormal FFT of the zero-padded image| (DPS: oversample 2)",
      /*linear=*/false);
}

OperatorEntry saturation_entry() {
  return make_operator_entry<SaturationOperator>("saturation", "y = tanh(gain x), elementwise sensor saturation",
                                                 /*linear=*/false);
}

}  // namespace ipbench
