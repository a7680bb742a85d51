#include "models/edm_prior.h"

#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "models/prior_util.h"

namespace ipbench {

void EdmPriorOptions::validate() const {
  const char* o = "EdmPriorOptions";
  check_option(!path.empty(), o, "path", path, "path names a scripted EDM denoiser (required)");
  check_option(preconditioning == "none" || preconditioning == "edm", o, "preconditioning", preconditioning,
               "none or edm");
  check_option(sigma_data > 0 && std::isfinite(sigma_data), o, "sigma_data", sigma_data, "sigma_data > 0");
  check_option(image_shape.empty() || image_shape.size() == 3, o, "image_shape", image_shape, "empty or C,H,W");
}

EdmTorchScriptPrior::EdmTorchScriptPrior(const EdmPriorOptions& options, std::vector<int64_t> image_shape,
                                         torch::Device device)
    : options_(options), shape_(std::move(image_shape)) {
  options_.validate();
  require(std::filesystem::is_regular_file(options_.path), "edm prior '", options_.path, "': no such file");
  try {
    module_ = torch::jit::load(options_.path, device);
  } catch (const std::exception& e) {
    throw Error(str_cat("edm prior '", options_.path, "': cannot load the TorchScript module (", exception_message(e), ")"));
  }
  module_.eval();
  for (const auto& p : module_.parameters()) {
    has_params_ = true;
    dtype_ = p.scalar_type();
    device_ = p.device();
    break;
  }
}

std::shared_ptr<EdmTorchScriptPrior> EdmTorchScriptPrior::from_options(const EdmPriorOptions& options,
                                                                       const PriorContext& ctx) {
  return std::make_shared<EdmTorchScriptPrior>(options, resolve_image_shape(options.image_shape, ctx, "edm prior"),
                                               ctx.device);
}

Prediction EdmTorchScriptPrior::predict(const torch::Tensor& x, const torch::Tensor& sigma) const {
  check_denoiser_input(x, shape_, "edm prior");
  const auto opts = has_params_ ? torch::TensorOptions().dtype(dtype_).device(device_) : x.options();
  const torch::Tensor s = sigma_per_sample(x, sigma);  // [B, 1, 1, 1]
  const bool edm = options_.preconditioning == "edm";
  const double sd2 = options_.sigma_data * options_.sigma_data;
  torch::Tensor in = x, cond = s.reshape({-1});
  if (edm) {
    in = x * (s.square() + sd2).rsqrt();
    cond = s.reshape({-1}).log() / 4.0;
  }
  torch::Tensor out;
  try {
    out = module_.forward({in.to(opts), cond.to(opts)}).toTensor().to(x.options());
  } catch (const std::exception& e) {
    throw Error(str_cat("edm prior '", options_.path, "': forward failed: ", exception_message(e)));
  }
  require(out.sizes() == x.sizes(), "edm prior '", options_.path, "': forward returned ", shape_str(out.sizes()),
          " for an input of ", shape_str(x.sizes()));
  if (!edm) return {out, torch::Tensor()};
  const torch::Tensor r = (s.square() + sd2).rsqrt();
  return {sd2 * r.square() * x + s * options_.sigma_data * r * out, torch::Tensor()};
}

std::string EdmTorchScriptPrior::describe() const {
  return str_cat("edm: TorchScript EDM denoiser '", options_.path, "', preconditioning ", options_.preconditioning,
                 options_.preconditioning == "edm" ? str_cat(" (sigma_data ", options_.sigma_data, ")") : "",
                 ", image ", shape_.empty() ? std::string("any") : shape_str(shape_));
}

}  // namespace ipbench
