#include "solvers/cm_dps.h"

#include <cmath>

#include "core/options.h"

namespace ipbench {

void EulerAncestralOptions::validate() const {
  check_option(steps >= 1, "EulerAncestralOptions", "steps", steps, "steps >= 1");
  karras.validate("EulerAncestralOptions");
}

void DpsEdmOptions::validate() const {
  check_option(zeta > 0 && std::isfinite(zeta), "DpsEdmOptions", "zeta", zeta, "zeta > 0");
  check_option(steps >= 1, "DpsEdmOptions", "steps", steps, "steps >= 1");
  karras.validate("DpsEdmOptions");
}

void CmDpsOptions::validate() const {
  const char* o = "CmDpsOptions";
  check_option(zeta > 0 && std::isfinite(zeta), o, "zeta", zeta, "zeta > 0");
  check_option(r >= 0 && std::isfinite(r), o, "r", r, "r >= 0");
  check_option(steps >= 1, o, "steps", steps, "steps >= 1");
  karras.validate(o);
  cm.validate(o);
}

namespace {

enum class Guide { kNone, kDenoiser, kConsistency };

struct TrajectorySettings {
  Guide guide = Guide::kNone;
  double zeta = 0, r = 0;
  int64_t steps = 1;
  KarrasOptions karras;
  bool clip = true;
  const ConsistencyFunction* f = nullptr;
};

// The Euler-ancestral loop of the header, for all three samplers.
torch::Tensor euler_ancestral_trajectory(const Problem& problem, NoiseStream& noise, const TrajectorySettings& s) {
  const auto shape = problem.prior.image_shape();
  TORCH_CHECK(!shape.empty(), "EDM samplers need a prior with a fixed image shape");
  const auto opts = problem.y.options();
  const auto sigmas = s.karras.sigmas_with_zero(s.steps);
  auto clamp = [&](const torch::Tensor& t) { return s.clip ? t.clamp(-1.0, 1.0) : t; };

  torch::Tensor x;
  {
    torch::NoGradGuard no_grad;
    x = s.karras.sigma_max * noise.gaussian(shape).to(opts);  // z_T
  }
  for (size_t i = 0; i + 1 < sigmas.size(); ++i) {
    const double sg = sigmas[i], sn = sigmas[i + 1];
    double s_up = 0, s_down = 0;
    ancestral_split(sg, sn, s_up, s_down);
    const torch::Tensor sig = sigma_like(x, sg);
    torch::Tensor D, grad;
    if (s.guide == Guide::kNone) {
      torch::NoGradGuard no_grad;
      D = clamp(problem.prior.denoise(x, sig));
    } else {
      torch::Tensor xg = x.detach().requires_grad_(true);
      torch::Tensor F;
      if (s.guide == Guide::kDenoiser) {
        F = clamp(problem.prior.denoise(xg, sig));
        D = F.detach();
      } else {
        {
          torch::NoGradGuard no_grad;
          D = clamp(problem.prior.denoise(x, sig));
        }
        F = (*s.f)(xg, sig);  // clamped by the function itself when clip_denoised
        if (s.r > 0) {
          torch::Tensor xi;
          {
            torch::NoGradGuard no_grad;
            xi = noise.gaussian(shape).to(opts);  // xi_i
          }
          F = F + s.r * xi;
        } else {
          noise.skip();  // xi_i has weight 0
        }
      }
      auto loss = data_fit_norm(problem.op, F, problem.y);
      grad = torch::autograd::grad({loss.sum()}, {xg})[0];
    }
    torch::NoGradGuard no_grad;
    torch::Tensor xn = x + ((x - D) / sg) * (s_down - sg);
    if (s_up > 0)
      xn = xn + s_up * noise.gaussian(shape).to(opts);  // z_i
    else
      noise.skip();  // last step: weight 0
    if (grad.defined()) xn = xn - (s.zeta * sg) * grad;
    x = xn.detach();
  }
  return clamp(x);
}

SolveResult finish(torch::Tensor x, int64_t nfe, std::string used) {
  SolveResult result;
  result.status = finite_status(x);
  result.x = std::move(x);
  result.nfe = nfe;
  result.used = std::move(used);
  return result;
}

std::string karras_str(int64_t steps, const KarrasOptions& k) {
  return str_cat(steps, " Karras steps (", k.sigma_min, "..", k.sigma_max, ", rho ", k.rho, ")");
}

}  // namespace

EulerAncestralSolver::EulerAncestralSolver(EulerAncestralOptions options) : options_(std::move(options)) {
  options_.validate();
}
std::string EulerAncestralSolver::describe() const {
  return str_cat("euler_ancestral (unconditional): ", karras_str(options_.steps, options_.karras));
}
SolveResult EulerAncestralSolver::solve(const Problem& problem, NoiseStream& noise) const {
  TrajectorySettings s;
  s.steps = options_.steps;
  s.karras = options_.karras;
  s.clip = options_.clip_denoised;
  return finish(euler_ancestral_trajectory(problem, noise, s), options_.steps, describe());
}

DpsEdmSolver::DpsEdmSolver(DpsEdmOptions options) : options_(std::move(options)) { options_.validate(); }
std::string DpsEdmSolver::describe() const {
  return str_cat("dps_edm: zeta ", options_.zeta, ", ", karras_str(options_.steps, options_.karras));
}
SolveResult DpsEdmSolver::solve(const Problem& problem, NoiseStream& noise) const {
  TrajectorySettings s;
  s.guide = Guide::kDenoiser;
  s.zeta = options_.zeta;
  s.steps = options_.steps;
  s.karras = options_.karras;
  s.clip = options_.clip_denoised;
  return finish(euler_ancestral_trajectory(problem, noise, s), options_.steps, describe());
}

CmDpsSolver::CmDpsSolver(CmDpsOptions options) : options_(std::move(options)) { options_.validate(); }
int64_t CmDpsSolver::nfe_per_sample() const {
  return options_.steps * (1 + consistency_source()->nfe_per_call());
}
std::string CmDpsSolver::describe() const {
  return str_cat("cm_dps: zeta ", options_.zeta, ", r ", options_.r, ", ", karras_str(options_.steps, options_.karras),
                 ", consistency ", options_.cm.consistency);
}
SolveResult CmDpsSolver::solve(const Problem& problem, NoiseStream& noise) const {
  TrajectorySettings s;
  s.guide = Guide::kConsistency;
  s.zeta = options_.zeta;
  s.r = options_.r;
  s.steps = options_.steps;
  s.karras = options_.karras;
  s.clip = options_.clip_denoised;
  s.f = &require_consistency(problem, "cm_dps");
  return finish(euler_ancestral_trajectory(problem, noise, s), options_.steps * (1 + s.f->nfe_per_call()),
                describe() + " (" + s.f->describe() + ")");
}

}  // namespace ipbench
