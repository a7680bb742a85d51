// `torchscript` prior: a VP eps network wrapped to the VE denoiser (see torchscript_prior.h).
#include "models/torchscript_prior.h"

#include <cmath>
#include <fstream>

#include "models/prior_util.h"

namespace ipbench {

namespace {
// A LibTorch message without its C++ backtrace (TorchScript tracebacks are kept: they say where).
std::string torch_message(const std::exception& e) {
  const std::string what = e.what();
  return what.substr(0, what.find("Exception raised from"));
}

torch::jit::Module load_module(const std::string& path, torch::Device device) {
  require(!path.empty(), "torchscript prior: no model path given (option 'path')");
  require(std::ifstream(path, std::ios::binary).good(), "torchscript prior: cannot read model file '", path,
          "' (missing or unreadable)");
  try {
    torch::jit::Module m = torch::jit::load(path, device);
    m.eval();
    return m;
  } catch (const std::exception& e) {
    throw Error(str_cat("torchscript prior: cannot load model '", path, "' (not a TorchScript file?): ",
                        torch_message(e)));
  }
}
}  // namespace

void TorchScriptPriorOptions::validate() const {
  const char* o = "TorchScriptPriorOptions";
  check_option(!path.empty(), o, "path", path, "path names a scripted model file (required)");
  check_option(learned_variance == "auto" || learned_variance == "true" || learned_variance == "false", o,
               "learned_variance", learned_variance, "learned_variance in {auto, true, false}");
  check_option(T >= 2, o, "T", T, "T >= 2");
  check_option(beta_start > 0 && beta_start < 1, o, "beta_start", beta_start, "0 < beta_start < 1");
  check_option(beta_end >= beta_start && beta_end < 1, o, "beta_end", beta_end, "beta_start <= beta_end < 1");
  bool shape_ok = image_shape.empty() || image_shape.size() == 3;
  for (int64_t v : image_shape) shape_ok = shape_ok && v > 0;
  check_option(shape_ok, o, "image_shape", image_shape, "image_shape is empty or C,H,W with positive values");
}

TorchScriptPrior::LearnedVariance parse_learned_variance(const std::string& name) {
  if (name == "auto") return TorchScriptPrior::LearnedVariance::kAuto;
  if (name == "true") return TorchScriptPrior::LearnedVariance::kYes;
  if (name == "false") return TorchScriptPrior::LearnedVariance::kNo;
  throw Error(str_cat("torchscript prior: learned_variance = '", name, "' (auto | true | false)"));
}

TorchScriptPrior::TorchScriptPrior(const std::string& path, const VpSchedule& schedule,
                                   LearnedVariance learned_variance, std::vector<int64_t> image_shape,
                                   torch::Device device)
    : module_(load_module(path, device)),
      schedule_(schedule),
      learned_variance_(learned_variance),
      shape_(std::move(image_shape)),
      device_(device),
      path_(path) {
  for (const auto& p : module_.parameters()) {
    model_dtype_ = p.scalar_type();
    break;
  }
}

std::shared_ptr<TorchScriptPrior> TorchScriptPrior::from_options(const TorchScriptPriorOptions& options,
                                                                 const PriorContext& ctx) {
  std::vector<int64_t> shape = options.image_shape.empty() ? ctx.image_shape : options.image_shape;
  return std::make_shared<TorchScriptPrior>(options.path,
                                            VpSchedule::linear(options.T, options.beta_start, options.beta_end),
                                            parse_learned_variance(options.learned_variance), shape, ctx.device);
}

torch::Tensor TorchScriptPrior::timesteps_for_sigma(const torch::Tensor& sigma) const {
  const torch::Tensor s = sigma.detach().to(torch::kCPU, torch::kDouble).contiguous();
  torch::Tensor t = torch::empty_like(s);
  const double* sp = s.data_ptr<double>();
  double* tp = t.data_ptr<double>();
  for (int64_t i = 0; i < s.numel(); ++i) {  // B scalar look-ups, not per-sample network work
    const double ti = schedule_.timestep_for_sigma(sp[i]);
    tp[i] = std::abs(ti - std::round(ti)) < 1e-4 ? std::round(ti) : ti;
  }
  return t;
}

torch::Tensor TorchScriptPrior::forward_raw(const torch::Tensor& x_vp, const torch::Tensor& t) const {
  try {
    return module_.forward({x_vp, t}).toTensor();
  } catch (const std::exception& e) {  // JIT interpreter errors are std::runtime_error, not c10::Error
    throw Error(str_cat("torchscript prior '", path_, "': forward(x ", shape_str(x_vp.sizes()), ", t ",
                        shape_str(t.sizes()), ") failed: ", torch_message(e)));
  }
}

Prediction TorchScriptPrior::predict(const torch::Tensor& x, const torch::Tensor& sigma) const {
  check_denoiser_input(x, shape_, "torchscript prior");
  const int64_t B = x.size(0), C = x.size(1);
  const torch::Tensor s = sigma_per_sample(x, sigma);             // [B, 1, 1, 1], x's dtype
  const torch::Tensor t = timesteps_for_sigma(s.reshape({B}));  // [B] float64 CPU
  const torch::Tensor sqrt_abar = (1 + s.square()).rsqrt();      // abar = 1 / (1 + sigma^2)
  const auto model_opts = torch::TensorOptions().dtype(model_dtype_).device(device_);
  const torch::Tensor out = forward_raw((sqrt_abar * x).to(model_opts), t.to(model_opts)).to(x.options());
  const bool two = out.dim() == 4 && out.size(1) == 2 * C;
  require(out.dim() == 4 && out.size(0) == B && out.size(2) == x.size(2) && out.size(3) == x.size(3) &&
              (out.size(1) == C || two),
          "torchscript prior '", path_, "': output shape ", shape_str(out.sizes()), " for input ",
          shape_str(x.sizes()), "; expected ", C, " (eps) or ", 2 * C, " (eps, variance) channels");
  require(two || learned_variance_ != LearnedVariance::kYes, "torchscript prior '", path_,
          "': learned_variance = true but the output ", shape_str(out.sizes()), " has ", C, " channels, not ", 2 * C);
  const torch::Tensor eps = out.narrow(1, 0, C);
  Prediction p{x - s * eps, torch::Tensor()};
  if (two && learned_variance_ != LearnedVariance::kNo) p.var_frac = out.narrow(1, C, C);
  return p;
}

std::string TorchScriptPrior::describe() const {
  return str_cat("torchscript: '", path_, "' VP eps model, T = ", schedule_.num_timesteps(), ", image ",
                 shape_str(shape_), ", ", device_.str());
}

}  // namespace ipbench
