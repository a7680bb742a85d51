#pragma once
// `gaussian`: a Gaussian prior N(mu, Sigma) with a closed-form denoiser.
//
// The covariance is diagonal in one of two orthonormal bases:
//   basis = pixel:    Sigma = diag(v) per pixel;
//                     D(x, sigma) = mu + v / (v + sigma^2) * (x - mu)
//   basis = fourier:  Sigma = F^H diag(S) F with F the orthonormal 2-D DFT of each channel (a
//                     stationary prior with power spectrum S, indexed like torch::fft::fft2's output);
//                     D(x, sigma) = mu + Re IFFT2_ortho( S / (S + sigma^2) * FFT2_ortho(x - mu) )
// Both are the exact posterior mean E[x0 | x0 + sigma n = x], so Tweedie's formula
// D = x + sigma^2 grad log p_sigma(x) holds with p_sigma = N(mu, Sigma + sigma^2 I).
// A real covariance needs S[k] = S[-k] (true for spectra fitted from real images and flat spectra);
// otherwise taking the real part uses the symmetrized spectrum (S[k] + S[-k]) / 2 in effect.
//
// Fitting (option `data`): mu = per-pixel mean; pixel: v = per-pixel variance (population, 1/N);
// fourier: S = mean_n |FFT2_ortho(x_n - mu)|^2 per channel and frequency.
// D is differentiable in x; no random numbers.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/options.h"
#include "models/denoiser.h"

namespace ipbench {

struct GaussianPriorOptions {
  /// Basis in which the covariance is diagonal: "pixel" or "fourier" (stationary, power spectrum).
  std::string basis = "pixel";
  /// Mean of every pixel when no data is given (images live in [-1, 1]).
  double mean = 0.0;
  /// Variance of every pixel (pixel) or flat power spectrum value (fourier) when no data is given; > 0.
  double variance = 1.0;
  /// Dataset source to fit the mean and the variance / spectrum; empty = use mean, variance and shape.
  std::string data = "";
  /// With data: number of images used for the fit (a keyed subset, seed 0); 0 = all.
  int64_t max_images = 0;
  /// Without data: the image shape C,H,W; empty = the benchmark's image shape (PriorContext).
  std::vector<int64_t> shape = {};

  template <class F>
  void fields(F&& f) {
    f("basis", basis, "covariance basis: pixel | fourier");
    f("mean", mean, "pixel mean when no data is given");
    f("variance", variance, "pixel variance / flat spectrum when no data is given, > 0");
    f("data", data, "dataset source to fit mean and variance (empty = none)");
    f("max_images", max_images, "images used by the fit, >= 0 (0 = all)");
    f("shape", shape, "image shape C,H,W when no data (empty = benchmark's)");
  }
  void validate() const;
};

class GaussianPrior : public Denoiser {
 public:
  enum class Basis { kPixel, kFourier };

  /// mean and variance (pixel) or power spectrum (fourier), both [C, H, W] with variance >= 0.
  /// Kept in their dtype and device; predict() converts to x's when they differ.
  GaussianPrior(const torch::Tensor& mean, const torch::Tensor& variance, Basis basis);
  /// Fits from images [N, C, H, W] (see the header comment); computed in float64, stored as `dtype`.
  static std::shared_ptr<GaussianPrior> fit(const torch::Tensor& images, Basis basis,
                                            torch::ScalarType dtype = torch::kFloat);
  /// Builds from options: fitted to load_images(data) when data is set (mean, variance and shape are
  /// then unused: the registry's factory rejects a config that sets them), constant otherwise.
  static std::shared_ptr<GaussianPrior> from_options(const GaussianPriorOptions& options, const PriorContext& ctx);

  Prediction predict(const torch::Tensor& x, const torch::Tensor& sigma) const override;
  std::vector<int64_t> image_shape() const override { return mean_.sizes().vec(); }
  std::string describe() const override;

  Basis basis() const { return basis_; }
  const torch::Tensor& mean() const { return mean_; }
  /// Per-pixel variance (pixel) or power spectrum S (fourier), [C, H, W].
  const torch::Tensor& variance() const { return variance_; }

 private:
  torch::Tensor mean_, variance_;
  Basis basis_;
  std::string source_ = "tensor";
};

/// "pixel" / "fourier"; Error for anything else.
GaussianPrior::Basis parse_gaussian_basis(const std::string& name);

}  // namespace ipbench
