#include "operators/ct.h"

#include <cmath>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include "core/error.h"
#include "core/options.h"

namespace ipbench {

void CtOptions::validate() const {
  check_option(angles >= 1, "CtOptions", "angles", angles, "angles >= 1");
  check_option(std::isfinite(angle_min) && angle_min >= 0, "CtOptions", "angle_min", angle_min, "angle_min >= 0");
  check_option(std::isfinite(angle_max) && angle_max > angle_min && angle_max <= 360, "CtOptions", "angle_max",
               angle_max, "angle_min < angle_max <= 360");
}

namespace {
constexpr double kPi = 3.14159265358979323846;
}

torch::Tensor radon_matrix(int64_t H, int64_t W, const std::vector<double>& angles_deg, int64_t n_det) {
  const auto A = static_cast<int64_t>(angles_deg.size());
  const int64_t nnz = 2 * A * H * W;
  auto rows = torch::empty({nnz}, torch::kLong), cols = torch::empty({nnz}, torch::kLong);
  auto vals = torch::empty({nnz}, torch::kDouble);
  int64_t* r = rows.data_ptr<int64_t>();
  int64_t* c = cols.data_ptr<int64_t>();
  double* v = vals.data_ptr<double>();
  const double half_det = 0.5 * static_cast<double>(n_det - 1);
  int64_t k = 0;
  for (int64_t a = 0; a < A; ++a) {
    const double th = angles_deg[a] * kPi / 180.0, ct = std::cos(th), st = std::sin(th);
    for (int64_t i = 0; i < H; ++i) {
      const double y = 0.5 * static_cast<double>(H - 1) - static_cast<double>(i);
      for (int64_t j = 0; j < W; ++j) {
        const double x = static_cast<double>(j) - 0.5 * static_cast<double>(W - 1);
        const double s = x * ct + y * st + half_det;
        const double b0 = std::floor(s), f = s - b0;
        const auto b = static_cast<int64_t>(b0);
        TORCH_CHECK(b >= 0 && b + 1 < n_det, "radon_matrix: detector too small");
        r[k] = a * n_det + b, c[k] = i * W + j, v[k] = 1.0 - f, ++k;
        r[k] = a * n_det + b + 1, c[k] = i * W + j, v[k] = f, ++k;
      }
    }
  }
  return torch::sparse_coo_tensor(torch::stack({rows, cols}), vals, {A * n_det, H * W}).coalesce();
}

CtOperator::CtOperator(MeasurementOptions noise, Options options, const OperatorContext& ctx)
    : Operator(noise, ctx.image_shape), options_(std::move(options)) {
  require_image_shape(ctx, "ct");
  H_ = ctx.image_shape[1];
  W_ = ctx.image_shape[2];
  n_det_ = static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(H_ * H_ + W_ * W_)))) + 2;
  const double step = (options_.angle_max - options_.angle_min) / static_cast<double>(options_.angles);
  for (int64_t a = 0; a < options_.angles; ++a) angles_.push_back(options_.angle_min + step * static_cast<double>(a));
  // One matrix pair per geometry for the whole process: the runner builds an operator per item, and at
  // 256x256 with 30 angles the build (3.9M entries, two sorts) takes seconds.
  static std::mutex mutex;
  static std::map<std::tuple<int64_t, int64_t, std::vector<double>>, std::pair<torch::Tensor, torch::Tensor>> cache;
  {
    std::lock_guard<std::mutex> lock(mutex);
    auto& entry = cache[{H_, W_, angles_}];
    if (!entry.first.defined()) {
      entry.first = radon_matrix(H_, W_, angles_, n_det_);
      entry.second = entry.first.t().coalesce();
    }
    r64_ = entry.first;
    rt64_ = entry.second;
  }
  r_ = r64_.to(ctx.device, ctx.dtype);
  rt_ = rt64_.to(ctx.device, ctx.dtype);
}

std::vector<int64_t> CtOperator::measurement_shape() const {
  return {image_shape()[0], options_.angles, n_det_};
}

torch::Tensor CtOperator::matrix(const torch::Tensor& like, bool transpose) const {
  const auto& cached = transpose ? rt_ : r_;
  if (cached.scalar_type() == like.scalar_type() && cached.device() == like.device()) return cached;
  return (transpose ? rt64_ : r64_).to(like.device(), like.scalar_type());
}

torch::Tensor CtOperator::apply(const torch::Tensor& sparse, const torch::Tensor& v) {
  const int64_t B = v.size(0), C = v.size(1);
  // Contiguous [n, B C]: the COO kernel adds whole rows of the dense operand, which must not be strided.
  auto cols = v.reshape({B * C, -1}).t().contiguous();
  return torch::mm(sparse, cols).t().reshape({B, C, -1});
}

torch::Tensor CtOperator::forward(const torch::Tensor& x) const {
  check_input(x);
  return apply(matrix(x, false), x).view({x.size(0), x.size(1), options_.angles, n_det_});
}

torch::Tensor CtOperator::adjoint(const torch::Tensor& y) const {
  check_measurement(y);
  return apply(matrix(y, true), y).view({y.size(0), y.size(1), H_, W_});
}

torch::Tensor CtOperator::fbp(const torch::Tensor& y) const {
  check_measurement(y);
  // Band-limited ramp on [-n_det + 1, n_det - 1], circular convolution on >= 2 n_det samples.
  int64_t L = 1;
  while (L < 2 * n_det_) L *= 2;
  auto n = torch::arange(L, torch::kDouble);
  n = torch::where(n < L / 2, n, n - L);  // signed offsets
  auto odd = torch::remainder(n, 2).ne(0);
  auto h = torch::where(odd, -1.0 / (kPi * kPi * n.square()), torch::zeros_like(n));
  h.index_put_({0}, 0.25);
  auto Hf = torch::fft::rfft(h).to(y.device());
  auto q = torch::fft::irfft(torch::fft::rfft(y, L, -1) * Hf, L, -1).narrow(-1, 0, n_det_).to(y.scalar_type());
  return adjoint(q.contiguous()) * (kPi / static_cast<double>(options_.angles));
}

std::string CtOperator::describe() const {
  const auto& s = image_shape();
  return str_cat("ct(parallel beam, ", options_.angles, " angles in [", option_value(options_.angle_min), ", ",
                 option_value(options_.angle_max), ") deg, ", n_det_, " detectors, image ", s[0], "x", s[1], "x", s[2],
                 ", sigma_y=", option_value(noise().sigma_y), ")");
}

OperatorEntry ct_entry() {
  return make_operator_entry<CtOperator>(
      "ct", "y = parallel-beam Radon sinogram (sparse matrix, exact adjoint; sparse-view or limited-angle) + FBP",
      /*linear=*/true);
}

}  // namespace ipbench
