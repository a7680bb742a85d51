// Known-answer tests for daps, ddsmc and enkg (specs/solvers-2.md sections 5, 8, 9 and 11).
// Scalar Gaussian case of spec 0.13 per pixel: prior N(0, 1), inpainting with sigma_y = 0.5 and y = 1 on
// the observed pixels: observed coordinates have the posterior N(0.8, 0.2), masked ones the prior N(0, 1).
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>

#include "core/config.h"
#include "core/rng.h"
#include "harness/runner.h"
#include "harness/spec.h"
#include "temp_dir.h"
#include "models/gaussian_prior.h"
#include "models/schedule.h"
#include "noise/designs.h"
#include "operators/operator.h"
#include "solvers/daps.h"
#include "solvers/ddsmc.h"
#include "solvers/enkg.h"
#include "solvers/solver.h"

using namespace ipbench;

namespace {

std::shared_ptr<Denoiser> prior_n01(std::vector<int64_t> shape, double variance = 1.0) {
  register_builtin_priors();
  auto cfg = Config::from_string("[prior]\ntype = gaussian\nmean = 0\nvariance = " + std::to_string(variance) + "\n", "t");
  PriorContext pc;
  pc.dtype = torch::kDouble;
  pc.image_shape = shape;
  return prior_registry().get("gaussian").make(cfg.section("prior"), pc);
}

std::unique_ptr<Operator> make_op(const std::string& ini, std::vector<int64_t> shape) {
  register_builtin_operators();
  auto cfg = Config::from_string("[op]\n" + ini, "t");
  std::string type;
  cfg.section("op").read("type", type);
  return operator_registry().get(type).parse(cfg.section("op"))(OperatorContext{shape, 17, torch::kCPU, torch::kDouble});
}

std::unique_ptr<Solver> solver_from(const std::string& type, const std::string& ini) {
  register_builtin_solvers();
  auto cfg = Config::from_string("[solver]\n" + ini, "t");
  return solver_registry().get(type).make(cfg.section("solver"));
}

std::shared_ptr<const NoiseDesign> design(const std::string& name) {
  register_builtin_designs();
  auto cfg = Config::from_string("", "t");
  return design_registry().get(name).make(cfg.section("noise"));
}

SolveResult run(const Solver& s, const Denoiser& prior, const Operator& op, const torch::Tensor& y,
                const std::string& design_name, int64_t groups, uint64_t key, int64_t* draws = nullptr) {
  NoiseStream noise(design(design_name), key, 0, groups, torch::kCPU, torch::kDouble);
  auto r = s.solve(Problem{prior, op, y}, noise);
  if (draws) *draws = noise.draws();
  return r;
}

// The scalar problem of spec 11 on a 1x4x4 image: inpainting (about half the pixels observed), sigma_y 0.5.
struct ScalarProblem {
  std::vector<int64_t> shape{1, 4, 4};
  std::shared_ptr<Denoiser> prior = prior_n01(shape);
  std::unique_ptr<Operator> op = make_op("type = inpaint\nsigma_y = 0.5\nmask_prob_min = 0.5\nmask_prob_max = 0.5\n", shape);
  torch::Tensor mask = op->forward(torch::ones({1, 1, 4, 4}, torch::kDouble)).view({-1}) != 0;  // observed pixels
  torch::Tensor y = op->forward(torch::ones({1, 1, 4, 4}, torch::kDouble));                     // y = 1 where observed
};

struct Moments {
  double mean, var;
  int64_t n;
};

Moments moments(const torch::Tensor& x, const torch::Tensor& mask, bool observed) {
  const auto v = x.reshape({x.size(0), -1}).index({torch::indexing::Slice(), observed ? mask : ~mask}).reshape({-1});
  return {v.mean().item<double>(), v.var().item<double>(), v.numel()};
}

// Mean within 4 standard errors + bias_mean; variance within 4 standard errors (Gaussian) + rel_var.
void check_moments(const Moments& m, double mean, double var, double bias_mean, double rel_var) {
  INFO("sample mean " << m.mean << " var " << m.var << " (n = " << m.n << "), expected " << mean << ", " << var);
  CHECK(std::abs(m.mean - mean) < 4 * std::sqrt(var / m.n) + bias_mean);
  CHECK(std::abs(m.var - var) < var * (4 * std::sqrt(2.0 / m.n) + rel_var));
}

}  // namespace

// ---- DAPS ----

TEST_CASE("solvers: daps options validate and name the option, value and rule", "[solvers][daps]") {
  CHECK_THROWS_WITH(solver_from("daps", "lr = 0\n"), Catch::Contains("DapsOptions::lr = 0. Violated: lr > 0"));
  CHECK_THROWS_WITH(solver_from("daps", "lr = -1e-4\n"), Catch::Contains("lr > 0"));
  CHECK_THROWS_WITH(solver_from("daps", "tau = 0\n"), Catch::Contains("DapsOptions::tau = 0"));
  CHECK_THROWS_WITH(solver_from("daps", "preset = 2k\n"), Catch::Contains("preset is 1k or 4k"));
  CHECK_THROWS_WITH(solver_from("daps", "x0_step = mala\n"), Catch::Contains("x0_step is langevin, hmc, mh or exact"));
  CHECK_THROWS_WITH(solver_from("daps", "x0_step = hmc\nmomentum = 1\n"), Catch::Contains("0 <= momentum < 1"));
  CHECK_FALSE(solver_from("daps", "x0_step = mh\n")->requirements().linear_operator);
  CHECK(solver_from("daps", "x0_step = hmc\n")->describe().find("momentum 0.9") != std::string::npos);
  CHECK_THROWS_WITH(solver_from("daps", "lr_min_ratio = 0\n"), Catch::Contains("0 < lr_min_ratio <= 1"));
  CHECK_THROWS_WITH(solver_from("daps", "langevin_steps = 0\n"), Catch::Contains("langevin_steps >= 1"));
  CHECK(solver_from("daps", "")->nfe_per_sample() == 1000);                 // DAPS-1K: 200 x 5
  CHECK(solver_from("daps", "preset = 4k\n")->nfe_per_sample() == 4000);   // 200 x 20
  CHECK_FALSE(solver_from("daps", "")->requirements().linear_operator);
  CHECK(solver_from("daps", "x0_step = exact\n")->requirements().linear_operator);
}

TEST_CASE("solvers: daps with exact ingredients samples the exact Gaussian posterior", "[solvers][daps]") {
  // Spec 5 f: x0_hat = D, r_k^2 = s^2 sigma^2/(s^2 + sigma^2), tau = sigma_y and the exact x0 step make
  // every level exact: (0.798, 0.201) computed at N_A = 20.
  ScalarProblem p;
  auto s = solver_from("daps", "annealing_steps = 20\nx0_hat = denoise\nprior_sd = 1\ntau = 0.5\nx0_step = exact\n"
                               "cg_iterations = 3\n");
  int64_t draws = 0;
  const auto r = run(*s, *p.prior, *p.op, p.y, "iid", 3000, 5, &draws);
  CHECK(r.nfe == 20);
  // z_0, one x-shaped draw per level (inpaint has a closed-form SVD: gaussian_data_step), re-noise (the last
  // one skipped: still an index).
  CHECK(draws == 1 + 20 + 20);
  check_moments(moments(r.x, p.mask, true), 0.8, 0.2, 0.005, 0.03);
  check_moments(moments(r.x, p.mask, false), 0.0, 1.0, 0.005, 0.03);
}

TEST_CASE("solvers: daps with the official ODE x0_hat and r = sigma has the documented bias", "[solvers][daps]") {
  // Spec 11: ODE x0_hat, r = sigma, exact x0 step, N_A 200: (0.867, 0.217) (n = 2e4, +-0.01, 5%).
  ScalarProblem p;
  auto s = solver_from("daps", "tau = 0.5\nx0_step = exact\ncg_iterations = 3\n");
  const auto r = run(*s, *p.prior, *p.op, p.y, "iid", 2000, 6);
  CHECK(r.nfe == 1000);
  check_moments(moments(r.x, p.mask, true), 0.867, 0.217, 0.01, 0.05);
}

TEST_CASE("solvers: daps Langevin x0 steps approach the exact x0 draw (lr scaled to tau)", "[solvers][daps]") {
  // Unadjusted Langevin with K steps per level: its stationary law is biased by O(lr / Sigma) (a few % here),
  // so the output is the posterior within a loose tolerance; the official lr (tuned for tau = 0.01) barely
  // moves the chain at tau = 0.5 (spec 5 f), so its output stays near x0_hat's law: mean far below 0.8.
  ScalarProblem p;
  auto s = solver_from("daps", "annealing_steps = 20\nx0_hat = denoise\nprior_sd = 1\ntau = 0.5\n"
                               "langevin_steps = 100\nlr = 0.05\nlr_min_ratio = 0.05\n");
  int64_t draws = 0;
  const auto r = run(*s, *p.prior, *p.op, p.y, "iid", 1500, 7, &draws);
  CHECK(draws == 1 + 20 * 100 + 20);  // z_0, K xi per level, re-noise (last skipped)
  check_moments(moments(r.x, p.mask, true), 0.8, 0.2, 0.02, 0.15);
  check_moments(moments(r.x, p.mask, false), 0.0, 1.0, 0.02, 0.15);
  auto official_lr = solver_from("daps", "annealing_steps = 20\nx0_hat = denoise\nprior_sd = 1\ntau = 0.5\n");
  const auto r2 = run(*official_lr, *p.prior, *p.op, p.y, "iid", 500, 7);
  CHECK(moments(r2.x, p.mask, true).mean < 0.4);
}

TEST_CASE("solvers: daps HMC and Metropolis-Hastings x0 steps (cores/mcmc.py) sample the exact posterior",
          "[solvers][daps]") {
  // With the exact ingredients (x0_hat = D, prior_sd = 1, tau = sigma_y) every level's x0 law is the
  // posterior if the x0 step samples its target: MH exactly once mixed (Metropolis corrects the proposal),
  // damped HMC up to its O(lr) discretization bias. Posterior (0.8, 0.2) observed, (0, 1) free.
  ScalarProblem p;
  const std::string base = "annealing_steps = 10\nx0_hat = denoise\nprior_sd = 1\ntau = 0.5\nlr_min_ratio = 1\n";
  int64_t draws = 0;
  auto mh = solver_from("daps", base + "x0_step = mh\nlangevin_steps = 150\nlr = 0.04\n");
  const auto rm = run(*mh, *p.prior, *p.op, p.y, "iid", 2000, 8, &draws);
  CHECK(draws == 1 + 10 * 2 * 150 + 10);  // z_0; a gaussian and a uniform per MH step; re-noise (last skipped)
  CHECK(rm.nfe == 10);
  check_moments(moments(rm.x, p.mask, true), 0.8, 0.2, 0.01, 0.04);
  check_moments(moments(rm.x, p.mask, false), 0.0, 1.0, 0.01, 0.04);
  auto hmc = solver_from("daps", base + "x0_step = hmc\nlangevin_steps = 100\nlr = 0.01\n");
  const auto rh = run(*hmc, *p.prior, *p.op, p.y, "iid", 2000, 9, &draws);
  CHECK(draws == 1 + 10 * (1 + 100) + 10);  // + one initial velocity per level
  check_moments(moments(rh.x, p.mask, true), 0.8, 0.2, 0.02, 0.1);
  check_moments(moments(rh.x, p.mask, false), 0.0, 1.0, 0.02, 0.1);
  // A step that cannot mix leaves x0 near x0_hat: the observed mean stays far below 0.8 (the checks above
  // can fail).
  auto stuck = solver_from("daps", base + "x0_step = mh\nlangevin_steps = 3\nlr = 1e-4\n");
  CHECK(moments(run(*stuck, *p.prior, *p.op, p.y, "iid", 500, 8).x, p.mask, true).mean < 0.4);
}

TEST_CASE("solvers: daps antithetic pairs are exactly negated (zero-mean prior, linear A, y = 0)", "[solvers][daps]") {
  const std::vector<int64_t> shape{1, 8, 8};
  auto prior = prior_n01(shape, 0.3);
  for (const std::string op_ini : {"type = inpaint\nsigma_y = 0.05\n", "type = gaussian_blur\nsigma_y = 0.05\nkernel_size = 5\nsigma = 1\n"}) {
    auto op = make_op(op_ini, shape);
    auto y = torch::zeros(op->measurement_shape(), torch::kDouble).unsqueeze(0);
    for (const std::string ini : {"annealing_steps = 4\node_steps = 2\nlangevin_steps = 3\n",
                                  "annealing_steps = 4\node_steps = 2\nlangevin_steps = 3\nx0_step = hmc\n",
                                  "annealing_steps = 4\nx0_step = exact\ncg_iterations = 4\n"}) {
      INFO(op_ini << ini);
      const auto r = run(*solver_from("daps", ini), *prior, *op, y, "antithetic", 3, 11);
      const auto x = r.x.view({3, 2, -1});
      CHECK(torch::equal(x.select(1, 0), -x.select(1, 1)));
      CHECK(x.abs().sum().item<double>() > 0);
    }
  }
}

// ---- EnKG ----

TEST_CASE("solvers: enkg options validate; NFE per member is 958 at the defaults", "[solvers][enkg]") {
  CHECK_THROWS_WITH(solver_from("enkg", "ensemble = 1\n"), Catch::Contains("EnkgOptions::ensemble = 1. Violated: ensemble >= 2"));
  CHECK_THROWS_WITH(solver_from("enkg", "gamma = 0\n"), Catch::Contains("gamma > 0"));
  CHECK_THROWS_WITH(solver_from("enkg", "output = all\n"), Catch::Contains("output is member or mean"));
  CHECK(solver_from("enkg", "ensemble = 2\n")->nfe_per_sample() == 2 * 958);  // spec 9 (computed)
  CHECK_FALSE(solver_from("enkg", "")->requirements().linear_operator);      // forward evaluations only
}

TEST_CASE("solvers: enkg antithetic ensembles are exactly negated (zero-mean prior, linear A, y = 0)", "[solvers][enkg]") {
  const std::vector<int64_t> shape{1, 8, 8};
  auto prior = prior_n01(shape, 0.3);
  auto op = make_op("type = gaussian_blur\nsigma_y = 0.05\nkernel_size = 5\nsigma = 1\n", shape);
  auto y = torch::zeros(op->measurement_shape(), torch::kDouble).unsqueeze(0);
  for (const std::string out : {"member", "mean"}) {
    int64_t draws = 0;
    const auto r = run(*solver_from("enkg", "ensemble = 6\nsteps = 12\noutput = " + out + "\n"), *prior, *op, y,
                       "antithetic", 2, 3, &draws);
    CHECK(draws == 1);
    const auto x = r.x.view({2, 2, -1});
    CHECK(torch::equal(x.select(1, 0), -x.select(1, 1)));
    CHECK(x.abs().sum().item<double>() > 0);
  }
}

TEST_CASE("solvers: enkg guidance pulls observed coordinates toward the data and leaves free ones symmetric",
          "[solvers][enkg]") {
  // Not exact (spec 9 f): the update moves each member by about gamma ensemble standard deviations toward y
  // (normalised by ||C||_F, sigma_y unused), so it is no posterior sampler; measured on the scalar problem
  // with J = 32 and 20 steps: observed mean 1.69 (overshoots y = 1), variance 0.004; free mean 0.
  ScalarProblem p;
  const auto r = run(*solver_from("enkg", "ensemble = 32\nsteps = 20\n"), *p.prior, *p.op, p.y, "iid", 300, 9);
  const auto obs = moments(r.x, p.mask, true), fre = moments(r.x, p.mask, false);
  INFO("observed " << obs.mean << ", " << obs.var << "; free " << fre.mean << ", " << fre.var);
  CHECK(obs.mean > 0.6);
  CHECK(obs.var < 0.2);
  CHECK(std::abs(fre.mean) < 4 * std::sqrt(fre.var / fre.n) + 0.02);
  // Guidance off (threshold beyond the last step): the Euler PF-ODE alone samples the prior, with the
  // discretisation bias of 80 Euler steps (variance within 10%).
  const auto u = run(*solver_from("enkg", "ensemble = 2\nthreshold = 100\n"), *p.prior, *p.op, p.y, "iid", 1000, 9);
  check_moments(moments(u.x, p.mask, true), 0.0, 1.0, 0.02, 0.1);
}

// ---- DDSMC ----

TEST_CASE("solvers: ddsmc options validate; resampling helpers follow spec 0.12", "[solvers][ddsmc]") {
  CHECK_THROWS_WITH(solver_from("ddsmc", "particles = 1\n"), Catch::Contains("DdsmcOptions::particles = 1. Violated: particles >= 2"));
  CHECK_THROWS_WITH(solver_from("ddsmc", "eta = 1.5\n"), Catch::Contains("0 <= eta <= 1"));
  CHECK_THROWS_WITH(solver_from("ddsmc", "resampling = residual\n"), Catch::Contains("multinomial or systematic"));
  CHECK_THROWS_WITH(solver_from("ddsmc", "ess_threshold = 0\n"), Catch::Contains("0 < ess_threshold <= 1"));
  CHECK(solver_from("ddsmc", "")->nfe_per_sample() == 16 * 200);
  CHECK(solver_from("ddsmc", "")->requirements().linear_operator);
  CHECK(solver_from("ddsmc", "")->requirements().svd);
  {  // An operator without a closed-form SVD (motion blur) is refused naming the capability.
    const std::vector<int64_t> shape{1, 4, 4};
    auto prior = prior_n01(shape);
    auto blur = make_op("type = motion_blur\nsigma_y = 0.1\nkernel_size = 3\n", shape);
    auto y = torch::zeros(blur->measurement_shape(), torch::kDouble).unsqueeze(0);
    CHECK_THROWS_WITH(run(*solver_from("ddsmc", "steps = 2\n"), *prior, *blur, y, "iid", 1, 1),
                      Catch::Contains("ddsmc needs a closed-form SVD"));
    auto noiseless = make_op("type = inpaint\nsigma_y = 0\n", shape);
    CHECK_THROWS_WITH(run(*solver_from("ddsmc", "steps = 2\n"), *prior, *noiseless, y, "iid", 1, 1),
                      Catch::Contains("sigma_y > 0"));
  }
  // Weights 0.1, 0.2, 0.7: C = 0.1, 0.3, 1.
  const auto logw = torch::tensor({std::log(0.1), std::log(0.2), std::log(0.7)}, torch::kDouble).view({1, 3});
  const auto a = resample_indices(logw, torch::tensor({0.05, 0.12, 0.29, 0.31, 0.999999}, torch::kDouble).view({1, 5}), 5, false);
  CHECK(torch::equal(a, torch::tensor({0, 1, 1, 2, 2}, torch::kLong).view({1, 5})));
  // Systematic: (j + 0.5)/3 = 0.167, 0.5, 0.833 -> 1, 2, 2.
  const auto b = resample_indices(logw, torch::tensor({0.5}, torch::kDouble).view({1, 1}), 3, true);
  CHECK(torch::equal(b, torch::tensor({1, 2, 2}, torch::kLong).view({1, 3})));
  CHECK(effective_sample_size(torch::zeros({2, 8}, torch::kDouble)).sub(8).abs().max().item<double>() < 1e-12);
  CHECK(std::abs(effective_sample_size(logw).item<double>() - 1 / (0.01 + 0.04 + 0.49)) < 1e-9);
}

TEST_CASE("solvers: ddsmc (eta 1) samples the posterior under its model prior", "[solvers][ddsmc]") {
  // Spec 8 f / 11: eta = 1, N = 16: (0.801, 0.196) computed (N -> infinity: 0.791, 0.198); a = 0 keeps the
  // model prior (variance 0.948 at eta = 1).
  ScalarProblem p;
  int64_t draws = 0;
  const auto r = run(*solver_from("ddsmc", "eta = 1\n"), *p.prior, *p.op, p.y, "iid", 600, 21, &draws);
  CHECK(draws == 1 + 2 * 200 + 1);  // z_0; per step a uniform [N] and a Gaussian [N, d] (the last skipped); the pick
  CHECK(r.nfe == 3200);
  check_moments(moments(r.x, p.mask, true), 0.801, 0.196, 0.01, 0.06);
  check_moments(moments(r.x, p.mask, false), 0.0, 0.948, 0.02, 0.06);
}

TEST_CASE("solvers: ddsmc on Gaussian blur and super-resolution samples the posterior in SVD coefficients",
          "[solvers][ddsmc]") {
  // Prior N(0, I) is rotation invariant, so in the operator's SVD coefficients c = V^T x every coordinate is
  // independent: the unconditional chain of DDSMC (eta = 1, exact denoiser c / (1 + sigma^2)) ends at
  // N(0, v) with v from the variance recursion below (the model prior p_eta, spec 8 f), and the SMC output
  // converges (N -> infinity) to the posterior under it: y'_i = s_i c_i + sigma_y n, so
  // mean_i = v s_i y'_i / (v s_i^2 + sigma_y^2), var_i = v sigma_y^2 / (v s_i^2 + sigma_y^2); free: N(0, v).
  // Checked per coefficient group (observed / free) on standardised residuals, N = 16 (finite-N bias about
  // 0.01 in the mean at s = 1, spec 11).
  const std::vector<int64_t> shape{1, 4, 4};
  auto prior = prior_n01(shape);
  DdsmcOptions o;
  o.eta = 1;
  double v = 0;  // Var of the unconditional chain: c_0 = sigma_0 z, c' = (m/(1+sigma^2) + p) c + sqrt(sigma'^2 m) z
  {
    auto sig = [&](int64_t k) { return k >= o.steps ? 0.0 : o.karras.time(k, o.steps); };
    v = sig(0) * sig(0);
    for (int64_t k = 0; k < o.steps; ++k) {
      const double a = sig(k), b = sig(k + 1), d = a * a - b * b, m = d / (o.eta * b * b + d), g = m / (1 + a * a) + 1 - m;
      v = g * g * v + b * b * m;
    }
  }
  CHECK(std::abs(v - 0.948) < 0.002);  // spec 8 f (computed)
  for (const std::string op_ini : {"type = gaussian_blur\nsigma_y = 0.3\nkernel_size = 3\nsigma = 1\n",
                                   "type = superres\nsigma_y = 0.2\nfactor = 2\nmethod = avgpool\n"}) {
    INFO(op_ini);
    auto op = make_op(op_ini, shape);
    REQUIRE(op->svd() != nullptr);
    const auto* svd = op->svd();
    const double sy = op->noise().sigma_y;
    const auto x_true = torch::linspace(-0.8, 0.9, 16, torch::kDouble).view({1, 1, 4, 4});
    const auto y = op->forward(x_true);
    int64_t draws = 0;
    const auto r = run(*solver_from("ddsmc", "eta = 1\n"), *prior, *op, y, "iid", 500, 23, &draws);
    CHECK(draws == 1 + 2 * 200 + 1);
    const auto s = svd->s_like(y), u = svd->Ut_embed(y);  // [1, 4, 4], [1, 1, 4, 4]
    const auto mean = v * s * u / (v * s * s + sy * sy), var = v * sy * sy / (v * s * s + sy * sy);
    const auto z = ((svd->Vt(r.x) - mean) / var.sqrt()).view({r.x.size(0), -1});  // standardised residuals
    const auto obs = (s > 0).view({-1});
    REQUIRE(obs.sum().item<int64_t>() >= 4);
    // Free coefficients get N(0, v): var = v there by the formula with s = 0.
    for (const bool observed : {true, false}) {
      if (!observed && obs.all().item<bool>()) continue;
      const auto zz = z.index({torch::indexing::Slice(), observed ? obs : ~obs}).reshape({-1});
      const double zm = zz.mean().item<double>(), zv = zz.var().item<double>();
      const int64_t n = zz.numel();
      INFO((observed ? "observed" : "free") << ": standardised mean " << zm << ", variance " << zv << " (n = " << n << ")");
      CHECK(std::abs(zm) < 4 * std::sqrt(1.0 / n) + 0.05);
      CHECK(std::abs(zv - 1) < 4 * std::sqrt(2.0 / n) + 0.08);
    }
    // The data were used: observed coefficients moved from the prior mean 0 toward y.
    CHECK(torch::allclose(svd->Vt(r.x).mean(0).view({-1}).index({obs}), mean.view({-1}).index({obs}), 0, 0.15));
  }
}

TEST_CASE("solvers: ddsmc antithetic chains: member 0 is the iid chain bit for bit, the pair is mirrored in law",
          "[solvers][ddsmc]") {
  // Resampling selects particles by rank of the weights, so u -> 1 - u does not negate the output even on a
  // symmetric problem (exact negation is impossible for SMC). What holds: every draw of member 0 equals the
  // iid draw (Gaussian and uniform), so member 0 reproduces the iid chain exactly; member 1 is driven by
  // (-z, 1 - u) and on the zero-mean problem with y = 0 has the same law as -member 0 (mean 0, equal variance).
  const std::vector<int64_t> shape{1, 4, 4};
  auto prior = prior_n01(shape);
  auto op = make_op("type = inpaint\nsigma_y = 0.5\nmask_prob_min = 0.5\nmask_prob_max = 0.5\n", shape);
  auto y = torch::zeros(op->measurement_shape(), torch::kDouble).unsqueeze(0);
  auto s = solver_from("ddsmc", "particles = 4\nsteps = 20\neta = 1\n");
  const auto anti = run(*s, *prior, *op, y, "antithetic", 400, 5);
  const auto iid = run(*s, *prior, *op, y, "iid", 400, 5);
  const auto x = anti.x.view({400, 2, -1});
  CHECK(torch::equal(x.select(1, 0), iid.x.view({400, -1})));
  CHECK_FALSE(torch::equal(x.select(1, 0), -x.select(1, 1)));
  const auto m0 = x.select(1, 0).mean().item<double>(), m1 = x.select(1, 1).mean().item<double>();
  const double se = std::sqrt(1.0 / (400 * 16));
  CHECK(std::abs(m0) < 5 * se);
  CHECK(std::abs(m1) < 5 * se);
  const double v0 = x.select(1, 0).var().item<double>(), v1 = x.select(1, 1).var().item<double>();
  CHECK(std::abs(v0 - v1) < 0.1 * v0);
}

// ---- The leaderboard configs, CI-sized ----

TEST_CASE("solvers: the leaderboard configs run CI-sized (1 item, few steps, every solver x operator)",
          "[solvers][leaderboard]") {
  const std::string src = IPBENCH_SOURCE_DIR;
  for (const std::string name : {"leaderboard-fmnist", "leaderboard-fmnist-nonlinear"}) {
    INFO(name);
    auto cfg = Config::from_file(src + "/configs/" + name + ".ini");
    for (const std::string& a : std::vector<std::string>{"benchmark.items=1", "benchmark.samples_per_item=2", "prior.path=" + src + "/models/fmnist32-ddpm",
          "solver.dps.steps=3", "solver.lgd.steps=3", "solver.cm_dps.steps=2",
          "solver.cm_dps.consistency=" + src + "/models/fmnist32-cm", "solver.cm_inversion.iterations=1",
          "solver.cm_inversion.consistency=" + src + "/models/fmnist32-cm", "solver.daps.annealing_steps=2",
          "solver.daps.ode_steps=1", "solver.daps.langevin_steps=2", "solver.enkg.ensemble=2", "solver.enkg.steps=3",
          "solver.reddiff.steps=3", "solver.pnpdm.iterations=2", "solver.pnpdm.edm_steps=3",
          "solver.pnpdm.langevin_steps=2"})
      cfg.set(a);
    if (name == "leaderboard-fmnist") {
      for (const std::string& a : std::vector<std::string>{"solver.dds.steps=3", "solver.ddrm.steps=3", "solver.ddnm.steps=3",
            "solver.pigdm.steps=3", "solver.diffpir.steps=3", "solver.ddsmc.particles=2", "solver.ddsmc.steps=3"})
        cfg.set(a);
    } else {
      cfg.set("operator.classifier.path=" + src + "/models/fmnist-classifier/model.pt");
    }
    const Spec spec = parse_spec(cfg);
    testing::TempDir tmp;
    RunOptions ro;
    ro.out_dir = (tmp.path / "run").string();
    ro.progress = false;
    const auto out = run_benchmark(spec, ro);
    const size_t cells = spec.operators.size() * spec.solvers.size() * spec.designs.size();
    CHECK(out.records.size() == cells * 2);
    for (const auto& r : out.records) {
      INFO(r.cell);
      CHECK(r.status == "ok");
    }
  }
}
