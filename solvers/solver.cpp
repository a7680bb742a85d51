#include "solvers/solver.h"

#include "core/options.h"
#include "solvers/ddpm.h"
#include "solvers/dps.h"

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

std::string Requirements::describe() const { return linear_operator ? "linear operator (true adjoint)" : "any operator"; }

void check_compatible(const std::string& solver_label, const Requirements& req, const std::string& op_label,
                      bool op_linear) {
  require(!req.linear_operator || op_linear, "solver '", solver_label, "' cannot run on operator '", op_label,
          "': it needs a linear operator with a true adjoint, and '", op_label, "' is nonlinear");
}

Registry<SolverEntry>& solver_registry() {
  static Registry<SolverEntry> registry("solver");
  return registry;
}

void register_builtin_solvers() {
  auto& r = solver_registry();
  if (r.contains("dps")) return;
  r.add("dps", {{"dps", "Diffusion Posterior Sampling (Chung et al. 2023): DDPM ancestral steps + grad of ||y - A(x0_hat)||",
                 describe_options<DpsOptions>()},
                Requirements{},
                [](const Section& s) -> std::unique_ptr<Solver> {
                  return std::make_unique<DpsSolver>(read_options<DpsOptions>(s));
                }});
  r.add("ddpm", {{"ddpm", "unconditional DDPM ancestral sampling (baseline; ignores the measurement)",
                  describe_options<DdpmChainOptions>()},
                 Requirements{},
                 [](const Section& s) -> std::unique_ptr<Solver> {
                   return std::make_unique<DdpmSolver>(read_options<DdpmChainOptions>(s));
                 }});
}

}  // namespace ipbench
