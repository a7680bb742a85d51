#include "operators/superres.h"

#include <cmath>

#include "core/error.h"
#include "core/options.h"

namespace ipbench {

void SuperresOptions::validate() const {
  check_option(factor == 2 || factor == 4, "SuperresOptions", "factor", factor, "factor in {2, 4}");
  check_option(method == "bicubic" || method == "avgpool", "SuperresOptions", "method", method,
               "method in {bicubic, avgpool}");
}

namespace {

// Keys cubic convolution kernel with a = -0.5 (MATLAB's imresize 'cubic').
double cubic(double x) {
  const double a = std::abs(x), a2 = a * a, a3 = a2 * a;
  if (a <= 1) return 1.5 * a3 - 2.5 * a2 + 1;
  if (a <= 2) return -0.5 * a3 + 2.5 * a2 - 4 * a + 2;
  return 0;
}

// Symmetric (half-sample) reflection of an index into [0, n): period 2n, -1 -> 0, n -> n - 1.
int64_t mirror(int64_t t, int64_t n) {
  int64_t p = t % (2 * n);
  if (p < 0) p += 2 * n;
  return p < n ? p : 2 * n - 1 - p;
}

}  // namespace

torch::Tensor bicubic_resize_matrix(int64_t n, int64_t factor) {
  TORCH_CHECK(factor >= 1 && n % factor == 0, "bicubic_resize_matrix: n must be divisible by factor");
  const int64_t m = n / factor;
  const double s = 1.0 / static_cast<double>(factor);
  const double width = 4.0 / s;  // antialiasing stretches the cubic's support by 1/s
  const auto taps = static_cast<int64_t>(std::ceil(width)) + 2;
  auto w = torch::zeros({m, n}, torch::kDouble);
  auto acc = w.accessor<double, 2>();
  std::vector<double> row(static_cast<size_t>(taps));
  for (int64_t j = 1; j <= m; ++j) {
    // resizer.py: match = j / s + 0.5 (1 - 1/s); taps from floor(match - width/2) - 1 on.
    const double centre = static_cast<double>(j) / s + 0.5 * (1.0 - 1.0 / s);
    const auto left = static_cast<int64_t>(std::floor(centre - width / 2.0)) - 1;
    double sum = 0;
    for (int64_t k = 0; k < taps; ++k) {
      row[k] = s * cubic(s * (centre - static_cast<double>(left + k) - 1.0));
      sum += row[k];
    }
    if (sum == 0) sum = 1;
    for (int64_t k = 0; k < taps; ++k) acc[j - 1][mirror(left + k, n)] += row[k] / sum;
  }
  return w;
}

SuperresOperator::SuperresOperator(MeasurementOptions noise, Options options, const OperatorContext& ctx)
    : Operator(noise, ctx.image_shape), options_(std::move(options)) {
  require_image_shape(ctx, "superres");
  const int64_t H = ctx.image_shape[1], W = ctx.image_shape[2], f = options_.factor;
  require(H % f == 0 && W % f == 0 && H / f >= 2 && W / f >= 2, "operator 'superres': factor = ", f,
          " does not fit a ", H, "x", W, " image. Violated: H and W divisible by factor and H/factor, W/factor >= 2");
  if (options_.method == "bicubic") {
    wh64_ = bicubic_resize_matrix(H, f);
    ww64_ = bicubic_resize_matrix(W, f);
    wh_ = wh64_.to(ctx.device, ctx.dtype);
    ww_ = ww64_.to(ctx.device, ctx.dtype);
    svd_ = std::make_shared<SeparableSvd>(wh64_, ww64_, ctx.image_shape);
  } else {
    svd_ = std::make_shared<SeparableSvd>(block_average_matrix_1d(H, f), block_average_matrix_1d(W, f), ctx.image_shape);
  }
}

double SuperresOperator::equal_singular_value() const {
  return options_.method == "avgpool" ? 1.0 / static_cast<double>(options_.factor) : std::nan("");
}

std::vector<int64_t> SuperresOperator::measurement_shape() const {
  const auto& s = image_shape();
  return {s[0], s[1] / options_.factor, s[2] / options_.factor};
}

torch::Tensor SuperresOperator::forward(const torch::Tensor& x) const {
  check_input(x);
  if (options_.method == "avgpool") return torch::avg_pool2d(x, {options_.factor, options_.factor});
  auto wh = constant_like(wh_, wh64_, x), ww = constant_like(ww_, ww64_, x);
  return torch::matmul(torch::matmul(wh, x), ww.t());
}

torch::Tensor SuperresOperator::adjoint(const torch::Tensor& y) const {
  check_measurement(y);
  const int64_t f = options_.factor;
  if (options_.method == "avgpool") {
    return y.repeat_interleave(f, 2).repeat_interleave(f, 3) / static_cast<double>(f * f);
  }
  auto wh = constant_like(wh_, wh64_, y), ww = constant_like(ww_, ww64_, y);
  return torch::matmul(torch::matmul(wh.t(), y), ww);
}

std::string SuperresOperator::describe() const {
  const auto& s = image_shape();
  const auto m = measurement_shape();
  return str_cat("superres(method=", options_.method, ", factor=", options_.factor, ", image ", s[0], "x", s[1],
                 "x", s[2], " -> ", m[1], "x", m[2], ", sigma_y=", option_value(noise().sigma_y), ")");
}

OperatorEntry superres_entry() {
  return make_operator_entry<SuperresOperator>(
      "superres", "y = x downsampled by 2 or 4: antialiased bicubic (DPS's resizer) or block average",
      /*linear=*/true, OperatorCapabilities{/*svd=*/true, /*projector=*/false});
}

}  // namespace ipbench
