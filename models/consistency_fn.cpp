// Consistency-function sources: model folder, probability-flow ODE, Gaussian flow map, TorchScript.
#include "models/consistency_fn.h"

#include <torch/script.h>

#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "core/options.h"
#include "models/consistency.h"
#include "models/gaussian_prior.h"
#include "models/prior_util.h"

namespace ipbench {

namespace {

constexpr const char* kTorchScriptPrefix = "torchscript:";

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

torch::Tensor maybe_clip(const torch::Tensor& f, bool clip) { return clip ? f.clamp(-1.0, 1.0) : f; }

// A trained consistency model from `ipbench distill`.
class ModelConsistency : public ConsistencyFunction {
 public:
  ModelConsistency(std::shared_ptr<ConsistencyModel> model, bool clip, std::string path)
      : model_(std::move(model)), clip_(clip), path_(std::move(path)) {}
  torch::Tensor operator()(const torch::Tensor& x, const torch::Tensor& sigma) const override {
    check_denoiser_input(x, model_->image_shape(), "consistency model");
    return (*model_)(x, sigma, clip_);
  }
  std::vector<int64_t> image_shape() const override { return model_->image_shape(); }
  std::string describe() const override {
    const auto& o = model_->options();
    return str_cat("consistency model '", path_, "' (sigma in [", o.sigma_min, ", ", o.sigma_max, "], sigma_data ",
                   o.sigma_data, clip_ ? ", clip" : "", ")");
  }

 private:
  std::shared_ptr<ConsistencyModel> model_;
  bool clip_;
  std::string path_;
};

// The prior's probability-flow ODE solved with Heun steps.
class OdeConsistency : public ConsistencyFunction {
 public:
  OdeConsistency(std::shared_ptr<const Denoiser> prior, const ConsistencySource& src)
      : prior_(std::move(prior)), src_(src) {}
  torch::Tensor operator()(const torch::Tensor& x, const torch::Tensor& sigma) const override {
    return maybe_clip(probability_flow_ode(*prior_, x, sigma, src_.sigma_min, src_.ode_steps, src_.rho),
                      src_.clip_denoised);
  }
  int64_t nfe_per_call() const override { return 2 * src_.ode_steps; }
  std::vector<int64_t> image_shape() const override { return prior_->image_shape(); }
  std::string describe() const override {
    return str_cat("ode: the prior's probability-flow ODE, ", src_.ode_steps, " Heun steps (rho ", src_.rho,
                   ") to sigma_min ", src_.sigma_min, src_.clip_denoised ? ", clip" : "");
  }

 private:
  std::shared_ptr<const Denoiser> prior_;
  ConsistencySource src_;
};

torch::Tensor fft2_ortho(const torch::Tensor& x) { return torch::fft::fft2(x, c10::nullopt, {-2, -1}, "ortho"); }
torch::Tensor ifft2_ortho(const torch::Tensor& x) { return torch::fft::ifft2(x, c10::nullopt, {-2, -1}, "ortho"); }

// The exact flow map of a Gaussian prior: along the PF-ODE, (x - mu) / sqrt(v + sigma^2) is constant
// per eigen-direction, so f(x, sigma) = mu + sqrt((v + smin^2)/(v + sigma^2)) (x - mu).
class GaussianFlowMap : public ConsistencyFunction {
 public:
  GaussianFlowMap(std::shared_ptr<const GaussianPrior> prior, double sigma_min, bool clip)
      : prior_(std::move(prior)), smin_(sigma_min), clip_(clip) {}
  torch::Tensor operator()(const torch::Tensor& x, const torch::Tensor& sigma) const override {
    check_denoiser_input(x, prior_->image_shape(), "gaussian flow map");
    const torch::Tensor s2 = sigma_per_sample(x, sigma).square();
    const torch::Tensor mu = prior_->mean().to(x.options());
    const torch::Tensor v = prior_->variance().to(x.options());
    const torch::Tensor ratio = ((v + smin_ * smin_) / (v + s2)).sqrt();
    torch::Tensor f = prior_->basis() == GaussianPrior::Basis::kPixel
                          ? mu + ratio * (x - mu)
                          : mu + torch::real(ifft2_ortho(ratio * fft2_ortho(x - mu)));
    return maybe_clip(f, clip_);
  }
  std::vector<int64_t> image_shape() const override { return prior_->image_shape(); }
  std::string describe() const override {
    return str_cat("gaussian: closed-form flow map of the gaussian prior to sigma_min ", smin_, clip_ ? ", clip" : "");
  }

 private:
  std::shared_ptr<const GaussianPrior> prior_;
  double smin_;
  bool clip_;
};

// A scripted f(x, sigma).
class TorchScriptConsistency : public ConsistencyFunction {
 public:
  TorchScriptConsistency(const std::string& path, std::vector<int64_t> shape, bool clip, torch::Device device)
      : path_(path), shape_(std::move(shape)), clip_(clip) {
    require(std::filesystem::is_regular_file(path), "consistency torchscript:", path, ": no such file");
    try {
      module_ = torch::jit::load(path, device);
    } catch (const std::exception& e) {
      const std::string what = e.what();
      throw Error(str_cat("consistency torchscript:", path, ": cannot load (",
                          what.substr(0, what.find("Exception raised from")), ")"));
    }
    module_.eval();
    for (const auto& p : module_.parameters()) {
      dtype_ = p.scalar_type();
      device_ = p.device();
      has_params_ = true;
      break;
    }
  }
  torch::Tensor operator()(const torch::Tensor& x, const torch::Tensor& sigma) const override {
    check_denoiser_input(x, shape_, "consistency torchscript");
    const auto opts = has_params_ ? torch::TensorOptions().dtype(dtype_).device(device_) : x.options();
    const torch::Tensor s = sigma_per_sample(x, sigma).reshape({-1});
    torch::Tensor f;
    try {
      f = module_.forward({x.to(opts), s.to(opts)}).toTensor().to(x.options());
    } catch (const std::exception& e) {
      const std::string what = e.what();
      throw Error(str_cat("consistency torchscript:", path_, ": forward failed: ",
                          what.substr(0, what.find("Exception raised from"))));
    }
    require(f.sizes() == x.sizes(), "consistency torchscript:", path_, ": forward returned ", shape_str(f.sizes()),
            " for an input of ", shape_str(x.sizes()));
    return maybe_clip(f, clip_);
  }
  std::vector<int64_t> image_shape() const override { return shape_; }
  std::string describe() const override {
    return str_cat("torchscript consistency function '", path_, "'", clip_ ? ", clip" : "");
  }

 private:
  mutable torch::jit::Module module_;
  std::string path_;
  std::vector<int64_t> shape_;
  bool clip_;
  bool has_params_ = false;
  torch::ScalarType dtype_ = torch::kFloat;
  torch::Device device_ = torch::kCPU;
};

}  // namespace

std::string ConsistencySource::key() const {
  return str_cat(source, "|", ode_steps, "|", option_value(sigma_min), "|", option_value(rho), "|", clip_denoised);
}

std::string consistency_source_problem(const std::string& source) {
  if (source.empty())
    return "a consistency model is required: a model folder, ode, gaussian or torchscript:<file>";
  if (starts_with(source, kTorchScriptPrefix) && source.size() == std::string(kTorchScriptPrefix).size())
    return "torchscript:<file> names a file";
  return "";
}

torch::Tensor probability_flow_ode(const Denoiser& prior, const torch::Tensor& x, const torch::Tensor& sigma,
                                   double sigma_min, int64_t steps, double rho) {
  TORCH_CHECK(steps >= 1 && sigma_min > 0 && rho > 0, "probability_flow_ode: invalid arguments");
  const torch::Tensor s0 = sigma_per_sample(x, sigma).reshape({-1});  // [B]
  TORCH_CHECK((s0 >= sigma_min * (1 - 1e-6)).all().item<bool>(), "probability_flow_ode: sigma < sigma_min");
  const torch::Tensor a = s0.pow(1.0 / rho);
  const double b = std::pow(sigma_min, 1.0 / rho);
  auto level = [&](int64_t k) {
    if (k == steps) return torch::full_like(s0, sigma_min);
    return (a + (static_cast<double>(k) / static_cast<double>(steps)) * (b - a)).pow(rho);
  };
  auto view = [](const torch::Tensor& s) { return s.view({-1, 1, 1, 1}); };
  torch::Tensor y = x;
  torch::Tensor s = s0;
  for (int64_t k = 0; k < steps; ++k) {
    const torch::Tensor sn = level(k + 1);
    const torch::Tensor d = (y - prior.denoise(y, s)) / view(s);
    const torch::Tensor y2 = y + view(sn - s) * d;
    const torch::Tensor d2 = (y2 - prior.denoise(y2, sn)) / view(sn);
    y = y + view(sn - s) * (0.5 * (d + d2));
    s = sn;
  }
  return y;
}

std::shared_ptr<const ConsistencyFunction> make_consistency_function(const ConsistencySource& src,
                                                                     std::shared_ptr<const Denoiser> prior,
                                                                     torch::Device device) {
  const std::string problem = consistency_source_problem(src.source);
  require(problem.empty(), "consistency = '", src.source, "': ", problem);
  require(prior != nullptr, "consistency = '", src.source, "': no prior");
  const auto prior_shape = prior->image_shape();
  if (src.source == "ode") {
    require(src.ode_steps >= 1, "consistency = ode: ode_steps = ", src.ode_steps, ". Violated: ode_steps >= 1");
    return std::make_shared<OdeConsistency>(std::move(prior), src);
  }
  if (src.source == "gaussian") {
    auto g = std::dynamic_pointer_cast<const GaussianPrior>(prior);
    require(g != nullptr, "consistency = gaussian needs the `gaussian` prior (its closed-form flow map), but the prior is ",
            prior->describe(), "; use consistency = ode for any prior");
    return std::make_shared<GaussianFlowMap>(std::move(g), src.sigma_min, src.clip_denoised);
  }
  if (starts_with(src.source, kTorchScriptPrefix)) {
    const std::string path = src.source.substr(std::string(kTorchScriptPrefix).size());
    return std::make_shared<TorchScriptConsistency>(path, prior_shape, src.clip_denoised, device);
  }
  auto model = load_consistency_model(src.source, device);
  require(prior_shape.empty() || model->image_shape() == prior_shape, "consistency = '", src.source,
          "': the model is for images of ", shape_str(model->image_shape()), ", the prior's are ",
          shape_str(prior_shape));
  return std::make_shared<ModelConsistency>(std::move(model), src.clip_denoised, src.source);
}

}  // namespace ipbench
