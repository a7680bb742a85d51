#include "solvers/linear_algebra.h"

#include <cmath>

#include "core/error.h"
#include "solvers/common.h"
#include "solvers/dds.h"

namespace ipbench {

namespace {

bool has_projector(const Operator& op) {
  const double c = op.equal_singular_value();
  return std::isfinite(c) && c > 0;
}

torch::Tensor draw_like(NoiseStream& noise, at::IntArrayRef shape, const torch::Tensor& like) {
  return noise.gaussian(shape).to(like.device(), like.scalar_type());
}

std::vector<int64_t> tail(const torch::Tensor& t) { return t.sizes().slice(1).vec(); }

// CG (solvers/dds.h) for at most `iterations`, stopping a sample once its residual is below 1e-10 of
// its own right-hand side: iterating past convergence divides rounding noise by rounding noise (a
// projector A^T A then blows up). Per sample, so a sample's result does not depend on the batch it is
// solved in (batch size, batches across items); the largest right-hand side of the batch did.
torch::Tensor cg(const std::function<torch::Tensor(const torch::Tensor&)>& apply, const torch::Tensor& b,
                 const torch::Tensor& x0, int64_t iterations) {
  return conjugate_gradient(apply, b, x0, iterations, 1e-10 * b.flatten(1).norm(2, 1));
}

}  // namespace

std::string data_step_mode(const Operator& op) {
  require(op.linear(), "operator '", op.name(), "' is nonlinear: it has no linear data steps (A^+, prox)");
  if (op.svd() != nullptr) return "svd";
  if (has_projector(op)) return "projector";
  return "cg";
}

torch::Tensor pseudo_inverse(const Operator& op, const torch::Tensor& y, int64_t cg_iterations, double cutoff) {
  const std::string mode = data_step_mode(op);
  if (mode == "svd") {
    const auto* svd = op.svd();
    auto u = svd->Ut_embed(y);
    auto s = svd->s_like(u);
    const auto kept = cutoff > 0 ? svd->kept_like(u, cutoff) : s > 0;
    return svd->V(torch::where(kept, u / torch::where(kept, s, torch::ones_like(s)), torch::zeros_like(u)));
  }
  if (mode == "projector") {
    const double c = op.equal_singular_value();
    if (c < cutoff) return torch::zeros_like(op.adjoint(y));
    return op.adjoint(y) / (c * c);
  }
  auto aty = op.adjoint(y);
  return cg([&](const torch::Tensor& v) { return op.normal(v); }, aty, torch::zeros_like(aty), cg_iterations);
}

torch::Tensor least_squares_prox(const Operator& op, const torch::Tensor& y, const torch::Tensor& z, double s2,
                                 double rho, int64_t cg_iterations) {
  TORCH_CHECK(s2 >= 0 && rho >= 0, "least_squares_prox: s2 >= 0 and rho >= 0 required");
  const double lambda = rho * s2;  // (A^T A + lambda I) x = A^T y + lambda z
  const std::string mode = data_step_mode(op);
  if (mode == "svd") {
    const auto* svd = op.svd();
    auto u = svd->Ut_embed(y);
    auto zc = svd->Vt(z);
    auto s = svd->s_like(zc);
    auto den = s * s + lambda;
    auto ok = den > 0;
    auto c = torch::where(ok, (s * u + lambda * zc) / torch::where(ok, den, torch::ones_like(den)), zc);
    return svd->V(c);
  }
  if (mode == "projector") {
    const double c = op.equal_singular_value();
    return z + op.adjoint(y - op.forward(z)) / (c * c + lambda);
  }
  auto b = op.adjoint(y) + lambda * z;
  return cg([&](const torch::Tensor& v) { return op.normal(v) + lambda * v; }, b, z.clone(), cg_iterations);
}

torch::Tensor adjoint_regularized_inverse(const Operator& op, const torch::Tensor& r, double c,
                                          int64_t cg_iterations) {
  TORCH_CHECK(c >= 0, "adjoint_regularized_inverse: c >= 0 required");
  const std::string mode = data_step_mode(op);
  if (mode == "svd") {
    const auto* svd = op.svd();
    auto u = svd->Ut_embed(r);
    auto s = svd->s_like(u);
    auto den = s * s + c;
    return svd->V(torch::where(s > 0, s * u / torch::where(s > 0, den, torch::ones_like(den)), torch::zeros_like(u)));
  }
  if (mode == "projector") {
    const double sv = op.equal_singular_value();
    return op.adjoint(r) / (sv * sv + c);
  }
  auto u = cg([&](const torch::Tensor& v) { return op.forward(op.adjoint(v)) + c * v; }, r, torch::zeros_like(r),
              cg_iterations);
  return op.adjoint(u);
}

torch::Tensor gaussian_data_step(const Operator& op, const torch::Tensor& y, const torch::Tensor& x, double sigma_y,
                                 double rho, NoiseStream& noise, int64_t cg_iterations) {
  TORCH_CHECK(sigma_y >= 0 && rho > 0, "gaussian_data_step: sigma_y >= 0 and rho > 0 required");
  const double v = sigma_y * sigma_y, r2 = rho * rho;
  const std::string mode = data_step_mode(op);
  if (mode == "svd") {
    const auto* svd = op.svd();
    auto xi = draw_like(noise, tail(x), x);
    auto u = svd->Ut_embed(y);
    auto xc = svd->Vt(x);
    auto s = svd->s_like(xc);
    // mean = (s u + (v / r2) x) / (s^2 + v / r2), q = v r2 / (s^2 r2 + v); s = 0: mean x, q = r2.
    auto den = s * s + v / r2;
    auto obs = s > 0;
    auto safe = torch::where(obs, den, torch::ones_like(den));
    auto mean = torch::where(obs, (s * u + (v / r2) * xc) / safe, xc);
    auto q = torch::where(obs, (v / safe), torch::full_like(s, r2));
    return svd->V(mean + q.sqrt() * xi);
  }
  if (mode == "projector") {
    const double c2 = std::pow(op.equal_singular_value(), 2);
    auto xi = draw_like(noise, tail(x), x);
    auto mean = x + op.adjoint(y - op.forward(x)) / (c2 + v / r2);
    const double q_range = r2 * v / (c2 * r2 + v);
    auto p_xi = op.normal(xi) / c2;  // P xi, P = A^T A / c^2
    return mean + rho * xi + (std::sqrt(q_range) - rho) * p_xi;
  }
  // Perturb-then-optimise: the prox of the perturbed problem is an exact draw.
  auto xi_y = draw_like(noise, op.measurement_shape(), y);
  auto xi_x = draw_like(noise, tail(x), x);
  return least_squares_prox(op, y + sigma_y * xi_y, x + rho * xi_x, v, 1.0 / r2, cg_iterations);
}

torch::Tensor langevin_data_step(const Operator& op, const torch::Tensor& y, const torch::Tensor& x, double sigma_y,
                                 double rho2, double lr, int64_t steps, NoiseStream& noise) {
  TORCH_CHECK(sigma_y > 0 && rho2 > 0 && lr > 0 && steps >= 0,
              "langevin_data_step: sigma_y > 0, rho2 > 0, lr > 0 and steps >= 0 required");
  torch::Tensor z = x;
  for (int64_t j = 0; j < steps; ++j) {
    const auto grad = data_fit_gradient(op, z, y, sigma_y);
    torch::NoGradGuard no_grad;
    z = z - lr * (grad + (z - x) / rho2) + std::sqrt(2.0 * lr) * draw_like(noise, tail(x), x);
  }
  return z.detach();
}

}  // namespace ipbench
