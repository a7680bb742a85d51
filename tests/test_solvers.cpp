// Tests for solvers/: DPS on analytic priors.
#include <catch2/catch.hpp>

#include "core/config.h"
#include "core/rng.h"
#include "models/denoiser.h"
#include "noise/designs.h"
#include "operators/operator.h"
#include "solvers/ddpm_chain.h"
#include "solvers/dps.h"

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

TEST_CASE("DPS options validate and name the broken field", "[solvers][dps]") {
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

TEST_CASE("DPS antithetic pairs are exactly negated on a zero-mean Gaussian prior with y = 0", "[solvers][dps]") {
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

TEST_CASE("DPS with negligible guidance samples the Gaussian prior", "[solvers][dps]") {
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

TEST_CASE("DPS guidance fits the measurement", "[solvers][dps]") {
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

TEST_CASE("DPS records a non-finite sample without touching the others", "[solvers][dps]") {
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

TEST_CASE("incompatible solver/operator pairs are refused with the reason", "[solvers]") {
  CHECK_NOTHROW(check_compatible("dps", Requirements{}, "phase", false));
  CHECK_THROWS_WITH(check_compatible("dds", Requirements{true}, "phase", false),
                    Catch::Contains("solver 'dds' cannot run on operator 'phase'") && Catch::Contains("linear"));
}

TEST_CASE("ddpm samples the Gaussian prior and couples every draw", "[solvers][ddpm]") {
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
