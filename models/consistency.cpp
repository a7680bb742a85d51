// Consistency models: scalings, f(x, sigma), the model folder and the `cm` prior (see consistency.h).
#include "models/consistency.h"
#include "models/vp_eps_denoiser.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <type_traits>

#include "core/config.h"
#include "core/error.h"
#include "models/prior_util.h"
#include "models/unet_checkpoint.h"

namespace ipbench {

namespace fs = std::filesystem;

namespace {

constexpr const char* kPrediction = "consistency";

// Reads and checks model.ini: Error unless it describes a consistency model with valid options.
struct ModelIni {
  UNetOptions unet;
  ConsistencyOptions cm;
  std::map<std::string, std::string> training;
};

ModelIni read_model_ini(const std::string& path) {
  require(fs::is_regular_file(path), path, ": missing (not a model folder written by `ipbench distill`?)");
  const Config config = Config::from_file(path);
  std::string prediction;
  config.section("diffusion").read("prediction", prediction);
  require(prediction == kPrediction, path, ": not a consistency model ([diffusion] prediction = '", prediction,
          "', expected '", kPrediction, "'; a DDPM folder from `ipbench train` is read by the `unet` prior)");
  ModelIni m;
  m.unet = read_options<UNetOptions>(config.section("unet"));
  m.cm = read_options<ConsistencyOptions>(config.section("consistency"));
  if (const Section* t = config.find_section("training")) {
    for (const auto& [key, entry] : t->entries()) {
      std::string value;
      t->read(key, value);
      m.training[key] = value;
    }
    t->mark_requested();
  }
  try {
    config.check_all_used();
  } catch (const Error& e) {
    throw Error(str_cat(path, ": ", e.what()));
  }
  require(m.unet.out_channels == m.unet.in_channels, path, ": [unet] out_channels = ", m.unet.out_channels,
          " but in_channels = ", m.unet.in_channels, " (a consistency model outputs an image)");
  return m;
}

}  // namespace

void ConsistencyOptions::validate() const {
  const char* o = "ConsistencyOptions";
  check_option(sigma_min > 0 && std::isfinite(sigma_min), o, "sigma_min", sigma_min, "sigma_min > 0");
  check_option(sigma_max > sigma_min && std::isfinite(sigma_max), o, "sigma_max", sigma_max, "sigma_max > sigma_min");
  check_option(sigma_data > 0 && std::isfinite(sigma_data), o, "sigma_data", sigma_data, "sigma_data > 0");
  check_option(parameterization == "edm" || parameterization == "vp_eps", o, "parameterization", parameterization,
               "parameterization is edm or vp_eps");
  vp.validate(o);
}

void CmPriorOptions::validate() const {
  check_option(!path.empty(), "CmPriorOptions", "path", path, "path names a consistency-model folder (required)");
}

CmScalings cm_scalings(const torch::Tensor& sigma, const ConsistencyOptions& o) {
  const double sd2 = o.sigma_data * o.sigma_data;
  // smin rounded to sigma's dtype first, so that sigma = smin gives exactly 0 (the boundary condition).
  const torch::Tensor smin = torch::full({}, o.sigma_min, sigma.options());
  const torch::Tensor d = sigma - smin;
  const torch::Tensor r = (sigma.square() + sd2).rsqrt();
  CmScalings s;
  s.c_skip = sd2 / (d.square() + sd2);
  s.c_out = d * o.sigma_data * r;
  s.c_in = r;
  s.c_noise = 250.0 * (sigma.to(torch::kDouble) + 1e-44).log();
  s.c_noise = s.c_noise.to(sigma.scalar_type());
  return s;
}

torch::Tensor consistency_function(UNet& net, const torch::Tensor& x, const torch::Tensor& sigma,
                                   const ConsistencyOptions& options, bool clip_denoised) {
  check_denoiser_input(x, {}, "consistency model");
  const torch::Tensor s = sigma_per_sample(x, sigma);  // [B, 1, 1, 1] in x's dtype
  const CmScalings c = cm_scalings(s, options);
  const torch::Tensor p = net->parameters().front();  // the network's device and dtype
  if (options.parameterization == "vp_eps") {
    auto eps = [&net, &p](const torch::Tensor& x_vp, const torch::Tensor& t) {
      return net->forward(x_vp.to(p.device(), p.scalar_type()), t.to(p.device(), p.scalar_type()));
    };
    const VpEpsDenoiser denoiser(eps, options.vp.schedule(), {},
                                 "consistency model (vp_eps)", "vp_eps consistency model",
                                 VpEpsDenoiser::LearnedVariance::kNo);
    const torch::Tensor x0 = denoiser.predict(x, s.reshape({-1})).x0;
    const torch::Tensor f = c.c_skip * x + (1.0 - c.c_skip) * x0;
    return clip_denoised ? f.clamp(-1.0, 1.0) : f;
  }
  const torch::Tensor F =
      net->forward((c.c_in * x).to(p.device(), p.scalar_type()), c.c_noise.reshape({-1}).to(p.device(), p.scalar_type()))
          .to(x.options());
  const torch::Tensor f = c.c_skip * x + c.c_out * F;
  return clip_denoised ? f.clamp(-1.0, 1.0) : f;
}

// ---------------------------------------------------------------------------------------------
// ConsistencyModel and its folder

ConsistencyModel::ConsistencyModel(UNet net, ConsistencyOptions options, torch::Device device)
    : net_(std::move(net)), options_(options), device_(device) {
  TORCH_CHECK(!net_.is_empty(), "ConsistencyModel: no network");
  TORCH_CHECK(net_->options().out_channels == net_->options().in_channels,
              "ConsistencyModel: out_channels must equal in_channels");
  options_.validate();
  net_->to(device_);
  net_->eval();
  for (auto& p : net_->parameters()) p.set_requires_grad(false);
}

torch::Tensor ConsistencyModel::operator()(const torch::Tensor& x, const torch::Tensor& sigma,
                                           bool clip_denoised) const {
  return consistency_function(net_, x, sigma, options_, clip_denoised);
}

std::vector<int64_t> ConsistencyModel::image_shape() const {
  const auto& u = net_->options();
  return {u.in_channels, u.image_size, u.image_size};
}

void save_consistency_model(const std::string& dir, UNet net, const ConsistencyOptions& options,
                            const std::map<std::string, std::string>& training) {
  options.validate();
  net->options().validate();
  save_model_folder(dir, net, "ipbench consistency model (models/consistency.h): f = c_skip x + c_out F(c_in x, c_noise)",
                    {IniSection{"diffusion", {{"prediction", kPrediction}}}, options_section("consistency", options)},
                    training);
}

std::shared_ptr<ConsistencyModel> load_consistency_model(const std::string& dir, torch::Device device) {
  require(fs::is_directory(dir), dir, ": no such model folder");
  const std::string ini = (fs::path(dir) / "model.ini").string();
  const std::string pt = (fs::path(dir) / "model.pt").string();
  ModelIni m = read_model_ini(ini);
  require(fs::is_regular_file(pt), pt, ": missing (the weights of the model described by ", ini, ")");
  UNet net(m.unet);
  load_unet_weights(net, pt, ini);  // checks every name and shape (torch::load would adopt wrong shapes)
  auto model = std::make_shared<ConsistencyModel>(net, m.cm, device);
  model->training = std::move(m.training);
  return model;
}

// ---------------------------------------------------------------------------------------------
// The `cm` prior

CmPrior::CmPrior(std::shared_ptr<ConsistencyModel> model, bool clip_denoised, std::string path)
    : model_(std::move(model)), clip_(clip_denoised), path_(std::move(path)) {
  TORCH_CHECK(model_ != nullptr, "CmPrior: no model");
}

std::shared_ptr<CmPrior> CmPrior::from_options(const CmPriorOptions& options, const PriorContext& ctx) {
  auto model = load_consistency_model(options.path, ctx.device);
  const auto shape = model->image_shape();
  require(ctx.image_shape.empty() || ctx.image_shape == shape, "cm prior: the model in '", options.path,
          "' is for images of ", shape_str(shape), ", the benchmark's are ", shape_str(ctx.image_shape));
  return std::make_shared<CmPrior>(std::move(model), options.clip_denoised, options.path);
}

Prediction CmPrior::predict(const torch::Tensor& x, const torch::Tensor& sigma) const {
  check_denoiser_input(x, model_->image_shape(), "cm prior");
  return {(*model_)(x, sigma, clip_), torch::Tensor()};
}

std::string CmPrior::describe() const {
  const auto& o = model_->options();
  return str_cat("cm: consistency model '", path_, "', image ", shape_str(model_->image_shape()), ", sigma in [",
                 o.sigma_min, ", ", o.sigma_max, "], clip_denoised ", clip_ ? "true" : "false");
}

}  // namespace ipbench
