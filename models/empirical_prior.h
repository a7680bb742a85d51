#pragma once
// `empirical`: the exact optimal (posterior-mean) denoiser of a finite training set.
//
// For training images {x_n}, n = 1..N, the data distribution p = (1/N) sum_n delta(x - x_n) blurred by
// N(0, sigma^2 I) has the posterior mean (Kadkhodaie et al., "Generalization in diffusion models arises
// from geometry-adaptive harmonic representations"; Karras et al. EDM, appendix B.3)
//
//   D(x, sigma) = sum_n w_n(x, sigma) x_n,   w = softmax_n( -||x - x_n||^2 / (2 sigma^2) )
//               = softmax_n( (<x, x_n> - ||x_n||^2 / 2) / sigma^2 )       (||x||^2 cancels in softmax)
//
// The logits of a batch come from ONE matmul [B, D] x [D, N]; the result from [B, N] x [N, D].
// With `chunk` > 0 the N images are processed in chunks with a running (max, sum) log-sum-exp, so the
// [B, N] weights never exist at once; the result is the same up to rounding.
// D is differentiable in x (autograd); no random numbers. Memorizes: as sigma -> 0, D returns the
// nearest training image; as sigma -> inf, their mean.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/options.h"
#include "models/denoiser.h"

namespace ipbench {

struct EmpiricalPriorOptions {
  /// Dataset source string passed to PriorContext::load_images (e.g. "fashion-mnist:train").
  std::string data = "fashion-mnist:train";
  /// Number of training images kept; 0 keeps all. 10000 bounds the cost: O(B N D) per call.
  int64_t max_images = 10000;
  /// Which images are kept when max_images < N: "first" or "keyed" (a deterministic keyed random
  /// subset, indices sorted), keyed by subset_seed.
  std::string subset = "keyed";
  /// Seed of the keyed subset (key = derive_key(hash_string("prior.empirical.subset"), subset_seed)).
  int64_t subset_seed = 0;
  /// Images per chunk of the streaming log-sum-exp (bounds memory to B x chunk weights); 0 = no chunking.
  int64_t chunk = 0;

  template <class F>
  void fields(F&& f) {
    f("data", data, "training images: dataset source for load_images");
    f("max_images", max_images, "number of training images kept, >= 0 (0 = all)");
    f("subset", subset, "which images are kept: first | keyed");
    f("subset_seed", subset_seed, "seed of the keyed subset");
    f("chunk", chunk, "images per chunk of the softmax, >= 0 (0 = no chunking)");
  }
  void validate() const;
};

class EmpiricalPrior : public Denoiser {
 public:
  /// images: [N, C, H, W], N >= 1, floating; kept in their dtype and device. chunk as in the options.
  explicit EmpiricalPrior(const torch::Tensor& images, int64_t chunk = 0);
  /// Loads options.data through ctx.load_images, selects the subset, moves it to ctx.device/ctx.dtype.
  /// Throws Error when the images' [C, H, W] differ from ctx.image_shape (naming both shapes).
  static std::shared_ptr<EmpiricalPrior> from_options(const EmpiricalPriorOptions& options,
                                                      const PriorContext& ctx);

  Prediction predict(const torch::Tensor& x, const torch::Tensor& sigma) const override;
  std::vector<int64_t> image_shape() const override { return shape_; }
  std::string describe() const override;

  int64_t num_images() const { return images_.size(0); }
  /// The training images as [N, C*H*W] (rows in the order used by the weights).
  const torch::Tensor& images() const { return images_; }
  /// The posterior weights w [B, N] (rows sum to 1); for inspection and tests.
  torch::Tensor weights(const torch::Tensor& x, const torch::Tensor& sigma) const;

 private:
  torch::Tensor logits(const torch::Tensor& xf, const torch::Tensor& inv_s2, int64_t begin, int64_t len) const;
  torch::Tensor predict_chunked(const torch::Tensor& xf, const torch::Tensor& inv_s2) const;

  torch::Tensor images_;     // [N, D]
  torch::Tensor half_norm_;  // [N] = ||x_n||^2 / 2
  std::vector<int64_t> shape_;
  int64_t chunk_ = 0;
  std::string source_ = "tensor";
};

}  // namespace ipbench
