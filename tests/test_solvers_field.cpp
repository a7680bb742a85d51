// The field's solvers (ddrm, ddnm, pigdm, diffpir, reddiff, pnpdm) and the operators' data steps:
// known answers on Gaussian problems (specs/solvers-2.md 0.13 and 11), antithetic negation, DDNM's
// consistency A x = y, closed-form data steps against conjugate gradients, options and refusals.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>

#include "core/config.h"
#include "core/rng.h"
#include "datasets/dataset.h"
#include "harness/runner.h"
#include "harness/spec.h"
#include "models/gaussian_prior.h"
#include "noise/designs.h"
#include "operators/denoise.h"
#include "operators/inpaint.h"
#include "operators/operator.h"
#include "solvers/ddnm.h"
#include "solvers/ddrm.h"
#include "solvers/diffpir.h"
#include "solvers/field_common.h"
#include "solvers/linear_algebra.h"
#include "solvers/pigdm.h"
#include "solvers/pnpdm.h"
#include "solvers/reddiff.h"
#include "temp_dir.h"

using namespace ipbench;

namespace {

std::shared_ptr<const NoiseDesign> design(const std::string& name) {
  register_builtin_designs();
  auto cfg = Config::from_string("", "t");
  return design_registry().get(name).make(cfg.section("noise"));
}

std::unique_ptr<Operator> make_op(const std::string& ini, std::vector<int64_t> shape, uint64_t key = 17) {
  register_builtin_operators();
  auto cfg = Config::from_string("[op]\n" + ini, "t");
  std::string type;
  cfg.section("op").read("type", type);
  return operator_registry().get(type).parse(cfg.section("op"))(OperatorContext{shape, key, torch::kCPU, torch::kDouble});
}

// Delegates forward/adjoint and hides closed forms: kSvd hides the SVD, kProjector also the equal singular
// value, so the data steps take the projector or the CG path; kLinearity presents the operator as
// nonlinear, so solvers take their nonlinear paths (autograd of the data fit) on a problem with a known answer.
class Hidden : public Operator {
 public:
  enum Hide { kSvd, kProjector, kLinearity };
  Hidden(const Operator& op, Hide hide) : Operator(op.noise(), op.image_shape()), op_(op), hide_(hide) {}
  std::string name() const override { return op_.name() + (hide_ == kLinearity ? "(as nonlinear)" : "(hidden)"); }
  bool linear() const override { return hide_ != kLinearity; }
  torch::Tensor forward(const torch::Tensor& x) const override { return op_.forward(x); }
  torch::Tensor adjoint(const torch::Tensor& y) const override { return op_.adjoint(y); }
  double equal_singular_value() const override {
    return hide_ == kSvd ? op_.equal_singular_value() : std::nan("");
  }
  std::vector<int64_t> measurement_shape() const override { return op_.measurement_shape(); }
  std::string describe() const override { return name(); }

 private:
  const Operator& op_;
  Hide hide_;
};

// The scalar problem of spec 0.13 / 11 twice in one 1x1x2 image: N(0, 1) prior, sigma_y = 0.5,
// column 0 observed (a = 1, y = 1), column 1 missing (a = 0).
struct Scalar {
  std::shared_ptr<GaussianPrior> prior =
      std::make_shared<GaussianPrior>(torch::zeros({1, 1, 2}, torch::kDouble), torch::ones({1, 1, 2}, torch::kDouble),
                                      GaussianPrior::Basis::kPixel);
  std::unique_ptr<Operator> op = make_op("type = inpaint\nmode = half\nsigma_y = 0.5\n", {1, 1, 2});
  torch::Tensor y = torch::tensor({1.0, 0.0}, torch::kDouble).view({1, 1, 1, 2});
};

struct Moments {
  double mean_a1, var_a1, mean_a0, var_a0;
};

Moments run_scalar(const Solver& solver, int64_t n, uint64_t key = 5) {
  Scalar p;
  NoiseStream noise(design("iid"), key, 0, n, torch::kCPU, torch::kDouble);
  auto x = solver.solve(Problem{*p.prior, *p.op, p.y}, noise).x.flatten(1);
  REQUIRE(x.size(0) == n);
  auto a1 = x.select(1, 0), a0 = x.select(1, 1);
  return {a1.mean().item<double>(), a1.var().item<double>(), a0.mean().item<double>(), a0.var().item<double>()};
}

// Expected value +- absolute tolerance on the mean, relative on the variance (plus an absolute floor).
void check_moments(double mean, double var, double want_mean, double want_var, double mean_tol, double var_rel,
                   double var_abs = 0) {
  INFO("mean " << mean << " (want " << want_mean << "), var " << var << " (want " << want_var << ")");
  CHECK(std::abs(mean - want_mean) <= mean_tol);
  CHECK(std::abs(var - want_var) <= var_rel * want_var + var_abs);
}

// Zero-mean problem with y = 0 on a 1x4x4 image: the antithetic pair must be exactly negated.
void check_antithetic(const Solver& solver, const Operator& op) {
  auto prior = std::make_shared<GaussianPrior>(torch::zeros({1, 4, 4}, torch::kDouble),
                                               0.2 + 0.5 * keyed_uniform({1, 4, 4}, 8, torch::kDouble),
                                               GaussianPrior::Basis::kPixel);
  std::vector<int64_t> ys{1};
  for (auto s : op.measurement_shape()) ys.push_back(s);
  auto y = torch::zeros(ys, torch::kDouble);
  NoiseStream noise(design("antithetic"), 9, 0, 3, torch::kCPU, torch::kDouble);
  auto x = solver.solve(Problem{*prior, op, y}, noise).x.view({3, 2, -1});
  INFO(solver.describe() << " on " << op.describe());
  CHECK(x.abs().max().item<double>() > 1e-3);  // not trivially zero
  CHECK((x.select(1, 0) + x.select(1, 1)).abs().max().item<double>() < 1e-12);
}

}  // namespace

TEST_CASE("solvers: data steps: closed forms (SVD, projector) agree with conjugate gradients", "[solvers][field]") {
  NoiseStream unused(design("iid"), 1, 0, 1, torch::kCPU, torch::kDouble);
  for (const std::string ini : {"type = inpaint\n", "type = superres\nmethod = avgpool\nfactor = 2\n",
                                "type = colorize\nweights = mean\n", "type = gaussian_blur\nsigma = 0.7\nkernel_size = 5\npadding = zeros\n",
                                "type = cs\nratio = 0.5\n", "type = denoise\n"}) {
    const std::vector<int64_t> shape{3, 8, 8};
    auto op = make_op(ini, shape);
    Hidden projector(*op, Hidden::kSvd), cg(*op, Hidden::kProjector);
    INFO(op->describe());
    CHECK(data_step_mode(cg) == "cg");
    auto x = keyed_normal({2, 3, 8, 8}, 31, torch::kDouble);
    auto y = op->forward(keyed_normal({2, 3, 8, 8}, 32, torch::kDouble)) + 0.1 * keyed_normal(op->forward(x).sizes(), 33, torch::kDouble);
    std::vector<const Operator*> forms{op.get(), &cg};
    if (std::isfinite(op->equal_singular_value())) forms.push_back(&projector);
    auto ref_prox = least_squares_prox(cg, y, x, 0.04, 3.0, 400);
    auto ref_pinv = pseudo_inverse(cg, y, 400);
    auto ref_reg = adjoint_regularized_inverse(cg, y, 0.2, 400);
    // The prox solves its normal equations; A A^+ y = the projection of y onto range(A).
    auto lhs = op->normal(ref_prox) + 3.0 * 0.04 * ref_prox;
    CHECK((lhs - op->adjoint(y) - 0.12 * x).abs().max().item<double>() < 1e-8);
    for (const auto* f : forms) {
      INFO(data_step_mode(*f));
      CHECK((least_squares_prox(*f, y, x, 0.04, 3.0, 400) - ref_prox).abs().max().item<double>() < 1e-6);
      CHECK((pseudo_inverse(*f, y, 400) - ref_pinv).abs().max().item<double>() < 1e-5);
      CHECK((adjoint_regularized_inverse(*f, y, 0.2, 400) - ref_reg).abs().max().item<double>() < 1e-6);
      // A A^+ A = A.
      auto ax = op->forward(x);
      CHECK((op->forward(pseudo_inverse(*f, ax, 400)) - ax).abs().max().item<double>() < 1e-5);
      // s2 = 0: the projection z - A^+(A z - y) satisfies A x = y where y is consistent.
      auto proj = least_squares_prox(*f, ax, keyed_normal(x.sizes(), 34, torch::kDouble), 0.0, 0.0, 400);
      CHECK((op->forward(proj) - ax).abs().max().item<double>() < 1e-5);
    }
  }
}

TEST_CASE("solvers: gaussian_data_step draws N(Sigma(A^T y/s^2 + x/rho^2), Sigma) in every form", "[solvers][field]") {
  // inpaint on 1x2x2: per pixel Sigma = (m/s^2 + 1/rho^2)^-1, mean = Sigma (m y/s^2 + x/rho^2).
  auto op = make_op("type = inpaint\nmode = half\n", {1, 2, 2});
  Hidden projector(*op, Hidden::kSvd), cg(*op, Hidden::kProjector);
  const double sy = 0.5, rho = 0.8;
  auto y = torch::tensor({1.0, 0.0, -0.5, 0.0}, torch::kDouble).view({1, 1, 2, 2});
  auto x = torch::tensor({0.3, -0.2, 0.1, 0.7}, torch::kDouble).view({1, 1, 2, 2});
  auto m = torch::tensor({1.0, 0.0, 1.0, 0.0}, torch::kDouble).view({1, 1, 2, 2});
  auto var = 1.0 / (m / (sy * sy) + 1.0 / (rho * rho));
  auto mean = var * (m * y / (sy * sy) + x / (rho * rho));
  const int64_t n = 20000;
  for (const Operator* f : {static_cast<const Operator*>(op.get()), static_cast<const Operator*>(&projector),
                            static_cast<const Operator*>(&cg)}) {
    INFO(data_step_mode(*f));
    NoiseStream noise(design("iid"), 4, 0, n, torch::kCPU, torch::kDouble);
    auto z = gaussian_data_step(*f, y, x, sy, rho, noise, 100);
    CHECK(noise.draws() == (data_step_mode(*f) == "cg" ? 2 : 1));
    auto zm = z.mean(0, true), zv = z.var(0, false, true);
    CHECK((zm - mean).abs().max().item<double>() < 0.02);
    CHECK(((zv - var) / var).abs().max().item<double>() < 0.05);
  }
}

TEST_CASE("solvers: ddrm matches the spec's computed moments on the scalar Gaussian problem", "[solvers][field]") {
  // spec 11: DDRM 20 steps, eta .85, eta_b 1: a = 1 (0.792, 0.065); a = 0 (0.002, 0.633). n = 2e4.
  auto m = run_scalar(DdrmSolver(DdrmOptions{}), 20000);
  check_moments(m.mean_a1, m.var_a1, 0.792, 0.065, 0.01, 0.06);
  check_moments(m.mean_a0, m.var_a0, 0.002, 0.633, 0.02, 0.05);
}

TEST_CASE("solvers: ddnm: DDNM+ and simplified moments; noiseless outputs satisfy A x = y", "[solvers][field]") {
  // spec 11: DDNM+ (SVD) 100 steps, eta .85: (0.846, 0.046), (0.002, 0.724); simplified (0.933, 0), (0, 0.012).
  auto m = run_scalar(DdnmSolver(DdnmOptions{}), 20000);
  check_moments(m.mean_a1, m.var_a1, 0.846, 0.046, 0.01, 0.06);
  check_moments(m.mean_a0, m.var_a0, 0.002, 0.724, 0.02, 0.05);
  DdnmOptions so;
  so.variant = "simplified";
  auto ms = run_scalar(DdnmSolver(so), 20000);
  check_moments(ms.mean_a1, ms.var_a1, 0.933, 0.0, 0.01, 0.0, 1e-3);
  check_moments(ms.mean_a0, ms.var_a0, 0.0, 0.012, 0.01, 0.15);

  // Noiseless: the last xhat0 is projected, so A x = y (closed forms exactly, CG to its precision).
  auto prior = std::make_shared<GaussianPrior>(torch::zeros({1, 6, 6}, torch::kDouble),
                                               torch::full({1, 6, 6}, 0.5, torch::kDouble), GaussianPrior::Basis::kPixel);
  for (const std::string ini : {"type = inpaint\nnoise = none\n", "type = cs\nratio = 0.4\nnoise = none\n",
                                "type = superres\nfactor = 2\nnoise = none\n",
                                "type = motion_blur\nkernel_size = 3\npadding = circular\nnoise = none\n"}) {
    auto op = make_op(ini, {1, 6, 6});
    INFO(op->describe());
    auto y = op->measure(0.5 * keyed_normal({1, 1, 6, 6}, 55, torch::kDouble), 1);
    DdnmOptions o;
    o.steps = 20;
    NoiseStream noise(design("iid"), 2, 0, 4, torch::kCPU, torch::kDouble);
    auto r = DdnmSolver(o).solve(Problem{*prior, *op, y}, noise);
    CHECK(r.used.find("ddnm ddnm") != std::string::npos);
    const double tol = data_step_mode(*op) == "cg" ? 1e-4 : 1e-10;
    CHECK((op->forward(r.x) - y).abs().max().item<double>() < tol);
    CHECK(noise.draws() == 21);
  }
}

TEST_CASE("solvers: ddnm time travel: RePaint's schedule, NFE, draws and the free pixel's exact variance",
          "[solvers][field]") {
  // RePaint's get_schedule_jump (DDNM's functions/svd_ddnm.py), worked by hand.
  CHECK(jump_schedule(4, 1, 1) == std::vector<int64_t>{3, 2, 1, 0, -1});
  CHECK(jump_schedule(5, 1, 2) == std::vector<int64_t>{4, 3, 4, 3, 2, 3, 2, 1, 2, 1, 0, 1, 0, -1});
  CHECK(jump_schedule(6, 2, 2) == std::vector<int64_t>{5, 4, 3, 2, 3, 4, 3, 2, 1, 0, 1, 2, 1, 0, -1});
  CHECK(jump_schedule(3, 1, 3) == std::vector<int64_t>{2, 1, 2, 1, 2, 1, 0, 1, 0, 1, 0, -1});
  const auto path = vp_skip_sigma_path(5, 1, 2);
  const auto plain = vp_skip_sigmas(5);
  REQUIRE(path.size() == 14);
  CHECK(path[0] == plain[0]);  // index 4
  CHECK(path[2] == plain[0]);  // back to 4
  CHECK(path[13] == 0.0);
  // NFE: the descending moves; 100 steps, L = 1, r = 2 is InverseBench's 199.
  DdnmOptions tt;
  tt.travel_repeat = 2;
  CHECK(DdnmSolver(tt).nfe_per_sample() == 199);
  CHECK(DdnmSolver(DdnmOptions{}).nfe_per_sample() == 100);
  tt.steps = 20;
  tt.travel_length = 5;
  tt.travel_repeat = 3;
  CHECK(DdnmSolver(tt).nfe_per_sample() == 50);  // 20 + (3 - 1) 5 ceil(15 / 5)
  CHECK(DdnmSolver(tt).describe().find("time travel 5 x 3") != std::string::npos);
  DdnmOptions bad;
  bad.travel_repeat = 0;
  CHECK_THROWS_WITH(bad.validate(), Catch::Contains("travel_repeat >= 1"));
  bad = DdnmOptions{};
  bad.steps = 10;
  bad.travel_length = 10;
  bad.travel_repeat = 2;
  CHECK_THROWS_WITH(bad.validate(), Catch::Contains("travel_length < steps"));

  // The free pixel (a = 0) of the scalar problem under variant = ddnm: a linear recursion in the N(0, 1)
  // prior's exact denoiser D = X / (1 + sigma^2). Step: X' = a X + sigma' eta z with a = 1/(1 + s^2) +
  // sigma' sqrt(1 - eta^2) (1 - 1/(1 + s^2)) / s; travel: X = D_last + sigma_up z. Its variance, against
  // 20000 trajectories, for two schedules (climbs of 1 move, and of 3 moves whose first 2 are dead).
  auto exact_variance = [](const std::vector<double>& sig, double eta) {
    const double keep = std::sqrt(1 - eta * eta);
    double v = sig[0] * sig[0], vd = 0;
    for (size_t k = 0; k + 1 < sig.size(); ++k) {
      const double s = sig[k], sn = sig[k + 1];
      if (sn > s) {
        if (!(k + 2 < sig.size() && sig[k + 2] > sn)) v = vd + sn * sn;
        continue;
      }
      const double shrink = 1 / (1 + s * s);
      vd = v * shrink * shrink;
      const double a = shrink + sn * keep * (1 - shrink) / s;
      v = a * a * v + sn * sn * eta * eta;
    }
    return v;
  };
  for (const auto& [steps, length] : std::vector<std::pair<int64_t, int64_t>>{{10, 1}, {12, 3}}) {
    DdnmOptions o;
    o.variant = "ddnm";
    o.sigma_y = 0;
    o.steps = steps;
    o.travel_length = length;
    o.travel_repeat = 2;
    const auto sig = o.sigma_path();
    const double want = exact_variance(sig, o.eta), without = exact_variance(vp_skip_sigmas(steps), o.eta);
    INFO("steps " << steps << ", travel_length " << length << ": exact variance " << want << " (no travel " << without
                  << ")");
    // One-move climbs change the variance by 10% here (the check below tells them apart); longer climbs
    // by under 1% (their re-noising starts further up).
    if (length == 1) CHECK(std::abs(want - without) > 0.08 * without);
    Scalar p;
    NoiseStream noise(design("iid"), 12, 0, 20000, torch::kCPU, torch::kDouble);
    auto r = DdnmSolver(o).solve(Problem{*p.prior, *p.op, p.y}, noise);
    CHECK(noise.draws() == static_cast<int64_t>(sig.size()));  // z_0 + one per move
    CHECK(r.nfe == DdnmSolver(o).nfe_per_sample());
    auto x = r.x.flatten(1);
    CHECK((x.select(1, 0) - 1.0).abs().max().item<double>() < 1e-12);  // observed: y, projected last
    check_moments(x.select(1, 1).mean().item<double>(), x.select(1, 1).var().item<double>(), 0.0, want, 0.02, 0.04);
  }

  // DDNM+ (SVD path) with travel: antithetic pairs stay exactly negated, the draw count is the path's.
  DdnmOptions plus;
  plus.steps = 10;
  plus.travel_repeat = 2;
  auto inpaint = make_op("type = inpaint\nsigma_y = 0.1\n", {1, 4, 4});
  check_antithetic(DdnmSolver(plus), *inpaint);
  Scalar p;
  NoiseStream noise(design("iid"), 3, 0, 2, torch::kCPU, torch::kDouble);
  auto r = DdnmSolver(plus).solve(Problem{*p.prior, *p.op, p.y}, noise);
  CHECK(noise.draws() == static_cast<int64_t>(plus.sigma_path().size()));
  CHECK(r.used.find("time travel 1 x 2 (NFE 19)") != std::string::npos);
}

TEST_CASE("solvers: pigdm: biased with w = 1, the posterior with weight = exact as steps grow", "[solvers][field]") {
  // spec 11: 100 steps eta 1: w = 1 (0.999, 0.034); exact (0.799, 0.173); exact 1000 steps (0.801, 0.197).
  auto m = run_scalar(PigdmSolver(PigdmOptions{}), 20000);
  check_moments(m.mean_a1, m.var_a1, 0.999, 0.034, 0.01, 0.06);
  PigdmOptions e;
  e.weight = "exact";
  auto me = run_scalar(PigdmSolver(e), 20000);
  check_moments(me.mean_a1, me.var_a1, 0.799, 0.173, 0.01, 0.05);
  e.steps = 1000;
  auto m1000 = run_scalar(PigdmSolver(e), 20000);
  check_moments(m1000.mean_a1, m1000.var_a1, 0.8, 0.2, 0.01, 0.05);  // the exact posterior N(0.8, 0.2)
  check_moments(m1000.mean_a0, m1000.var_a0, 0.0, 1.0, 0.02, 0.05);  // a = 0: the prior
}

TEST_CASE("solvers: diffpir matches the spec's computed moments", "[solvers][field]") {
  // spec 11: 100 points, zeta .1: lambda 1 (0.843, 0.167); lambda .25 (0.949, 0.051); a = 0 (-0.004, 0.956).
  DiffpirOptions o;
  o.clip = false;  // the spec's Gaussian runs do not clamp (an N(0, 1) prior leaves [-1, 1])
  o.lambda = 1.0;
  auto m = run_scalar(DiffpirSolver(o), 20000);
  check_moments(m.mean_a1, m.var_a1, 0.843, 0.167, 0.01, 0.05);
  check_moments(m.mean_a0, m.var_a0, -0.004, 0.956, 0.02, 0.05);
  o.lambda = 0.25;
  auto m25 = run_scalar(DiffpirSolver(o), 20000);
  check_moments(m25.mean_a1, m25.var_a1, 0.949, 0.051, 0.01, 0.06);
}

TEST_CASE("solvers: reddiff collapses to the least-squares value in observed directions", "[solvers][field]") {
  // spec 11: 1000 steps, lambda .25, lr .1: (1.000, 1e-4).
  auto m = run_scalar(ReddiffSolver(ReddiffOptions{}), 20000);
  check_moments(m.mean_a1, m.var_a1, 1.0, 1e-4, 0.005, 0.0, 4e-4);
}

TEST_CASE("solvers: svd_cutoff: reddiff's A^+ init drops small singular values (a noisy blur does not explode), ddrm ignores them",
          "[solvers][field]") {
  // The exact A^+ of a Gaussian blur divides the measurement noise by singular values down to 1e-12 of
  // the largest; RED-diff's official H_pinv (DDRM's H functions) zeroes 1-D factors below 3e-2. With 1 step the
  // output is the init itself (the iterate before the update).
  auto op = make_op("type = gaussian_blur\nsigma = 2\nkernel_size = 9\nsigma_y = 0.05\n", {1, 16, 16});
  GaussianPrior prior(torch::zeros({1, 16, 16}, torch::kDouble), torch::ones({1, 16, 16}, torch::kDouble),
                      GaussianPrior::Basis::kPixel);
  const auto x = 0.5 * torch::tanh(keyed_normal({1, 1, 16, 16}, 41, torch::kDouble));
  auto y0 = op->forward(x);
  const auto y = y0 + 0.05 * keyed_normal(y0.sizes(), 42, torch::kDouble);
  auto solve = [&](const Solver& solver) {
    NoiseStream noise(design("iid"), 3, 0, 1, torch::kCPU, torch::kDouble);
    return solver.solve(Problem{prior, *op, y}, noise).x;
  };
  auto init = [&](double cutoff) {
    ReddiffOptions o;
    o.steps = 1;
    o.svd_cutoff = cutoff;
    return solve(ReddiffSolver(o));
  };
  const auto s = op->svd()->s_like(y);
  const auto kept = op->svd()->kept_like(y, 3e-2);
  REQUIRE((s > 0 & ~kept).any().item<bool>());  // the blur has coefficients the default cutoff drops
  // The cutoff applies to each 1-D factor of the separable blur (as DDRM's H functions): a kept
  // coefficient may have s down to 3e-2 squared.
  CHECK((kept & (s < 3e-2)).any().item<bool>());
  CHECK(((kept & (s < 9e-4 - 1e-15)).any().item<bool>()) == false);
  const auto exact = init(0.0), truncated = init(3e-2);
  CHECK(exact.abs().max().item<double>() > 1e3);  // noise / tiny singular values (measured 1480)
  CHECK(truncated.abs().max().item<double>() < 0.01 * exact.abs().max().item<double>());
  // The truncated init is A^+ restricted to the kept coefficients.
  const auto u = op->svd()->Ut_embed(y);
  const auto want = op->svd()->V(torch::where(kept, u / torch::where(kept, s, torch::ones_like(s)), torch::zeros_like(u)));
  CHECK((truncated - want).abs().max().item<double>() < 1e-10);
  CHECK(torch::equal(exact, pseudo_inverse(*op, y)));
  // DDRM treats the dropped coefficients as unobserved (its H functions zero them): the option is used.
  auto ddrm = [&](double cutoff) {
    DdrmOptions o;
    o.steps = 5;
    o.svd_cutoff = cutoff;
    return solve(DdrmSolver(o));
  };
  const auto d0 = ddrm(0.0), d3 = ddrm(3e-2);
  CHECK(torch::isfinite(d3).all().item<bool>());
  CHECK_FALSE(torch::equal(d0, d3));
  ReddiffOptions bad;
  bad.svd_cutoff = -1;
  CHECK_THROWS_WITH(bad.validate(), Catch::Contains("svd_cutoff >= 0"));
}

TEST_CASE("solvers: pnpdm approaches the inflated-noise posterior at rho_min", "[solvers][field]") {
  // spec 7(f): at fixed rho the x-marginal is the posterior with noise sigma_y^2 + rho^2 a^2:
  // rho = 0.3, a = 1: (0.746, 0.254); the default (code start) run gives (0.742, 0.256).
  PnpdmOptions o;
  o.iterations = 60;  // rho reaches 0.3 at k = 33, then 27 iterations at the floor
  auto m = run_scalar(PnpdmSolver(o), 10000);
  check_moments(m.mean_a1, m.var_a1, 0.746, 0.254, 0.02, 0.06);  // measured 0.733, 0.260: Euler-Maruyama prior-step bias
  check_moments(m.mean_a0, m.var_a0, 0.0, 1.0, 0.03, 0.06);
  o.start = "code";
  auto mc = run_scalar(PnpdmSolver(o), 10000);
  check_moments(mc.mean_a1, mc.var_a1, 0.742, 0.256, 0.015, 0.06);
  // NFE: 3673 from rho, 3573 with the code's start (spec 7(d)) at the defaults.
  CHECK(PnpdmSolver(PnpdmOptions{}).nfe_per_sample() == 3673);
  PnpdmOptions code;
  code.start = "code";
  CHECK(PnpdmSolver(code).nfe_per_sample() == 3573);
}

TEST_CASE("solvers: pnpdm's Langevin likelihood step (nonlinear operators) reaches the exact step's posterior",
          "[solvers][field]") {
  // Fixed rho = 0.3: the x-marginal is the posterior with noise sigma_y^2 + rho^2 (spec 7(f): (0.746, 0.254)
  // for a = 1; the missing column stays N(0, 1)). Langevin with lr 2e-3 x 300 steps mixes within each
  // likelihood step (rate lr (1/sigma_y^2 + 1/rho^2) = 0.03; 0.022 on the missing column), so it must agree
  // with the closed-form Gaussian step up to its discretization (variance +1.5%) and sampling error.
  PnpdmOptions o;
  o.rho0 = o.rho_min = 0.3;
  o.decay = 1;
  o.iterations = 15;  // the default EDM grid (100 levels; coarser grids add Euler-Maruyama bias: 20 gives 0.712)
  auto exact = run_scalar(PnpdmSolver(o), 8000);
  PnpdmOptions l = o;
  l.likelihood = "langevin";
  l.langevin_steps = 300;
  l.langevin_lr = 2e-3;
  auto lang = run_scalar(PnpdmSolver(l), 8000, 6);
  check_moments(exact.mean_a1, exact.var_a1, 0.746, 0.254, 0.025, 0.08);
  check_moments(lang.mean_a1, lang.var_a1, exact.mean_a1, exact.var_a1, 0.03, 0.1);
  check_moments(lang.mean_a0, lang.var_a0, exact.mean_a0, exact.var_a0, 0.04, 0.1);

  // likelihood = auto on a nonlinear operator: the Langevin step from an N(0, I) start, through the
  // operator's loss (data_fit_norm), not the linear residual.
  Scalar p;
  Hidden nl(*p.op, Hidden::kLinearity);
  PnpdmOptions a = l;
  a.likelihood = "auto";
  NoiseStream noise(design("iid"), 7, 0, 8000, torch::kCPU, torch::kDouble);
  auto r = PnpdmSolver(a).solve(Problem{*p.prior, nl, p.y}, noise);
  CHECK(std::count(r.status.begin(), r.status.end(), SampleStatus::kOk) == 8000);
  CHECK(r.used.find("likelihood step langevin (300 x 0.002)") != std::string::npos);
  // Draws: 1 start + per iteration 300 Langevin + (prior steps - 1).
  const auto grid = a.prior_grid(0.3);
  CHECK(noise.draws() == 1 + a.iterations * (300 + static_cast<int64_t>(grid.size()) - 2));
  CHECK(r.nfe == PnpdmSolver(a).nfe_per_sample());
  auto x = r.x.flatten(1);
  check_moments(x.select(1, 0).mean().item<double>(), x.select(1, 0).var().item<double>(), exact.mean_a1,
                exact.var_a1, 0.03, 0.1);
  // The free pixel starts at its stationary N(0, 1) here (from 0 on the linear path, where 15 iterations
  // at rho = 0.3 reach variance 0.91 only).
  check_moments(x.select(1, 1).mean().item<double>(), x.select(1, 1).var().item<double>(), 0.0, 1.0, 0.04, 0.06);

  // The requirement follows the option: exact needs a linear operator, auto and langevin do not.
  register_builtins();
  const auto& pr = operator_registry().get("phase_retrieval");
  CHECK_FALSE(PnpdmSolver(PnpdmOptions{}).requirements().linear_operator);
  CHECK_NOTHROW(check_compatible("pnpdm", PnpdmSolver(PnpdmOptions{}).requirements(), "phase_retrieval", pr.linear,
                                 pr.capabilities));
  PnpdmOptions e;
  e.likelihood = "exact";
  CHECK_THROWS_WITH(check_compatible("pnpdm", PnpdmSolver(e).requirements(), "phase_retrieval", pr.linear,
                                     pr.capabilities),
                    Catch::Contains("linear operator") && Catch::Contains("phase_retrieval"));
  NoiseStream n2(design("iid"), 7, 0, 2, torch::kCPU, torch::kDouble);
  CHECK_THROWS_WITH(PnpdmSolver(e).solve(Problem{*p.prior, nl, p.y}, n2),
                    Catch::Contains("likelihood = exact needs a linear operator"));
  PnpdmOptions bad;
  bad.likelihood = "mala";
  CHECK_THROWS_WITH(bad.validate(), Catch::Contains("likelihood in {auto, exact, langevin}"));
  bad = PnpdmOptions{};
  bad.langevin_lr = 0;
  CHECK_THROWS_WITH(bad.validate(), Catch::Contains("langevin_lr > 0"));
}

TEST_CASE("solvers: pnpdm average: the official mean of a chain's iterates after burn-in", "[solvers][field]") {
  // posterior_sample.py: int(numpy.linspace(burn_in, K - 1, n + 1))[1:] (values from numpy).
  PnpdmOptions o;
  o.average = 20;
  CHECK(o.averaged_iterations() == std::vector<int64_t>{42, 45, 48, 51, 54, 57, 60, 63, 66, 69, 72, 75, 78, 81, 84,
                                                         87, 90, 93, 96, 99});
  o.iterations = 12;
  o.burn_in = 5;
  o.average = 3;
  CHECK(o.averaged_iterations() == std::vector<int64_t>{7, 9, 11});
  o.burn_in = 8;
  o.average = 5;
  CHECK(o.averaged_iterations() == std::vector<int64_t>{8, 9, 10, 11});  // numpy: 8, 9, 9, 10, 11
  CHECK(PnpdmOptions{}.averaged_iterations() == std::vector<int64_t>{99});
  o.burn_in = 11;
  CHECK_THROWS_WITH(o.validate(), Catch::Contains("burn_in < iterations - 1"));

  // average = 1 after burn_in = K - 2 is the last iterate: the default output, bit for bit.
  Scalar p;
  PnpdmOptions last;
  last.iterations = 4;
  last.edm_steps = 10;
  PnpdmOptions one = last;
  one.average = 1;
  one.burn_in = 2;
  NoiseStream n1(design("antithetic"), 4, 0, 6, torch::kCPU, torch::kDouble), n2(design("antithetic"), 4, 0, 6,
                                                                                   torch::kCPU, torch::kDouble);
  CHECK(torch::equal(PnpdmSolver(last).solve(Problem{*p.prior, *p.op, p.y}, n1).x,
                     PnpdmSolver(one).solve(Problem{*p.prior, *p.op, p.y}, n2).x));

  // The mean of 20 iterates estimates the posterior mean: same mean as one iterate, far less spread.
  PnpdmOptions single;
  single.iterations = 60;
  PnpdmOptions mean = single;
  mean.average = 20;
  mean.burn_in = 35;  // rho reaches its floor at k = 33
  CHECK(PnpdmSolver(mean).describe().find("output the mean of 20 iterates after 35") != std::string::npos);
  auto ms = run_scalar(PnpdmSolver(single), 4000);
  auto mm = run_scalar(PnpdmSolver(mean), 4000);
  INFO("single " << ms.mean_a1 << " / " << ms.var_a1 << ", mean of 20: " << mm.mean_a1 << " / " << mm.var_a1);
  CHECK(std::abs(mm.mean_a1 - ms.mean_a1) < 0.03);
  CHECK(mm.var_a1 < 0.5 * ms.var_a1);  // measured 0.052 vs 0.261
  // The free pixel's chain moves by about rho^2 per iteration at rho = 0.3: its 20 iterates are strongly
  // correlated, so their mean keeps about half the spread (measured 0.525 vs 0.988).
  CHECK(mm.var_a0 < 0.75 * ms.var_a0);
  CHECK(mm.var_a0 > 0.25 * ms.var_a0);
}

TEST_CASE("solvers: field solvers: antithetic pairs are exactly negated on a zero-mean problem with y = 0",
          "[solvers][field]") {
  auto inpaint = make_op("type = inpaint\nsigma_y = 0.1\n", {1, 4, 4});
  auto blur = make_op("type = motion_blur\nkernel_size = 3\npadding = circular\nsigma_y = 0.1\n", {1, 4, 4});
  DdrmOptions ddrm;
  ddrm.steps = 10;
  DdnmOptions ddnm;
  ddnm.steps = 10;
  DdnmOptions ddnm_cg = ddnm;
  ddnm_cg.variant = "ddnm";
  PigdmOptions pigdm;
  pigdm.steps = 10;
  DiffpirOptions diffpir;
  diffpir.steps = 10;
  ReddiffOptions reddiff;
  reddiff.steps = 20;
  PnpdmOptions pnpdm;
  pnpdm.iterations = 3;
  pnpdm.edm_steps = 10;
  check_antithetic(DdrmSolver(ddrm), *inpaint);
  check_antithetic(DdnmSolver(ddnm), *inpaint);
  Hidden inpaint_cg(*inpaint, Hidden::kProjector);  // plain DDNM with A^+ by CG (a full-rank blur would leave no null space)
  check_antithetic(DdnmSolver(ddnm_cg), inpaint_cg);
  for (const Operator* op : {inpaint.get(), blur.get()}) {
    check_antithetic(PigdmSolver(pigdm), *op);
    check_antithetic(DiffpirSolver(diffpir), *op);
    check_antithetic(ReddiffSolver(reddiff), *op);
    check_antithetic(PnpdmSolver(pnpdm), *op);
  }
}

TEST_CASE("solvers: field solvers validate options and are refused on operators lacking a capability",
          "[solvers][field]") {
  DdrmOptions d;
  d.eta = 1.5;
  CHECK_THROWS_WITH(d.validate(), Catch::Contains("DdrmOptions::eta = 1.5") && Catch::Contains("0 <= eta <= 1"));
  d = DdrmOptions{};
  d.eta_b = -0.1;
  CHECK_THROWS_WITH(d.validate(), Catch::Contains("eta_b"));
  DdnmOptions n;
  n.variant = "fast";
  CHECK_THROWS_WITH(n.validate(), Catch::Contains("variant"));
  PigdmOptions p;
  p.weight = "big";
  CHECK_THROWS_WITH(p.validate(), Catch::Contains("weight in {code, exact}"));
  DiffpirOptions f;
  f.zeta = 2;
  CHECK_THROWS_WITH(f.validate(), Catch::Contains("DiffpirOptions::zeta = 2"));
  ReddiffOptions r;
  r.lr = 0;
  CHECK_THROWS_WITH(r.validate(), Catch::Contains("lr > 0"));
  PnpdmOptions q;
  q.rho_min = 20;
  CHECK_THROWS_WITH(q.validate(), Catch::Contains("rho_min"));

  register_builtins();
  const auto& ddrm = solver_registry().get("ddrm").requirements;
  const auto& blur = operator_registry().get("motion_blur");
  CHECK_THROWS_WITH(check_compatible("ddrm", ddrm, "motion_blur", blur.linear, blur.capabilities),
                    Catch::Contains("closed-form SVD") && Catch::Contains("motion_blur"));
  const auto& inp = operator_registry().get("inpaint");
  CHECK_NOTHROW(check_compatible("ddrm", ddrm, "inpaint", inp.linear, inp.capabilities));
  // ddnm's requirement follows its variant: plain DDNM runs with A^+ by CG.
  n = DdnmOptions{};
  n.variant = "ddnm";
  CHECK_NOTHROW(check_compatible("ddnm", DdnmSolver(n).requirements(), "motion_blur", blur.linear, blur.capabilities));
  CHECK_THROWS(check_compatible("ddnm", DdnmSolver(DdnmOptions{}).requirements(), "motion_blur", blur.linear,
                                blur.capabilities));
  const std::string matrix = solver_operator_matrix();
  CHECK(matrix.find("ddrm x motion_blur: it needs a closed-form SVD") != std::string::npos);
  CHECK(matrix.find("pigdm x phase_retrieval: it needs a linear operator") != std::string::npos);
  CHECK(matrix.find("operator capabilities:") != std::string::npos);
}

TEST_CASE("solvers: field solvers' NFE and draw counts match the spec", "[solvers][field]") {
  Scalar p;
  auto count = [&](const Solver& s) {
    NoiseStream noise(design("iid"), 1, 0, 2, torch::kCPU, torch::kDouble);
    auto r = s.solve(Problem{*p.prior, *p.op, p.y}, noise);
    CHECK(r.nfe == s.nfe_per_sample());
    return noise.draws();
  };
  CHECK(DdrmSolver(DdrmOptions{}).nfe_per_sample() == 20);
  CHECK(count(DdrmSolver(DdrmOptions{})) == 21);  // draw indices: z_0 + 19 live + the skipped last step
  CHECK(count(DdnmSolver(DdnmOptions{})) == 101);
  CHECK(DiffpirSolver(DiffpirOptions{}).nfe_per_sample() == 99);
  CHECK(count(DiffpirSolver(DiffpirOptions{})) == 100);
  auto sig = diffpir_sigmas(100);
  auto vp = vp_skip_sigmas(1000);  // sigma(999), ..., sigma(0), 0
  CHECK(sig[0] == vp[0]);
  CHECK(sig[1] == vp[100]);   // t = 899
  CHECK(sig[2] == vp[142]);   // t = 857
  CHECK(sig[99] == vp[999]);  // t = 0
}

TEST_CASE("solvers: the field's solvers run from a config on inpaint and a CG operator, iid and antithetic",
          "[solvers][field][harness]") {
  testing::TempDir tmp;
  Dataset data;
  data.images = (0.6 * torch::tanh(keyed_normal({2, 1, 8, 8}, 78))).to(torch::kFloat);
  data.attributes = {"synthetic", "CC0", "test"};
  const auto path = (tmp.path / "data.h5").string();
  write_dataset(path, data);
  const std::string ini =
      "[benchmark]\nname = t\nitems = 1\nsamples_per_item = 2\noperators = inpaint, blur\n"
      "solvers = ddnm, pigdm, diffpir, reddiff, pnpdm\ndesigns = iid, antithetic\nmetrics = l1, residual\n"
      "device = cpu\n[dataset]\nsource = " + path + "\npad_to = 0\n[prior]\ntype = gaussian\nmean = 0\nvariance = 0.3\n"
      "[operator.inpaint]\n[operator.blur]\ntype = motion_blur\nkernel_size = 3\n"
      "[solver.ddnm]\nsteps = 5\nvariant = ddnm\n[solver.pigdm]\nsteps = 5\n[solver.diffpir]\nsteps = 5\n"
      "[solver.reddiff]\nsteps = 5\n[solver.pnpdm]\niterations = 2\nedm_steps = 5\n";
  auto cfg = Config::from_string(ini, "t.ini");
  Spec spec = parse_spec(cfg);
  RunOptions ro;
  ro.out_dir = (tmp.path / "run").string();
  ro.progress = false;
  auto out = run_benchmark(spec, ro);
  REQUIRE(out.records.size() == 5 * 2 * 2 * 2);
  for (const auto& r : out.records) {
    INFO(r.cell);
    CHECK(r.status == "ok");
    CHECK(std::isfinite(r.metrics.at("l1")));
  }
  // ddrm is refused on the SVD-less operator before anything runs, naming the capability.
  auto bad = ini;
  bad.replace(bad.find("solvers = ddnm"), 14, "solvers = ddrm");
  CHECK_THROWS_WITH(parse_spec(Config::from_string(bad, "bad.ini")),
                    Catch::Contains("'ddrm' cannot run on operator 'blur'") && Catch::Contains("closed-form SVD"));
  CHECK_THROWS_WITH(parse_spec(Config::from_string(bad, "bad.ini")), !Catch::Contains("An option of"));
  // An option that asks for the capability is named: pnpdm runs on a nonlinear operator at its defaults
  // (Langevin likelihood step), not with likelihood = exact; nor does ddnm with variant = plus on blur,
  // which its default (auto) refuses as well (no hint then).
  auto nl = ini;
  nl.replace(nl.find("operators = inpaint, blur"), 25, "operators = inpaint, sat");
  nl.replace(nl.find("solvers = ddnm, pigdm, diffpir, reddiff, pnpdm"), 46, "solvers = pnpdm");
  nl.insert(nl.find("[solver.ddnm]"), "[operator.sat]\ntype = saturation\n");  // the last section stays [solver.pnpdm]
  CHECK_NOTHROW(parse_spec(Config::from_string(nl, "nl.ini")));
  CHECK_THROWS_WITH(parse_spec(Config::from_string(nl + "likelihood = exact\n", "nl.ini")),
                    Catch::Contains("'pnpdm' cannot run on operator 'sat'") &&
                        Catch::Contains("An option of [solver.pnpdm] asks for this: at its default options 'pnpdm' "
                                        "runs on 'sat'"));
  auto eta = ini;
  eta.replace(eta.find("variant = ddnm"), 14, "eta = 1.5");
  CHECK_THROWS_WITH(parse_spec(Config::from_string(eta, "eta.ini")), Catch::Contains("eta = 1.5") && Catch::Contains("0 <= eta <= 1"));
}
