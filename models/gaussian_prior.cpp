// `gaussian` prior: closed-form posterior mean in the pixel or the Fourier basis (see gaussian_prior.h).
#include "models/gaussian_prior.h"

#include "core/rng.h"
#include "models/prior_util.h"

namespace ipbench {

namespace {
const std::vector<int64_t> kSpatialDims = {-2, -1};

torch::Tensor fft2_ortho(const torch::Tensor& x) { return torch::fft::fft2(x, c10::nullopt, kSpatialDims, "ortho"); }
torch::Tensor ifft2_ortho(const torch::Tensor& x) { return torch::fft::ifft2(x, c10::nullopt, kSpatialDims, "ortho"); }

const char* basis_name(GaussianPrior::Basis b) { return b == GaussianPrior::Basis::kPixel ? "pixel" : "fourier"; }
}  // namespace

void GaussianPriorOptions::validate() const {
  const char* o = "GaussianPriorOptions";
  check_option(basis == "pixel" || basis == "fourier", o, "basis", basis, "basis in {pixel, fourier}");
  check_option(variance > 0, o, "variance", variance, "variance > 0");
  check_option(max_images >= 0, o, "max_images", max_images, "max_images >= 0");
  bool shape_ok = shape.empty() || shape.size() == 3;
  for (int64_t v : shape) shape_ok = shape_ok && v > 0;
  check_option(shape_ok, o, "shape", shape, "shape is empty or C,H,W with positive values");
}

GaussianPrior::Basis parse_gaussian_basis(const std::string& name) {
  if (name == "pixel") return GaussianPrior::Basis::kPixel;
  if (name == "fourier") return GaussianPrior::Basis::kFourier;
  throw Error(str_cat("gaussian prior: unknown basis '", name, "' (pixel | fourier)"));
}

GaussianPrior::GaussianPrior(const torch::Tensor& mean, const torch::Tensor& variance, Basis basis)
    : basis_(basis) {
  require(mean.defined() && variance.defined() && mean.dim() == 3 && mean.sizes() == variance.sizes(),
          "gaussian prior: mean and variance must both be [C, H, W] tensors of one shape");
  require(mean.is_floating_point() && variance.is_floating_point(), "gaussian prior: mean and variance must be floating");
  torch::NoGradGuard no_grad;
  require(variance.min().item<double>() >= 0, "gaussian prior: variance/spectrum must be >= 0");
  mean_ = mean.detach().contiguous();
  variance_ = variance.detach().to(mean.options()).contiguous();
}

std::shared_ptr<GaussianPrior> GaussianPrior::fit(const torch::Tensor& images, Basis basis, torch::ScalarType dtype) {
  require(images.defined() && images.dim() == 4 && images.size(0) >= 1,
          "gaussian prior: fit needs a non-empty [N, C, H, W] tensor");
  torch::NoGradGuard no_grad;
  const torch::Tensor x = images.to(torch::kDouble);
  const torch::Tensor mu = x.mean(0);
  torch::Tensor var;
  if (basis == Basis::kPixel) {
    var = (x - mu).square().mean(0);  // two passes: centered before squaring
  } else {
    var = fft2_ortho(x - mu).abs().square().mean(0);
  }
  return std::make_shared<GaussianPrior>(mu.to(dtype), var.to(dtype), basis);
}

std::shared_ptr<GaussianPrior> GaussianPrior::from_options(const GaussianPriorOptions& options,
                                                           const PriorContext& ctx) {
  const Basis basis = parse_gaussian_basis(options.basis);
  std::shared_ptr<GaussianPrior> prior;
  if (!options.data.empty()) {
    torch::Tensor images = load_prior_images(ctx, options.data, "gaussian prior");
    images = select_images(images, options.max_images, true, derive_key(hash_string("prior.gaussian.subset"), 0));
    prior = fit(images, basis, ctx.dtype);
    prior->source_ = options.data;
  } else {
    const auto shape = resolve_image_shape(options.shape, ctx, "gaussian prior");
    const auto opts = torch::TensorOptions().dtype(ctx.dtype);
    prior = std::make_shared<GaussianPrior>(torch::full(shape, options.mean, opts),
                                            torch::full(shape, options.variance, opts), basis);
    prior->source_ = str_cat("mean ", options.mean, ", variance ", options.variance);
  }
  prior->mean_ = prior->mean_.to(ctx.device);
  prior->variance_ = prior->variance_.to(ctx.device);
  return prior;
}

Prediction GaussianPrior::predict(const torch::Tensor& x, const torch::Tensor& sigma) const {
  check_denoiser_input(x, image_shape(), "gaussian prior");
  const torch::Tensor s2 = sigma_per_sample(x, sigma).square();  // [B, 1, 1, 1]
  const torch::Tensor mu = mean_.to(x.options());
  const torch::Tensor v = variance_.to(x.options());
  const torch::Tensor shrink = v / (v + s2);  // [B, C, H, W]
  if (basis_ == Basis::kPixel) return {mu + shrink * (x - mu), torch::Tensor()};
  return {mu + torch::real(ifft2_ortho(shrink * fft2_ortho(x - mu))), torch::Tensor()};
}

std::string GaussianPrior::describe() const {
  return str_cat("gaussian: ", basis_name(basis_), " basis ", shape_str(mean_.sizes()), " (", source_, ")");
}

}  // namespace ipbench
