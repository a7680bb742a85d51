// `empirical` prior: the posterior mean of a finite training set (see empirical_prior.h).
#include "models/empirical_prior.h"

#include "core/rng.h"
#include "models/prior_util.h"

namespace ipbench {

void EmpiricalPriorOptions::validate() const {
  const char* o = "EmpiricalPriorOptions";
  check_option(!data.empty(), o, "data", data, "data is a dataset source (non-empty)");
  check_option(max_images >= 0, o, "max_images", max_images, "max_images >= 0");
  check_option(subset == "first" || subset == "keyed", o, "subset", subset, "subset in {first, keyed}");
  check_option(chunk >= 0, o, "chunk", chunk, "chunk >= 0");
}

EmpiricalPrior::EmpiricalPrior(const torch::Tensor& images, int64_t chunk) : chunk_(chunk) {
  require(images.defined() && images.dim() == 4 && images.size(0) >= 1 && images.is_floating_point(),
          "empirical prior: images must be a non-empty floating [N, C, H, W] tensor");
  require(chunk >= 0, "empirical prior: chunk = ", chunk, ". Violated: chunk >= 0");
  torch::NoGradGuard no_grad;
  shape_ = images.sizes().slice(1).vec();
  images_ = images.detach().reshape({images.size(0), -1}).contiguous();
  half_norm_ = 0.5 * images_.square().sum(1);
}

std::shared_ptr<EmpiricalPrior> EmpiricalPrior::from_options(const EmpiricalPriorOptions& options,
                                                             const PriorContext& ctx) {
  torch::Tensor images = load_prior_images(ctx, options.data, "empirical prior");
  const uint64_t key = derive_key(hash_string("prior.empirical.subset"), static_cast<uint64_t>(options.subset_seed));
  images = select_images(images, options.max_images, options.subset == "keyed", key);
  auto prior = std::make_shared<EmpiricalPrior>(images.to(ctx.device, ctx.dtype), options.chunk);
  prior->source_ = options.data;
  return prior;
}

torch::Tensor EmpiricalPrior::logits(const torch::Tensor& xf, const torch::Tensor& inv_s2, int64_t begin,
                                     int64_t len) const {
  // (<x, x_n> - ||x_n||^2/2) / sigma^2: one matmul for the whole batch and chunk.
  const torch::Tensor imgs = images_.narrow(0, begin, len).to(xf.options());
  const torch::Tensor hn = half_norm_.narrow(0, begin, len).to(xf.options());
  return (xf.matmul(imgs.t()) - hn.unsqueeze(0)) * inv_s2;
}

torch::Tensor EmpiricalPrior::predict_chunked(const torch::Tensor& xf, const torch::Tensor& inv_s2) const {
  // Streaming log-sum-exp: keep the running max m, sum s = sum exp(l - m) and acc = sum exp(l - m) x_n.
  const int64_t N = images_.size(0);
  torch::Tensor m, s, acc;
  for (int64_t begin = 0; begin < N; begin += chunk_) {
    const int64_t len = std::min(chunk_, N - begin);
    const torch::Tensor l = logits(xf, inv_s2, begin, len);
    const torch::Tensor imgs = images_.narrow(0, begin, len).to(xf.options());
    const torch::Tensor m_chunk = std::get<0>(l.max(1, /*keepdim=*/true));
    const torch::Tensor m_new = m.defined() ? torch::maximum(m, m_chunk) : m_chunk;
    const torch::Tensor e = (l - m_new).exp();
    if (m.defined()) {
      const torch::Tensor scale = (m - m_new).exp();
      s = s * scale + e.sum(1, true);
      acc = acc * scale + e.matmul(imgs);
    } else {
      s = e.sum(1, true);
      acc = e.matmul(imgs);
    }
    m = m_new;
  }
  return acc / s;
}

torch::Tensor EmpiricalPrior::weights(const torch::Tensor& x, const torch::Tensor& sigma) const {
  check_denoiser_input(x, shape_, "empirical prior");
  const torch::Tensor inv_s2 = sigma_per_sample(x, sigma).reshape({-1, 1}).square().reciprocal();
  return torch::softmax(logits(x.reshape({x.size(0), -1}), inv_s2, 0, images_.size(0)), 1);
}

Prediction EmpiricalPrior::predict(const torch::Tensor& x, const torch::Tensor& sigma) const {
  check_denoiser_input(x, shape_, "empirical prior");
  const torch::Tensor xf = x.reshape({x.size(0), -1});
  const torch::Tensor inv_s2 = sigma_per_sample(x, sigma).reshape({-1, 1}).square().reciprocal();
  torch::Tensor out;
  if (chunk_ > 0 && chunk_ < images_.size(0)) {
    out = predict_chunked(xf, inv_s2);
  } else {
    const torch::Tensor w = torch::softmax(logits(xf, inv_s2, 0, images_.size(0)), 1);
    out = w.matmul(images_.to(xf.options()));
  }
  return {out.reshape(x.sizes()), torch::Tensor()};
}

std::string EmpiricalPrior::describe() const {
  return str_cat("empirical: ", images_.size(0), " images ", shape_str(shape_), " from '", source_, "'",
                 chunk_ > 0 ? str_cat(", chunk ", chunk_) : std::string());
}

}  // namespace ipbench
