// Tests for models/: the VP schedule, the analytic priors (gaussian, gmm, empirical) against
// independent closed forms, the TorchScript wrapper on the tests/data fixture, and the prior registry.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <set>

#include "core/config.h"
#include "core/error.h"
#include "core/options.h"
#include "core/rng.h"
#include "models/consistency.h"
#include "models/denoiser.h"
#include "models/empirical_prior.h"
#include "models/gaussian_prior.h"
#include "models/gmm_prior.h"
#include "models/prior_util.h"
#include "models/schedule.h"
#include "models/torchscript_prior.h"
#include "models/unet_checkpoint.h"
#include "temp_dir.h"

using namespace ipbench;

namespace {
const std::string kData = IPBENCH_TEST_DATA;
const std::string kTinyModel = kData + "/tiny_eps_model.pt";
const std::string kCorruptModel = kData + "/corrupt_model.pt";

torch::Tensor normal(at::IntArrayRef shape, uint64_t key, torch::ScalarType dtype = torch::kDouble) {
  return keyed_normal(shape, key, dtype);
}
torch::Tensor uniform(at::IntArrayRef shape, uint64_t key, double lo, double hi,
                      torch::ScalarType dtype = torch::kDouble) {
  return (lo + (hi - lo) * keyed_uniform(shape, key)).to(dtype);
}
double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

// A context whose loader returns 64 keyed images [64, 1, 8, 8] in [-1, 1].
PriorContext synthetic_context(torch::ScalarType dtype = torch::kFloat) {
  PriorContext ctx;
  ctx.dtype = dtype;
  ctx.image_shape = {1, 8, 8};
  ctx.load_images = [](const std::string&) { return uniform({64, 1, 8, 8}, 4242, -1, 1, torch::kFloat); };
  return ctx;
}

// Orthonormal 2-D DFT matrix of H x W images (row-major pixels), complex128 [HW, HW].
torch::Tensor dft2_matrix(int64_t H, int64_t W) {
  auto dft1 = [](int64_t n) {
    auto j = torch::arange(n, torch::kDouble);
    auto angle = -2 * M_PI * torch::outer(j, j) / static_cast<double>(n);
    return torch::complex(angle.cos(), angle.sin()) / std::sqrt(static_cast<double>(n));
  };
  return torch::kron(dft1(H), dft1(W));
}

// The dense covariance [CHW, CHW] of a GaussianPrior (block diagonal over channels), float64.
torch::Tensor dense_covariance(const GaussianPrior& p) {
  const auto v = p.variance().to(torch::kDouble);
  const int64_t C = v.size(0), H = v.size(1), W = v.size(2);
  if (p.basis() == GaussianPrior::Basis::kPixel) return torch::diag(v.flatten());
  const torch::Tensor F = dft2_matrix(H, W);
  std::vector<torch::Tensor> blocks;
  for (int64_t c = 0; c < C; ++c) {
    auto S = torch::diag(v[c].flatten()).to(torch::kComplexDouble);
    blocks.push_back(torch::real(F.conj().t().matmul(S).matmul(F)));  // F^H diag(S) F
  }
  return torch::block_diag(blocks);
}

// The spectrum S with S[k] = S[-k] (a real covariance), from any positive [C, H, W] tensor.
torch::Tensor hermitian_spectrum(const torch::Tensor& s) {
  return 0.5 * (s + torch::roll(torch::flip(s, {-2, -1}), {1, 1}, {-2, -1}));
}

// Closed-form log N(x; mu, Sigma + sigma^2 I) per sample (up to a constant), dense float64.
torch::Tensor gaussian_log_density(const torch::Tensor& x, const torch::Tensor& mu, const torch::Tensor& cov,
                                   double sigma) {
  const auto B = x.size(0);
  const auto d = (x - mu).reshape({B, -1});
  const auto K = cov + sigma * sigma * torch::eye(cov.size(0), torch::kDouble);
  const auto sol = torch::linalg::solve(K, d.t(), true).t();  // (Sigma + s^2 I)^{-1} (x - mu)
  return -0.5 * (d * sol).sum(1);
}

Section section_with(const std::vector<std::pair<std::string, std::string>>& kv) {
  Section s("prior", "(test)");
  for (const auto& [k, v] : kv) s.set(k, v, "(test)");
  return s;
}
}  // namespace

// ----------------------------------------------------------------------------------------------------
// Schedule

TEST_CASE("models: VpSchedule matches DDPM's linear schedule", "[models][schedule]") {
  const auto s = VpSchedule::linear();
  REQUIRE(s.num_timesteps() == 1000);
  CHECK(s.abar(-1) == 1.0);
  CHECK(s.beta(0) == Approx(1e-4).epsilon(1e-12));
  CHECK(s.beta(999) == Approx(0.02).epsilon(1e-12));
  CHECK(s.abar(0) == Approx(0.9999).epsilon(1e-12));
  CHECK(s.abar(999) == Approx(4.04e-5).epsilon(0.01));
  CHECK(s.sigma(999) == Approx(157).epsilon(0.01));
  CHECK(s.sigma(-1) == 0.0);
}

TEST_CASE("models: VpSchedule respacing keeps increasing timesteps from 0 to T-1", "[models][schedule]") {
  const auto s = VpSchedule::linear();
  const auto ts = s.respaced_timesteps(100);
  REQUIRE(ts.size() == 100);
  CHECK(ts.front() == 0);
  CHECK(ts.back() == 999);
  for (size_t i = 1; i < ts.size(); ++i) CHECK(ts[i] > ts[i - 1]);
  CHECK(s.respaced_timesteps(1) == std::vector<int64_t>{999});
  CHECK(s.respaced_timesteps(1000).size() == 1000);
  CHECK(s.respaced_timesteps(7)[1] == 166);  // 166.5 rounds to even, like Python's round()
  CHECK(s.respaced_timesteps(3) == std::vector<int64_t>{0, 500, 999});
}

TEST_CASE("models: VpSchedule timestep_for_sigma inverts sigma(t)", "[models][schedule]") {
  const auto s = VpSchedule::linear();
  for (int64_t t : {0, 1, 2, 17, 250, 500, 998, 999}) CHECK(s.timestep_for_sigma(s.sigma(t)) == double(t));
  // Between integers: log sigma is interpolated linearly.
  const double mid = std::exp(0.5 * (std::log(s.sigma(10)) + std::log(s.sigma(11))));
  CHECK(s.timestep_for_sigma(mid) == Approx(10.5).epsilon(1e-12));
  CHECK(s.timestep_for_sigma(0.0) == 0.0);
  CHECK(s.timestep_for_sigma(1e6) == 999.0);
}

TEST_CASE("models: VpSchedule rejects invalid arguments", "[models][schedule]") {
  CHECK_THROWS_AS(VpSchedule::linear(0), Error);
  CHECK_THROWS_AS(VpSchedule::linear(10, 0.0, 0.02), Error);
  CHECK_THROWS_AS(VpSchedule::linear(10, 1e-4, 1.0), Error);
  const auto s = VpSchedule::linear();
  CHECK_THROWS_AS(s.abar(1000), Error);
  CHECK_THROWS_AS(s.abar(-2), Error);
  CHECK_THROWS_AS(s.beta(-1), Error);
  CHECK_THROWS_AS(s.timestep_for_sigma(-1.0), Error);
  CHECK_THROWS_AS(s.timestep_for_sigma(std::nan("")), Error);
  CHECK_THROWS_AS(s.respaced_timesteps(0), Error);
  CHECK_THROWS_AS(s.respaced_timesteps(1001), Error);
}

// ----------------------------------------------------------------------------------------------------
// Gaussian

TEST_CASE("models: gaussian prior equals the dense posterior mean and satisfies Tweedie", "[models][gaussian]") {
  const auto basis = GENERATE(GaussianPrior::Basis::kPixel, GaussianPrior::Basis::kFourier);
  const auto mu = normal({2, 4, 5}, 1);
  auto var = uniform({2, 4, 5}, 2, 0.1, 2.0);
  if (basis == GaussianPrior::Basis::kFourier) var = hermitian_spectrum(var);
  const GaussianPrior prior(mu, var, basis);
  const auto cov = dense_covariance(prior);
  const auto x = normal({3, 2, 4, 5}, 3) * 2;
  const auto sigma = torch::tensor({0.1, 1.0, 3.0}, torch::kDouble);

  const auto D = prior.denoise(x, sigma);
  for (int64_t b = 0; b < 3; ++b) {
    const double s = sigma[b].item<double>();
    const auto d = (x[b] - mu).flatten();
    const auto K = cov + s * s * torch::eye(cov.size(0), torch::kDouble);
    const auto expected = mu.flatten() + cov.matmul(torch::linalg::solve(K, d, true));
    CHECK(max_abs_diff(D[b].flatten(), expected) < 1e-10);

    // Tweedie: D = x + s^2 grad log p_s(x), with autograd on the dense closed-form log density.
    auto xb = x[b].unsqueeze(0).clone().requires_grad_(true);
    gaussian_log_density(xb, mu, cov, s).sum().backward();
    CHECK(max_abs_diff(D[b], xb.detach()[0] + s * s * xb.grad()[0]) < 1e-10);
  }
}

TEST_CASE("models: gaussian prior: 0-dim sigma, float32, gradients and fitting", "[models][gaussian]") {
  const auto mu = normal({1, 4, 4}, 5, torch::kFloat);
  const auto var = uniform({1, 4, 4}, 6, 0.5, 1.5, torch::kFloat);
  const GaussianPrior prior(mu, var, GaussianPrior::Basis::kFourier);
  auto x = normal({2, 1, 4, 4}, 7, torch::kFloat).requires_grad_(true);
  const auto D0 = prior.denoise(x, torch::tensor(0.5f));
  const auto D1 = prior.denoise(x, torch::full({2}, 0.5f));
  CHECK(D0.scalar_type() == torch::kFloat);
  CHECK(max_abs_diff(D0, D1) == 0.0);
  D0.sum().backward();
  CHECK(torch::isfinite(x.grad()).all().item<bool>());

  const auto images = normal({500, 1, 4, 4}, 8) * 0.3 + 0.2;
  const auto pix = GaussianPrior::fit(images, GaussianPrior::Basis::kPixel, torch::kDouble);
  CHECK(max_abs_diff(pix->mean(), images.mean(0)) < 1e-12);
  CHECK(max_abs_diff(pix->variance(), images.var(0, /*unbiased=*/false)) < 1e-12);
  const auto four = GaussianPrior::fit(images, GaussianPrior::Basis::kFourier, torch::kDouble);
  // Parseval: the spectrum's total power equals the total pixel variance.
  CHECK(four->variance().sum().item<double>() == Approx(pix->variance().sum().item<double>()).epsilon(1e-10));
  CHECK(max_abs_diff(four->variance(), hermitian_spectrum(four->variance())) < 1e-12);
}

TEST_CASE("models: gaussian prior options: shape, data and errors", "[models][gaussian]") {
  const auto ctx = synthetic_context();
  auto p = GaussianPrior::from_options(GaussianPriorOptions{}, ctx);
  CHECK(p->image_shape() == std::vector<int64_t>{1, 8, 8});
  GaussianPriorOptions o;
  o.shape = {3, 2, 2};
  o.mean = 0.5;
  p = GaussianPrior::from_options(o, ctx);
  CHECK(p->image_shape() == std::vector<int64_t>{3, 2, 2});
  CHECK(p->mean().mean().item<double>() == Approx(0.5));
  CHECK_THROWS_WITH(p->denoise(torch::zeros({1, 1, 8, 8}), torch::tensor(1.0)),
                    Catch::Contains("1x8x8") && Catch::Contains("3x2x2"));

  register_builtin_priors();
  const auto& entry = prior_registry().get("gaussian");
  CHECK_THROWS_WITH(entry.make(section_with({{"data", "x"}, {"mean", "1"}}), ctx), Catch::Contains("'mean'"));
  CHECK_THROWS_WITH(entry.make(section_with({{"max_images", "3"}}), ctx), Catch::Contains("'max_images'"));
  auto fitted = entry.make(section_with({{"data", "x"}, {"basis", "fourier"}}), ctx);
  CHECK(fitted->describe().find("fourier") != std::string::npos);
  PriorContext no_shape;
  CHECK_THROWS_WITH(GaussianPrior::from_options(GaussianPriorOptions{}, no_shape), Catch::Contains("shape"));
}

// ----------------------------------------------------------------------------------------------------
// Empirical

TEST_CASE("models: empirical prior: limits in sigma and constant data", "[models][empirical]") {
  const auto a = torch::full({1, 2, 3}, -0.5, torch::kDouble), b = torch::full({1, 2, 3}, 0.7, torch::kDouble);
  const EmpiricalPrior prior(torch::stack({a, b}));
  const auto x = torch::stack({a + 0.1, b - 0.2});
  // Tiny sigma: the nearest training image.
  const auto near = prior.denoise(x, torch::tensor(1e-3, torch::kDouble));
  CHECK(max_abs_diff(near[0], a) < 1e-12);
  CHECK(max_abs_diff(near[1], b) < 1e-12);
  // Huge sigma: the mean of the training images.
  const auto far = prior.denoise(x, torch::full({2}, 1e4, torch::kDouble));
  CHECK(max_abs_diff(far, (0.5 * (a + b)).expand_as(far)) < 1e-6);
  // The weights sum to 1: D of a constant data set is that constant.
  const EmpiricalPrior constant(torch::full({5, 1, 2, 3}, 0.3, torch::kDouble));
  const auto xc = normal({4, 1, 2, 3}, 11) * 3;
  CHECK(max_abs_diff(constant.denoise(xc, torch::tensor({0.01, 0.1, 1.0, 10.0}, torch::kDouble)),
                     torch::full({4, 1, 2, 3}, 0.3, torch::kDouble)) < 1e-12);
  const auto w = prior.weights(x, torch::tensor(0.8, torch::kDouble));
  CHECK(max_abs_diff(w.sum(1), torch::ones({2}, torch::kDouble)) < 1e-12);
}

TEST_CASE("models: empirical prior matches a per-sample float64 reference", "[models][empirical]") {
  const auto images = uniform({20, 1, 3, 3}, 21, -1, 1);
  const auto x = normal({4, 1, 3, 3}, 22);
  const auto sigma = torch::tensor({0.3, 0.7, 1.5, 4.0}, torch::kDouble);
  const auto chunk = GENERATE(0, 3, 7, 20);
  const EmpiricalPrior prior(images, chunk);
  const auto D = prior.denoise(x, sigma);
  for (int64_t bi = 0; bi < 4; ++bi) {
    const double s = sigma[bi].item<double>();
    std::vector<double> logit(20);
    double mx = -INFINITY;
    for (int64_t n = 0; n < 20; ++n) {
      logit[n] = -(x[bi] - images[n]).square().sum().item<double>() / (2 * s * s);
      mx = std::max(mx, logit[n]);
    }
    auto acc = torch::zeros({1, 3, 3}, torch::kDouble);
    double z = 0;
    for (int64_t n = 0; n < 20; ++n) {
      const double e = std::exp(logit[n] - mx);
      z += e;
      acc += e * images[n];
    }
    CHECK(max_abs_diff(D[bi], acc / z) < 1e-10);
  }
}

TEST_CASE("models: empirical prior: gradients, float32 and options", "[models][empirical]") {
  const auto ctx = synthetic_context();
  EmpiricalPriorOptions o;
  o.max_images = 10;
  const auto p = EmpiricalPrior::from_options(o, ctx);
  CHECK(p->num_images() == 10);
  CHECK(p->image_shape() == std::vector<int64_t>{1, 8, 8});
  // The keyed subset is deterministic, and "first" keeps the first images.
  CHECK(max_abs_diff(p->images(), EmpiricalPrior::from_options(o, ctx)->images()) == 0.0);
  o.subset = "first";
  const auto all = ctx.load_images("");
  CHECK(max_abs_diff(EmpiricalPrior::from_options(o, ctx)->images(), all.narrow(0, 0, 10).reshape({10, -1})) == 0.0);

  auto x = (normal({3, 1, 8, 8}, 31, torch::kFloat) * 0.5).requires_grad_(true);
  const auto D = p->denoise(x, torch::tensor({0.05f, 0.5f, 5.0f}));
  CHECK(D.scalar_type() == torch::kFloat);
  (D * D).sum().backward();
  CHECK(torch::isfinite(x.grad()).all().item<bool>());

  PriorContext bad = ctx;
  bad.image_shape = {3, 8, 8};
  CHECK_THROWS_WITH(EmpiricalPrior::from_options(o, bad), Catch::Contains("1x8x8") && Catch::Contains("3x8x8"));
  PriorContext no_loader;
  CHECK_THROWS_AS(EmpiricalPrior::from_options(o, no_loader), Error);
}

TEST_CASE("models: keyed subsets are sorted, distinct and deterministic", "[models][empirical]") {
  const auto a = keyed_subset_indices(100, 30, 5);
  CHECK(a == keyed_subset_indices(100, 30, 5));
  CHECK(a != keyed_subset_indices(100, 30, 6));
  CHECK(std::set<int64_t>(a.begin(), a.end()).size() == 30);
  CHECK(std::is_sorted(a.begin(), a.end()));
  CHECK(a.back() < 100);
}

// ----------------------------------------------------------------------------------------------------
// Gaussian mixture

TEST_CASE("models: gmm with one component is the gaussian pixel prior", "[models][gmm]") {
  const auto mu = normal({2, 3, 3}, 41), var = uniform({2, 3, 3}, 42, 0.2, 2.0);
  const GmmPrior gmm(torch::ones({1}, torch::kDouble), mu.unsqueeze(0), var.unsqueeze(0));
  const GaussianPrior gauss(mu, var, GaussianPrior::Basis::kPixel);
  const auto x = normal({4, 2, 3, 3}, 43) * 2;
  const auto sigma = torch::tensor({0.01, 0.3, 1.0, 10.0}, torch::kDouble);
  CHECK(max_abs_diff(gmm.denoise(x, sigma), gauss.denoise(x, sigma)) < 1e-12);
}

TEST_CASE("models: gmm with separated components returns the nearby component's posterior mean", "[models][gmm]") {
  const auto m0 = torch::full({1, 2, 2}, -5.0, torch::kDouble), m1 = torch::full({1, 2, 2}, 5.0, torch::kDouble);
  const auto v = torch::full({2, 1, 2, 2}, 0.5, torch::kDouble);
  const GmmPrior gmm(torch::tensor({0.3, 0.7}, torch::kDouble), torch::stack({m0, m1}), v);
  const auto x = torch::stack({m0 + 0.2, m1 - 0.3});
  const double s = 0.4;
  const auto D = gmm.denoise(x, torch::tensor(s, torch::kDouble));
  const double shrink = 0.5 / (0.5 + s * s);
  CHECK(max_abs_diff(D[0], m0 + shrink * 0.2) < 1e-10);
  CHECK(max_abs_diff(D[1], m1 - shrink * 0.3) < 1e-10);
  const auto r = gmm.responsibilities(x, torch::tensor(s, torch::kDouble));
  CHECK(max_abs_diff(r.sum(1), torch::ones({2}, torch::kDouble)) < 1e-12);
  // float32 and gradients through the mixture.
  auto xf = x.to(torch::kFloat).requires_grad_(true);
  gmm.denoise(xf, torch::tensor({0.4f, 3.0f})).sum().backward();
  CHECK(torch::isfinite(xf.grad()).all().item<bool>());
}

TEST_CASE("models: gmm EM fit is deterministic and finds separated clusters", "[models][gmm]") {
  const auto centers = torch::tensor({-0.6, 0.6}, torch::kDouble);
  const auto labels = torch::arange(200) % 2;
  const auto images = (centers.index_select(0, labels).reshape({200, 1, 1, 1}) + 0.05 * normal({200, 1, 2, 2}, 51));
  GmmFitOptions o;
  o.components = 2;
  o.init_key = 9;
  const auto a = GmmPrior::fit(images, o, torch::kDouble), b = GmmPrior::fit(images, o, torch::kDouble);
  CHECK(max_abs_diff(a->means(), b->means()) == 0.0);
  const auto means = std::get<0>(a->means().mean({1, 2, 3}).sort());
  CHECK(means[0].item<double>() == Approx(-0.6).margin(0.02));
  CHECK(means[1].item<double>() == Approx(0.6).margin(0.02));
  CHECK(max_abs_diff(a->weights(), torch::full({2}, 0.5, torch::kDouble)) < 1e-6);
  CHECK(a->variances().min().item<double>() >= o.min_variance);
  o.components = 500;
  CHECK_THROWS_AS(GmmPrior::fit(images, o), Error);
}

// ----------------------------------------------------------------------------------------------------
// TorchScript

TEST_CASE("models: torchscript prior wraps the VP eps model as x - sigma * eps", "[models][torchscript]") {
  const auto sched = VpSchedule::linear();
  const TorchScriptPrior prior(kTinyModel, sched, TorchScriptPrior::LearnedVariance::kAuto, {1, 6, 5});
  const auto x = normal({3, 1, 6, 5}, 61, torch::kFloat);
  const auto sigma = torch::tensor({static_cast<float>(sched.sigma(10)), 0.37f, 20.0f});
  const auto p = prior.predict(x, sigma);
  CHECK(p.x0.sizes() == x.sizes());
  REQUIRE(p.var_frac.defined());
  CHECK(p.var_frac.sizes() == x.sizes());
  CHECK(p.var_frac.abs().max().item<float>() <= 1.0f);

  // Call the module directly with the VP input and the network timestep.
  auto module = torch::jit::load(kTinyModel);
  const auto t = prior.timesteps_for_sigma(sigma);
  CHECK(t[0].item<double>() == 10.0);
  CHECK(t[1].item<double>() == Approx(sched.timestep_for_sigma(0.37f)).epsilon(1e-12));
  const auto s = sigma.reshape({3, 1, 1, 1});
  const auto x_vp = x / (1 + s * s).sqrt();
  const auto out = module.forward({x_vp, t.to(torch::kFloat)}).toTensor();
  CHECK(max_abs_diff(p.x0, x - s * out.narrow(1, 0, 1)) < 1e-5);
  CHECK(max_abs_diff(p.var_frac, out.narrow(1, 1, 1)) < 1e-6);
  // The VP form of the same conversion (specs/solvers.md 0.2).
  const auto abar = 1 / (1 + s * s);
  CHECK(max_abs_diff(p.x0, (x_vp - (1 - abar).sqrt() * out.narrow(1, 0, 1)) / abar.sqrt()) < 1e-4);
}

TEST_CASE("models: torchscript prior: dtypes, gradients, learned_variance and shape errors", "[models][torchscript]") {
  const auto sched = VpSchedule::linear();
  const TorchScriptPrior any(kTinyModel, sched, TorchScriptPrior::LearnedVariance::kNo, {});
  auto x = normal({2, 1, 4, 4}, 71).requires_grad_(true);
  const auto p = any.predict(x, torch::tensor(0.5, torch::kDouble));
  CHECK(p.x0.scalar_type() == torch::kDouble);
  CHECK_FALSE(p.var_frac.defined());
  p.x0.sum().backward();
  CHECK(torch::isfinite(x.grad()).all().item<bool>());

  // The fixture convolves one input channel: a forward failure is an Error naming the path.
  CHECK_THROWS_WITH(any.denoise(torch::zeros({1, 3, 4, 4}), torch::tensor(1.0)), Catch::Contains(kTinyModel));
  const TorchScriptPrior shaped(kTinyModel, sched, TorchScriptPrior::LearnedVariance::kYes, {1, 4, 4});
  CHECK_THROWS_WITH(shaped.denoise(torch::zeros({1, 1, 5, 5}), torch::tensor(1.0)),
                    Catch::Contains("1x5x5") && Catch::Contains("1x4x4"));
}

TEST_CASE("models: torchscript prior: wrong output channels are errors, NaN output is not", "[models][torchscript]") {
  const auto sched = VpSchedule::linear();
  const auto dir = std::filesystem::temp_directory_path();
  const auto three = (dir / "ipbench_test_models_3ch.pt").string(), nan = (dir / "ipbench_test_models_nan.pt").string();
  torch::jit::Module m3("ThreeChannels");
  m3.define("def forward(self, x, t):\n    return torch.cat([x, x, x], 1)\n");
  m3.save(three);
  torch::jit::Module mn("NanEps");
  mn.define("def forward(self, x, t):\n    return x * float('nan')\n");
  mn.save(nan);
  const auto x = normal({2, 1, 3, 3}, 75, torch::kFloat);
  const TorchScriptPrior p3(three, sched, TorchScriptPrior::LearnedVariance::kAuto, {});
  CHECK_THROWS_WITH(p3.denoise(x, torch::tensor(1.0f)), Catch::Contains("2x3x3x3") && Catch::Contains("2x1x3x3"));
  const TorchScriptPrior pn(nan, sched, TorchScriptPrior::LearnedVariance::kAuto, {});
  const auto p = pn.predict(x, torch::tensor(1.0f));
  CHECK(torch::isnan(p.x0).all().item<bool>());
  CHECK_FALSE(p.var_frac.defined());
  const TorchScriptPrior pn_yes(nan, sched, TorchScriptPrior::LearnedVariance::kYes, {});
  CHECK_THROWS_WITH(pn_yes.denoise(x, torch::tensor(1.0f)), Catch::Contains("learned_variance"));
  std::filesystem::remove(three);
  std::filesystem::remove(nan);
}

TEST_CASE("models: torchscript prior: missing and corrupt files are errors naming the path", "[models][torchscript]") {
  const auto sched = VpSchedule::linear();
  const auto auto_lv = TorchScriptPrior::LearnedVariance::kAuto;
  const std::string missing = kData + "/no_such_model.pt";
  CHECK_THROWS_WITH(TorchScriptPrior(missing, sched, auto_lv, {}), Catch::Contains(missing));
  CHECK_THROWS_AS(TorchScriptPrior(missing, sched, auto_lv, {}), Error);
  CHECK_THROWS_WITH(TorchScriptPrior(kCorruptModel, sched, auto_lv, {}), Catch::Contains(kCorruptModel));
  CHECK_THROWS_AS(TorchScriptPrior(kCorruptModel, sched, auto_lv, {}), Error);
  TorchScriptPriorOptions o;
  CHECK_THROWS_WITH(o.validate(), Catch::Contains("path"));
}

// ----------------------------------------------------------------------------------------------------
// Registry and options

TEST_CASE("models: every registered prior builds from default options and denoises", "[models][registry]") {
  register_builtin_priors();
  register_builtin_priors();  // idempotent
  const auto names = prior_registry().names();
  CHECK(names == std::vector<std::string>{"cm", "edm", "empirical", "gaussian", "gmm", "torchscript", "unet"});
  const auto ctx = synthetic_context();
  // A tiny untrained UNet model folder for the `unet` prior (tests/test_unet.cpp tests it in depth).
  const testing::TempDir unet_dir;
  UNetOptions unet_options;
  unet_options.base_channels = 8;
  unet_options.channel_mult = {1, 2};
  unet_options.groups = 4;
  unet_options.image_size = 8;
  save_unet_checkpoint(unet_dir.path.string(), UNet(unet_options), DiffusionOptions{}, {});
  // And an untrained consistency model folder for `cm` (tests/test_distill.cpp tests it in depth).
  const testing::TempDir cm_dir;
  save_consistency_model(cm_dir.path.string(), UNet(unet_options), ConsistencyOptions{}, {});
  for (const auto& name : names) {
    INFO("prior " << name);
    const auto& entry = prior_registry().get(name);
    CHECK(entry.info.name == name);
    CHECK_FALSE(entry.info.description.empty());
    CHECK_FALSE(entry.info.options.empty());
    // Only torchscript, edm, unet and cm need a value: their required path.
    const auto section = name == "torchscript" ? section_with({{"path", kTinyModel}})
                         : name == "edm"       ? section_with({{"path", kData + "/tiny_edm_model.pt"}})
                         : name == "unet"      ? section_with({{"path", unet_dir.path.string()}})
                         : name == "cm"        ? section_with({{"path", cm_dir.path.string()}})
                                               : section_with({});
    const auto prior = entry.make(section, ctx);
    REQUIRE(prior);
    CHECK(prior->image_shape() == ctx.image_shape);
    CHECK_FALSE(prior->describe().empty());
    for (auto dtype : {torch::kFloat, torch::kDouble}) {
      auto x = uniform({3, 1, 8, 8}, 81, -1.5, 1.5, dtype).requires_grad_(true);
      const auto sigma = torch::tensor({0.02, 0.5, 50.0}, dtype);
      const auto D = prior->denoise(x, sigma);
      CHECK(D.sizes() == x.sizes());
      CHECK(D.scalar_type() == dtype);
      CHECK(torch::isfinite(D).all().item<bool>());
      CHECK(max_abs_diff(D, prior->denoise(x, sigma)) == 0.0);  // no random numbers
      CHECK(max_abs_diff(prior->denoise(x, torch::tensor(0.5, dtype)), prior->denoise(x, torch::full({3}, 0.5, dtype))) == 0.0);
      D.sum().backward();
      CHECK(torch::isfinite(x.grad()).all().item<bool>());
    }
  }
  CHECK_THROWS_WITH(prior_registry().get("nope"), Catch::Contains("gaussian"));
  CHECK_THROWS_WITH(prior_registry().get("torchscript").make(section_with({}), ctx), Catch::Contains("path"));
}

TEST_CASE("models: prior options: defaults validate and each constraint fails", "[models][options]") {
  CHECK_NOTHROW(EmpiricalPriorOptions{}.validate());
  CHECK_NOTHROW(GaussianPriorOptions{}.validate());
  CHECK_NOTHROW(GmmPriorOptions{}.validate());
  auto bad = [](auto o, auto mutate, const char* field) {
    mutate(o);
    CHECK_THROWS_WITH(o.validate(), Catch::Contains(std::string("::") + field));
  };
  using E = EmpiricalPriorOptions;
  bad(E{}, [](E& o) { o.data = ""; }, "data");
  bad(E{}, [](E& o) { o.max_images = -1; }, "max_images");
  bad(E{}, [](E& o) { o.subset = "random"; }, "subset");
  bad(E{}, [](E& o) { o.chunk = -5; }, "chunk");
  using G = GaussianPriorOptions;
  bad(G{}, [](G& o) { o.basis = "wavelet"; }, "basis");
  bad(G{}, [](G& o) { o.variance = 0; }, "variance");
  bad(G{}, [](G& o) { o.max_images = -1; }, "max_images");
  bad(G{}, [](G& o) { o.shape = {1, 2}; }, "shape");
  using M = GmmPriorOptions;
  bad(M{}, [](M& o) { o.components = 0; }, "components");
  bad(M{}, [](M& o) { o.data = ""; }, "data");
  bad(M{}, [](M& o) { o.max_images = -2; }, "max_images");
  bad(M{}, [](M& o) { o.em_iterations = 0; }, "em_iterations");
  bad(M{}, [](M& o) { o.min_variance = 0; }, "min_variance");
  using T = TorchScriptPriorOptions;
  T ok;
  ok.path = "model.pt";
  CHECK_NOTHROW(ok.validate());
  bad(ok, [](T& o) { o.path = ""; }, "path");
  bad(ok, [](T& o) { o.learned_variance = "maybe"; }, "learned_variance");
  bad(ok, [](T& o) { o.vp.T = 1; }, "T");
  bad(ok, [](T& o) { o.vp.beta_start = 0; }, "beta_start");
  bad(ok, [](T& o) { o.vp.beta_end = 1e-5; }, "beta_end");
  bad(ok, [](T& o) { o.image_shape = {0, 1, 1}; }, "image_shape");
}

TEST_CASE("models: analytic priors run on the GPU", "[models][cuda]") {
  if (!torch::cuda::is_available()) {
    WARN("no CUDA device: skipped");
    return;
  }
  register_builtin_priors();
  auto ctx = synthetic_context();
  ctx.device = torch::kCUDA;
  for (const std::string name : {"empirical", "gaussian", "gmm", "torchscript"}) {
    INFO("prior " << name);
    const auto section = name == "torchscript" ? section_with({{"path", kTinyModel}}) : section_with({});
    const auto prior = prior_registry().get(name).make(section, ctx);
    const auto x = uniform({2, 1, 8, 8}, 91, -1, 1, torch::kFloat).to(torch::kCUDA);
    const auto D = prior->denoise(x, torch::tensor({0.1f, 1.0f}, torch::kCUDA));
    CHECK(D.device().is_cuda());
    CHECK(torch::isfinite(D).all().item<bool>());
  }
}
