#pragma once
// `edm`: a user's EDM (Karras et al. 2022) denoiser from TorchScript, behind the VE Denoiser interface.
//
// EDM networks already live in the VE convention x = x0 + sigma n, so no VP mapping is needed. The
// scripted module's forward takes two float tensors and returns [B, C, H, W]:
//   preconditioning = none:  forward(x, sigma) = D(x, sigma)   (the whole EDMPrecond module scripted;
//                            x [B, C, H, W], sigma [B])
//   preconditioning = edm:   forward(c_in x, c_noise) = F and the wrapper applies EDM's preconditioning
//                            D = c_skip x + c_out F,  c_skip = sd^2/(sigma^2 + sd^2),
//                            c_out = sigma sd / sqrt(sigma^2 + sd^2),  c_in = 1/sqrt(sigma^2 + sd^2),
//                            c_noise = ln(sigma) / 4                       (sd = sigma_data)
// Inputs are converted to the module's parameter dtype and device (x's when it has none), the output
// back to x's, differentiably. No clamp (solvers clamp D as their algorithm says). Errors (Error):
// missing or corrupt file (named), an output whose shape differs from x's, x's [C, H, W] differing
// from image_shape (when set).
#include <torch/script.h>
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "core/options.h"
#include "models/denoiser.h"

namespace ipbench {

struct EdmPriorOptions {
  /// Scripted module file (torch.jit.save / torch::jit::Module::save); required.
  std::string path = "";
  /// "none": forward(x, sigma) returns D itself; "edm": forward(c_in x, c_noise) returns F (see header).
  std::string preconditioning = "none";
  /// Data standard deviation of EDM's preconditioning (EDM: 0.5); used with preconditioning = edm.
  double sigma_data = 0.5;
  /// Image shape C,H,W the model expects; empty = the benchmark's.
  std::vector<int64_t> image_shape = {};

  template <class F>
  void fields(F&& f) {
    f("path", path, "scripted EDM denoiser (.pt), required");
    f("preconditioning", preconditioning, "none (forward(x, sigma) = D) | edm (forward(c_in x, c_noise) = F)");
    f("sigma_data", sigma_data, "EDM sigma_data, > 0 (0.5)");
    f("image_shape", image_shape, "image shape C,H,W (empty = benchmark's)");
  }
  void validate() const;
};

class EdmTorchScriptPrior : public Denoiser {
 public:
  EdmTorchScriptPrior(const EdmPriorOptions& options, std::vector<int64_t> image_shape, torch::Device device);
  static std::shared_ptr<EdmTorchScriptPrior> from_options(const EdmPriorOptions& options, const PriorContext& ctx);

  Prediction predict(const torch::Tensor& x, const torch::Tensor& sigma) const override;
  std::vector<int64_t> image_shape() const override { return shape_; }
  std::string describe() const override;

 private:
  mutable torch::jit::Module module_;
  EdmPriorOptions options_;
  std::vector<int64_t> shape_;
  bool has_params_ = false;
  torch::ScalarType dtype_ = torch::kFloat;
  torch::Device device_ = torch::kCPU;
};

}  // namespace ipbench
