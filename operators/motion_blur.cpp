#include "operators/motion_blur.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <vector>

#include "core/error.h"
#include "core/options.h"
#include "core/rng.h"
#include "operators/gaussian_blur.h"

namespace ipbench {

namespace F = torch::nn::functional;

void MotionBlurOptions::validate() const {
  check_option(kernel_size == 0 || (kernel_size >= 1 && kernel_size % 2 == 1), "MotionBlurOptions", "kernel_size",
               kernel_size, "kernel_size odd and >= 1 (or 0 = auto)");
  check_option(std::isfinite(intensity) && intensity >= 0 && intensity < 1, "MotionBlurOptions", "intensity",
               intensity, "0 <= intensity < 1");
  check_option(padding == "reflect" || padding == "circular" || padding == "zeros", "MotionBlurOptions", "padding",
               padding, "padding in {reflect, circular, zeros}");
}

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kEps = 1e-12;

double uniform(KeyedGenerator& g, double lo, double hi) { return lo + (hi - lo) * g.uniform(); }

// Beta(1, b) by inversion.
double beta_1(KeyedGenerator& g, double b) { return 1.0 - std::pow(1.0 - g.uniform(), 1.0 / b); }

// Beta(2, 20): the 2nd smallest of 21 uniforms (order statistics of integer-parameter Betas).
double beta_2_20(KeyedGenerator& g) {
  std::vector<double> u(21);
  for (auto& v : u) v = g.uniform();
  std::nth_element(u.begin(), u.begin() + 1, u.end());
  return u[1];
}

double triangular(KeyedGenerator& g, double a, double c, double b) {
  const double u = g.uniform(), fc = (c - a) / (b - a);
  return u < fc ? a + std::sqrt(u * (b - a) * (c - a)) : b - std::sqrt((1 - u) * (b - a) * (b - c));
}

double sign(double v) { return v > 0 ? 1.0 : (v < 0 ? -1.0 : 0.0); }

// Bilinear splat of the polyline through `path` onto an n x n canvas (points off the canvas are dropped).
void rasterize(const std::vector<std::complex<double>>& path, int64_t n, torch::Tensor& canvas) {
  auto a = canvas.accessor<double, 2>();
  auto splat = [&](std::complex<double> p) {
    const double x = p.real() - 0.5, y = p.imag() - 0.5;  // pixel centres at integer + 0.5
    const auto x0 = static_cast<int64_t>(std::floor(x)), y0 = static_cast<int64_t>(std::floor(y));
    const double fx = x - static_cast<double>(x0), fy = y - static_cast<double>(y0);
    for (int dy = 0; dy <= 1; ++dy)
      for (int dx = 0; dx <= 1; ++dx) {
        const int64_t r = y0 + dy, c = x0 + dx;
        if (r < 0 || r >= n || c < 0 || c >= n) continue;
        a[r][c] += (dx ? fx : 1 - fx) * (dy ? fy : 1 - fy);
      }
  };
  splat(path.front());
  for (size_t i = 1; i < path.size(); ++i) {
    const double len = std::abs(path[i] - path[i - 1]);
    const auto pieces = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(len / 0.25)));
    for (int64_t j = 1; j <= pieces; ++j)
      splat(path[i - 1] + (path[i] - path[i - 1]) * (static_cast<double>(j) / static_cast<double>(pieces)));
  }
}

}  // namespace

torch::Tensor motion_kernel(int64_t kernel_size, double intensity, uint64_t key, int64_t* steps_out) {
  TORCH_CHECK(kernel_size >= 1 && intensity >= 0 && intensity < 1, "motion_kernel: bad arguments");
  KeyedGenerator g(key);
  const int64_t n = 2 * kernel_size;
  const double diag = std::sqrt(2.0) * static_cast<double>(n);
  // Step lengths until the path is long enough (bounded for safety; ~25 / (1 - intensity) expected).
  const double max_len = 0.75 * diag * (g.uniform() + uniform(g, 0, intensity * intensity));
  std::vector<double> steps;
  double total = 0;
  while (total < max_len && steps.size() < 100000) {
    const double s = beta_1(g, 30) * (1 - intensity + kEps) * diag;
    if (s < max_len) {
      steps.push_back(s);
      total += s;
    }
  }
  if (steps.empty()) steps.push_back(0.0);
  // Directions: bounded by a random max angle, keeping the previous sign unless jittered.
  const double max_angle = uniform(g, 0, intensity * kPi);
  const double jitter = beta_2_20(g);
  std::vector<double> angles{uniform(g, -max_angle, max_angle)};
  while (angles.size() < steps.size()) {
    double a = triangular(g, 0, intensity * max_angle, max_angle + kEps);
    a *= g.uniform() < jitter ? -sign(angles.back()) : sign(angles.back());
    angles.push_back(a);
  }
  std::vector<std::complex<double>> path;
  std::complex<double> p(0, 0), mean(0, 0);
  for (size_t i = 0; i < steps.size(); ++i) {
    p += std::polar(steps[i], angles[i]);
    path.push_back(p);
    mean += p;
  }
  mean /= static_cast<double>(path.size());
  const auto rotation = std::polar(1.0, uniform(g, 0, kPi));
  const std::complex<double> centre(static_cast<double>(n) / 2, static_cast<double>(n) / 2);
  for (auto& q : path) q = (q - mean) * rotation + centre;

  auto canvas = torch::zeros({n, n}, torch::kDouble);
  rasterize(path, n, canvas);
  const double radius = std::floor(0.01 * diag);
  if (radius >= 1) {
    auto taps = gaussian_taps(radius, n / 2);
    const int64_t r = (taps.size(0) - 1) / 2;
    auto c = canvas.view({1, 1, n, n});
    c = F::conv2d(c, taps.view({1, 1, -1, 1}), F::Conv2dFuncOptions().padding({r, 0}));
    canvas = F::conv2d(c, taps.view({1, 1, 1, -1}), F::Conv2dFuncOptions().padding({0, r})).view({n, n});
  }
  auto k = torch::avg_pool2d(canvas.view({1, 1, n, n}), {2, 2}).view({kernel_size, kernel_size});
  const double sum = k.sum().item<double>();
  if (!(sum > 0)) {  // the whole path fell off the canvas (never seen): a delta
    k.zero_();
    k[kernel_size / 2][kernel_size / 2] = 1.0;
  } else {
    k = k / sum;
  }
  if (steps_out) *steps_out = static_cast<int64_t>(steps.size());
  return k.contiguous();
}

torch::Tensor depthwise_blur(const torch::Tensor& x, const torch::Tensor& kernel, const std::string& padding) {
  const int64_t C = x.size(1), k = kernel.size(0), r = k / 2;
  F::PadFuncOptions::mode_t mode = torch::kConstant;
  if (padding == "reflect") mode = torch::kReflect;
  if (padding == "circular") mode = torch::kCircular;
  auto padded = F::pad(x, F::PadFuncOptions({r, r, r, r}).mode(mode));
  if (k <= 15) {
    auto w = kernel.view({1, 1, k, k}).expand({C, 1, k, k});
    return F::conv2d(padded, w, F::Conv2dFuncOptions().groups(C));
  }
  // Large kernels (DPS's 61x61 = 3721 taps): the valid correlation of the padded image with k equals
  // the first H x W outputs of the circular correlation on the padded grid, computed with real FFTs
  // (O(log) per pixel instead of k^2; rounding ~1e-7 relative in float32).
  const int64_t Hp = padded.size(2), Wp = padded.size(3);
  auto kp = F::pad(kernel, F::PadFuncOptions({0, Wp - k, 0, Hp - k}));
  const std::vector<int64_t> dims{-2, -1};
  auto spectrum = torch::fft::rfft2(padded, c10::nullopt, dims) * torch::conj(torch::fft::rfft2(kp, c10::nullopt, dims));
  auto full = torch::fft::irfft2(spectrum, std::vector<int64_t>{Hp, Wp}, dims);
  return full.narrow(2, 0, x.size(2)).narrow(3, 0, x.size(3));
}

MotionBlurOperator::MotionBlurOperator(MeasurementOptions noise, Options options, const OperatorContext& ctx)
    : Operator(noise, ctx.image_shape), options_(std::move(options)) {
  require_image_shape(ctx, "motion_blur");
  const int64_t H = ctx.image_shape[1], W = ctx.image_shape[2];
  if (options_.kernel_size > 0) {
    kernel_size_ = options_.kernel_size;
  } else {
    const auto k = static_cast<int64_t>(61.0 * static_cast<double>(std::min(H, W)) / 256.0);
    kernel_size_ = std::max<int64_t>(5, k % 2 == 1 ? k : k - 1);
  }
  require(kernel_size_ <= std::min(H, W), "operator 'motion_blur': kernel_size = ", kernel_size_, " does not fit a ",
          H, "x", W, " image. Violated: kernel_size <= min(H, W)",
          options_.kernel_size == 0 ? " (auto minimum 5; set kernel_size)" : "");
  kernel64_ = motion_kernel(kernel_size_, options_.intensity, derive_key(ctx.key, hash_string("motion_blur")), &steps_);
  kernel_ = kernel64_.to(ctx.device, ctx.dtype);
}

torch::Tensor MotionBlurOperator::forward(const torch::Tensor& x) const {
  check_input(x);
  return depthwise_blur(x, constant_like(kernel_, kernel64_, x), options_.padding);
}

std::string MotionBlurOperator::describe() const {
  const auto& s = image_shape();
  return str_cat("motion_blur(kernel_size=", kernel_size_, ", intensity=", option_value(options_.intensity),
                 ", path steps=", steps_, ", padding=", options_.padding, ", image ", s[0], "x", s[1], "x", s[2],
                 ", sigma_y=", option_value(noise().sigma_y), ")");
}

OperatorEntry motion_blur_entry() {
  return make_operator_entry<MotionBlurOperator>(
      "motion_blur", "y = x blurred by a random motion kernel keyed per item (DPS: kernel 61 at 256, intensity 0.5)",
      /*linear=*/true);
}

}  // namespace ipbench
