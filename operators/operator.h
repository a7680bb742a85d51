#pragma once
// Operator: a forward model y = A(x) + noise, with a TRUE adjoint when linear.
//
//   forward(x):  x [B, C, H, W] -> A(x) [B, m...]         differentiable through autograd
//   adjoint(y):  y [B, m...]    -> A^T y [B, C, H, W]     linear operators only; <A x, y> = <x, A^T y>
//   measure(x, key) = forward(x) + sigma_y * n,  n ~ N(0, I) drawn from the counter-based generator
//                     with `key`, so a measurement is identical for every solver and noise design.
// An operator instance is built for one image shape and one problem key (an item): random parts of
// the problem (inpainting masks, box positions) are drawn from that key when it is built and stay
// fixed for every sample of that item.
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/registry.h"

namespace ipbench {

/// Measurement noise shared by every operator (section key `sigma_y`).
struct MeasurementOptions {
  /// Standard deviation of additive Gaussian noise in [-1, 1] image units (DPS uses 0.05); 0 = noiseless.
  double sigma_y = 0.05;
  template <class F>
  void fields(F&& f) {
    f("sigma_y", sigma_y, "std of additive Gaussian measurement noise, [-1,1] units, >= 0 (DPS: 0.05)");
  }
  void validate() const;
};

class Operator {
 public:
  explicit Operator(MeasurementOptions noise) : noise_(noise) {}
  virtual ~Operator() = default;

  virtual std::string name() const = 0;
  virtual bool linear() const = 0;
  virtual torch::Tensor forward(const torch::Tensor& x) const = 0;
  /// True adjoint; the default throws (nonlinear operators).
  virtual torch::Tensor adjoint(const torch::Tensor& y) const;
  /// Shape of one measurement (without the batch dimension).
  virtual std::vector<int64_t> measurement_shape() const = 0;
  /// One line: the operator and its resolved parameters.
  virtual std::string describe() const = 0;

  /// forward(x) + sigma_y * keyed noise; x is [1 or B, C, H, W].
  torch::Tensor measure(const torch::Tensor& x, uint64_t key) const;
  const MeasurementOptions& noise() const { return noise_; }
  /// Number of scalar measurements per sample (product of measurement_shape()).
  int64_t measurement_size() const;

 private:
  MeasurementOptions noise_;
};

/// Where an operator instance lives.
struct OperatorContext {
  std::vector<int64_t> image_shape;  ///< [C, H, W]
  uint64_t key = 0;                  ///< problem key of the item (masks, box positions)
  torch::Device device = torch::kCPU;
  torch::ScalarType dtype = torch::kFloat;
};

/// Builds instances of a configured operator; throws Error when the image shape does not fit.
using OperatorBuilder = std::function<std::unique_ptr<Operator>(const OperatorContext&)>;

struct OperatorEntry {
  ComponentInfo info;
  bool linear = true;
  /// Reads and validates the options of one config section, returning a builder.
  std::function<OperatorBuilder(const Section&)> parse;
};

Registry<OperatorEntry>& operator_registry();
/// Registers inpaint, gaussian_blur and superres (idempotent).
void register_builtin_operators();

}  // namespace ipbench
