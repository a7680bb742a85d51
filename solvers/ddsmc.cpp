#include "solvers/ddsmc.h"

#include <cmath>

#include "core/options.h"
#include "solvers/common.h"

namespace ipbench {

void DdsmcOptions::validate() const {
  const char* o = "DdsmcOptions";
  check_option(particles >= 2, o, "particles", particles, "particles >= 2");
  check_option(steps >= 2, o, "steps", steps, "steps >= 2");
  karras.validate(o);
  check_option(rho_max > karras.sigma_min && std::isfinite(rho_max), o, "rho_max", rho_max, "rho_max > sigma_min");
  check_option(eta >= 0 && eta <= 1, o, "eta", eta, "0 <= eta <= 1");
  check_option(resampling == "multinomial" || resampling == "systematic", o, "resampling", resampling,
               "resampling is multinomial or systematic");
  check_option(ess_threshold > 0 && ess_threshold <= 1, o, "ess_threshold", ess_threshold, "0 < ess_threshold <= 1");
}

DdsmcSolver::DdsmcSolver(DdsmcOptions options) : options_(std::move(options)) { options_.validate(); }

Requirements DdsmcSolver::ddsmc_requirements() {
  // Item-batch safe: per-sample y and singular values (s_like); particles [B N] sample-major.
  Requirements r = Requirements::batched(/*linear_operator=*/true);
  r.svd = true;  // the operator's closed-form SVD (operators/svd.h)
  return r;
}

std::string DdsmcSolver::describe() const {
  return str_cat("ddsmc: ", options_.particles, " particles, ", options_.steps, " steps ", options_.karras.sigma_max, " -> ",
                 options_.karras.sigma_min, " (rho ", options_.rho_max, " -> ", options_.karras.sigma_min, "), eta ", options_.eta,
                 ", ", options_.resampling, " resampling when ESS < ", options_.ess_threshold, " N");
}

torch::Tensor effective_sample_size(const torch::Tensor& logw) {
  const auto w = torch::softmax(logw, 1);
  return 1.0 / w.square().sum(1);
}

torch::Tensor resample_indices(const torch::Tensor& logw, const torch::Tensor& u, int64_t M, bool systematic) {
  const int64_t N = logw.size(1);
  auto C = torch::cumsum(torch::softmax(logw.to(torch::kDouble), 1), 1);
  C.select(1, N - 1).fill_(1.0);  // C_N := 1
  torch::Tensor v = u.to(torch::kDouble);
  if (systematic) v = (torch::arange(M, C.options()).view({1, M}) + v.view({-1, 1})) / static_cast<double>(M);
  // a_j = min{k : C_k > v_j} = #{k : C_k <= v_j}
  return torch::searchsorted(C.contiguous(), v.contiguous(), /*out_int32=*/false, /*right=*/true).clamp_max(N - 1);
}

namespace {
// Gathers particles along dim 1: x [B, N, ...], a [B, M] -> [B, M, ...].
torch::Tensor gather_particles(const torch::Tensor& x, const torch::Tensor& a) {
  std::vector<int64_t> shape(x.dim(), 1);
  shape[0] = a.size(0);
  shape[1] = a.size(1);
  auto idx = a.view(shape);
  std::vector<int64_t> expand(x.sizes().begin(), x.sizes().end());
  expand[1] = a.size(1);
  return torch::gather(x, 1, idx.expand(expand));
}
}  // namespace

SolveResult DdsmcSolver::solve(const Problem& problem, NoiseStream& noise) const {
  torch::NoGradGuard no_grad;
  const auto& op = problem.op;
  const auto shape = problem.prior.image_shape();
  TORCH_CHECK(!shape.empty(), "DDSMC needs a prior with a fixed image shape");
  const auto opts = problem.y.options();
  const OperatorSvd* svd = op.svd();
  require(svd != nullptr, "ddsmc needs a closed-form SVD of the operator (capability svd: inpaint, denoise, ",
          "colorize, superres, gaussian_blur); operator '", op.name(), "' has none");
  const double sigma_y = op.noise().noise == "none" ? 0.0 : op.noise().sigma_y;
  require(op.noise().noise == "gaussian" && sigma_y > 0, "ddsmc needs Gaussian measurement noise with sigma_y > 0 ",
          "(the official code has no noise-free proposal); operator '", op.name(), "' has noise = ", op.noise().noise,
          ", sigma_y = ", sigma_y);
  const int64_t N = options_.particles, S = options_.steps, B = noise.batch_size();
  std::vector<int64_t> pshape{N};  // one chain's draw: [N, C, H, W]
  pshape.insert(pshape.end(), shape.begin(), shape.end());
  std::vector<int64_t> flat{B * N};
  flat.insert(flat.end(), shape.begin(), shape.end());
  std::vector<int64_t> full{B, N};
  full.insert(full.end(), shape.begin(), shape.end());

  auto sig = [&](int64_t k) { return k >= S ? 0.0 : options_.karras.time(k, S); };
  auto rho_k = [&](int64_t k) { return k >= S ? 0.0 : karras_time(k, S, options_.karras.sigma_min, options_.rho_max, options_.karras.rho); };
  auto m_of = [&](int64_t j) {
    const double a = sig(j), b = sig(j + 1), delta = a * a - b * b;
    return delta / (options_.eta * b * b + delta);
  };

  // U^T y (not divided by s) and s, per chain: [B, N, C, H, W]. s_like is [C, H, W] on one item's
  // operator and [B, C, H, W] (each sample its item's) on a batch across items.
  const auto uty = svd->Ut_embed(problem.y.to(opts));
  const auto ybar = uty.unsqueeze(1).expand(full);
  const auto s_item = svd->s_like(uty);
  const auto s = (s_item.dim() == uty.dim() ? s_item.unsqueeze(1) : s_item).expand(full);
  const auto obs = s > 0;
  const double sy2 = sigma_y * sigma_y;
  auto sum_d = [](const torch::Tensor& t) { return t.flatten(2).sum(2); };     // [B, N, ...] -> [B, N]
  auto potential = [&](const torch::Tensor& x, double r) {                     // l(x, r): [B, N]
    return -sum_d(torch::where(obs, (s * x - ybar).square() / (2.0 * (sy2 + r * r * s.square())), torch::zeros_like(x)));
  };
  auto denoise_coef = [&](const torch::Tensor& c, double sigma) {
    const auto X = svd->V(c.reshape(flat));
    return svd->Vt(problem.prior.denoise(X, sigma_like(X, sigma))).view(full);
  };
  const bool systematic = options_.resampling == "systematic";

  torch::Tensor c = sig(0) * noise.gaussian(pshape).to(opts).view(full);  // z_0
  torch::Tensor c_prev, x_prev, l_prev, mean_prev, var_prev;
  torch::Tensor log_r = torch::zeros({B, N}, opts), carry = torch::zeros({B, N}, opts);
  int64_t resampled_steps = 0;
  for (int64_t k = 0; k < S; ++k) {
    const auto x = denoise_coef(c, sig(k));
    const auto l = potential(x, rho_k(k));
    torch::Tensor logw = carry + l;
    if (k > 0) {
      const double m = m_of(k - 1), p = 1.0 - m, tvar = sig(k) * sig(k) * m;
      const auto trans = -sum_d((c - p * c_prev - m * x_prev).square()) / (2.0 * tvar);
      logw = logw + trans - l_prev - log_r;
    }
    // ESS rule per chain; the uniform draw is taken for the whole batch every step (keyed, batch-invariant).
    const auto u = noise.uniform({systematic ? int64_t{1} : N}).to(opts);
    const auto resample = effective_sample_size(logw) < options_.ess_threshold * static_cast<double>(N) + 1e-9;
    const auto identity = torch::arange(N, torch::kLong).view({1, N}).expand({B, N});
    const auto a = torch::where(resample.view({B, 1}).to(torch::kCPU), resample_indices(logw, u, N, systematic).to(torch::kCPU),
                                identity).to(c.device());
    resampled_steps += resample.sum().item<int64_t>();
    c_prev = gather_particles(c, a);
    x_prev = gather_particles(x, a);
    l_prev = torch::gather(l, 1, a);
    const auto lw = torch::log_softmax(logw, 1);
    carry = torch::where(resample.view({B, 1}), torch::zeros_like(logw), torch::gather(lw, 1, a));
    // Locally optimal Gaussian proposal.
    const double r = rho_k(k), r2 = r * r, m = m_of(k), p = 1.0 - m, sn = sig(k + 1);
    const auto den = s.square() * r2 + sy2;
    const auto Vk = torch::where(obs, r2 * sy2 / den, torch::full_like(den, r2));
    const auto mu = torch::where(obs, (r2 * s * ybar + sy2 * x_prev) / den, x_prev);
    const auto mean = m * mu + p * c_prev;
    if (k + 1 < S) {
      const auto var = (sn * sn * m - m * m * r2 + m * m * Vk).clamp_min(0.0);
      const auto z = noise.gaussian(pshape).to(opts).view(full);
      c = mean + var.sqrt() * z;
      // log N(c; mean, var) without the constant log-determinant (equal for every particle of a chain).
      log_r = -sum_d(torch::where(var > 0, z.square() / 2.0, torch::zeros_like(z)));
    } else {
      noise.skip();  // var = 0 at the last step: the draw has weight 0
      c = mean;
      log_r = torch::zeros({B, N}, opts);
    }
  }
  // Final importance pick with the exact likelihood.
  const auto logw = carry - sum_d(torch::where(obs, (s * c - ybar).square() / (2.0 * sy2), torch::zeros_like(c))) - l_prev - log_r;
  const auto u = noise.uniform({1}).to(opts);
  const auto j = resample_indices(logw, u, 1, false).to(c.device());
  const auto picked = gather_particles(c, j).squeeze(1);
  SolveResult result;
  result.x = svd->V(picked);
  result.status = finite_status(result.x);
  result.nfe = nfe_per_sample();
  result.used = str_cat(describe(), "; resampled ", resampled_steps, " of ", S * B, " chain-steps");
  return result;
}

}  // namespace ipbench
