#include "operators/operator.h"

#include <cmath>
#include <mutex>

#include "core/error.h"
#include "core/options.h"
#include "core/rng.h"
#include "operators/gaussian_blur.h"
#include "operators/inpaint.h"
#include "operators/superres.h"

namespace ipbench {

void MeasurementOptions::validate() const {
  check_option(std::isfinite(sigma_y) && sigma_y >= 0, "MeasurementOptions", "sigma_y", sigma_y,
               "sigma_y >= 0 and finite");
}

torch::Tensor Operator::adjoint(const torch::Tensor& y) const { return vjp_adjoint(y); }

torch::Tensor Operator::vjp_adjoint(const torch::Tensor& y) const {
  require(linear(), "operator '", name(), "' is nonlinear: it has no adjoint");
  TORCH_CHECK(!image_shape_.empty(), "operator '", name(),
              "' did not record its image shape, which the autograd adjoint needs");
  check_measurement(y);
  // Keep the graph only when the caller differentiates through the adjoint (decided before grad
  // mode is switched on here: solvers usually call this under NoGradGuard).
  const bool create_graph = torch::GradMode::is_enabled() && y.requires_grad();
  torch::AutoGradMode enable_grad(true);
  std::vector<int64_t> shape{y.size(0)};
  shape.insert(shape.end(), image_shape_.begin(), image_shape_.end());
  // A is linear, so the Jacobian is A itself at every x; x = 0 is as good as any point.
  auto x = torch::zeros(shape, y.options().requires_grad(false)).requires_grad_(true);
  auto ax = forward(x);
  return torch::autograd::grad({ax}, {x}, {y}, /*retain_graph=*/create_graph, create_graph)[0];
}

torch::Tensor Operator::measure(const torch::Tensor& x, uint64_t key) const {
  auto y = forward(x);
  if (noise_.sigma_y == 0) return y;
  // Generated on the CPU in float64 or float32 (keyed_normal's types), then moved: the draw is the
  // same on every device.
  const auto gen_dtype = y.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
  auto n = keyed_normal(y.sizes(), key, gen_dtype).to(y.device(), y.scalar_type());
  return y + noise_.sigma_y * n;
}

int64_t Operator::measurement_size() const {
  int64_t n = 1;
  for (int64_t s : measurement_shape()) n *= s;
  return n;
}

void Operator::check_input(const torch::Tensor& x) const {
  TORCH_CHECK(x.dim() == 4, name(), ": expected an image batch [B, C, H, W], got ", x.sizes());
  if (image_shape_.empty()) return;
  TORCH_CHECK(x.sizes().slice(1).vec() == image_shape_, name(), ": built for images ", c10::IntArrayRef(image_shape_),
              ", got ", x.sizes());
}

void Operator::check_measurement(const torch::Tensor& y) const {
  auto expected = measurement_shape();
  TORCH_CHECK(y.dim() == static_cast<int64_t>(expected.size()) + 1 && y.sizes().slice(1).vec() == expected,
              name(), ": expected a measurement batch [B] + ", c10::IntArrayRef(expected), ", got ", y.sizes());
}

void require_image_shape(const OperatorContext& ctx, const std::string& op) {
  const auto& s = ctx.image_shape;
  require(s.size() == 3 && s[0] >= 1 && s[1] >= 1 && s[2] >= 1, "operator '", op,
          "': image_shape must be [C, H, W] with positive sizes, got ", option_value(s));
}

torch::Tensor constant_like(const torch::Tensor& cached, const torch::Tensor& master, const torch::Tensor& x) {
  if (cached.scalar_type() == x.scalar_type() && cached.device() == x.device()) return cached;
  return master.to(x.device(), x.scalar_type());
}

Registry<OperatorEntry>& operator_registry() {
  static Registry<OperatorEntry> registry("operator");
  return registry;
}

void register_builtin_operators() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto& r = operator_registry();
    r.add("inpaint", inpaint_entry());
    r.add("gaussian_blur", gaussian_blur_entry());
    r.add("superres", superres_entry());
  });
}

}  // namespace ipbench
