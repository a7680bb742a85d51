// `gmm` prior: closed-form mixture posterior mean and a deterministic EM fit (see gmm_prior.h).
#include "models/gmm_prior.h"

#include <cmath>

#include "core/rng.h"
#include "models/prior_util.h"

namespace ipbench {

namespace {
constexpr double kLog2Pi = 1.8378770664093453;  // log(2 pi)

// Calls fn(begin, len) for consecutive row chunks of [0, n).
template <class Fn>
void for_chunks(int64_t n, int64_t chunk, Fn&& fn) {
  for (int64_t begin = 0; begin < n; begin += chunk) fn(begin, std::min(chunk, n - begin));
}

// Per-pixel mean and (population) variance of X [N, D], two passes in float64.
std::pair<torch::Tensor, torch::Tensor> pixel_moments(const torch::Tensor& X, int64_t chunk) {
  const int64_t N = X.size(0);
  auto mean = torch::zeros({X.size(1)}, torch::kDouble);
  for_chunks(N, chunk, [&](int64_t b, int64_t n) { mean += X.narrow(0, b, n).to(torch::kDouble).sum(0); });
  mean /= static_cast<double>(N);
  auto var = torch::zeros_like(mean);
  for_chunks(N, chunk, [&](int64_t b, int64_t n) {
    var += (X.narrow(0, b, n).to(torch::kDouble) - mean).square().sum(0);
  });
  return {mean, var / static_cast<double>(N)};
}

// Sufficient statistics of one E-step: Nk [K], S1 = sum r x [K, D], S2 = sum r x^2 [K, D].
struct EmStats {
  torch::Tensor nk, s1, s2;
};

EmStats e_step(const torch::Tensor& X, const torch::Tensor& log_pi, const torch::Tensor& mu,
               const torch::Tensor& var, int64_t chunk) {
  const torch::Tensor prec = var.reciprocal();                                          // [K, D]
  const torch::Tensor cst = (mu.square() * prec).sum(1) + var.log().sum(1) + mu.size(1) * kLog2Pi;  // [K]
  EmStats st{torch::zeros({mu.size(0)}, torch::kDouble), torch::zeros_like(mu), torch::zeros_like(mu)};
  for_chunks(X.size(0), chunk, [&](int64_t b, int64_t n) {
    const torch::Tensor xc = X.narrow(0, b, n).to(torch::kDouble);
    const torch::Tensor x2 = xc.square();
    // sum_d (x - mu)^2 / v expanded into matmuls: no [n, K, D] tensor.
    const torch::Tensor quad = x2.matmul(prec.t()) - 2 * xc.matmul((mu * prec).t()) + cst;  // [n, K]
    const torch::Tensor r = torch::softmax(log_pi - 0.5 * quad, 1);
    st.nk += r.sum(0);
    st.s1 += r.t().matmul(xc);
    st.s2 += r.t().matmul(x2);
  });
  return st;
}

void check_gmm_params(const torch::Tensor& w, const torch::Tensor& mu, const torch::Tensor& v) {
  require(w.defined() && mu.defined() && v.defined() && w.dim() == 1 && mu.dim() == 4 && w.size(0) >= 1 &&
              mu.size(0) == w.size(0) && mu.sizes() == v.sizes(),
          "gmm prior: need weights [K], means and variances [K, C, H, W] (K >= 1)");
  require(w.is_floating_point() && mu.is_floating_point() && v.is_floating_point(),
          "gmm prior: weights, means and variances must be floating");
  require(w.min().item<double>() > 0, "gmm prior: weights must be > 0");
  require(v.min().item<double>() > 0, "gmm prior: variances must be > 0");
}
}  // namespace

void GmmPriorOptions::validate() const {
  const char* o = "GmmPriorOptions";
  check_option(components >= 1, o, "components", components, "components >= 1");
  check_option(!data.empty(), o, "data", data, "data is a dataset source (non-empty)");
  check_option(max_images >= 0, o, "max_images", max_images, "max_images >= 0");
  check_option(em_iterations >= 1, o, "em_iterations", em_iterations, "em_iterations >= 1");
  check_option(min_variance > 0, o, "min_variance", min_variance, "min_variance > 0");
}

GmmPrior::GmmPrior(const torch::Tensor& weights, const torch::Tensor& means, const torch::Tensor& variances) {
  torch::NoGradGuard no_grad;
  check_gmm_params(weights, means, variances);
  means_ = means.detach().contiguous();
  weights_ = (weights.detach() / weights.detach().sum()).to(means_.options());
  variances_ = variances.detach().to(means_.options()).contiguous();
}

std::shared_ptr<GmmPrior> GmmPrior::fit(const torch::Tensor& images, const GmmFitOptions& o, torch::ScalarType dtype) {
  require(images.defined() && images.dim() == 4, "gmm prior: fit needs an [N, C, H, W] tensor");
  const int64_t N = images.size(0), K = o.components;
  require(K >= 1 && N >= K, "gmm prior: fitting ", K, " components needs at least ", K, " images, got ", N);
  TORCH_CHECK(o.em_iterations >= 1 && o.min_variance > 0 && o.chunk >= 1, "gmm fit: invalid GmmFitOptions");
  torch::NoGradGuard no_grad;
  const torch::Tensor X = images.reshape({N, -1}).to(torch::kCPU);
  const auto idx = keyed_subset_indices(N, K, o.init_key);
  torch::Tensor mu = X.index_select(0, torch::tensor(idx, torch::kLong)).to(torch::kDouble);
  torch::Tensor var = pixel_moments(X, o.chunk).second.clamp_min(o.min_variance).expand_as(mu).clone();
  torch::Tensor pi = torch::full({K}, 1.0 / static_cast<double>(K), torch::kDouble);
  for (int64_t it = 0; it < o.em_iterations; ++it) {
    const EmStats st = e_step(X, pi.log(), mu, var, o.chunk);
    const torch::Tensor alive = (st.nk > 1e-8).unsqueeze(1);  // dead components keep their parameters
    const torch::Tensor nk = st.nk.clamp_min(1e-8).unsqueeze(1);
    const torch::Tensor new_mu = st.s1 / nk;
    const torch::Tensor new_var = (st.s2 / nk - new_mu.square()).clamp_min(o.min_variance);
    mu = torch::where(alive, new_mu, mu);
    var = torch::where(alive, new_var, var);
    pi = (st.nk / static_cast<double>(N)).clamp_min(1e-12);
  }
  const auto shape = images.sizes().vec();
  std::vector<int64_t> kshape = {K, shape[1], shape[2], shape[3]};
  return std::make_shared<GmmPrior>(pi.to(dtype), mu.reshape(kshape).to(dtype), var.reshape(kshape).to(dtype));
}

std::shared_ptr<GmmPrior> GmmPrior::from_options(const GmmPriorOptions& options, const PriorContext& ctx) {
  torch::Tensor images = load_prior_images(ctx, options.data, "gmm prior");
  const uint64_t seed = static_cast<uint64_t>(options.seed);
  images = select_images(images, options.max_images, true, derive_key(hash_string("prior.gmm.subset"), seed));
  GmmFitOptions fo;
  fo.components = options.components;
  fo.em_iterations = options.em_iterations;
  fo.min_variance = options.min_variance;
  fo.init_key = derive_key(hash_string("prior.gmm.init"), seed);
  auto fitted = fit(images, fo, ctx.dtype);
  auto prior = std::make_shared<GmmPrior>(fitted->weights_.to(ctx.device), fitted->means_.to(ctx.device),
                                          fitted->variances_.to(ctx.device));
  prior->source_ = options.data;
  return prior;
}

torch::Tensor GmmPrior::responsibilities(const torch::Tensor& x, const torch::Tensor& sigma) const {
  check_denoiser_input(x, image_shape(), "gmm prior");
  const int64_t B = x.size(0), K = num_components();
  const torch::Tensor s2 = sigma_per_sample(x, sigma).reshape({B, 1, 1}).square();
  const torch::Tensor mu = means_.to(x.options()).reshape({1, K, -1});
  const torch::Tensor vt = variances_.to(x.options()).reshape({1, K, -1}) + s2;  // [B, K, D]
  const torch::Tensor diff = x.reshape({B, 1, -1}) - mu;
  const torch::Tensor log_n = -0.5 * (diff.square() / vt + vt.log() + kLog2Pi).sum(-1);  // [B, K]
  return torch::softmax(weights_.to(x.options()).log().unsqueeze(0) + log_n, 1);
}

Prediction GmmPrior::predict(const torch::Tensor& x, const torch::Tensor& sigma) const {
  const int64_t B = x.size(0), K = num_components();
  const torch::Tensor r = responsibilities(x, sigma);  // checks x
  const torch::Tensor s2 = sigma_per_sample(x, sigma).reshape({B, 1, 1}).square();
  const torch::Tensor mu = means_.to(x.options()).reshape({1, K, -1});
  const torch::Tensor v = variances_.to(x.options()).reshape({1, K, -1});
  const torch::Tensor comp = mu + v / (v + s2) * (x.reshape({B, 1, -1}) - mu);  // [B, K, D]
  return {(r.unsqueeze(-1) * comp).sum(1).reshape(x.sizes()), torch::Tensor()};
}

std::string GmmPrior::describe() const {
  return str_cat("gmm: ", num_components(), " diagonal components ", shape_str(image_shape()), " (", source_, ")");
}

}  // namespace ipbench
