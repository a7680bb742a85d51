#include "solvers/reddiff.h"

#include <cmath>

#include "core/options.h"
#include "solvers/common.h"
#include "solvers/field_common.h"
#include "solvers/linear_algebra.h"

namespace ipbench {

void ReddiffOptions::validate() const {
  const char* o = "ReddiffOptions";
  check_option(steps >= 1 && steps <= 1000, o, "steps", steps, "1 <= steps <= 1000");
  check_option(lr > 0 && std::isfinite(lr), o, "lr", lr, "lr > 0");
  check_option(lambda >= 0 && std::isfinite(lambda), o, "lambda", lambda, "lambda >= 0");
  check_option(obs_weight >= 0 && std::isfinite(obs_weight), o, "obs_weight", obs_weight, "obs_weight >= 0");
  check_option(weighting == "linear" || weighting == "sqrt" || weighting == "square" || weighting == "log" ||
                   weighting == "trunc_linear" || weighting == "const",
               o, "weighting", weighting, "weighting in {linear, sqrt, square, log, trunc_linear, const}");
  check_option(init == "pinv" || init == "zero", o, "init", init, "init in {pinv, zero}");
  check_option(cg_iterations >= 1, o, "cg_iterations", cg_iterations, "cg_iterations >= 1");
  check_option(svd_cutoff >= 0 && std::isfinite(svd_cutoff), o, "svd_cutoff", svd_cutoff, "svd_cutoff >= 0");
}

ReddiffSolver::ReddiffSolver(ReddiffOptions options) : options_(std::move(options)) { options_.validate(); }

std::string ReddiffSolver::describe() const {
  return str_cat("reddiff: ", options_.steps, " steps, lr ", options_.lr, ", lambda ", options_.lambda, " (",
                 options_.weighting, ")");
}

namespace {
double weight_of(const std::string& f, double sigma) {
  if (f == "linear") return sigma;
  if (f == "sqrt") return std::sqrt(sigma);
  if (f == "square") return sigma * sigma;
  if (f == "log") return std::log1p(sigma);
  if (f == "trunc_linear") return std::min(sigma, 1.0);
  return 1.0;
}
}  // namespace

SolveResult ReddiffSolver::solve(const Problem& problem, NoiseStream& noise) const {
  const auto& op = problem.op;
  const auto shape = solver_image_shape(problem.prior, "reddiff");
  const auto opts = problem.y.options();
  const int64_t B = noise.batch_size();
  std::vector<int64_t> bshape{B};
  bshape.insert(bshape.end(), shape.begin(), shape.end());
  torch::NoGradGuard no_grad;
  torch::Tensor mu = torch::zeros(bshape, opts);
  if (options_.init == "pinv" && op.linear())
    mu = mu + pseudo_inverse(op, problem.y, options_.cg_iterations, options_.svd_cutoff);
  const double m = static_cast<double>(op.measurement_size());
  double d = 1;
  for (auto v : shape) d *= static_cast<double>(v);
  const double b1 = 0.9, b2 = 0.99, eps_adam = 1e-8;
  auto m1 = torch::zeros_like(mu), m2 = torch::zeros_like(mu);
  const auto sigmas = vp_skip_sigmas(options_.steps);
  torch::Tensor out = mu;
  for (size_t k = 0; k + 1 < sigmas.size(); ++k) {
    const double sg = sigmas[k];
    const auto e = noise.gaussian(shape).to(opts);
    const auto xt = mu + sg * e;
    const auto ehat = (xt - denoise_at(problem.prior, xt, sg)) / sg;
    torch::Tensor data_grad;
    if (op.linear()) {
      data_grad = op.adjoint(op.forward(mu) - problem.y) / m;
    } else {
      torch::AutoGradMode grad(true);
      auto mg = mu.detach().requires_grad_(true);
      // The operator's data fit (||y - A(mu)||; cross-entropy for torchscript classifiers), squared like DAPS.
      auto loss = data_fit_norm(op, mg, problem.y).square().sum() / (2 * m);
      data_grad = torch::autograd::grad({loss}, {mg})[0];
    }
    const double w = options_.lambda * weight_of(options_.weighting, sg);
    const auto grad = options_.obs_weight * data_grad + (w / d) * (ehat - e);
    out = mu;
    const double step = static_cast<double>(k + 1);
    m1 = b1 * m1 + (1 - b1) * grad;
    m2 = b2 * m2 + (1 - b2) * grad * grad;
    const auto mhat = m1 / (1 - std::pow(b1, step));
    const auto vhat = m2 / (1 - std::pow(b2, step));
    mu = mu - options_.lr * mhat / (vhat.sqrt() + eps_adam);
  }
  SolveResult result;
  result.x = out;
  result.status = finite_status(result.x);
  result.nfe = options_.steps;
  result.used = str_cat("reddiff ", options_.steps, " steps, Adam lr ", options_.lr, ", lambda ", options_.lambda,
                        " ", options_.weighting, ", init ", options_.init,
                        options_.init == "pinv" ? str_cat(" (singular values < ", options_.svd_cutoff, " as 0)") : "");
  return result;
}

}  // namespace ipbench
