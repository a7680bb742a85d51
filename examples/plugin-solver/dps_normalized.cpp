// An example ipbench solver plugin: DPS with the step size normalised by the residual,
// zeta_i = zeta / ||y - A(x0_hat_i)|| per sample (Chung et al., ICLR 2023, Algorithm 1 and
// Appendix C: "zeta_i = zeta' / ||y - A(x0_hat(x_i))||"), on ipbench's respaced DDPM chain.
//
// Build: examples/plugin-solver/CMakeLists.txt; run: ipbench run --plugin dps_normalized_plugin.so with
// [benchmark] solvers = dps_normalized and a [solver.dps_normalized] section (zeta, steps, ...).
#include <cmath>

#include "core/options.h"
#include "solvers/common.h"
#include "solvers/ddpm_chain.h"
#include "solvers/plugin.h"

namespace {

using namespace ipbench;

struct DpsNormalizedOptions {
  /// zeta' of the paper (its value for the normalised step: 1.0).
  double zeta = 1.0;
  DdpmChainOptions chain;

  template <class F>
  void fields(F&& f) {
    f("zeta", zeta, "normalised guidance step zeta' > 0 (step = zeta' / ||y - A(x0_hat)|| per sample)");
    chain.fields(f);
  }
  void validate() const {
    check_option(zeta > 0 && std::isfinite(zeta), "DpsNormalizedOptions", "zeta", zeta, "zeta > 0");
    chain.validate();
  }
};

class DpsNormalized : public Solver {
 public:
  explicit DpsNormalized(DpsNormalizedOptions o) : o_(std::move(o)) { o_.validate(); }

  SolveResult solve(const Problem& problem, NoiseStream& noise) const override {
    const DdpmChain chain(o_.chain);
    const auto shape = problem.prior.image_shape();
    require(!shape.empty(), "dps_normalized needs a prior with a fixed image shape");
    torch::Tensor x = noise.gaussian(shape).to(problem.y.options());  // z_T
    bool learned = false;
    for (int64_t k = chain.size() - 1; k >= 0; --k) {
      x.requires_grad_(true);
      Prediction pred = chain.denoise(problem.prior, x, k);
      auto loss = data_fit_norm(problem.op, pred.x0, problem.y);  // [B]
      auto grad = torch::autograd::grad({loss.sum()}, {x})[0];
      // Per-sample step zeta / ||y - A(x0_hat)||, broadcast over the image dimensions.
      std::vector<int64_t> view(x.dim(), 1);
      view[0] = x.size(0);
      auto scale = (1.0 / loss.detach().clamp_min(1e-12)).view(view);
      x = chain.guided_ancestral(k, pred, x, grad * scale, o_.zeta, noise, learned);
    }
    SolveResult r;
    r.status = finite_status(x);
    r.x = x;
    r.nfe = o_.chain.steps;
    r.used = str_cat("dps_normalized steps ", o_.chain.steps, ", zeta ", o_.zeta, ", variance ",
                     chain.variance_used(learned));
    return r;
  }
  Requirements requirements() const override { return dps_normalized_requirements(); }
  int64_t nfe_per_sample() const override { return o_.chain.steps; }
  std::string describe() const override {
    return str_cat("dps_normalized (plugin): zeta ", o_.zeta, ", ", o_.chain.steps, " steps");
  }
  // Any operator; batches across items ([benchmark] max_batch) are safe: y is read only through the
  // operator's loss and the step scale is per sample, so every sample gets its per-item result.
  static Requirements dps_normalized_requirements() {
    Requirements r;
    r.item_batch = true;
    return r;
  }

 private:
  DpsNormalizedOptions o_;
};

void add_solvers(Registry<SolverEntry>& r) {
  r.add("dps_normalized",
        {{"dps_normalized", "DPS with the residual-normalised step zeta / ||y - A(x0_hat)|| (example plugin)",
          describe_options<DpsNormalizedOptions>()},
         DpsNormalized::dps_normalized_requirements(),
         [](const Section& s) -> std::unique_ptr<Solver> {
           return std::make_unique<DpsNormalized>(read_options<DpsNormalizedOptions>(s));
         }});
}

}  // namespace

IPBENCH_SOLVER_PLUGIN("dps-normalized-example", add_solvers)
