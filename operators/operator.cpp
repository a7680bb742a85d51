#include "operators/operator.h"

#include <algorithm>
#include <cmath>
#include <mutex>

#include <ATen/Parallel.h>

#include "core/error.h"
#include "core/options.h"
#include "core/rng.h"
#include "operators/gaussian_blur.h"
#include "operators/inpaint.h"
#include "operators/superres.h"
#include "operators/motion_blur.h"
#include "operators/colorize.h"
#include "operators/compressed_sensing.h"
#include "operators/mri.h"
#include "operators/ct.h"
#include "operators/denoise.h"
#include "operators/nonlinear.h"
#include "operators/torchscript_operator.h"

namespace ipbench {

void MeasurementOptions::validate() const {
  check_option(std::isfinite(sigma_y) && sigma_y >= 0, "MeasurementOptions", "sigma_y", sigma_y,
               "sigma_y >= 0 and finite");
  check_option(noise == "gaussian" || noise == "poisson" || noise == "none", "MeasurementOptions", "noise", noise,
               "noise in {gaussian, poisson, none}");
  check_option(std::isfinite(poisson_rate) && poisson_rate > 0, "MeasurementOptions", "poisson_rate", poisson_rate,
               "poisson_rate > 0 and finite");
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

torch::Tensor Operator::normal(const torch::Tensor& x) const { return adjoint(forward(x)); }

torch::Tensor Operator::loss(const torch::Tensor& ax, const torch::Tensor& y) const {
  return (y - ax).flatten(1).pow(2).sum(1).sqrt();
}

torch::Tensor Operator::measure(const torch::Tensor& x, uint64_t key) const {
  auto y = forward(x);
  if (noise_.noise == "none") return y;
  if (noise_.noise == "poisson") {
    // DPS's PoissonNoise: [-1, 1] -> [0, 1] intensities, counts at 255 rate photons per unit, back.
    const double scale = 255.0 * noise_.poisson_rate;
    auto lambda = ((y.detach() + 1) * 0.5).clamp_min(0) * scale;
    auto counts = keyed_poisson(lambda.to(torch::kCPU), key).to(y.device(), y.scalar_type());
    return counts * (2.0 / scale) - 1;
  }
  if (noise_.sigma_y == 0) return y;
  // Generated on the CPU in float64 or float32 (keyed_normal's types), then moved: the draw is the
  // same on every device.
  const auto gen_dtype = y.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
  auto n = keyed_normal(y.sizes(), key, gen_dtype).to(y.device(), y.scalar_type());
  return y + noise_.sigma_y * n;
}

torch::Tensor keyed_poisson(const torch::Tensor& lambda, uint64_t key) {
  TORCH_CHECK(lambda.device().is_cpu(), "keyed_poisson: CPU tensors only");
  auto lam = lambda.to(torch::kDouble).contiguous();
  auto u = keyed_uniform(lam.sizes(), key, torch::kDouble);
  auto out = torch::empty_like(lam);
  const double* l = lam.data_ptr<double>();
  const double* up = u.data_ptr<double>();
  double* o = out.data_ptr<double>();
  const int64_t n = lam.numel();
  at::parallel_for(0, n, 1024, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const double lm = l[i], ui = up[i];
      TORCH_CHECK(std::isfinite(lm) && lm >= 0, "keyed_poisson: lambda must be finite and >= 0, got ", lm);
      if (lm == 0) {
        o[i] = 0;
        continue;
      }
      // Inversion from the mode m: F(m) is summed downwards from p_m (the tail below m - 12 sqrt(lambda)
      // - 30 is < 1e-30); then walk down or up until F(k-1) < u <= F(k).
      const auto m = static_cast<int64_t>(std::floor(lm));
      const double pm = std::exp(static_cast<double>(m) * std::log(lm) - lm - std::lgamma(static_cast<double>(m) + 1));
      const auto low = std::max<int64_t>(0, m - static_cast<int64_t>(12 * std::sqrt(lm)) - 30);
      double cdf = pm, p = pm;
      for (int64_t k = m; k > low; --k) {
        p *= static_cast<double>(k) / lm;
        cdf += p;
      }
      int64_t k = m;
      p = pm;
      if (ui <= cdf) {  // walk down while F(k - 1) >= u
        while (k > 0 && cdf - p >= ui) {
          cdf -= p;
          p *= static_cast<double>(k) / lm;
          --k;
        }
      } else {  // walk up until F(k) >= u (bounded: rounding can keep F just below u far in the tail)
        const auto high = m + static_cast<int64_t>(40 * std::sqrt(lm)) + 100;
        while (cdf < ui && k < high) {
          p *= lm / static_cast<double>(k + 1);
          ++k;
          cdf += p;
        }
      }
      o[i] = static_cast<double>(k);
    }
  });
  return out;
}

double op_norm(const Operator& op, int64_t max_iters, double tol, uint64_t key) {
  require(op.linear(), "op_norm: operator '", op.name(), "' is nonlinear");
  TORCH_CHECK(!op.image_shape().empty(), "op_norm: operator '", op.name(), "' did not record its image shape");
  torch::NoGradGuard no_grad;
  std::vector<int64_t> shape{1};
  shape.insert(shape.end(), op.image_shape().begin(), op.image_shape().end());
  auto x = keyed_normal(shape, key, torch::kDouble);
  x = x / x.norm();
  double estimate = 0;
  for (int64_t it = 0; it < max_iters; ++it) {
    auto z = op.normal(x);
    const double nz = z.norm().item<double>();  // ||A^T A x|| -> sigma_max^2 for a unit x
    if (nz == 0) return 0.0;
    const double next = std::sqrt(nz);
    x = z / nz;
    if (it > 0 && std::abs(next - estimate) <= tol * next) return next;
    estimate = next;
  }
  return estimate;
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
    r.add("motion_blur", motion_blur_entry());
    r.add("colorize", colorize_entry());
    r.add("cs", compressed_sensing_entry());
    r.add("mri", mri_entry());
    r.add("ct", ct_entry());
    r.add("phase_retrieval", phase_retrieval_entry());
    r.add("saturation", saturation_entry());
    r.add("torchscript", torchscript_operator_entry());
    r.add("denoise", denoise_entry());
  });
}

}  // namespace ipbench
