#include "solvers/dds.h"

#include <cmath>

#include "core/options.h"
#include "models/schedule.h"

namespace ipbench {

void DdsOptions::validate() const {
  const char* o = "DdsOptions";
  vp.validate(o);
  check_option(steps >= 1 && steps <= vp.T, o, "steps", steps, "1 <= steps <= T");
  check_option(eta >= 0 && eta <= 1, o, "eta", eta, "0 <= eta <= 1");
  check_option(cg_iterations >= 1, o, "cg_iterations", cg_iterations, "cg_iterations >= 1");
  check_option(gamma > 0 && std::isfinite(gamma), o, "gamma", gamma, "gamma > 0");
  check_option(cg_tol >= 0, o, "cg_tol", cg_tol, "cg_tol >= 0");
}

DdsSolver::DdsSolver(DdsOptions options) : options_(std::move(options)) { options_.validate(); }

std::string DdsSolver::describe() const {
  return str_cat("dds: ", options_.steps, " steps, eta ", options_.eta, ", CG ", options_.cg_iterations,
                 " iterations, gamma ", options_.gamma, options_.noiseless ? ", noiseless" : "");
}

namespace {
// Per-sample inner product <a, b>: [B, 1, 1, ...] broadcastable against a.
torch::Tensor batch_dot(const torch::Tensor& a, const torch::Tensor& b) {
  std::vector<int64_t> shape(a.dim(), 1);
  shape[0] = a.size(0);
  return (a * b).flatten(1).sum(1).view(shape);
}
}  // namespace

torch::Tensor conjugate_gradient(const std::function<torch::Tensor(const torch::Tensor&)>& apply,
                                 const torch::Tensor& b, const torch::Tensor& x0, int64_t iterations, double tol) {
  return conjugate_gradient(apply, b, x0, iterations, torch::full({b.size(0)}, tol, b.options()));
}

torch::Tensor conjugate_gradient(const std::function<torch::Tensor(const torch::Tensor&)>& apply,
                                 const torch::Tensor& b, const torch::Tensor& x0, int64_t iterations,
                                 const torch::Tensor& tol) {
  torch::Tensor x = x0.clone();
  torch::Tensor r = b - apply(x);
  torch::Tensor p = r.clone();
  torch::Tensor rs = batch_dot(r, r);
  TORCH_CHECK(tol.numel() == b.size(0), "conjugate_gradient: ", tol.numel(), " tolerances for a batch of ", b.size(0));
  const torch::Tensor tol_b = tol.to(rs.options()).reshape(rs.sizes());  // [B, 1, ...] like the inner products
  torch::Tensor active = rs.sqrt() >= tol_b;
  for (int64_t it = 0; it < iterations; ++it) {
    if (!active.any().item<bool>()) break;
    const torch::Tensor Ap = apply(p);
    const torch::Tensor pAp = batch_dot(p, Ap);
    // A zero curvature (p = 0 or p in the null space) or a converged sample: no step.
    const torch::Tensor ok = active & (pAp > 0);
    const torch::Tensor alpha = torch::where(ok, rs / torch::where(ok, pAp, torch::ones_like(pAp)), torch::zeros_like(pAp));
    x = x + alpha * p;
    r = r - alpha * Ap;
    const torch::Tensor rs_new = batch_dot(r, r);
    active = ok & (rs_new.sqrt() >= tol_b);
    const torch::Tensor beta = torch::where(active, rs_new / torch::where(rs > 0, rs, torch::ones_like(rs)), torch::zeros_like(rs));
    p = r + beta * p;
    rs = rs_new;
  }
  return x;
}

SolveResult DdsSolver::solve(const Problem& problem, NoiseStream& noise) const {
  require(problem.op.linear(), "dds needs a linear operator with a true adjoint; '", problem.op.name(), "' is nonlinear");
  torch::NoGradGuard no_grad;
  const auto shape = problem.prior.image_shape();
  TORCH_CHECK(!shape.empty(), "DDS needs a prior with a fixed image shape");
  const auto opts = problem.y.options();
  const auto schedule = options_.vp.schedule();
  const int64_t skip = options_.vp.T / options_.steps;
  const double gamma = options_.gamma;
  const auto& op = problem.op;
  const torch::Tensor Aty = op.adjoint(problem.y);  // [1, C, H, W]

  torch::Tensor x = noise.gaussian(shape).to(opts);  // z_T
  for (int64_t k = options_.steps - 1; k >= 0; --k) {
    const int64_t t = k * skip, t_prev = k == 0 ? -1 : (k - 1) * skip;
    const double a = schedule.abar(t), a_prev = schedule.abar(t_prev);
    const double sigma = std::sqrt((1 - a) / a);
    const torch::Tensor x0 = problem.prior.denoise(x / std::sqrt(a), torch::full({x.size(0)}, sigma, opts));
    const torch::Tensor eps = (x - std::sqrt(a) * x0) / std::sqrt(1 - a);
    torch::Tensor x0c;
    if (options_.noiseless) {
      x0c = conjugate_gradient([&](const torch::Tensor& v) { return op.adjoint(op.forward(v)); },
                               Aty.expand_as(x0), x0, options_.cg_iterations, options_.cg_tol);
    } else {
      x0c = conjugate_gradient([&](const torch::Tensor& v) { return v + gamma * op.adjoint(op.forward(v)); },
                               x0 + gamma * Aty, x0, options_.cg_iterations, options_.cg_tol);
    }
    if (k == 0) {
      noise.skip();  // weight 0
      x = x0c;
      break;
    }
    torch::Tensor mix = std::sqrt(1 - options_.eta * options_.eta) * eps;
    if (options_.eta > 0)
      mix = mix + options_.eta * noise.gaussian(shape).to(opts);  // z_k
    else
      noise.skip();  // eta = 0: weight 0
    x = std::sqrt(a_prev) * x0c + std::sqrt(1 - a_prev) * mix;
  }

  SolveResult result;
  result.status = finite_status(x);
  result.x = x;
  result.nfe = options_.steps;
  result.used = str_cat("dds steps ", options_.steps, " (t = k * ", skip, "), eta ", options_.eta, ", CG ",
                        options_.cg_iterations, ", gamma ", gamma, options_.noiseless ? ", noiseless" : "");
  return result;
}

}  // namespace ipbench
