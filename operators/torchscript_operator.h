#pragma once
// torchscript: any user network as a (nonlinear) forward model, y = net(x), with loss mse or
// cross_entropy against labels (the consistency-model paper's classification / segmentation setting).
//
//   forward(x) = net(x) for x [B, C, H, W]; the TorchScript module's forward(Tensor) -> Tensor, run
//                in eval mode in the benchmark's dtype, parameters frozen (no gradient), input
//                differentiable.
//   loss = mse:            measure() = noise(net(x)) with MeasurementOptions; loss = ||y - net(x)||_2.
//   loss = cross_entropy:  net(x) must be logits [B, K] (classification) or [B, K, H', W']
//                          (segmentation); the measurement is the one-hot label map of the same shape:
//                          label >= 0 for a fixed class (class-conditional generation), label = -1 for
//                          argmax_k net(x_true) (the network's own prediction); no noise is added;
//                          loss(ax, y) = -sum_k y_k log_softmax(ax)_k, averaged over positions.
// The output shape is probed once with a zero image when the operator is built.
// Errors (ipbench::Error): path empty or not loadable; output not [B, ...] with the input's batch;
// cross_entropy with an output that is not [B, K] or [B, K, H', W'] with K >= 2, or label >= K.
#include <torch/script.h>

#include <string>

#include "operators/operator.h"

namespace ipbench {

struct TorchScriptOperatorOptions {
  /// TorchScript file (.pt) whose forward(x) maps [B, C, H, W] images to measurements.
  std::string path;
  /// Data-fit: "mse" (measurement = net(x) + noise) or "cross_entropy" (measurement = one-hot labels).
  std::string loss = "mse";
  /// cross_entropy: class to reach (>= 0) or -1 = argmax of the network on the true image.
  int64_t label = -1;

  template <class F>
  void fields(F&& f) {
    f("path", path, "TorchScript file whose forward(x [B,C,H,W]) is the forward model");
    f("loss", loss, "data fit: mse (y = net(x) + noise) | cross_entropy (y = one-hot labels)");
    f("label", label, "cross_entropy: target class >= 0, or -1 = argmax of net(x_true)");
  }
  void validate() const;
};

class TorchScriptOperator : public Operator {
 public:
  using Options = TorchScriptOperatorOptions;
  /// Loads the module, moves it to ctx.device / ctx.dtype and probes its output shape.
  TorchScriptOperator(MeasurementOptions noise, Options options, const OperatorContext& ctx);

  std::string name() const override { return "torchscript"; }
  bool linear() const override { return false; }
  torch::Tensor forward(const torch::Tensor& x) const override;
  torch::Tensor loss(const torch::Tensor& ax, const torch::Tensor& y) const override;
  torch::Tensor measure(const torch::Tensor& x, uint64_t key) const override;
  std::vector<int64_t> measurement_shape() const override { return out_shape_; }
  std::string describe() const override;

 private:
  Options options_;
  mutable torch::jit::Module module_;  ///< forward() is not const in the TorchScript API
  std::vector<int64_t> out_shape_;
};

OperatorEntry torchscript_operator_entry();

}  // namespace ipbench
