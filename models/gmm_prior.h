#pragma once
// `gmm`: a Gaussian-mixture prior with diagonal components and a closed-form denoiser.
//
//   p(x0) = sum_k pi_k N(x0; mu_k, diag(v_k)),            pi [K], mu and v [K, C, H, W]
//   D(x, sigma) = sum_k r_k(x) [ mu_k + v_k / (v_k + sigma^2) * (x - mu_k) ]
//   r = softmax_k( log pi_k + log N(x; mu_k, diag(v_k + sigma^2)) )
// the exact posterior mean under x = x0 + sigma n. The responsibilities use a stable softmax over the
// log densities and everything is vectorized over the K components and the batch (memory B*K*C*H*W).
//
// Fitting (option `data`): deterministic EM in float64 over chunks of images. Means start at K
// distinct training images drawn with KeyedGenerator(derive_key(hash_string("prior.gmm.init"), seed)),
// variances at the data's per-pixel variance, weights at 1/K; every M-step floors the variances at
// min_variance. A component that loses all its mass keeps its previous parameters.
// D is differentiable in x; no random numbers are drawn when denoising.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/options.h"
#include "models/denoiser.h"

namespace ipbench {

struct GmmPriorOptions {
  /// Number of mixture components K, >= 1.
  int64_t components = 8;
  /// Dataset source the mixture is fitted to (through PriorContext::load_images).
  std::string data = "fashion-mnist:train";
  /// Number of training images used by EM (a keyed subset); 0 = all. Bounds the fit's cost.
  int64_t max_images = 10000;
  /// EM iterations, >= 1; 20 is enough for a usable (not converged) mixture of image data.
  int64_t em_iterations = 20;
  /// Floor on every component variance, > 0; keeps degenerate pixels (constant borders) finite.
  double min_variance = 1e-3;
  /// Seed of the image subset and of the initial means.
  int64_t seed = 0;

  template <class F>
  void fields(F&& f) {
    f("components", components, "mixture components K, >= 1");
    f("data", data, "dataset source the mixture is fitted to");
    f("max_images", max_images, "images used by EM, >= 0 (0 = all)");
    f("em_iterations", em_iterations, "EM iterations, >= 1");
    f("min_variance", min_variance, "floor on component variances, > 0");
    f("seed", seed, "seed of the image subset and the initial means");
  }
  void validate() const;
};

struct GmmFitOptions {
  int64_t components = 8;
  int64_t em_iterations = 20;
  double min_variance = 1e-3;
  uint64_t init_key = 0;
  int64_t chunk = 4096;  ///< images per E-step chunk (bounds float64 memory)
};

class GmmPrior : public Denoiser {
 public:
  /// weights [K] (> 0, normalized here), means and variances [K, C, H, W] (variances > 0).
  GmmPrior(const torch::Tensor& weights, const torch::Tensor& means, const torch::Tensor& variances);
  /// Deterministic EM on images [N, C, H, W] (N >= components); parameters stored as `dtype`.
  static std::shared_ptr<GmmPrior> fit(const torch::Tensor& images, const GmmFitOptions& options,
                                       torch::ScalarType dtype = torch::kFloat);
  static std::shared_ptr<GmmPrior> from_options(const GmmPriorOptions& options, const PriorContext& ctx);

  Prediction predict(const torch::Tensor& x, const torch::Tensor& sigma) const override;
  std::vector<int64_t> image_shape() const override { return means_.sizes().slice(1).vec(); }
  std::string describe() const override;

  int64_t num_components() const { return means_.size(0); }
  const torch::Tensor& weights() const { return weights_; }
  const torch::Tensor& means() const { return means_; }
  const torch::Tensor& variances() const { return variances_; }
  /// Responsibilities r [B, K] of x at noise level sigma (rows sum to 1).
  torch::Tensor responsibilities(const torch::Tensor& x, const torch::Tensor& sigma) const;

 private:
  torch::Tensor weights_, means_, variances_;
  std::string source_ = "tensor";
};

}  // namespace ipbench
