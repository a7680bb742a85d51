// Tests for metrics/: known values, an independent SSIM reference, NaN isolation, the registry.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/rng.h"
#include "metrics/feature_metric.h"
#include "metrics/image_metrics.h"
#include "metrics/metric.h"

using namespace ipbench;
using Catch::Matchers::WithinAbs;

namespace {

/// Uniform images in [lo, hi] on the [-1, 1] scale, keyed.
torch::Tensor random_images(at::IntArrayRef shape, uint64_t key, double lo = -1.0, double hi = 1.0) {
  return lo + (hi - lo) * keyed_uniform(shape, key, torch::kDouble);
}

MetricInput images(const torch::Tensor& x_hat, const torch::Tensor& x_true) {
  MetricInput in;
  in.x_hat = x_hat;
  in.x_true = x_true;
  return in;
}

/// SSIM of one [C, H, W] pair by direct loops in double: an independent reference for ssim_metric.
double reference_ssim(const torch::Tensor& a, const torch::Tensor& b) {
  const auto x = to_unit_range(a).contiguous(), y = to_unit_range(b).contiguous();
  const int64_t channels = x.size(0), h = x.size(1), w = x.size(2);
  int64_t n = std::min<int64_t>({11, h, w});
  if (n % 2 == 0) --n;
  std::vector<double> g(n);
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) total += g[i] = std::exp(-std::pow(i - (n - 1) / 2.0, 2) / (2 * 1.5 * 1.5));
  for (double& v : g) v /= total;
  const auto px = x.accessor<double, 3>(), py = y.accessor<double, 3>();
  const double c1 = 1e-4, c2 = 9e-4;
  double sum_channels = 0.0;
  for (int64_t c = 0; c < channels; ++c) {
    double sum_map = 0.0;
    for (int64_t i = 0; i + n <= h; ++i) {
      for (int64_t j = 0; j + n <= w; ++j) {
        double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
        for (int64_t p = 0; p < n; ++p) {
          for (int64_t q = 0; q < n; ++q) {
            const double wt = g[p] * g[q], u = px[c][i + p][j + q], v = py[c][i + p][j + q];
            mx += wt * u;
            my += wt * v;
            sxx += wt * u * u;
            syy += wt * v * v;
            sxy += wt * u * v;
          }
        }
        const double vx = sxx - mx * mx, vy = syy - my * my, cxy = sxy - mx * my;
        sum_map += (2 * mx * my + c1) * (2 * cxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2));
      }
    }
    sum_channels += sum_map / static_cast<double>((h - n + 1) * (w - n + 1));
  }
  return sum_channels / static_cast<double>(channels);
}

}  // namespace

TEST_CASE("metrics: identical images: l1 0, psnr +inf, ssim 1", "[metrics]") {
  const auto x = random_images({3, 2, 16, 16}, 1);
  const auto in = images(x, x);
  const auto l1 = l1_metric(in), psnr = psnr_metric(in), ssim = ssim_metric(in);
  for (const auto& t : {l1, psnr, ssim}) {
    CHECK(t.dtype() == torch::kDouble);
    CHECK(t.device().is_cpu());
    CHECK(t.sizes() == at::IntArrayRef({3}));
  }
  for (int64_t b = 0; b < 3; ++b) {
    CHECK(l1[b].item<double>() == 0.0);
    CHECK(std::isinf(psnr[b].item<double>()));
    CHECK(psnr[b].item<double>() > 0);
    CHECK_THAT(ssim[b].item<double>(), WithinAbs(1.0, 1e-12));
  }
}

TEST_CASE("metrics: constant offset 0.1 on [0, 1]: l1 0.1, psnr 20 dB", "[metrics]") {
  const auto truth = random_images({1, 3, 8, 8}, 2, -0.6, 0.6);
  const auto x = (truth + 0.2).repeat({2, 1, 1, 1});  // 0.2 on [-1, 1] is 0.1 on [0, 1]
  const auto in = images(x, truth);                  // truth broadcast over the batch
  const auto l1 = l1_metric(in), psnr = psnr_metric(in);
  for (int64_t b = 0; b < 2; ++b) {
    CHECK_THAT(l1[b].item<double>(), WithinAbs(0.1, 1e-12));
    CHECK_THAT(psnr[b].item<double>(), WithinAbs(20.0, 1e-9));
  }
}

TEST_CASE("metrics: images are clamped to [-1, 1] before comparison", "[metrics]") {
  const auto truth = torch::ones({1, 1, 4, 4}, torch::kDouble);
  const auto in = images(torch::full({1, 1, 4, 4}, 3.0, torch::kFloat), truth);
  CHECK(l1_metric(in)[0].item<double>() == 0.0);
  const auto below = images(torch::full({1, 1, 4, 4}, -5.0), truth);
  CHECK_THAT(l1_metric(below)[0].item<double>(), WithinAbs(1.0, 1e-15));
}

TEST_CASE("metrics: ssim matches a direct double-loop reference", "[metrics][ssim]") {
  // 13 x 12 uses the full 11 x 11 window (3 x 2 valid positions); 7 x 8 shrinks it to 7 x 7.
  for (auto shape : {std::vector<int64_t>{2, 2, 13, 12}, std::vector<int64_t>{2, 3, 7, 8}}) {
    const auto truth = random_images({1, shape[1], shape[2], shape[3]}, 3);
    const auto x = (truth + 0.3 * keyed_normal(shape, 4, torch::kDouble)).to(torch::kFloat);
    const auto ssim = ssim_metric(images(x, truth));
    for (int64_t b = 0; b < 2; ++b) {
      const double ref = reference_ssim(x[b].to(torch::kDouble), truth[0]);
      INFO("shape " << at::IntArrayRef(shape) << " sample " << b << " reference " << ref);
      CHECK(ref < 0.99);
      CHECK_THAT(ssim[b].item<double>(), WithinAbs(ref, 1e-12));
    }
  }
}

TEST_CASE("metrics: ssim is symmetric and below 1 for noisy images", "[metrics][ssim]") {
  const auto a = random_images({1, 3, 24, 20}, 5);
  const auto b = (a + 0.1 * keyed_normal({1, 3, 24, 20}, 6, torch::kDouble)).clamp(-1, 1);
  const double ab = ssim_metric(images(a, b))[0].item<double>();
  const double ba = ssim_metric(images(b, a))[0].item<double>();
  CHECK_THAT(ab, WithinAbs(ba, 1e-14));
  CHECK(ab < 1.0);
  CHECK(ab > 0.0);
  const auto noisier = (a + 0.5 * keyed_normal({1, 3, 24, 20}, 6, torch::kDouble)).clamp(-1, 1);
  CHECK(ssim_metric(images(noisier, a))[0].item<double>() < ab);
}

TEST_CASE("metrics: a non-finite sample gives NaN for itself only", "[metrics]") {
  register_builtin_metrics();
  const auto truth = random_images({1, 1, 12, 12}, 7);
  auto x = random_images({3, 1, 12, 12}, 8);
  const auto clean = x.clone();
  x[1][0][3][4] = std::nan("");
  x[2][0][0][0] = INFINITY;
  const auto y = random_images({1, 5}, 9);
  MetricInput in = images(x, truth);
  in.y = y;
  in.a_x_hat = x.flatten(1).narrow(1, 0, 5);
  MetricInput ref = images(clean.narrow(0, 0, 1), truth);
  ref.y = y;
  ref.a_x_hat = clean.narrow(0, 0, 1).flatten(1).narrow(1, 0, 5);
  for (const auto& name : metric_registry().names()) {  // every registered metric
    if (feature_network(name)) continue;  // needs its network file (tests/test_rescore.cpp)
    INFO(name);
    const auto& entry = metric_registry().get(name);
    const auto v = entry.compute(in);
    CHECK(v[0].item<double>() == entry.compute(ref)[0].item<double>());
    CHECK(std::isfinite(v[0].item<double>()));
    CHECK(std::isnan(v[1].item<double>()));
    CHECK(std::isnan(v[2].item<double>()));
  }
}

TEST_CASE("metrics: residual of a known measurement", "[metrics][residual]") {
  MetricInput in;
  in.y = torch::tensor({1.0, 2.0, 3.0, 4.0}).view({1, 4});
  in.a_x_hat = torch::stack({in.y[0], in.y[0] + torch::tensor({3.0, 4.0, 0.0, 0.0})});
  const auto r = residual_metric(in);
  CHECK(r.sizes() == at::IntArrayRef({2}));
  CHECK(r[0].item<double>() == 0.0);
  CHECK_THAT(r[1].item<double>(), WithinAbs(2.5, 1e-15));  // sqrt(25 / 4)
  // One y per sample, and a complex measurement.
  in.y = in.a_x_hat + torch::tensor({2.0, 0.0}).view({2, 1});
  CHECK_THAT(residual_metric(in)[0].item<double>(), WithinAbs(2.0, 1e-15));  // sqrt(4 * 2^2 / 4)
  CHECK(residual_metric(in)[1].item<double>() == 0.0);
  MetricInput complex;
  complex.y = torch::zeros({1, 2}, torch::kComplexDouble);
  complex.a_x_hat = torch::complex(torch::tensor({{3.0, 0.0}}), torch::tensor({{4.0, 0.0}}));
  CHECK_THAT(residual_metric(complex)[0].item<double>(), WithinAbs(5.0 / std::sqrt(2.0), 1e-15));
  CHECK_THROWS_AS(residual_metric(images(torch::zeros({1, 1, 2, 2}), torch::zeros({1, 1, 2, 2}))), Error);
}

TEST_CASE("metrics: metric registry lists the built-ins with their direction", "[metrics][registry]") {
  register_builtin_metrics();
  register_builtin_metrics();  // idempotent
  const auto& reg = metric_registry();
  CHECK(reg.names() == std::vector<std::string>{"brightness", "centroid", "contrast", "fmnist_feature", "l1",
                                                "pixel_mean", "psnr", "residual", "ssim"});
  CHECK(reg.get("l1").lower_better);
  CHECK_FALSE(reg.get("psnr").lower_better);
  CHECK_FALSE(reg.get("ssim").lower_better);
  CHECK(reg.get("residual").lower_better);
  CHECK(reg.get("psnr").directional);
  for (const char* statistic : {"pixel_mean", "brightness", "contrast", "centroid"}) CHECK_FALSE(reg.get(statistic).directional);
  for (const auto& name : reg.names()) {
    CHECK(reg.get(name).info.name == name);
    CHECK_FALSE(reg.get(name).info.description.empty());
  }
  CHECK_THROWS_WITH(reg.get("lpips"), Catch::Contains("unknown metric 'lpips'"));
}

TEST_CASE("metrics: image statistics of constructed images", "[metrics][statistics]") {
  // Image 0: top half white (u = 1), bottom half black (u = 0), H = 4, W = 3, one channel.
  // Image 1: a single bright row at r = 3 (the last row), rest black.
  auto x = -torch::ones({2, 1, 4, 3}, torch::kDouble);
  x[0].slice(1, 0, 2).fill_(1.0);
  x[1].select(1, 3).fill_(1.0);
  MetricInput in;
  in.x_hat = x;
  const auto mean = pixel_mean_metric(in), bright = brightness_metric(in);
  CHECK_THAT(mean[0].item<double>(), WithinAbs(0.5, 1e-15));
  CHECK_THAT(mean[1].item<double>(), WithinAbs(0.25, 1e-15));
  CHECK(torch::equal(mean, bright));  // one channel: brightness = pixel mean
  const auto contrast = contrast_metric(in);
  CHECK_THAT(contrast[0].item<double>(), WithinAbs(1.0, 1e-15));
  CHECK_THAT(contrast[1].item<double>(), WithinAbs(-0.5, 1e-15));
  const auto centroid = centroid_metric(in);
  CHECK_THAT(centroid[0].item<double>(), WithinAbs(0.5 / 3.0, 1e-15));  // rows 0,1 -> mean row 0.5, / (H-1)
  CHECK_THAT(centroid[1].item<double>(), WithinAbs(1.0, 1e-15));
}

TEST_CASE("metrics: brightness uses BT.601 luma for RGB; statistics ignore x_true; NaN per sample",
          "[metrics][statistics]") {
  auto x = torch::zeros({3, 3, 2, 2}, torch::kDouble);  // u = 0.5 everywhere
  x[1].select(0, 0).fill_(1.0);                           // image 1: red channel u = 1
  x[2].fill_(std::nan(""));
  MetricInput in;
  in.x_hat = x;
  const auto b = brightness_metric(in), m = pixel_mean_metric(in);
  CHECK_THAT(b[0].item<double>(), WithinAbs(0.5, 1e-15));
  CHECK_THAT(b[1].item<double>(), WithinAbs(0.5 + 0.299 * 0.5, 1e-15));
  CHECK_THAT(m[1].item<double>(), WithinAbs(0.5 + 0.5 / 3.0, 1e-15));
  CHECK(std::isnan(b[2].item<double>()));
  CHECK(std::isnan(contrast_metric(in)[2].item<double>()));
  CHECK(std::isnan(centroid_metric(in)[2].item<double>()));
  CHECK_FALSE(std::isnan(centroid_metric(in)[0].item<double>()));
  // Values outside [-1, 1] are clamped as for every metric.
  in.x_hat = torch::full({1, 1, 2, 2}, 5.0, torch::kDouble);
  CHECK_THAT(pixel_mean_metric(in)[0].item<double>(), WithinAbs(1.0, 1e-15));
}
