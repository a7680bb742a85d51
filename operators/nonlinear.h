#pragma once
// Nonlinear operators, differentiable through autograd (no adjoint):
//
// phase_retrieval: y = |F_c(pad(x))| per channel (DPS's PhaseRetrievalOperator).
//   pad(x) zero-pads p_H = int(oversample / 8 H) rows and p_W = int(oversample / 8 W) columns on each
//   side (DPS: int(oversample / 8 * 256) = 64 at oversample 2), F_c is the centered orthonormal 2-D FFT
//   (mri.h), so y is [C, H + 2 p_H, W + 2 p_W]. |.| has gradient z / |z|, 0 at z = 0 (finite).
//   Ambiguities: x, its 180-degree rotation and its shifts inside the padded support give the same y;
//   phase_retrieval_align() picks the closest of them for metrics that want to factor them out.
// saturation: y = tanh(gain x), an elementwise sensor saturation; gain > 0.
// Errors: validate() (oversample >= 0; gain > 0 and finite).
#include <string>

#include "operators/operator.h"

namespace ipbench {

struct PhaseRetrievalOptions {
  /// Oversampling: zero padding of int(oversample / 8 * size) on each side (DPS: 2.0).
  double oversample = 2.0;

  template <class F>
  void fields(F&& f) {
    f("oversample", oversample, "zero padding int(oversample/8 * size) per side, >= 0 (DPS: 2.0)");
  }
  void validate() const;
};

class PhaseRetrievalOperator : public Operator {
 public:
  using Options = PhaseRetrievalOptions;
  PhaseRetrievalOperator(MeasurementOptions noise, Options options, const OperatorContext& ctx);

  std::string name() const override { return "phase_retrieval"; }
  bool linear() const override { return false; }
  torch::Tensor forward(const torch::Tensor& x) const override;
  std::vector<int64_t> measurement_shape() const override;
  std::string describe() const override;

 private:
  Options options_;
  int64_t pad_h_ = 0, pad_w_ = 0;
};

/// x_hat [B, C, H, W] aligned to x_ref [B, C, H, W] per sample: the closest (L2) of x_hat and its
/// 180-degree rotation, each circularly shifted by up to max_shift pixels along H and W.
torch::Tensor phase_retrieval_align(const torch::Tensor& x_hat, const torch::Tensor& x_ref, int64_t max_shift = 0);

struct SaturationOptions {
  /// Gain g of y = tanh(g x); larger = stronger saturation (tanh(2) = 0.96 at |x| = 1).
  double gain = 2.0;

  template <class F>
  void fields(F&& f) {
    f("gain", gain, "gain g of y = tanh(g x), > 0");
  }
  void validate() const;
};

class SaturationOperator : public Operator {
 public:
  using Options = SaturationOptions;
  SaturationOperator(MeasurementOptions noise, Options options, const OperatorContext& ctx);

  std::string name() const override { return "saturation"; }
  bool linear() const override { return false; }
  torch::Tensor forward(const torch::Tensor& x) const override;
  std::vector<int64_t> measurement_shape() const override { return image_shape(); }
  std::string describe() const override;

 private:
  Options options_;
};

OperatorEntry phase_retrieval_entry();
OperatorEntry saturation_entry();

}  // namespace ipbench
