#include "solvers/lgd.h"

#include <cmath>
#include <cstdlib>

#include "core/options.h"
#include "solvers/common.h"

namespace ipbench {

double LgdOptions::fixed_r() const {
  if (r == "auto") return -1;
  char* end = nullptr;
  const double v = std::strtod(r.c_str(), &end);
  return (end && *end == '\0' && !r.empty() && std::isfinite(v) && v >= 0) ? v : std::nan("");
}

void LgdOptions::validate() const {
  const char* o = "LgdOptions";
  check_option(zeta > 0 && std::isfinite(zeta), o, "zeta", zeta, "zeta > 0");
  check_option(mc_samples >= 1, o, "mc_samples", mc_samples, "mc_samples >= 1");
  check_option(!std::isnan(fixed_r()), o, "r", r, "auto or a number >= 0");
  chain.validate();
}

LgdSolver::LgdSolver(LgdOptions options) : options_(std::move(options)) { options_.validate(); }

std::string LgdSolver::describe() const {
  return str_cat("lgd: zeta ", options_.zeta, ", ", options_.mc_samples, " MC samples, r ", options_.r, ", ",
                 options_.chain.steps, " of ", options_.chain.vp.T, " steps, variance ", options_.chain.variance);
}

SolveResult LgdSolver::solve(const Problem& problem, NoiseStream& noise) const {
  const DdpmChain chain(options_.chain);
  const auto shape = problem.prior.image_shape();
  TORCH_CHECK(!shape.empty(), "LGD needs a prior with a fixed image shape");
  const auto opts = problem.y.options();
  const int64_t n = options_.mc_samples;
  const double fixed_r = options_.fixed_r();

  bool learned = false;
  torch::Tensor x = noise.gaussian(shape).to(opts);  // z_T
  for (int64_t k = chain.size() - 1; k >= 0; --k) {
    const double r = fixed_r >= 0 ? fixed_r : std::sqrt(1.0 - chain.step(k).abar);
    x.requires_grad_(true);
    Prediction pred = chain.denoise(problem.prior, x, k);
    // Cotangent sum_j w_j grad l_j at x0 (a leaf copy), then one VJP through the denoiser.
    torch::Tensor cot;
    {
      auto x0 = pred.x0.detach().requires_grad_(true);
      const int64_t B = x0.size(0);
      // n copies per sample, sample-major ([B, n, ...] -> [B n] rows): a batch across items splits the
      // rows by item (operators/item_batch.h). eps_{k,j} is drawn for every sample at once, j = 0..n-1.
      torch::Tensor samples;
      if (r > 0) {
        std::vector<torch::Tensor> eps;
        for (int64_t j = 0; j < n; ++j) eps.push_back(noise.gaussian(shape).to(opts));  // eps_{k,j}
        samples = x0.unsqueeze(1) + r * torch::stack(eps, 1);                            // [B, n, ...]
      } else {
        samples = x0.unsqueeze(1).expand({-1, n, -1, -1, -1});
      }
      auto loss = data_fit_norm(problem.op, samples.reshape({-1, x0.size(1), x0.size(2), x0.size(3)}), problem.y)
                      .view({B, n});
      auto w = torch::softmax(-loss.detach(), 1);
      cot = torch::autograd::grad({(w * loss).sum()}, {x0})[0];
    }
    auto grad = torch::autograd::grad({pred.x0}, {x}, {cot})[0];
    x = chain.guided_ancestral(k, pred, x, grad, options_.zeta, noise, learned);
  }

  SolveResult result;
  result.status = finite_status(x);
  result.x = x;
  result.nfe = options_.chain.steps;
  result.used = str_cat("lgd steps ", options_.chain.steps, ", variance ", chain.variance_used(learned), ", zeta ",
                        options_.zeta, ", n ", n, ", r ", options_.r);
  return result;
}

}  // namespace ipbench
