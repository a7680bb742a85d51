// The built-in per-sample metrics and the metric registry. See image_metrics.h for the definitions.
#include <cmath>
#include <limits>
#include <mutex>

#include "core/error.h"
#include "metrics/feature_metric.h"
#include "metrics/image_metrics.h"
#include "metrics/metric.h"

namespace ipbench {

namespace {

/// [B] bool: every element of row b is finite.
torch::Tensor finite_rows(const torch::Tensor& x) { return torch::isfinite(x).flatten(1).all(1); }

/// NaN where `ok` is false, as a [B] float64 CPU tensor.
torch::Tensor mask_failed(const torch::Tensor& value, const torch::Tensor& ok) {
  const auto nan = torch::full_like(value, std::numeric_limits<double>::quiet_NaN());
  return torch::where(ok, value, nan).to(torch::kCPU);
}

/// Both images on [0, 1] in float64, [B, C, H, W], with every element of a failed sample set to 0
/// so that no NaN reaches a shared computation.
struct UnitImages {
  torch::Tensor u, v;  ///< reconstruction, ground truth (expanded to B)
  torch::Tensor ok;    ///< [B] bool: both finite
};

UnitImages unit_images(const MetricInput& in) {
  TORCH_CHECK(in.x_hat.defined() && in.x_true.defined(), "metric input needs x_hat and x_true");
  TORCH_CHECK(in.x_hat.dim() == 4, "x_hat must be [B, C, H, W], got ", in.x_hat.sizes());
  TORCH_CHECK(in.x_true.dim() == 4 && in.x_true.sizes().slice(1) == in.x_hat.sizes().slice(1) &&
                  (in.x_true.size(0) == 1 || in.x_true.size(0) == in.x_hat.size(0)),
              "x_true ", in.x_true.sizes(), " does not match x_hat ", in.x_hat.sizes());
  const auto x = in.x_hat.to(torch::kDouble);
  const auto t = in.x_true.to(x.device(), torch::kDouble).expand_as(x);
  UnitImages out;
  out.ok = finite_rows(x).logical_and(finite_rows(t));
  const auto keep = out.ok.view({-1, 1, 1, 1});
  out.u = to_unit_range(torch::where(keep, x, torch::zeros_like(x)));
  out.v = to_unit_range(torch::where(keep, t, torch::zeros_like(t)));
  return out;
}

/// 'valid' separable filtering of every channel with the 1-D window w: [B, C, H, W] -> [B, C, H', W'].
torch::Tensor filter_valid(const torch::Tensor& x, const torch::Tensor& w) {
  const int64_t c = x.size(1), n = w.size(0);
  const auto rows = w.view({1, 1, n, 1}).expand({c, 1, n, 1}).contiguous();
  const auto cols = w.view({1, 1, 1, n}).expand({c, 1, 1, n}).contiguous();
  const std::vector<int64_t> one = {1, 1}, none = {0, 0};
  const auto h = torch::conv2d(x, rows, torch::Tensor(), one, none, one, c);
  return torch::conv2d(h, cols, torch::Tensor(), one, none, one, c);
}

}  // namespace

torch::Tensor to_unit_range(const torch::Tensor& x) { return (x.to(torch::kDouble).clamp(-1.0, 1.0) + 1.0) * 0.5; }

torch::Tensor gaussian_window(int64_t size, double sigma) {
  TORCH_CHECK(size >= 1 && sigma > 0, "gaussian_window(", size, ", ", sigma, ")");
  const auto t = torch::arange(size, torch::kDouble) - 0.5 * static_cast<double>(size - 1);
  const auto g = torch::exp(-t * t / (2.0 * sigma * sigma));
  return g / g.sum();
}

torch::Tensor l1_metric(const MetricInput& in) {
  torch::NoGradGuard no_grad;
  const auto im = unit_images(in);
  return mask_failed((im.u - im.v).abs().flatten(1).mean(1), im.ok);
}

torch::Tensor psnr_metric(const MetricInput& in) {
  torch::NoGradGuard no_grad;
  const auto im = unit_images(in);
  const auto mse = (im.u - im.v).pow(2).flatten(1).mean(1);
  return mask_failed(-10.0 * torch::log10(mse), im.ok);  // log10(0) = -inf: mse 0 gives +inf
}

torch::Tensor ssim_unit(const torch::Tensor& u, const torch::Tensor& v) {
  int64_t size = std::min<int64_t>({11, u.size(2), u.size(3)});
  if (size % 2 == 0) --size;
  const auto w = gaussian_window(size, 1.5).to(u.device(), u.scalar_type());
  const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
  const auto mu_u = filter_valid(u, w), mu_v = filter_valid(v, w);
  const auto var_u = filter_valid(u * u, w) - mu_u * mu_u;
  const auto var_v = filter_valid(v * v, w) - mu_v * mu_v;
  const auto cov = filter_valid(u * v, w) - mu_u * mu_v;
  const auto map = (2.0 * mu_u * mu_v + c1) * (2.0 * cov + c2) /
                   ((mu_u * mu_u + mu_v * mu_v + c1) * (var_u + var_v + c2));
  // Per channel, then over channels; with equal-size channel maps this is the mean over all.
  return map.flatten(2).mean(2).mean(1);
}

torch::Tensor ssim_metric(const MetricInput& in) {
  torch::NoGradGuard no_grad;
  const auto im = unit_images(in);
  return mask_failed(ssim_unit(im.u, im.v), im.ok);
}

torch::Tensor residual_metric(const MetricInput& in) {
  torch::NoGradGuard no_grad;
  require(in.a_x_hat.defined() && in.y.defined(), "metric 'residual' needs the measurement y and A(x_hat)");
  const auto& ax = in.a_x_hat;
  TORCH_CHECK(ax.dim() >= 1 && in.y.dim() == ax.dim() && in.y.sizes().slice(1) == ax.sizes().slice(1) &&
                  (in.y.size(0) == 1 || in.y.size(0) == ax.size(0)),
              "y ", in.y.sizes(), " does not match A(x_hat) ", ax.sizes());
  const auto dtype = (ax.is_complex() || in.y.is_complex()) ? torch::kComplexDouble : torch::kDouble;
  const auto diff = (in.y.to(ax.device(), dtype) - ax.to(dtype)).abs().flatten(1);
  auto ok = finite_rows(diff);
  if (in.x_hat.defined()) ok = ok.logical_and(finite_rows(in.x_hat).to(ok.device()));
  const auto clean = torch::where(ok.view({-1, 1}), diff, torch::zeros_like(diff));
  const double m = static_cast<double>(diff.size(1));
  return mask_failed(torch::sqrt(clean.pow(2).sum(1) / m), ok);
}

namespace {

/// The reconstruction alone on [0, 1] in float64, failed samples zeroed, and which samples are finite.
std::pair<torch::Tensor, torch::Tensor> unit_reconstruction(const MetricInput& in) {
  TORCH_CHECK(in.x_hat.defined() && in.x_hat.dim() == 4, "x_hat must be [B, C, H, W]");
  const auto x = in.x_hat.to(torch::kDouble);
  const auto ok = finite_rows(x);
  return {to_unit_range(torch::where(ok.view({-1, 1, 1, 1}), x, torch::zeros_like(x))), ok};
}

}  // namespace

torch::Tensor pixel_mean_metric(const MetricInput& in) {
  torch::NoGradGuard no_grad;
  const auto [u, ok] = unit_reconstruction(in);
  return mask_failed(u.flatten(1).mean(1), ok);
}

torch::Tensor brightness_metric(const MetricInput& in) {
  torch::NoGradGuard no_grad;
  const auto [u, ok] = unit_reconstruction(in);
  if (u.size(1) != 3) return mask_failed(u.flatten(1).mean(1), ok);
  const auto luma = 0.299 * u.select(1, 0) + 0.587 * u.select(1, 1) + 0.114 * u.select(1, 2);
  return mask_failed(luma.flatten(1).mean(1), ok);
}

torch::Tensor contrast_metric(const MetricInput& in) {
  torch::NoGradGuard no_grad;
  const auto [u, ok] = unit_reconstruction(in);
  const int64_t H = u.size(2), half = H / 2;
  require(half >= 1, "metric 'contrast' needs images at least 2 rows high, got H = ", H);
  const auto g = u.mean(1);  // [B, H, W]
  const auto top = g.slice(1, 0, half).flatten(1).mean(1);
  const auto bottom = g.slice(1, H - half, H).flatten(1).mean(1);
  return mask_failed(top - bottom, ok);
}

torch::Tensor centroid_metric(const MetricInput& in) {
  torch::NoGradGuard no_grad;
  const auto [u, ok] = unit_reconstruction(in);
  const int64_t H = u.size(2);
  const auto rows = u.mean(1).sum(2);  // [B, H]: mass per row
  const auto r = torch::arange(H, rows.options());
  const auto centroid = (rows * r).sum(1) / rows.sum(1);  // 0/0 = NaN for a black image
  return mask_failed(H > 1 ? centroid / static_cast<double>(H - 1) : centroid, ok);
}

Registry<MetricEntry>& metric_registry() {
  static Registry<MetricEntry> registry("metric");
  return registry;
}

void register_builtin_metrics() {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  auto& registry = metric_registry();
  auto add = [&](const char* name, const char* description, bool lower_better,
                 torch::Tensor (*compute)(const MetricInput&), bool directional = true) {
    if (registry.contains(name)) return;  // idempotent
    MetricEntry entry;
    entry.info = {name, description, {}};
    entry.lower_better = lower_better;
    entry.directional = directional;
    entry.compute = compute;
    registry.add(name, std::move(entry));
  };
  add("l1", "mean absolute error on [0, 1] per sample", true, l1_metric);
  add("psnr", "10 log10(1/MSE) in dB on [0, 1] per sample (+inf for an exact match)", false, psnr_metric);
  add("ssim", "SSIM (Wang et al. 2004), 11x11 Gaussian window sigma 1.5, valid, on [0, 1]", false, ssim_metric);
  add("residual", "||y - A(x_hat)||_2 / sqrt(m) in measurement units", true, residual_metric);
  // Image statistics (antithetic paper Table 2): estimands, not errors; lower_better is not meaningful.
  add("pixel_mean", "image statistic: mean pixel value on [0, 1]", false, pixel_mean_metric, false);
  add("brightness", "image statistic: mean BT.601 luma on [0, 1] (= pixel_mean for 1 channel)", false,
      brightness_metric, false);
  add("contrast", "image statistic: mean of the top half minus the bottom half, on [0, 1]", false, contrast_metric,
      false);
  add("centroid", "image statistic: vertical intensity centroid, row / (H - 1) in [0, 1]", false, centroid_metric,
      false);
  // torchscript_feature with the shipped classifier's penultimate layer (metrics/feature_metric.h).
  register_feature_metric("fmnist_feature", FeatureMetricOptions{});
}

std::map<std::string, bool> metric_directions() {
  register_builtin_metrics();
  std::map<std::string, bool> out;
  for (const auto& n : metric_registry().names())
    if (metric_registry().get(n).directional) out[n] = metric_registry().get(n).lower_better;
  return out;
}

}  // namespace ipbench
