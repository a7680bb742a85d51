#include "solvers/ddrm.h"

#include <cmath>

#include "core/options.h"
#include "solvers/field_common.h"

namespace ipbench {

void DdrmOptions::validate() const {
  const char* o = "DdrmOptions";
  check_option(steps >= 1 && steps <= 1000, o, "steps", steps, "1 <= steps <= 1000");
  check_option(eta >= 0 && eta <= 1, o, "eta", eta, "0 <= eta <= 1");
  check_option(eta_b >= 0 && eta_b <= 1, o, "eta_b", eta_b, "0 <= eta_b <= 1");
  check_option(sigma_y == -1.0 || (sigma_y >= 0 && std::isfinite(sigma_y)), o, "sigma_y", sigma_y,
               "sigma_y >= 0 or -1 (the operator's)");
  check_option(svd_cutoff >= 0 && std::isfinite(svd_cutoff), o, "svd_cutoff", svd_cutoff, "svd_cutoff >= 0");
}

DdrmSolver::DdrmSolver(DdrmOptions options) : options_(std::move(options)) { options_.validate(); }

std::string DdrmSolver::describe() const {
  return str_cat("ddrm: ", options_.steps, " steps, eta ", options_.eta, ", eta_b ", options_.eta_b);
}

torch::Tensor svd_sampler(const Problem& problem, NoiseStream& noise, const SvdSamplerSettings& st,
                          const std::string& solver) {
  const auto* svd = problem.op.svd();
  require(svd != nullptr, "solver '", solver, "' needs a closed-form SVD; operator '", problem.op.name(),
          "' has none");
  torch::NoGradGuard no_grad;
  const auto shape = solver_image_shape(problem.prior, solver);
  const auto opts = problem.y.options();
  const double sy = assumed_sigma_y(st.sigma_y_option, problem.op);
  const double eta = st.eta, eta_b = st.eta_b, keep = std::sqrt(1 - eta * eta);

  const auto u = svd->Ut_embed(problem.y);  // [1, C, H, W]
  auto s = svd->s_like(u);
  if (st.svd_cutoff > 0) s = torch::where(svd->kept_like(u, st.svd_cutoff), s, torch::zeros_like(s));
  const auto observed = s > 0;
  const auto s_safe = torch::where(observed, s, torch::ones_like(s));
  const auto ybar = torch::where(observed, u / s_safe, torch::zeros_like(u));
  const auto ny2 = (sy * sy) / (s_safe * s_safe);  // sigma_y^2 / s_i^2 (unused where s = 0)

  const auto& sig = st.sigmas;
  const double s0 = sig.front();
  auto c = s0 * noise.gaussian(shape).to(opts);  // z_0, scaled below
  if (st.y_init) {
    auto z0 = c / s0;
    auto noisier = observed & (s * s0 > sy);
    c = torch::where(noisier, ybar + torch::sqrt(torch::clamp_min(s0 * s0 - ny2, 0)) * z0, c);
  }
  torch::Tensor chat;  // the last (unprojected) prediction of the clean coefficients
  for (size_t k = 0; k + 1 < sig.size(); ++k) {
    const double sg = sig[k], sn = sig[k + 1];
    if (time_travel(sig, k, chat, noise, c)) continue;  // DDNM: re-noise the last prediction
    chat = svd->Vt(denoise_at(problem.prior, svd->V(c), sg));
    const auto ehat = (c - chat) / sg;
    torch::Tensor z;
    if (sn > 0) {
      z = noise.gaussian(shape).to(opts);
    } else {
      noise.skip();  // sigma' = 0: weight 0
      z = torch::zeros_like(c);
    }
    const auto ssn = s * sn;
    const auto free = ~observed | (ssn == sy);
    const auto less = observed & (ssn < sy);
    const auto free_val = chat + keep * sn * ehat + eta * sn * z;
    const auto less_val =
        sy > 0 ? chat + keep * sn * (ybar - chat) * s / sy + eta * sn * z : free_val;  // sy = 0: branch empty
    const auto noisier_val =
        eta_b * ybar + (1 - eta_b) * chat + torch::sqrt(torch::clamp_min(sn * sn - eta_b * eta_b * ny2, 0)) * z;
    c = torch::where(free, free_val, torch::where(less, less_val, noisier_val));
  }
  return svd->V(c);
}

SolveResult DdrmSolver::solve(const Problem& problem, NoiseStream& noise) const {
  SvdSamplerSettings st;
  st.sigmas = vp_skip_sigmas(options_.steps);
  st.eta = options_.eta;
  st.eta_b = options_.eta_b;
  st.y_init = true;
  st.sigma_y_option = options_.sigma_y;
  st.svd_cutoff = options_.svd_cutoff;
  SolveResult result;
  result.x = svd_sampler(problem, noise, st, "ddrm");
  result.status = finite_status(result.x);
  result.nfe = options_.steps;
  result.used = str_cat("ddrm ", options_.steps, " steps (VP skip ", 1000 / options_.steps, "), eta ", options_.eta,
                        ", eta_b ", options_.eta_b, ", sigma_y ", assumed_sigma_y(options_.sigma_y, problem.op));
  return result;
}

}  // namespace ipbench
