#include "solvers/pigdm.h"

#include <cmath>

#include "core/options.h"
#include "solvers/field_common.h"
#include "solvers/linear_algebra.h"

namespace ipbench {

void PigdmOptions::validate() const {
  const char* o = "PigdmOptions";
  check_option(steps >= 1 && steps <= 1000, o, "steps", steps, "1 <= steps <= 1000");
  check_option(eta >= 0 && eta <= 1, o, "eta", eta, "0 <= eta <= 1");
  check_option(w >= 0 && std::isfinite(w), o, "w", w, "w >= 0");
  check_option(weight == "code" || weight == "exact", o, "weight", weight, "weight in {code, exact}");
  check_option(sigma_y == -1.0 || (sigma_y >= 0 && std::isfinite(sigma_y)), o, "sigma_y", sigma_y,
               "sigma_y >= 0 or -1 (the operator's)");
  check_option(cg_iterations >= 1, o, "cg_iterations", cg_iterations, "cg_iterations >= 1");
  check_option(svd_cutoff >= 0 && std::isfinite(svd_cutoff), o, "svd_cutoff", svd_cutoff, "svd_cutoff >= 0");
}

PigdmSolver::PigdmSolver(PigdmOptions options) : options_(std::move(options)) { options_.validate(); }

std::string PigdmSolver::describe() const {
  return str_cat("pigdm: ", options_.steps, " steps, eta ", options_.eta, ", weight ", options_.weight,
                 options_.weight == "code" ? str_cat(" w ", options_.w) : std::string());
}

SolveResult PigdmSolver::solve(const Problem& problem, NoiseStream& noise) const {
  const auto& op = problem.op;
  require(op.linear(), "solver 'pigdm' needs a linear operator; '", op.name(), "' is nonlinear");
  const auto shape = solver_image_shape(problem.prior, "pigdm");
  const auto opts = problem.y.options();
  const double sy = assumed_sigma_y(options_.sigma_y, op);
  const auto sigmas = vp_skip_sigmas(options_.steps);
  torch::Tensor x;
  {
    torch::NoGradGuard no_grad;
    x = pseudo_inverse(op, problem.y, options_.cg_iterations, options_.svd_cutoff) +
        sigmas.front() * noise.gaussian(shape).to(opts);
  }
  for (size_t k = 0; k + 1 < sigmas.size(); ++k) {
    const double sg = sigmas[k], sn = sigmas[k + 1];
    auto xg = x.detach().requires_grad_(true);
    torch::Tensor d, g;
    {
      torch::AutoGradMode grad(true);
      d = denoise_at(problem.prior, xg, sg);
      torch::Tensor v;
      {
        torch::NoGradGuard no_grad;
        const double r2 = sg * sg / (1 + sg * sg);
        v = adjoint_regularized_inverse(op, problem.y - op.forward(d.detach()), sy * sy / r2, options_.cg_iterations);
      }
      g = torch::autograd::grad({d}, {xg}, {v})[0];
    }
    torch::NoGradGuard no_grad;
    d = d.detach();
    const double s = options_.eta * sn * std::sqrt(std::max(0.0, 1 - sn * sn / (sg * sg)));
    const double keep = std::sqrt(std::max(0.0, sn * sn - s * s));
    const double wt = options_.weight == "exact" ? (1 + sg * sg) * (1 - keep / sg) : options_.w;
    x = d + keep * (x - d) / sg + wt * g;
    if (s > 0)
      x = x + s * noise.gaussian(shape).to(opts);
    else
      noise.skip();  // weight 0
  }
  SolveResult result;
  result.x = x.detach();
  result.status = finite_status(result.x);
  result.nfe = options_.steps;
  result.used = str_cat("pigdm ", options_.steps, " steps, eta ", options_.eta, ", weight ", options_.weight,
                        ", w ", options_.w, ", sigma_y ", sy, ", linear algebra ", data_step_mode(op));
  return result;
}

}  // namespace ipbench
