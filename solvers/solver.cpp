#include "solvers/solver.h"

#include "core/options.h"
#include "solvers/cm_dps.h"
#include "solvers/cm_inversion.h"
#include "solvers/cm_sample.h"
#include "solvers/daps.h"
#include "solvers/ddsmc.h"
#include "solvers/ddim.h"
#include "solvers/ddnm.h"
#include "solvers/ddrm.h"
#include "solvers/diffpir.h"
#include "solvers/ddpm.h"
#include "solvers/dds.h"
#include "solvers/dps.h"
#include "solvers/enkg.h"
#include "solvers/lgd.h"
#include "solvers/pigdm.h"
#include "solvers/pnpdm.h"
#include "solvers/reddiff.h"

namespace ipbench {

const char* to_string(SampleStatus s) {
  switch (s) {
    case SampleStatus::kOk: return "ok";
    case SampleStatus::kNonFinite: return "non_finite";
  }
  return "unknown";
}

std::vector<SampleStatus> finite_status(const torch::Tensor& x) {
  auto ok = torch::isfinite(x).flatten(1).all(1).to(torch::kCPU);
  std::vector<SampleStatus> status(ok.size(0));
  auto acc = ok.accessor<bool, 1>();
  for (int64_t b = 0; b < ok.size(0); ++b) status[b] = acc[b] ? SampleStatus::kOk : SampleStatus::kNonFinite;
  return status;
}

std::string Requirements::describe() const {
  std::string out = linear_operator ? "linear operator (true adjoint)" : "any operator";
  if (consistency_model) out += ", a consistency model (option consistency)";
  if (svd) out += ", a closed-form SVD";
  if (item_batch) out += "; batches across items (max_batch)";
  return out;
}

const ConsistencyFunction& require_consistency(const Problem& problem, const std::string& solver) {
  require(problem.consistency != nullptr, "solver '", solver,
          "' needs a consistency model (option consistency = <model folder> | ode | gaussian | torchscript:<file>), "
          "and the problem has none");
  return *problem.consistency;
}

void check_compatible(const std::string& solver_label, const Requirements& req, const std::string& op_label,
                      bool op_linear) {
  require(!req.linear_operator || op_linear, "solver '", solver_label, "' cannot run on operator '", op_label,
          "': it needs a linear operator with a true adjoint, and '", op_label, "' is nonlinear");
}

void check_compatible(const std::string& solver_label, const Requirements& req, const std::string& op_label,
                      bool op_linear, const OperatorCapabilities& caps) {
  check_compatible(solver_label, req, op_label, op_linear);
  require(!req.svd || (op_linear && caps.svd), "solver '", solver_label, "' cannot run on operator '", op_label,
          "': it needs a closed-form SVD (capability svd), and '", op_label, "' offers ", caps.describe(op_linear));
}

Registry<SolverEntry>& solver_registry() {
  static Registry<SolverEntry> registry("solver");
  return registry;
}

namespace {
// Registers solver S with options O and its requirements (the same as S::requirements()).
template <class O, class S>
void add(Registry<SolverEntry>& r, const char* name, const char* description, Requirements req = {}) {
  r.add(name, {{name, description, describe_options<O>()}, req, [](const Section& s) -> std::unique_ptr<Solver> {
                 return std::make_unique<S>(read_options<O>(s));
               }});
}

}  // namespace

void register_builtin_solvers() {
  auto& r = solver_registry();
  if (r.contains("dps")) return;
  r.add("dps", {{"dps", "Diffusion Posterior Sampling (Chung et al. 2023): DDPM ancestral steps + grad of ||y - A(x0_hat)||",
                 describe_options<DpsOptions>()},
                DpsSolver::dps_requirements(),
                [](const Section& s) -> std::unique_ptr<Solver> {
                  return std::make_unique<DpsSolver>(read_options<DpsOptions>(s));
                }});
  r.add("ddpm", {{"ddpm", "unconditional DDPM ancestral sampling (baseline; ignores the measurement)",
                  describe_options<DdpmChainOptions>()},
                 DdpmSolver::ddpm_requirements(),
                 [](const Section& s) -> std::unique_ptr<Solver> {
                   return std::make_unique<DdpmSolver>(read_options<DdpmChainOptions>(s));
                 }});
  add<LgdOptions, LgdSolver>(r, "lgd",
                             "Loss-Guided Diffusion (Song et al. 2023): DPS with the guidance averaged over n MC samples "
                             "of x0 (softmax weights, one VJP)",
                             LgdSolver::lgd_requirements());
  add<DdsOptions, DdsSolver>(r, "dds",
                             "Decomposed Diffusion Sampler (Chung et al. 2024): DDIM steps with eta, CG on "
                             "(I + gamma A^T A) with the true adjoint",
                             DdsSolver::dds_requirements());
  add<CmDpsOptions, CmDpsSolver>(r, "cm_dps",
                                 "CM-posterior DPS (Xu et al.): EDM Euler-ancestral trajectory, loss on the consistency "
                                 "model's x0 estimate",
                                 cm_requirements());
  add<CmInversionOptions, CmInversionSolver>(r, "cm_inversion",
                                             "CM inversion (Xu et al.): multistep CM with Adam-optimized noises per stage",
                                             cm_requirements());
  add<DpsEdmOptions, DpsEdmSolver>(r, "dps_edm",
                                   "DPS on an EDM Euler-ancestral trajectory (baseline: cm_dps with F = D)",
                                   DpsEdmSolver::dps_edm_requirements());
  add<DdimOptions, DdimSolver>(r, "ddim", "unconditional DDIM sampling with eta (baseline; ignores the measurement)",
                               DdimSolver::ddim_requirements());
  add<EulerAncestralOptions, EulerAncestralSolver>(
      r, "euler_ancestral", "unconditional EDM Euler-ancestral sampling on Karras sigmas (baseline; ignores the measurement)",
      EulerAncestralSolver::euler_ancestral_requirements());
  add<CmSampleOptions, CmSampleSolver>(
      r, "cm_sample", "unconditional multistep consistency sampling (baseline; ignores the measurement)",
      cm_requirements());
  // The field's solvers (specs/solvers-2.md; docs/solvers.md).
  add<DdrmOptions, DdrmSolver>(r, "ddrm",
                               "DDRM (Kawar et al. 2022): DDIM-type steps per SVD coefficient (eta, eta_b); needs a "
                               "closed-form SVD",
                               DdrmSolver::ddrm_requirements());
  add<DdnmOptions, DdnmSolver>(r, "ddnm",
                               "DDNM / DDNM+ (Wang et al. 2023): range-null space projection with A^+; DDNM+ noise "
                               "handling per SVD coefficient when sigma_y > 0",
                               DdrmSolver::ddrm_requirements());
  add<PigdmOptions, PigdmSolver>(r, "pigdm",
                                 "PiGDM (Song et al. 2023): DDIM + VJP of the pseudoinverse guidance "
                                 "J^T A^T (A A^T + sigma_y^2/r^2)^-1 (y - A D)",
                                 Requirements::batched(true));
  add<DiffpirOptions, DiffpirSolver>(r, "diffpir",
                                     "DiffPIR (Zhu et al. 2023): denoise, proximal data step rho ~ sigma_y^2/sigma^2, "
                                     "re-noise with zeta",
                                     Requirements::batched(true));
  add<ReddiffOptions, ReddiffSolver>(r, "reddiff",
                                     "RED-diff (Mardani et al. 2024): Adam on mu for data fit + lambda-weighted "
                                     "denoiser regularizer (variational, not a sampler)",
                                     Requirements::batched());
  add<PnpdmOptions, PnpdmSolver>(r, "pnpdm",
                                 "PnP-DM (Wu et al. 2024): split Gibbs, Gaussian likelihood step (Langevin on "
                                 "nonlinear operators) + EDM reverse SDE prior step, rho annealed",
                                 Requirements::batched());
  add<DapsOptions, DapsSolver>(r, "daps",
                               "DAPS (Zhang et al. 2025): decoupled annealing, PF-ODE x0_hat, Langevin in x0 space "
                               "(DAPS-1K default; x0_step = exact for linear operators)",
                               Requirements::batched());
  add<DdsmcOptions, DdsmcSolver>(r, "ddsmc",
                                 "DDSMC (Ekstrom Kelvinius et al. 2025): SMC on a decoupled prior path, N particles per "
                                 "sample, optimal Gaussian proposal, resampling from noise.uniform (ESS rule); needs an SVD",
                                 DdsmcSolver::ddsmc_requirements());
  add<EnkgOptions, EnkgSolver>(r, "enkg",
                               "EnKG (Zheng et al. 2024): derivative-free ensemble Kalman guidance on the PF-ODE, "
                               "forward operator evaluations only (one ensemble per sample)",
                               EnkgSolver::enkg_requirements());
}

}  // namespace ipbench
