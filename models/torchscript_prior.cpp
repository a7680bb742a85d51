// `torchscript` prior: a VP eps network wrapped to the VE denoiser (see torchscript_prior.h).
#include "models/torchscript_prior.h"

#include <fstream>

#include "core/error.h"
#include "models/prior_util.h"

namespace ipbench {

namespace {

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
                        exception_message(e)));
  }
}

torch::ScalarType parameter_dtype(const torch::jit::Module& m) {
  for (const auto& p : m.parameters()) return p.scalar_type();
  return torch::kFloat;  // a parameter-free module: float32 inputs
}

torch::Tensor run_module(torch::jit::Module& m, const std::string& path, const torch::Tensor& x_vp,
                         const torch::Tensor& t) {
  try {
    return m.forward({x_vp, t}).toTensor();
  } catch (const std::exception& e) {  // JIT interpreter errors are std::runtime_error, not c10::Error
    throw Error(str_cat("torchscript prior '", path, "': forward(x ", shape_str(x_vp.sizes()), ", t ",
                        shape_str(t.sizes()), ") failed: ", exception_message(e)));
  }
}

// The eps function of the VP wrapper: inputs converted to the module's dtype and device.
VpEpsDenoiser::EpsFunction module_eps(torch::jit::Module m, std::string path, torch::TensorOptions opts) {
  return [m, path, opts](const torch::Tensor& x_vp, const torch::Tensor& t) mutable {
    return run_module(m, path, x_vp.to(opts), t.to(opts));
  };
}

std::string describe_module(const std::string& path, const VpSchedule& schedule,
                            const std::vector<int64_t>& shape, torch::Device device) {
  return str_cat("torchscript: '", path, "' VP eps model, T = ", schedule.num_timesteps(), ", image ",
                 shape_str(shape), ", ", device.str());
}
}  // namespace

void TorchScriptPriorOptions::validate() const {
  const char* o = "TorchScriptPriorOptions";
  check_option(!path.empty(), o, "path", path, "path names a scripted model file (required)");
  check_option(learned_variance == "auto" || learned_variance == "true" || learned_variance == "false", o,
               "learned_variance", learned_variance, "learned_variance in {auto, true, false}");
  vp.validate(o);
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
      model_dtype_(parameter_dtype(module_)),
      path_(path),
      vp_(module_eps(module_, path, torch::TensorOptions().dtype(model_dtype_).device(device)), schedule,
          image_shape, str_cat("torchscript prior '", path, "'"),
          describe_module(path, schedule, image_shape, device), learned_variance) {}

std::shared_ptr<TorchScriptPrior> TorchScriptPrior::from_options(const TorchScriptPriorOptions& options,
                                                                 const PriorContext& ctx) {
  std::vector<int64_t> shape = options.image_shape.empty() ? ctx.image_shape : options.image_shape;
  return std::make_shared<TorchScriptPrior>(options.path,
                                            options.vp.schedule(),
                                            parse_learned_variance(options.learned_variance), shape, ctx.device);
}

torch::Tensor TorchScriptPrior::forward_raw(const torch::Tensor& x_vp, const torch::Tensor& t) const {
  return run_module(module_, path_, x_vp, t);
}

}  // namespace ipbench
