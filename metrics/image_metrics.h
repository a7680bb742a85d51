#pragma once
// The built-in per-sample metrics as plain functions (the registry in metric.h wraps them).
//
// Images are compared on [0, 1]: u = (clamp(x, -1, 1) + 1)/2, in float64, on the input's device.
// Every function returns a [B] float64 CPU tensor, one value per sample, and computes no gradients.
// A sample whose x_hat (or, for residual, A(x_hat)) holds a non-finite value gets NaN; the other
// samples are computed as if it were absent. Shapes that do not fit the MetricInput contract are
// caller bugs (TORCH_CHECK); a missing tensor that a metric needs is an ipbench::Error.
#include <torch/torch.h>

#include "metrics/metric.h"

namespace ipbench {

/// (clamp(x, -1, 1) + 1) / 2 in float64.
torch::Tensor to_unit_range(const torch::Tensor& x);

/// Mean absolute error on [0, 1]: mean_j |u_j - v_j| over C*H*W. Lower is better.
torch::Tensor l1_metric(const MetricInput& in);

/// Peak signal-to-noise ratio in dB with data range 1: 10 log10(1 / mse), mse = mean_j (u_j - v_j)^2.
/// An exact reconstruction (mse = 0) gives +inf. Higher is better.
torch::Tensor psnr_metric(const MetricInput& in);

/// Structural similarity (Wang, Bovik, Sheikh, Simoncelli 2004) on [0, 1] (data range 1):
/// K1 = 0.01, K2 = 0.03, C1 = K1^2, C2 = K2^2; local statistics by a normalized separable Gaussian
/// window of sigma 1.5 and size w = min(11, H, W) (minus one when even), applied with 'valid'
/// convolution (no padding); local variances as E[x^2] - E[x]^2 (population form);
/// SSIM map = (2 mu_u mu_v + C1)(2 s_uv + C2) / ((mu_u^2 + mu_v^2 + C1)(s_u^2 + s_v^2 + C2)),
/// averaged over the map's pixels per channel, then over channels (the pytorch_msssim convention,
/// except that it skips filtering along a side shorter than 11 where this shrinks the window).
/// In [-1, 1], 1 for identical images. Higher is better.
torch::Tensor ssim_metric(const MetricInput& in);
/// The SSIM of ssim_metric between images already on [0, 1], [B, C, H, W] each: [B] in their dtype and on
/// their device, differentiable (no NaN handling, no clamping; gallery metrics and `couple learn` use it).
torch::Tensor ssim_unit(const torch::Tensor& u, const torch::Tensor& v);

/// Normalized measurement residual ||y - A(x_hat)||_2 / sqrt(m), m = elements per sample of
/// A(x_hat), in the measurement's units, on the unclamped reconstruction. y ([1 or B, m...]) is
/// broadcast over the batch; complex measurements use |.|. Needs a_x_hat and y. Lower is better.
torch::Tensor residual_metric(const MetricInput& in);

// Image statistics (antithetic paper, Table 2 and Appendix B.6): properties of the reconstruction
// alone, on u = (clamp(x_hat, -1, 1) + 1)/2 in [0, 1]; x_true, y are not used. They are the
// quantities whose expectation a Monte Carlo study estimates, so "lower is better" does not apply.
// For one-channel images brightness equals pixel_mean.

/// Mean of u over all channels and pixels.
torch::Tensor pixel_mean_metric(const MetricInput& in);

/// Mean luma over pixels: 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601) for 3 channels, the channel
/// mean otherwise.
torch::Tensor brightness_metric(const MetricInput& in);

/// Mean of the channel-averaged image over the top floor(H/2) rows minus the mean over the bottom
/// floor(H/2) rows (the middle row of an odd H is in neither half).
torch::Tensor contrast_metric(const MetricInput& in);

/// Vertical centroid of the channel-averaged image g: sum_{r,c} r g[r,c] / sum_{r,c} g[r,c] with
/// 0-based row index r (NaN for an all-black image), divided by H - 1 so it lies in [0, 1].
torch::Tensor centroid_metric(const MetricInput& in);

/// The normalized 1-D Gaussian window used by ssim_metric: exp(-t^2 / (2 sigma^2)) at
/// t = i - (size - 1)/2, i = 0..size-1, divided by its sum (float64, CPU).
torch::Tensor gaussian_window(int64_t size, double sigma);

}  // namespace ipbench
