#pragma once
// Operator: a forward model y = A(x) + noise, with a TRUE adjoint when linear.
//
//   forward(x):  x [B, C, H, W] -> A(x) [B, m...]         differentiable through autograd
//   adjoint(y):  y [B, m...]    -> A^T y [B, C, H, W]     linear operators only; <A x, y> = <x, A^T y>
//   normal(x):   A^T A x                              linear only; default adjoint(forward(x)), closed forms override
//   measure(x, key) = noise(forward(x)) with the noise model of MeasurementOptions, drawn from the
//                     counter-based generator with `key`, so a measurement is identical for every
//                     solver and noise design:
//     gaussian: y = A(x) + sigma_y n,  n ~ N(0, I)
//     poisson:  y = 2 Pois(r (A(x) + 1) / 2) / r - 1,  r = 255 poisson_rate photons per unit intensity
//               (DPS's PoissonNoise: A(x) in [-1, 1] mapped to [0, 1], negative intensities clamped to 0)
//     none:     y = A(x)
//   loss(ax, y): the per-sample data-fit ||y - ax||_2 (DPS's norm); an operator with another likelihood
//                (torchscript with cross_entropy) overrides it.
// An operator instance is built for one image shape and one problem key (an item): random parts of
// the problem (inpainting masks, box positions) are drawn from that key when it is built and stay
// fixed for every sample of that item.
//
// Built-in operators (docs/operators.md): inpaint (inpaint.h), gaussian_blur (gaussian_blur.h),
// motion_blur (motion_blur.h), superres (superres.h), colorize (colorize.h), cs (compressed_sensing.h),
// mri (mri.h), ct (ct.h), phase_retrieval, saturation (nonlinear.h), torchscript (torchscript_operator.h). Adding one = Options struct + Operator subclass + make_operator_entry<>()
// in register_builtin_operators(); the registry-driven tests (tests/test_operators.cpp) then cover it.
#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/options.h"
#include "core/registry.h"
#include "operators/svd.h"

namespace ipbench {

/// Measurement noise shared by every operator (section keys `sigma_y`, `noise`, `poisson_rate`).
struct MeasurementOptions {
  /// Standard deviation of additive Gaussian noise in [-1, 1] image units (DPS uses 0.05); 0 = noiseless.
  double sigma_y = 0.05;
  /// Noise model: "gaussian" (A(x) + sigma_y n), "poisson" (photon counts, poisson_rate) or "none".
  std::string noise = "gaussian";
  /// poisson: DPS's `rate`; counts ~ Pois(255 rate (A(x) + 1) / 2). Larger = less noise. > 0.
  double poisson_rate = 1.0;
  template <class F>
  void fields(F&& f) {
    f("sigma_y", sigma_y, "std of additive Gaussian measurement noise, [-1,1] units, >= 0 (DPS: 0.05)");
    f("noise", noise, "noise model: gaussian | poisson | none (gaussian uses sigma_y)");
    f("poisson_rate", poisson_rate, "poisson: counts ~ Pois(255 rate (A(x)+1)/2), > 0 (DPS: 1.0)");
  }
  void validate() const;
};

class Operator {
 public:
  explicit Operator(MeasurementOptions noise) : noise_(noise) {}
  /// Also records the image shape [C, H, W], which the default (autograd) adjoint needs.
  Operator(MeasurementOptions noise, std::vector<int64_t> image_shape)
      : noise_(noise), image_shape_(std::move(image_shape)) {}
  virtual ~Operator() = default;

  virtual std::string name() const = 0;
  virtual bool linear() const = 0;
  virtual torch::Tensor forward(const torch::Tensor& x) const = 0;
  /// True adjoint A^T y. The default throws Error for nonlinear operators and returns vjp_adjoint(y)
  /// for linear ones; subclasses may override it with a closed form.
  virtual torch::Tensor adjoint(const torch::Tensor& y) const;
  /// A^T y as the vector-Jacobian product of the linear forward: A^T y = d<A(x), y>/dx at x = 0.
  /// Exact for any linear forward (padding, strides, ...); differentiable in y when y requires grad.
  /// Requires image_shape() (TORCH_CHECK) and a linear operator (Error otherwise).
  torch::Tensor vjp_adjoint(const torch::Tensor& y) const;
  /// A^T A x for linear operators; the default is adjoint(forward(x)), closed forms override it.
  virtual torch::Tensor normal(const torch::Tensor& x) const;
  /// ||A||_2 when known in closed form (orthonormal rows: 1), NaN otherwise. Tests compare it with op_norm().
  virtual double known_norm() const { return std::nan(""); }
  /// Closed-form SVD A = U diag(s) V^T (operators/svd.h), or null; matches OperatorEntry::capabilities.svd.
  virtual const OperatorSvd* svd() const { return nullptr; }
  /// c > 0 when every nonzero singular value equals c (A A^T A = c^2 A: A^+ = A^T / c^2), NaN otherwise;
  /// matches OperatorEntry::capabilities.projector.
  virtual double equal_singular_value() const { return std::nan(""); }
  /// Per-sample data-fit [B] between a forward value ax = A(x) and a measurement y: ||y - ax||_2 by
  /// default (DPS's norm, not squared); torchscript with cross_entropy returns the cross-entropy.
  virtual torch::Tensor loss(const torch::Tensor& ax, const torch::Tensor& y) const;
  /// Shape of one measurement (without the batch dimension).
  virtual std::vector<int64_t> measurement_shape() const = 0;
  /// One line: the operator and its resolved parameters.
  virtual std::string describe() const = 0;
  /// The operator's pixel mask [1, 1, H, W] (1 = observed) when it has one (inpaint), else undefined:
  /// what `[noise.subspace] subspace = operator` couples on.
  virtual torch::Tensor pixel_mask() const { return {}; }

  /// noise(forward(x)) with the keyed noise model of MeasurementOptions; x is [1 or B, C, H, W].
  virtual torch::Tensor measure(const torch::Tensor& x, uint64_t key) const;
  const MeasurementOptions& noise() const { return noise_; }
  /// Number of scalar measurements per sample (product of measurement_shape()).
  int64_t measurement_size() const;
  /// Image shape [C, H, W] the operator was built for; empty when the subclass did not record it.
  const std::vector<int64_t>& image_shape() const { return image_shape_; }

 protected:
  /// TORCH_CHECKs that x is [B, C, H, W] with [C, H, W] == image_shape() (when recorded).
  void check_input(const torch::Tensor& x) const;
  /// TORCH_CHECKs that y is [B] + measurement_shape().
  void check_measurement(const torch::Tensor& y) const;

 private:
  MeasurementOptions noise_;
  std::vector<int64_t> image_shape_;
};

/// Keyed Poisson draws: element i ~ Pois(lambda_i) from one (0, 1) uniform of (key, i) by inversion,
/// searching from the mode (O(sqrt(lambda)) steps). lambda >= 0, any floating dtype, CPU; returns float64.
torch::Tensor keyed_poisson(const torch::Tensor& lambda, uint64_t key);

/// Largest singular value ||A||_2 of a linear operator by the power method on A^T A, started from a
/// keyed Gaussian [1, C, H, W] in float64: stops when the estimate changes by < tol relatively.
/// Throws Error for a nonlinear operator.
double op_norm(const Operator& op, int64_t max_iters = 100, double tol = 1e-10, uint64_t key = 0x6f706e6f726dULL);

/// Where an operator instance lives.
struct OperatorContext {
  std::vector<int64_t> image_shape;  ///< [C, H, W]
  uint64_t key = 0;                  ///< problem key of the item (masks, box positions)
  torch::Device device = torch::kCPU;
  torch::ScalarType dtype = torch::kFloat;
};

/// Throws Error naming `op` unless ctx.image_shape is [C, H, W] with all sizes >= 1.
void require_image_shape(const OperatorContext& ctx, const std::string& op);

/// `cached` when it already has x's dtype and device, else `master` (any dtype) cast to them: operators
/// keep float64 masters of their constants so that a float64 input never sees float32 rounding.
torch::Tensor constant_like(const torch::Tensor& cached, const torch::Tensor& master, const torch::Tensor& x);

/// Builds instances of a configured operator; throws Error when the image shape does not fit.
using OperatorBuilder = std::function<std::unique_ptr<Operator>(const OperatorContext&)>;

struct OperatorEntry {
  ComponentInfo info;
  bool linear = true;
  /// Closed forms every instance offers (operators/svd.h); checked against the instances by the registry tests.
  OperatorCapabilities capabilities;
  /// Reads and validates the options of one config section, returning a builder.
  std::function<OperatorBuilder(const Section&)> parse;
};

/// Entry for an operator class Op that has `using Options = ...;` (fields(), validate()) and a
/// constructor Op(MeasurementOptions, Options, const OperatorContext&) throwing Error on a bad shape.
/// info.options = MeasurementOptions' docs followed by Op::Options' docs; parse() reads both from the
/// same section (read_options validates them) and returns a builder.
template <class Op>
OperatorEntry make_operator_entry(const std::string& name, const std::string& description, bool linear,
                                  OperatorCapabilities capabilities = {}) {
  using Options = typename Op::Options;
  OperatorEntry e;
  e.info.name = name;
  e.info.description = description;
  e.info.options = describe_options<MeasurementOptions>();
  for (auto& doc : describe_options<Options>()) e.info.options.push_back(std::move(doc));
  e.linear = linear;
  e.capabilities = capabilities;
  e.parse = [](const Section& section) -> OperatorBuilder {
    const auto noise = read_options<MeasurementOptions>(section);
    const auto options = read_options<Options>(section);
    return [noise, options](const OperatorContext& ctx) -> std::unique_ptr<Operator> {
      return std::make_unique<Op>(noise, options, ctx);
    };
  };
  return e;
}

Registry<OperatorEntry>& operator_registry();
/// Registers every built-in operator (idempotent).
void register_builtin_operators();

}  // namespace ipbench
