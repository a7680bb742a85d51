#include "solvers/ddnm.h"

#include <cmath>
#include <cstdio>

#include "core/options.h"
#include "solvers/ddrm.h"
#include "solvers/field_common.h"
#include "solvers/linear_algebra.h"

namespace ipbench {

void DdnmOptions::validate() const {
  const char* o = "DdnmOptions";
  check_option(steps >= 1 && steps <= 1000, o, "steps", steps, "1 <= steps <= 1000");
  check_option(eta >= 0 && eta <= 1, o, "eta", eta, "0 <= eta <= 1");
  check_option(variant == "auto" || variant == "ddnm" || variant == "plus" || variant == "simplified", o, "variant",
               variant, "variant in {auto, ddnm, plus, simplified}");
  check_option(sigma_y == -1.0 || (sigma_y >= 0 && std::isfinite(sigma_y)), o, "sigma_y", sigma_y,
               "sigma_y >= 0 or -1 (the operator's)");
  check_option(cg_iterations >= 1, o, "cg_iterations", cg_iterations, "cg_iterations >= 1");
  check_option(svd_cutoff >= 0 && std::isfinite(svd_cutoff), o, "svd_cutoff", svd_cutoff, "svd_cutoff >= 0");
  check_option(travel_length >= 1, o, "travel_length", travel_length, "travel_length >= 1");
  check_option(travel_repeat >= 1, o, "travel_repeat", travel_repeat, "travel_repeat >= 1 (1: no time travel)");
  check_option(travel_repeat == 1 || travel_length < steps, o, "travel_length", travel_length,
               "travel_length < steps when travel_repeat > 1 (no jump point otherwise)");
}

std::vector<double> DdnmOptions::sigma_path() const {
  return vp_skip_sigma_path(steps, travel_length, travel_repeat);
}

int64_t DdnmSolver::nfe_per_sample() const {
  const auto path = options_.sigma_path();
  int64_t n = 0;
  for (size_t k = 0; k + 1 < path.size(); ++k) n += path[k + 1] < path[k];
  return n;
}

DdnmSolver::DdnmSolver(DdnmOptions options) : options_(std::move(options)) {
  options_.validate();
  if (options_.variant == "simplified")
    std::fprintf(stderr,
                 "warning: ddnm variant = simplified removes all noise once sigma' <= sigma_y, null space included "
                 "(specs/solvers-2.md 2: prior variance 0.012 instead of 1 on a free coordinate)\n");
}

Requirements DdnmSolver::requirements() const {
  // Item-batch safe: per-sample y; DDNM+ as DDRM, A^+ through the shared data steps (linear_algebra.h).
  Requirements r = Requirements::batched(/*linear_operator=*/true);
  r.svd = options_.variant == "auto" || options_.variant == "plus";
  return r;
}

std::string DdnmSolver::describe() const {
  return str_cat("ddnm: ", options_.variant, ", ", options_.steps, " steps, eta ", options_.eta,
                 options_.travel_repeat > 1
                     ? str_cat(", time travel ", options_.travel_length, " x ", options_.travel_repeat)
                     : std::string());
}

SolveResult DdnmSolver::solve(const Problem& problem, NoiseStream& noise) const {
  const double sy = assumed_sigma_y(options_.sigma_y, problem.op);
  std::string variant = options_.variant;
  if (variant == "auto") variant = sy > 0 ? "plus" : "ddnm";
  const auto sigmas = options_.sigma_path();
  SolveResult result;
  result.nfe = nfe_per_sample();
  result.used = str_cat("ddnm ", variant, ", ", options_.steps, " steps, eta ", options_.eta, ", sigma_y ", sy,
                        options_.travel_repeat > 1
                            ? str_cat(", time travel ", options_.travel_length, " x ", options_.travel_repeat,
                                      " (NFE ", result.nfe, ")")
                            : std::string());
  if (variant == "plus") {
    SvdSamplerSettings st;
    st.sigmas = sigmas;
    st.eta = options_.eta;
    st.eta_b = 1.0;
    st.y_init = false;
    st.sigma_y_option = sy;
    result.x = svd_sampler(problem, noise, st, "ddnm");
    result.status = finite_status(result.x);
    return result;
  }
  require(problem.op.linear(), "solver 'ddnm' needs a linear operator; '", problem.op.name(), "' is nonlinear");
  torch::NoGradGuard no_grad;
  const auto shape = solver_image_shape(problem.prior, "ddnm");
  const auto opts = problem.y.options();
  const double eta = options_.eta, keep = std::sqrt(1 - eta * eta);
  const auto& op = problem.op;
  torch::Tensor x = sigmas.front() * noise.gaussian(shape).to(opts);  // z_0
  torch::Tensor x0, d;
  for (size_t k = 0; k + 1 < sigmas.size(); ++k) {
    const double sg = sigmas[k], sn = sigmas[k + 1];
    if (time_travel(sigmas, k, d, noise, x)) continue;  // re-noise the last UNPROJECTED prediction
    d = denoise_at(problem.prior, x, sg);
    const auto ehat = (x - d) / sg;
    // lambda A^+(A D - y): the full range correction (ddnm) or its shrunk version (simplified).
    const double lambda = variant == "ddnm" || sy == 0 ? 1.0 : std::min(1.0, sn / sy);
    const double gamma = variant == "ddnm" ? sn : std::sqrt(std::max(0.0, sn * sn - lambda * lambda * sy * sy));
    x0 = d - lambda * pseudo_inverse(op, op.forward(d) - problem.y, options_.cg_iterations, options_.svd_cutoff);
    if (gamma > 0 && eta > 0) {
      x = x0 + gamma * (keep * ehat + eta * noise.gaussian(shape).to(opts));
    } else {
      noise.skip();  // weight 0
      x = x0 + gamma * keep * ehat;
    }
  }
  result.x = x;
  result.status = finite_status(result.x);
  return result;
}

}  // namespace ipbench
