#pragma once
// colorize: y = sum_c w_c x_c, a grey image [B, 1, H, W] from the C channels (the colorization task).
//
//   forward(x) = sum_c w_c x[:, c]          adjoint(y) = w_c y for every channel c
//   normal(x)  = w (w^T x) over channels    ||A||_2 = ||w||_2
// weights = luma: ITU-R BT.601 (0.299, 0.587, 0.114) for C = 3 (DDRM/DDNM's colorization uses the
// plain mean; both are offered); mean: w_c = 1 / C. A 1-channel image has w = (1): the identity.
// Errors: validate() (weights); the constructor throws Error for luma when C is not 1 or 3.
#include <string>

#include "operators/operator.h"

namespace ipbench {

struct ColorizeOptions {
  /// Channel weights: "luma" (0.299, 0.587, 0.114; C = 3) or "mean" (1 / C).
  std::string weights = "luma";

  template <class F>
  void fields(F&& f) {
    f("weights", weights, "channel weights: luma (BT.601 0.299/0.587/0.114, C = 3) | mean (1/C)");
  }
  void validate() const;
};

class ColorizeOperator : public Operator {
 public:
  using Options = ColorizeOptions;
  ColorizeOperator(MeasurementOptions noise, Options options, const OperatorContext& ctx);

  std::string name() const override { return "colorize"; }
  bool linear() const override { return true; }
  torch::Tensor forward(const torch::Tensor& x) const override;
  torch::Tensor adjoint(const torch::Tensor& y) const override;
  torch::Tensor normal(const torch::Tensor& x) const override;
  double known_norm() const override;
  /// Per pixel: V = an orthonormal channel basis led by w/|w|, s = |w|.
  const OperatorSvd* svd() const override { return svd_.get(); }
  double equal_singular_value() const override { return known_norm(); }
  std::vector<int64_t> measurement_shape() const override;
  std::string describe() const override;

 private:
  Options options_;
  torch::Tensor w_, w64_;  ///< [1, C, 1, 1]
  std::shared_ptr<const OperatorSvd> svd_;
};

OperatorEntry colorize_entry();

}  // namespace ipbench
