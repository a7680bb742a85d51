#include "operators/torchscript_operator.h"

#include "core/error.h"
#include "core/options.h"

namespace ipbench {

void TorchScriptOperatorOptions::validate() const {
  check_option(!path.empty(), "TorchScriptOperatorOptions", "path", path, "path names a TorchScript file");
  check_option(loss == "mse" || loss == "cross_entropy", "TorchScriptOperatorOptions", "loss", loss,
               "loss in {mse, cross_entropy}");
  check_option(label >= -1, "TorchScriptOperatorOptions", "label", label, "label >= -1");
}

TorchScriptOperator::TorchScriptOperator(MeasurementOptions noise, Options options, const OperatorContext& ctx)
    : Operator(noise, ctx.image_shape), options_(std::move(options)) {
  require_image_shape(ctx, "torchscript");
  try {
    module_ = torch::jit::load(options_.path, ctx.device);
  } catch (const c10::Error& e) {
    throw Error(str_cat("operator 'torchscript': path = '", options_.path,
                        "' is not a loadable TorchScript file: ", e.what_without_backtrace()));
  }
  module_.eval();
  module_.to(ctx.dtype);
  for (auto p : module_.parameters()) p.requires_grad_(false);
  std::vector<int64_t> in{1};
  in.insert(in.end(), ctx.image_shape.begin(), ctx.image_shape.end());
  torch::Tensor out;
  try {
    torch::NoGradGuard no_grad;
    out = module_.forward({torch::zeros(in, torch::TensorOptions(ctx.dtype).device(ctx.device))}).toTensor();
  } catch (const c10::Error& e) {
    throw Error(str_cat("operator 'torchscript': the module in '", options_.path, "' fails on an image ",
                        c10::IntArrayRef(in), ": ", e.what_without_backtrace()));
  }
  require(out.dim() >= 2 && out.size(0) == 1, "operator 'torchscript': output ", out.sizes(), " of '", options_.path,
          "' for input ", c10::IntArrayRef(in), ". Violated: output is [B, ...] with the input's batch B");
  out_shape_ = out.sizes().slice(1).vec();
  if (options_.loss == "cross_entropy") {
    require((out.dim() == 2 || out.dim() == 4) && out.size(1) >= 2, "operator 'torchscript': loss = cross_entropy",
            " needs logits [B, K] or [B, K, H, W] with K >= 2 classes to match one-hot labels, but '", options_.path,
            "' outputs ", out.sizes());
    require(options_.label < out.size(1), "operator 'torchscript': label = ", options_.label,
            " does not match the output ", out.sizes(), " of '", options_.path, "'. Violated: label < K = ",
            out.size(1), " classes");
  }
}

torch::Tensor TorchScriptOperator::forward(const torch::Tensor& x) const {
  check_input(x);
  return module_.forward({x}).toTensor();
}

torch::Tensor TorchScriptOperator::loss(const torch::Tensor& ax, const torch::Tensor& y) const {
  if (options_.loss == "mse") return Operator::loss(ax, y);
  auto nll = -(y * torch::log_softmax(ax, 1)).sum(1);  // [B] or [B, H', W']
  return nll.dim() == 1 ? nll : nll.flatten(1).mean(1);
}

torch::Tensor TorchScriptOperator::measure(const torch::Tensor& x, uint64_t key) const {
  if (options_.loss == "mse") return Operator::measure(x, key);
  torch::NoGradGuard no_grad;
  auto logits = forward(x);
  const int64_t K = logits.size(1);
  auto labels = options_.label >= 0 ? torch::full_like(logits.select(1, 0), options_.label, torch::kLong)
                                    : logits.argmax(1);
  auto one_hot = torch::one_hot(labels, K).to(logits.scalar_type());  // [B, (H', W',) K]
  return logits.dim() == 2 ? one_hot : one_hot.permute({0, 3, 1, 2}).contiguous();
}

std::string TorchScriptOperator::describe() const {
  const auto& s = image_shape();
  std::string fit = options_.loss;
  if (options_.loss == "cross_entropy")
    fit += options_.label >= 0 ? str_cat(" to class ", options_.label) : std::string(" to argmax labels");
  return str_cat("torchscript(path=", options_.path, ", loss=", fit, ", image ", s[0], "x", s[1], "x", s[2], " -> ",
                 c10::IntArrayRef(out_shape_), options_.loss == "mse" ? str_cat(", sigma_y=", option_value(noise().sigma_y)) : "",
                 ")");
}

OperatorEntry torchscript_operator_entry() {
  return make_operator_entry<TorchScriptOperator>(
      "torchscript", "y = net(x) for a user TorchScript network; loss mse or cross_entropy against labels",
      /*linear=*/false);
}

}  // namespace ipbench
