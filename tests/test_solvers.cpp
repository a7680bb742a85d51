// Tests for solvers/: every solver on analytic priors (known answers), options, draws and coupling.
#include <catch2/catch.hpp>

#include "core/config.h"
#include "core/rng.h"
#include "models/denoiser.h"
#include "noise/designs.h"
#include "operators/operator.h"
#include "models/consistency_fn.h"
#include "models/edm_prior.h"
#include "models/gaussian_prior.h"
#include "solvers/cm_dps.h"
#include "solvers/cm_inversion.h"
#include "solvers/cm_sample.h"
#include "solvers/ddim.h"
#include "solvers/ddpm_chain.h"
#include "solvers/dds.h"
#include "solvers/dps.h"
#include "solvers/lgd.h"
#include "temp_dir.h"

#include <torch/script.h>

using namespace ipbench;

namespace {

std::shared_ptr<Denoiser> gaussian_prior(std::vector<int64_t> shape, double variance, torch::ScalarType dtype) {
  register_builtin_priors();
  auto cfg = Config::from_string("[prior]\ntype = gaussian\nmean = 0\nvariance = " + std::to_string(variance) + "\n", "t");
  PriorContext pc;
  pc.dtype = dtype;
  pc.image_shape = shape;
  std::string type;
  cfg.section("prior").read("type", type);
  return prior_registry().get("gaussian").make(cfg.section("prior"), pc);
}

std::unique_ptr<Operator> make_operator(const std::string& ini, std::vector<int64_t> shape, torch::ScalarType dtype) {
  register_builtin_operators();
  auto cfg = Config::from_string("[op]\n" + ini, "t");
  std::string type;
  cfg.section("op").read("type", type);
  auto build = operator_registry().get(type).parse(cfg.section("op"));
  return build(OperatorContext{shape, 17, torch::kCPU, dtype});
}

std::shared_ptr<const NoiseDesign> design(const std::string& name) {
  register_builtin_designs();
  auto cfg = Config::from_string("", "t");
  return design_registry().get(name).make(cfg.section("noise"));
}

// A prior that returns NaN for odd batch indices: failures must stay in their samples.
class HalfNanPrior : public Denoiser {
 public:
  Prediction predict(const torch::Tensor& x, const torch::Tensor&) const override {
    auto mask = (torch::arange(x.size(0), x.options()) .remainder(2) == 1).view({-1, 1, 1, 1});
    return {torch::where(mask, torch::full_like(x, NAN), 0.5 * x), {}};
  }
  std::vector<int64_t> image_shape() const override { return {1, 4, 4}; }
  std::string describe() const override { return "half-nan"; }
};

}  // namespace

TEST_CASE("solvers: DPS options validate and name the broken field", "[solvers][dps]") {
  CHECK_NOTHROW(DpsOptions{}.validate());
  DpsOptions o;
  o.zeta = -0.1;
  CHECK_THROWS_WITH(o.validate(), Catch::Contains("DpsOptions::zeta = -0.1. Violated: zeta > 0"));
  o = DpsOptions{};
  o.chain.steps = 0;
  CHECK_THROWS_WITH(o.validate(), Catch::Contains("steps"));
  o = DpsOptions{};
  o.chain.variance = "huge";
  CHECK_THROWS_WITH(o.validate(), Catch::Contains("variance"));
}

TEST_CASE("solvers: DPS antithetic pairs are exactly negated on a zero-mean Gaussian prior with y = 0", "[solvers][dps]") {
  // D is odd, A is linear, y = 0: the whole trajectory is an odd function of ALL its draws, so the
  // pair (z, -z) on every draw gives exactly negated reconstructions (proves every draw is coupled).
  const std::vector<int64_t> shape{1, 16, 16};
  auto prior = gaussian_prior(shape, 0.3, torch::kDouble);
  for (const std::string op_ini : {"type = inpaint\nsigma_y = 0\n", "type = gaussian_blur\nsigma_y = 0\n",
                                   "type = superres\nsigma_y = 0\nfactor = 2\n"}) {
    auto op = make_operator(op_ini, shape, torch::kDouble);
    auto y = torch::zeros(op->measurement_shape(), torch::kDouble).unsqueeze(0);
    DpsOptions o;
    o.chain.steps = 20;
    o.zeta = 0.5;
    DpsSolver dps(o);
    NoiseStream noise(design("antithetic"), 11, 0, 3, torch::kCPU, torch::kDouble);
    auto result = dps.solve(Problem{*prior, *op, y}, noise);
    auto x = result.x.view({3, 2, -1});
    CHECK(torch::equal(x.select(1, 0), -x.select(1, 1)));
    CHECK(x.abs().sum().item<double>() > 0);
    CHECK(noise.draws() == 21);  // z_T + 19 nonzero-weight draws + the skipped last one
    CHECK(result.nfe == 20);
  }
}

TEST_CASE("solvers: DPS with negligible guidance samples the Gaussian prior", "[solvers][dps]") {
  // Unconditional DDPM on N(0, v I) with an exact denoiser: sample variance ~ v.
  const double v = 0.25;
  const std::vector<int64_t> shape{1, 4, 4};
  auto prior = gaussian_prior(shape, v, torch::kDouble);
  auto op = make_operator("type = inpaint\nsigma_y = 0\n", shape, torch::kDouble);
  auto y = torch::zeros(op->measurement_shape(), torch::kDouble).unsqueeze(0);
  DpsOptions o;
  o.chain.steps = 1000;
  o.zeta = 1e-12;
  o.chain.variance = "fixed_large";
  DpsSolver dps(o);
  NoiseStream noise(design("iid"), 3, 0, 500, torch::kCPU, torch::kDouble);
  auto x = dps.solve(Problem{*prior, *op, y}, noise).x;
  const double n = x.numel();
  const double var = x.var().item<double>();
  INFO("sample variance " << var);
  CHECK(std::abs(x.mean().item<double>()) < 5 * std::sqrt(v / n));
  CHECK(std::abs(var - v) < 0.05 * v + 5 * v * std::sqrt(2 / n));
}

TEST_CASE("solvers: DPS guidance fits the measurement", "[solvers][dps]") {
  const std::vector<int64_t> shape{1, 8, 8};
  auto prior = gaussian_prior(shape, 0.3, torch::kDouble);
  auto op = make_operator("type = inpaint\nsigma_y = 0\n", shape, torch::kDouble);
  auto truth = 0.5 * keyed_normal({1, 1, 8, 8}, 5, torch::kDouble).clamp(-1, 1);
  auto y = op->forward(truth);
  auto residual = [&](double zeta) {
    DpsOptions o;
    o.chain.steps = 100;
    o.zeta = zeta;
    NoiseStream noise(design("iid"), 3, 0, 8, torch::kCPU, torch::kDouble);
    auto x = DpsSolver(o).solve(Problem{*prior, *op, y}, noise).x;
    return (op->forward(x) - y).flatten(1).norm(2, 1).mean().item<double>();
  };
  const double guided = residual(1.0), unguided = residual(1e-12);
  INFO("residual guided " << guided << " unguided " << unguided);
  CHECK(guided < 0.2 * unguided);
}

TEST_CASE("solvers: DPS records a non-finite sample without touching the others", "[solvers][dps]") {
  HalfNanPrior prior;
  auto op = make_operator("type = inpaint\nsigma_y = 0\n", {1, 4, 4}, torch::kFloat);
  auto y = torch::zeros(op->measurement_shape()).unsqueeze(0);
  DpsOptions o;
  o.chain.steps = 5;
  NoiseStream noise(design("iid"), 1, 0, 4);
  auto r = DpsSolver(o).solve(Problem{prior, *op, y}, noise);
  REQUIRE(r.status.size() == 4);
  CHECK(r.status[0] == SampleStatus::kOk);
  CHECK(r.status[1] == SampleStatus::kNonFinite);
  CHECK(r.status[2] == SampleStatus::kOk);
  CHECK(r.status[3] == SampleStatus::kNonFinite);
  CHECK(torch::isfinite(r.x[0]).all().item<bool>());
}

TEST_CASE("solvers: incompatible solver/operator pairs are refused with the reason", "[solvers]") {
  CHECK_NOTHROW(check_compatible("dps", Requirements{}, "phase", false));
  CHECK_THROWS_WITH(check_compatible("dds", Requirements{true}, "phase", false),
                    Catch::Contains("solver 'dds' cannot run on operator 'phase'") && Catch::Contains("linear"));
}

TEST_CASE("solvers: ddpm samples the Gaussian prior and couples every draw", "[solvers][ddpm]") {
  const double v = 0.25;
  const std::vector<int64_t> shape{1, 4, 4};
  auto prior = gaussian_prior(shape, v, torch::kDouble);
  DdpmChainOptions o;
  o.steps = 1000;
  NoiseStream noise(design("antithetic"), 8, 0, 250, torch::kCPU, torch::kDouble);
  auto x = ddpm_sample(*prior, noise, o, torch::kDouble);
  REQUIRE(x.size(0) == 500);
  CHECK(noise.draws() == 1001);
  auto pairs = x.view({250, 2, -1});
  CHECK(torch::equal(pairs.select(1, 0), -pairs.select(1, 1)));  // odd map of the noise
  const double n = x.numel(), var = x.var().item<double>();
  INFO("sample variance " << var);
  CHECK(std::abs(var - v) < 0.05 * v + 5 * v * std::sqrt(2 / n));
}

// ---------------------------------------------------------------------------------------------
// The mission's solvers (lgd, dds, cm_dps, cm_inversion) and baselines (dps_edm, ddim,
// euler_ancestral, cm_sample): known answers on Gaussian priors.

namespace {

std::shared_ptr<Denoiser> gaussian_prior_mean(std::vector<int64_t> shape, double mean, double variance) {
  register_builtin_priors();
  auto cfg = Config::from_string(
      "[prior]\ntype = gaussian\nmean = " + std::to_string(mean) + "\nvariance = " + std::to_string(variance) + "\n", "t");
  PriorContext pc;
  pc.dtype = torch::kDouble;
  pc.image_shape = shape;
  return prior_registry().get("gaussian").make(cfg.section("prior"), pc);
}

// A registered solver built from "key = value" lines (the config path the harness uses).
std::unique_ptr<Solver> solver_from(const std::string& type, const std::string& ini) {
  register_builtin_solvers();
  auto cfg = Config::from_string("[solver]\n" + ini, "t");
  return solver_registry().get(type).make(cfg.section("solver"));
}

std::shared_ptr<const ConsistencyFunction> consistency_for(const Solver& solver, std::shared_ptr<Denoiser> prior) {
  const auto src = solver.consistency_source();
  if (!src) return nullptr;
  return make_consistency_function(*src, prior);
}

SolveResult run_solver(const Solver& solver, std::shared_ptr<Denoiser> prior, const Operator& op, const torch::Tensor& y,
                       const std::string& design_name, int64_t groups, uint64_t key, int64_t* draws = nullptr) {
  auto cm = consistency_for(solver, prior);
  NoiseStream noise(design(design_name), key, 0, groups, torch::kCPU, torch::kDouble);
  auto r = solver.solve(Problem{*prior, op, y, cm.get()}, noise);
  if (draws) *draws = noise.draws();
  return r;
}

struct SolverCase {
  std::string type, ini;
};

// Every solver with small settings; the CM solvers on the Gaussian flow map and on the prior's ODE.
std::vector<SolverCase> every_solver() {
  return {{"dps", "steps = 10\nzeta = 0.5\n"},
          {"lgd", "steps = 10\nzeta = 0.5\nmc_samples = 3\n"},
          {"dds", "steps = 10\ncg_iterations = 3\n"},
          {"cm_dps", "steps = 10\nzeta = 2\nconsistency = gaussian\n"},
          {"cm_dps", "steps = 6\nzeta = 2\nr = 0.2\nconsistency = ode\node_steps = 2\n"},
          {"cm_inversion", "iterations = 4\nconsistency = gaussian\n"},
          {"cm_inversion", "iterations = 2\nts = 0, 10, 20, 39\nconsistency = ode\node_steps = 2\n"},
          {"dps_edm", "steps = 10\nzeta = 2\n"},
          {"ddpm", "steps = 10\n"},
          {"ddim", "steps = 10\neta = 0.5\n"},
          {"euler_ancestral", "steps = 10\n"},
          {"cm_sample", "consistency = gaussian\n"},
          {"cm_sample", "consistency = ode\node_steps = 3\nts = 0, 20, 39\n"}};
}

double residual_rms(const Operator& op, const torch::Tensor& x, const torch::Tensor& y) {
  return ((op.forward(x) - y).flatten(1).pow(2).mean(1).sqrt()).mean().item<double>();
}

}  // namespace

TEST_CASE("solvers: every registered solver has valid defaults or names its required option", "[solvers]") {
  register_builtin_solvers();
  for (const auto& name : solver_registry().names()) {
    INFO(name);
    const bool cm = solver_registry().get(name).requirements.consistency_model;
    if (cm) {
      CHECK_THROWS_WITH(solver_from(name, ""), Catch::Contains("consistency") && Catch::Contains("required"));
      CHECK_NOTHROW(solver_from(name, "consistency = ode\n"));
    } else {
      CHECK_NOTHROW(solver_from(name, ""));
    }
  }
}

TEST_CASE("solvers: options refuse bad values naming field, value and rule", "[solvers]") {
  CHECK_THROWS_WITH(solver_from("lgd", "mc_samples = 0\n"), Catch::Contains("LgdOptions::mc_samples = 0. Violated: mc_samples >= 1"));
  CHECK_THROWS_WITH(solver_from("lgd", "r = -1\n"), Catch::Contains("LgdOptions::r = -1"));
  CHECK_THROWS_WITH(solver_from("lgd", "r = abc\n"), Catch::Contains("auto or a number >= 0"));
  CHECK_THROWS_WITH(solver_from("dds", "eta = 1.5\n"), Catch::Contains("DdsOptions::eta = 1.5. Violated: 0 <= eta <= 1"));
  CHECK_THROWS_WITH(solver_from("dds", "steps = 0\n"), Catch::Contains("DdsOptions::steps = 0"));
  CHECK_THROWS_WITH(solver_from("dds", "gamma = 0\n"), Catch::Contains("gamma > 0"));
  CHECK_THROWS_WITH(solver_from("cm_dps", "consistency = ode\nsteps = 0\n"),
                    Catch::Contains("CmDpsOptions::steps = 0. Violated: steps >= 1"));
  CHECK_THROWS_WITH(solver_from("cm_dps", "consistency = ode\nr = -0.2\n"), Catch::Contains("r >= 0"));
  CHECK_THROWS_WITH(solver_from("cm_dps", "consistency = torchscript:\n"), Catch::Contains("names a file"));
  CHECK_THROWS_WITH(solver_from("cm_inversion", "consistency = ode\nts = 0, 17, 17\n"),
                    Catch::Contains("CmInversionOptions::ts = 0, 17, 17. Violated: ts strictly increasing"));
  CHECK_THROWS_WITH(solver_from("cm_inversion", "consistency = ode\nts = 0, 40\n"),
                    Catch::Contains("every entry in [0, steps - 1]"));
  CHECK_THROWS_WITH(solver_from("cm_inversion", "consistency = ode\nlr = 0\n"), Catch::Contains("lr > 0"));
  CHECK_THROWS_WITH(solver_from("cm_sample", "consistency = ode\nts = 5\n"), Catch::Contains("at least 2 entries"));
  CHECK_THROWS_WITH(solver_from("cm_sample", "consistency = ode\nsteps = 1\n"), Catch::Contains("steps >= 2"));
  CHECK_THROWS_WITH(solver_from("ddim", "eta = -1\n"), Catch::Contains("0 <= eta <= 1"));
  CHECK_THROWS_WITH(solver_from("euler_ancestral", "sigma_max = 0.001\n"), Catch::Contains("sigma_max > sigma_min"));
  CHECK_THROWS_WITH(solver_from("dps_edm", "zeta = 0\n"), Catch::Contains("zeta > 0"));
}

TEST_CASE("solvers: requirements are declared; a CM solver without a consistency model is refused", "[solvers]") {
  register_builtin_solvers();
  CHECK(solver_registry().get("dds").requirements.linear_operator);
  CHECK(solver_from("dds", "")->requirements().linear_operator);
  for (const char* name : {"cm_dps", "cm_inversion", "cm_sample"}) {
    CHECK(solver_registry().get(name).requirements.consistency_model);
    CHECK(solver_from(name, "consistency = ode\n")->requirements().consistency_model);
  }
  CHECK_THROWS_WITH(check_compatible("dds", solver_registry().get("dds").requirements, "phase", false),
                    Catch::Contains("needs a linear operator"));
  auto prior = gaussian_prior_mean({1, 4, 4}, 0, 0.3);
  auto op = make_operator("type = inpaint\nsigma_y = 0\n", {1, 4, 4}, torch::kDouble);
  auto y = torch::zeros(op->measurement_shape(), torch::kDouble).unsqueeze(0);
  NoiseStream noise(design("iid"), 1, 0, 1, torch::kCPU, torch::kDouble);
  CHECK_THROWS_WITH(solver_from("cm_dps", "consistency = gaussian\n")->solve(Problem{*prior, *op, y}, noise),
                    Catch::Contains("needs a consistency model"));
  // gaussian needs the gaussian prior.
  auto gmm_like = std::make_shared<HalfNanPrior>();
  CHECK_THROWS_WITH(make_consistency_function({"gaussian"}, gmm_like), Catch::Contains("needs the `gaussian` prior"));
  CHECK_THROWS_WITH(make_consistency_function({"/no/such/folder"}, prior), Catch::Contains("/no/such/folder"));
}

TEST_CASE("solvers: every solver's antithetic pair is exactly negated (zero-mean Gaussian prior, linear A, y = 0)",
          "[solvers]") {
  // Each solver is an odd function of ALL its draws here (D, f and the clamps are odd, A is linear,
  // the losses are even), so negating every draw negates the reconstruction exactly.
  const std::vector<int64_t> shape{1, 8, 8};
  auto prior = gaussian_prior_mean(shape, 0, 0.3);
  for (const std::string op_ini : {"type = inpaint\nsigma_y = 0\n", "type = gaussian_blur\nsigma_y = 0\nkernel_size = 5\nsigma = 1\n"}) {
    auto op = make_operator(op_ini, shape, torch::kDouble);
    auto y = torch::zeros(op->measurement_shape(), torch::kDouble).unsqueeze(0);
    for (const auto& c : every_solver()) {
      INFO(c.type << " " << c.ini << " on " << op_ini);
      auto solver = solver_from(c.type, c.ini);
      int64_t draws = 0;
      auto r = run_solver(*solver, prior, *op, y, "antithetic", 2, 11, &draws);
      auto x = r.x.view({2, 2, -1});
      CHECK(torch::equal(x.select(1, 0), -x.select(1, 1)));
      CHECK(x.abs().sum().item<double>() > 0);
      CHECK(r.nfe == solver->nfe_per_sample());
      CHECK(draws >= 1);
    }
  }
}

TEST_CASE("solvers: draw counts follow the documented order (zero-weight draws skipped)", "[solvers]") {
  const std::vector<int64_t> shape{1, 4, 4};
  auto prior = gaussian_prior_mean(shape, 0, 0.3);
  auto op = make_operator("type = inpaint\nsigma_y = 0\n", shape, torch::kDouble);
  auto y = torch::zeros(op->measurement_shape(), torch::kDouble).unsqueeze(0);
  auto draws_of = [&](const std::string& type, const std::string& ini) {
    int64_t d = 0;
    run_solver(*solver_from(type, ini), prior, *op, y, "iid", 1, 3, &d);
    return d;
  };
  CHECK(draws_of("lgd", "steps = 10\nmc_samples = 3\n") == 1 + 10 * 3 + 10);  // z_T, eps_{k,1..3}, z_k (k=0 skipped)
  CHECK(draws_of("lgd", "steps = 10\nmc_samples = 3\nr = 0\n") == 1 + 10);     // r = 0: no MC draws (= DPS)
  CHECK(draws_of("dds", "steps = 10\n") == 1 + 10);                             // z_T, z_k (k = 0 skipped)
  CHECK(draws_of("cm_dps", "steps = 10\nconsistency = gaussian\n") == 1 + 2 * 10);  // z_T, (xi_i, z_i)
  CHECK(draws_of("cm_inversion", "iterations = 2\nconsistency = gaussian\n") == 2);  // z_0, z_1
  CHECK(draws_of("cm_sample", "consistency = gaussian\n") == 3);                 // z_0, z_1, z_2 (skipped)
  CHECK(draws_of("ddim", "steps = 10\n") == 1 + 10);                             // eta = 0: all skipped
  CHECK(draws_of("euler_ancestral", "steps = 10\n") == 1 + 10);
}

TEST_CASE("solvers: lgd with one MC sample and r = 0 reproduces dps exactly", "[solvers][lgd]") {
  const std::vector<int64_t> shape{1, 8, 8};
  auto prior = gaussian_prior_mean(shape, 0.1, 0.3);
  auto op = make_operator("type = gaussian_blur\nsigma_y = 0.05\nkernel_size = 5\nsigma = 1\n", shape, torch::kDouble);
  auto truth = 0.5 * keyed_normal({1, 1, 8, 8}, 5, torch::kDouble).clamp(-1, 1);
  auto y = op->measure(truth, 9);
  auto dps = run_solver(*solver_from("dps", "steps = 30\nzeta = 0.7\n"), prior, *op, y, "iid", 3, 4);
  auto lgd = run_solver(*solver_from("lgd", "steps = 30\nzeta = 0.7\nmc_samples = 1\nr = 0\n"), prior, *op, y, "iid", 3, 4);
  CHECK(torch::equal(dps.x, lgd.x));
  auto lgd_mc = run_solver(*solver_from("lgd", "steps = 30\nzeta = 0.7\nmc_samples = 4\n"), prior, *op, y, "iid", 3, 4);
  CHECK_FALSE(torch::equal(dps.x, lgd_mc.x));
}

TEST_CASE("solvers: unconditional samplers reproduce the Gaussian prior's mean and variance", "[solvers]") {
  const double mu = 0.1, v = 0.25;
  const std::vector<int64_t> shape{1, 4, 4};
  auto prior = gaussian_prior_mean(shape, mu, v);
  auto op = make_operator("type = inpaint\nsigma_y = 0\n", shape, torch::kDouble);
  auto y = torch::zeros(op->measurement_shape(), torch::kDouble).unsqueeze(0);
  for (const auto& c : std::vector<SolverCase>{
           {"ddim", "steps = 1000\nclip_denoised = false\n"},
           {"ddim", "steps = 1000\neta = 1\nclip_denoised = false\n"},
           {"euler_ancestral", "steps = 200\nclip_denoised = false\n"},
           {"cm_sample", "consistency = gaussian\nclip_denoised = false\nts = 0, 39\n"},
           {"cm_sample", "consistency = gaussian\nclip_denoised = false\n"},
           {"cm_sample", "consistency = ode\node_steps = 30\nclip_denoised = false\n"}}) {
    INFO(c.type << " " << c.ini);
    auto x = run_solver(*solver_from(c.type, c.ini), prior, *op, y, "iid", 1000, 21).x;
    const double n = x.numel(), mean = x.mean().item<double>(), var = x.var().item<double>();
    INFO("sample mean " << mean << " variance " << var);
    CHECK(std::abs(mean - mu) < 4 * std::sqrt(v / n));
    CHECK(std::abs(var - v) < 0.02 * v + 4 * v * std::sqrt(2 / n));
  }
}

TEST_CASE("solvers: the gaussian CM maps prior noise to prior samples and matches the prior's ODE", "[solvers][cm]") {
  const std::vector<int64_t> shape{1, 8, 8};
  auto prior = gaussian_prior_mean(shape, -0.2, 0.3);
  auto f = make_consistency_function({"gaussian", 18, 0.002, 7, false}, prior);
  auto z = keyed_normal({2000, 1, 8, 8}, 3, torch::kDouble);
  auto x = f->operator()(80.0 * z, torch::full({1}, 80.0, torch::kDouble));
  const double n = x.numel();
  CHECK(std::abs(x.mean().item<double>() + 0.2) < 4 * std::sqrt(0.3 / n));
  CHECK(std::abs(x.var().item<double>() - 0.3) < 0.3 * 4 * std::sqrt(2 / n) + 1e-3);
  // Boundary condition and agreement with the probability-flow ODE of the same prior.
  auto xs = keyed_normal({4, 1, 8, 8}, 4, torch::kDouble);
  CHECK(torch::allclose(f->operator()(xs, torch::full({1}, 0.002, torch::kDouble)), xs, 0, 1e-12));
  // Heun is second order: 4x the steps cuts the error at least 4x (16x in the limit).
  auto ode20 = make_consistency_function({"ode", 20, 0.002, 7, false}, prior);
  auto ode80 = make_consistency_function({"ode", 80, 0.002, 7, false}, prior);
  for (double s : {0.5, 5.0, 80.0}) {
    auto xin = -0.2 + std::sqrt(0.3 + s * s) * xs;
    auto sig = torch::full({1}, s, torch::kDouble);
    auto a = f->operator()(xin, sig);
    const double e20 = (a - ode20->operator()(xin, sig)).abs().max().item<double>();
    const double e80 = (a - ode80->operator()(xin, sig)).abs().max().item<double>();
    INFO("sigma " << s << " max |ode - exact|: 20 steps " << e20 << ", 80 steps " << e80);
    CHECK(e80 < 5e-3);
    CHECK(e80 < e20 / 4);
  }
  CHECK(ode80->nfe_per_call() == 160);
}

TEST_CASE("solvers: TorchScript EDM denoisers and consistency functions match the closed forms", "[solvers][cm]") {
  // Scripted versions of the Gaussian prior's D and flow map (v = 0.3, mu = 0) must agree with the built-ins.
  ipbench::testing::TempDir dir;
  torch::jit::Module d("GaussD");
  d.register_parameter("v", torch::full({1}, 0.3, torch::kDouble), false);
  d.define(R"(
def forward(self, x, sigma):
    s2 = (sigma * sigma).view(-1, 1, 1, 1)
    return self.v / (self.v + s2) * x
)");
  d.save(dir.file("d.pt"));
  torch::jit::Module raw("GaussF");  // F of EDM preconditioning for the same D: F = (D - c_skip x)/c_out
  raw.register_parameter("v", torch::full({1}, 0.3, torch::kDouble), false);
  raw.define(R"(
def forward(self, xin, c_noise):
    s = torch.exp(4.0 * c_noise).view(-1, 1, 1, 1)
    x = xin * torch.sqrt(s * s + 0.25)
    D = self.v / (self.v + s * s) * x
    cskip = 0.25 / (s * s + 0.25)
    cout = s * 0.5 / torch.sqrt(s * s + 0.25)
    return (D - cskip * x) / cout
)");
  raw.save(dir.file("raw.pt"));
  torch::jit::Module cm("GaussCM");
  cm.register_parameter("v", torch::full({1}, 0.3, torch::kDouble), false);
  cm.define(R"(
def forward(self, x, sigma):
    s2 = (sigma * sigma).view(-1, 1, 1, 1)
    return torch.sqrt((self.v + 0.002 * 0.002) / (self.v + s2)) * x
)");
  cm.save(dir.file("cm.pt"));

  const std::vector<int64_t> shape{1, 8, 8};
  auto prior = gaussian_prior_mean(shape, 0, 0.3);
  auto x = 3.0 * keyed_normal({3, 1, 8, 8}, 6, torch::kDouble);
  auto sigma = torch::tensor({0.1, 2.0, 50.0}, torch::kDouble);
  EdmPriorOptions eo;
  eo.path = dir.file("d.pt");
  EdmTorchScriptPrior edm(eo, shape, torch::kCPU);
  CHECK(torch::allclose(edm.denoise(x, sigma), prior->denoise(x, sigma), 1e-10, 1e-12));
  eo.path = dir.file("raw.pt");
  eo.preconditioning = "edm";
  EdmTorchScriptPrior edm_raw(eo, shape, torch::kCPU);
  CHECK(torch::allclose(edm_raw.denoise(x, sigma), prior->denoise(x, sigma), 1e-9, 1e-10));
  auto ts = make_consistency_function({"torchscript:" + dir.file("cm.pt"), 18, 0.002, 7, false}, prior);
  auto gs = make_consistency_function({"gaussian", 18, 0.002, 7, false}, prior);
  CHECK(torch::allclose(ts->operator()(x, sigma), gs->operator()(x, sigma), 1e-10, 1e-12));
  CHECK_THROWS_WITH(make_consistency_function({"torchscript:" + dir.file("none.pt")}, prior),
                    Catch::Contains("none.pt"));
  eo.path = dir.file("none.pt");
  CHECK_THROWS_WITH(EdmTorchScriptPrior(eo, shape, torch::kCPU), Catch::Contains("none.pt"));
}

TEST_CASE("solvers: dds with many CG iterations lands on the exact Gaussian posterior mean", "[solvers][dds]") {
  // Correlated (Fourier-basis) Gaussian prior, inpainting without noise: the posterior mean is
  // mu + Sigma A^T (A Sigma A^T)^-1 (y - A mu), computed densely.
  const std::vector<int64_t> shape{1, 8, 8};
  const int64_t d = 64;
  auto f = torch::fft::fftfreq(8, 1.0, torch::kDouble);
  auto k2 = f.view({-1, 1}).square() + f.view({1, -1}).square();
  auto S = (0.4 * torch::exp(-k2 / 0.02) + 0.01).view({1, 8, 8});
  auto prior = std::make_shared<GaussianPrior>(torch::zeros({1, 8, 8}, torch::kDouble), S, GaussianPrior::Basis::kFourier);
  auto op = make_operator("type = inpaint\nsigma_y = 0\n", shape, torch::kDouble);
  auto eye = torch::eye(d, torch::kDouble).view({d, 1, 8, 8});
  auto Sigma = torch::real(torch::fft::ifft2(S * torch::fft::fft2(eye, c10::nullopt, {-2, -1}, "ortho"), c10::nullopt,
                                            {-2, -1}, "ortho"))
                   .view({d, d});                                   // columns Sigma e_i
  auto A_all = op->forward(eye).view({d, -1}).t();                 // [m, d] (masked rows are zero)
  auto A = A_all.index({A_all.abs().sum(1) > 0});                  // the observed rows
  auto truth = (torch::linalg::cholesky(Sigma).matmul(keyed_normal({d}, 2, torch::kDouble))).view({1, 1, 8, 8});
  auto y = op->forward(truth);
  auto y_obs = A.matmul(truth.view({-1, 1}));
  auto post = Sigma.matmul(A.t()).matmul(torch::linalg::solve(A.matmul(Sigma).matmul(A.t()), y_obs, true));
  // DDS is not an exact posterior sampler: its bias shrinks with the number of steps (measured:
  // 0.135 at 50 steps, 0.062 at 200, 0.024 at 1000, for ||posterior mean|| = 1.52).
  const int64_t N = 1000;
  auto mean_error = [&](int64_t steps, double* mc) {
    auto x = run_solver(*solver_from("dds", "steps = " + std::to_string(steps) + "\ncg_iterations = 50\nnoiseless = true\n"),
                        prior, *op, y, "iid", N, 8)
                 .x;
    CHECK(residual_rms(*op, x, y) < 1e-6);  // the data are fitted exactly
    // Monte Carlo error of the sample mean: E||mean - E x||^2 = tr(Cov x) / N.
    if (mc) *mc = std::sqrt(x.flatten(1).var(0).sum().item<double>() / N);
    return (x.mean(0).view({-1, 1}) - post).norm().item<double>();
  };
  double mc = 0;
  const double err = mean_error(500, &mc), err50 = mean_error(50, nullptr), scale = post.norm().item<double>();
  INFO("||mean_dds - posterior mean||: 500 steps " << err << " (Monte Carlo error " << mc << "), 50 steps " << err50
                                                   << "; ||posterior mean|| = " << scale);
  CHECK(err < 3 * mc + 0.03 * scale);
  CHECK(err < err50 / 2);
}

TEST_CASE("solvers: conjugate gradient solves per sample and stops converged samples", "[solvers][dds]") {
  auto M = torch::tensor({{4.0, 1.0}, {1.0, 3.0}}, torch::kDouble);
  auto apply = [&](const torch::Tensor& v) { return v.matmul(M); };
  auto b = torch::tensor({{1.0, 2.0}, {0.0, 0.0}}, torch::kDouble);
  auto x = conjugate_gradient(apply, b, torch::zeros_like(b), 10, 1e-12);
  CHECK(torch::allclose(x[0], torch::linalg::solve(M, b[0], true), 1e-10, 1e-12));
  CHECK(torch::equal(x[1], torch::zeros({2}, torch::kDouble)));  // converged at start: never moves
}

TEST_CASE("solvers: guided solvers reduce the measurement residual to the noise level", "[solvers]") {
  const std::vector<int64_t> shape{1, 8, 8};
  const double sigma_y = 0.05;
  auto prior = gaussian_prior_mean(shape, 0, 0.3);
  auto op = make_operator("type = inpaint\nsigma_y = 0.05\n", shape, torch::kDouble);
  auto truth = (std::sqrt(0.3) * keyed_normal({1, 1, 8, 8}, 5, torch::kDouble)).clamp(-1, 1);
  auto y = op->measure(truth, 12);
  auto unguided = run_solver(*solver_from("ddpm", "steps = 100\n"), prior, *op, y, "iid", 4, 3).x;
  const double base = residual_rms(*op, unguided, y);
  for (const auto& c : std::vector<SolverCase>{
           {"dps", "steps = 100\nzeta = 1\n"},
           {"lgd", "steps = 100\nzeta = 1\nmc_samples = 4\n"},
           {"dds", "steps = 50\n"},
           {"dps_edm", "steps = 100\nzeta = 2\n"},
           {"cm_dps", "steps = 100\nzeta = 2\nconsistency = gaussian\n"},
           // Unclamped: a clamped f saturates for the unbounded Gaussian's tails and has zero gradient there.
           {"cm_inversion", "iterations = 100\nlr = 2\nlr_renoise = 0.05\nconsistency = gaussian\nclip_denoised = false\n"}}) {
    INFO(c.type << " " << c.ini);
    auto x = run_solver(*solver_from(c.type, c.ini), prior, *op, y, "iid", 4, 3).x;
    const double res = residual_rms(*op, x, y);
    INFO("residual rms " << res << " (unguided " << base << ", sigma_y " << sigma_y << ")");
    CHECK(res < 2 * sigma_y);
    CHECK(res < 0.25 * base);
  }
}

TEST_CASE("solvers: cm_inversion cuts ||y - A x|| at least 10x from its initialization (noiseless, linear)",
          "[solvers][cm]") {
  const std::vector<int64_t> shape{1, 8, 8};
  auto prior = gaussian_prior_mean(shape, 0, 0.3);
  auto op = make_operator("type = gaussian_blur\nsigma_y = 0\nkernel_size = 5\nsigma = 1\n", shape, torch::kDouble);
  auto truth = (std::sqrt(0.3) * keyed_normal({1, 1, 8, 8}, 7, torch::kDouble)).clamp(-1, 1);
  auto y = op->forward(truth);
  // The initialization f(smax z_0, smax) is the one-step CM sample from the same draw z_0.
  // Both unclamped (the Gaussian is unbounded; a clamped f has zero gradient where it saturates).
  auto init = run_solver(*solver_from("cm_sample", "consistency = gaussian\nts = 0, 39\nclip_denoised = false\n"), prior,
                         *op, y, "iid", 4, 5)
                  .x;
  auto inv = run_solver(*solver_from("cm_inversion", "iterations = 100\nlr = 2\nlr_renoise = 0.05\nconsistency = gaussian\n"
                                                     "clip_denoised = false\n"),
                        prior, *op, y, "iid", 4, 5)
                 .x;
  auto norm = [&](const torch::Tensor& x) { return (y - op->forward(x)).flatten(1).norm(2, 1); };
  auto ratio = norm(inv) / norm(init);
  INFO("residual ratios " << ratio);
  CHECK((ratio < 0.1).all().item<bool>());
}

