#pragma once
// denoise: y = x (A = I), the denoising task of DDRM ([DDRM] functions/svd_replacement.py `Denoising`).
//   forward(x) = x,  adjoint(y) = y,  SVD: U = V = I, s = 1; A^+ = I.
// With sigma_y > 0 the problem is Gaussian denoising; every linear solver runs on it.
#include <string>

#include "operators/operator.h"

namespace ipbench {

struct DenoiseOptions {
  template <class F>
  void fields(F&&) {}
  void validate() const {}
};

class DenoiseOperator : public Operator {
 public:
  using Options = DenoiseOptions;
  DenoiseOperator(MeasurementOptions noise, Options options, const OperatorContext& ctx);

  std::string name() const override { return "denoise"; }
  bool linear() const override { return true; }
  torch::Tensor forward(const torch::Tensor& x) const override;
  torch::Tensor adjoint(const torch::Tensor& y) const override;
  torch::Tensor normal(const torch::Tensor& x) const override { return x; }
  double known_norm() const override { return 1.0; }
  const OperatorSvd* svd() const override { return svd_.get(); }
  double equal_singular_value() const override { return 1.0; }
  std::vector<int64_t> measurement_shape() const override { return image_shape(); }
  std::string describe() const override;

 private:
  std::shared_ptr<const OperatorSvd> svd_;
};

OperatorEntry denoise_entry();

}  // namespace ipbench
