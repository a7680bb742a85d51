// Tests for noise/: designs and the NoiseStream.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/config.h"
#include "core/error.h"
#include "noise/coupled.h"
#include "noise/designs.h"
#include "noise/noise_stream.h"
#include "noise/rqmc.h"
#include "noise/sobol.h"
#include "temp_dir.h"
#include "core/rng.h"
#include <set>

using namespace ipbench;

namespace {
std::shared_ptr<const NoiseDesign> make_design(const std::string& name, const std::string& options = "") {
  register_builtin_designs();
  auto cfg = Config::from_string("[noise." + name + "]\n" + options, "test");
  return design_registry().get(name).make(cfg.section("noise." + name));
}
}  // namespace

TEST_CASE("iid draws are standard normal and independent across groups and draws", "[noise]") {
  auto d = make_design("iid");
  REQUIRE(d->group_size() == 1);
  NoiseStream s(d, 1234, 0, 4000, torch::kCPU, torch::kDouble);
  auto z0 = s.gaussian({25});
  auto z1 = s.gaussian({25});
  REQUIRE(z0.sizes() == torch::IntArrayRef({4000, 25}));
  const double n = z0.numel();
  CHECK(std::abs(z0.mean().item<double>()) < 5 / std::sqrt(n));
  CHECK(std::abs(z0.var().item<double>() - 1) < 5 * std::sqrt(2 / n));
  CHECK(std::abs((z0 * z1).mean().item<double>()) < 5 / std::sqrt(n));  // draw index changes the values
  // Neighbouring groups are uncorrelated.
  auto a = z0.slice(0, 0, 3999), b = z0.slice(0, 1, 4000);
  CHECK(std::abs((a * b).mean().item<double>()) < 5 / std::sqrt(n));
  CHECK(s.draws() == 2);
}

TEST_CASE("antithetic pairs negate every draw", "[noise]") {
  auto d = make_design("antithetic");
  REQUIRE(d->group_size() == 2);
  NoiseStream s(d, 99, 0, 8, torch::kCPU, torch::kFloat);
  for (int draw = 0; draw < 3; ++draw) {
    auto z = s.gaussian({1, 4, 4}).view({8, 2, 16});
    CHECK(torch::equal(z.select(1, 0), -z.select(1, 1)));
    CHECK(z.abs().sum().item<double>() > 0);
  }
}

TEST_CASE("draws do not depend on how groups are batched", "[noise]") {
  const std::vector<std::pair<std::string, std::string>> designs{
      {"iid", ""}, {"antithetic", ""}, {"repulsive", "K = 3"}, {"coupling", "matrix = 0.6 0.8 | 1 0 | 0 1"},
      {"rqmc", "m = 2\ns = 4"}};
  for (const auto& [name, options] : designs) {
    auto d = make_design(name, options);
    const int64_t K = d->group_size();
    NoiseStream whole(d, 7, 0, 6, torch::kCPU, torch::kFloat);
    NoiseStream first(d, 7, 0, 2, torch::kCPU, torch::kFloat), rest(d, 7, 2, 4, torch::kCPU, torch::kFloat);
    for (int draw = 0; draw < 2; ++draw) {
      auto w = whole.gaussian({3, 5});
      auto parts = torch::cat({first.gaussian({3, 5}), rest.gaussian({3, 5})});
      REQUIRE(w.size(0) == 6 * K);
      CHECK(torch::equal(w, parts));
    }
  }
}

TEST_CASE("skip advances the draw index without drawing", "[noise]") {
  auto d = make_design("iid");
  NoiseStream a(d, 5, 0, 2), b(d, 5, 0, 2);
  a.gaussian({4});
  b.gaussian({4});
  a.skip();
  b.gaussian({4});
  CHECK(torch::equal(a.gaussian({4}), b.gaussian({4})));
}

TEST_CASE("the design registry lists iid and antithetic and rejects unknown names", "[noise]") {
  register_builtin_designs();
  auto names = design_registry().names();
  CHECK(std::find(names.begin(), names.end(), "iid") != names.end());
  CHECK(std::find(names.begin(), names.end(), "antithetic") != names.end());
  CHECK_THROWS_WITH(design_registry().get("sobol"), Catch::Contains("unknown noise design 'sobol'"));
}

// ---- Sobol' points, scrambling, inverse normal (specs/noise-and-stats.md section 6) ----

TEST_CASE("noise: Sobol' points equal the reference table (natural and Gray-code order)", "[noise][sobol]") {
  // scipy Sobol(5, scramble=False).random_base2(4), Gray-code order: row i is natural point i ^ (i >> 1).
  const double table[16][5] = {
      {0, 0, 0, 0, 0},
      {.5, .5, .5, .5, .5},
      {.75, .25, .25, .25, .75},
      {.25, .75, .75, .75, .25},
      {.375, .375, .625, .875, .375},
      {.875, .875, .125, .375, .875},
      {.625, .125, .875, .625, .625},
      {.125, .625, .375, .125, .125},
      {.1875, .3125, .9375, .4375, .5625},
      {.6875, .8125, .4375, .9375, .0625},
      {.9375, .0625, .6875, .1875, .3125},
      {.4375, .5625, .1875, .6875, .8125},
      {.3125, .1875, .3125, .5625, .9375},
      {.8125, .6875, .8125, .0625, .4375},
      {.5625, .4375, .0625, .8125, .1875},
      {.0625, .9375, .5625, .3125, .6875}};
  for (uint64_t i = 0; i < 16; ++i)
    for (int64_t j = 0; j < 5; ++j) {
      INFO("row " << i << " dimension " << j + 1);
      CHECK(sobol_integer(j, i ^ (i >> 1)) * 0x1p-32 == table[i][j]);
    }
  // Natural order: point 2 = (.25, .75, .75, .75, .25), point 4 = (.125, .625, .375, .125, .125).
  const double p2[5] = {.25, .75, .75, .75, .25}, p4[5] = {.125, .625, .375, .125, .125};
  for (int64_t j = 0; j < 5; ++j) {
    CHECK(sobol_integer(j, 2) * 0x1p-32 == p2[j]);
    CHECK(sobol_integer(j, 4) * 0x1p-32 == p4[j]);
  }
  // 32-bit direction integers V_1..V_6 of dimensions 1-5.
  const uint32_t V[5][6] = {{0x80000000, 0x40000000, 0x20000000, 0x10000000, 0x08000000, 0x04000000},
                            {0x80000000, 0xc0000000, 0xa0000000, 0xf0000000, 0x88000000, 0xcc000000},
                            {0x80000000, 0xc0000000, 0x60000000, 0x90000000, 0xe8000000, 0x5c000000},
                            {0x80000000, 0xc0000000, 0x20000000, 0x50000000, 0xf8000000, 0x74000000},
                            {0x80000000, 0x40000000, 0x20000000, 0xb0000000, 0xf8000000, 0xdc000000}};
  for (int64_t j = 0; j < 5; ++j)
    for (int k = 0; k < 6; ++k) CHECK(sobol_directions(j)[k] == V[j][k]);
  CHECK(sobol_directions(kSobolMaxDimension - 1)[0] == 0x80000000u);  // the last of 21,201 dimensions exists
}

TEST_CASE("noise: inverse normal CDF matches 40-digit references", "[noise][sobol]") {
  const std::vector<std::pair<double, double>> ref{
      {0.975, 1.95996398454005386},  {0.9, 1.28155156554460059},    {0.99, 2.32634787404084077},
      {0.999, 3.09023230616781328},  {1e-6, -4.75342430882289896},  {1e-10, -6.36134090240405620},
      {0x1p-32, -6.23026013798904316}, {0x1p-53, -8.20953615160138686}, {0.02425, -1.97296105131188484}};
  for (const auto& [p, z] : ref) {
    INFO("p = " << p);
    CHECK(std::abs(inverse_normal_cdf(p) - z) <= 4e-15 * std::abs(z));
    if (p > 0.5) CHECK(inverse_normal_cdf(1.0 - p) == -inverse_normal_cdf(p));
  }
  CHECK(inverse_normal_cdf(0.5) == 0.0);
  CHECK_THROWS_WITH(inverse_normal_cdf(0.0), Catch::Contains("open interval"));
  CHECK_THROWS_WITH(inverse_normal_cdf(1.0), Catch::Contains("open interval"));
}

TEST_CASE("noise: scrambled nets keep their stratification and are uniform", "[noise][sobol]") {
  // Every replicate of n = 16 points: each 1-D interval [k/16, (k+1)/16) and each 2-D elementary box of
  // dimensions (0, 1) of shape 1/4 x 1/4 holds exactly one point; u never 0 or 1.
  double sum = 0, sum2 = 0;
  const int64_t R = 400;
  for (int64_t r = 0; r < R; ++r) {
    const auto u = rqmc_uniforms(16, 0, 3, derive_key(42, r));
    REQUIRE(u.gt(0).all().item<bool>());
    REQUIRE(u.lt(1).all().item<bool>());
    for (int64_t j = 0; j < 3; ++j) {
      const auto bins = (u.select(1, j) * 16).floor().to(torch::kLong);
      CHECK(torch::equal(std::get<0>(bins.sort()), torch::arange(16, torch::kLong)));
    }
    const auto box = ((u.select(1, 0) * 4).floor() * 4 + (u.select(1, 1) * 4).floor()).to(torch::kLong);
    CHECK(torch::equal(std::get<0>(box.sort()), torch::arange(16, torch::kLong)));
    sum += u.select(0, 5).sum().item<double>();  // point 5 of every replicate: U(0,1) marginally
    sum2 += u.select(0, 5).pow(2).sum().item<double>();
  }
  const double N = 3.0 * R, m = sum / N, v = sum2 / N - m * m;
  CHECK(std::abs(m - 0.5) < 5 * std::sqrt(1.0 / 12 / N));
  CHECK(std::abs(v - 1.0 / 12) < 0.01);
  // Replicates differ; the same key reproduces.
  CHECK_FALSE(torch::equal(rqmc_uniforms(8, 0, 2, 1), rqmc_uniforms(8, 0, 2, 2)));
  CHECK(torch::equal(rqmc_uniforms(8, 0, 2, 1), rqmc_uniforms(8, 0, 2, 1)));
}

// ---- designs: marginals and within-group correlation ----

namespace {

/// Draws of one design over G groups: [G, K, d] float64 (draw index `draw`).
torch::Tensor group_draws(const std::shared_ptr<const NoiseDesign>& d, int64_t G, at::IntArrayRef shape,
                          int64_t draw = 0, uint64_t key = 2024) {
  NoiseStream s(d, key, 0, G, torch::kCPU, torch::kDouble);
  for (int64_t i = 0; i < draw; ++i) s.skip();
  return s.gaussian(shape).view({G, d->group_size(), -1});
}

/// Pearson correlation of members a and b over groups and coordinates.
double member_correlation(const torch::Tensor& z, int64_t a, int64_t b) {
  const auto x = z.select(1, a).flatten(), y = z.select(1, b).flatten();
  return ((x * y).mean() / torch::sqrt((x * x).mean() * (y * y).mean())).item<double>();
}

}  // namespace

TEST_CASE("noise: every design's members are N(0,1) with the stated within-group correlation", "[noise][designs]") {
  struct Case {
    std::string name, options;
    double correlation;  // between members 0 and 1
  };
  const std::vector<Case> cases{{"iid", "", 0.0},
                                {"antithetic", "", -1.0},
                                {"repulsive", "K = 4", -1.0 / 3.0},
                                {"repulsive", "K = 2", -1.0},
                                {"coupling", "matrix = 0.6 0.8 | 0.8 0.6 | 0 1", 0.96},
                                {"rqmc", "m = 3\ns = 6\nembedding = none", std::nan("")}};
  for (const auto& c : cases) {
    INFO(c.name << " " << c.options);
    auto d = make_design(c.name, c.options);
    const int64_t G = 4000 / d->group_size(), D = 6;
    const auto z = group_draws(d, G, {D});
    const int64_t K = d->group_size();
    for (int64_t k = 0; k < K; ++k) {
      const auto x = z.select(1, k);
      const double n = x.numel();
      CHECK(std::abs(x.mean().item<double>()) < 5 / std::sqrt(n));
      CHECK(std::abs(x.var().item<double>() - 1) < 5 * std::sqrt(2 / n));
      // Chi-square of norms: ||z_k||^2 ~ chi2_D, mean D, variance 2D.
      const auto norms = x.pow(2).sum(1);
      CHECK(std::abs(norms.mean().item<double>() - D) < 5 * std::sqrt(2.0 * D / G));
      CHECK(std::abs(norms.var().item<double>() - 2 * D) < 0.25 * 2 * D);
    }
    if (K >= 2 && std::isfinite(c.correlation)) {
      const double tol = std::abs(c.correlation) == 1.0 ? 1e-12 : 5.0 / std::sqrt(static_cast<double>(G * D));
      CHECK(std::abs(member_correlation(z, 0, 1) - c.correlation) < tol);
    }
    if (c.name == "repulsive") CHECK(z.sum(1).abs().max().item<double>() < 1e-12);  // members sum to 0
  }
}

TEST_CASE("noise: repulsive and coupling couple every draw; rqmc only the first by default", "[noise][designs]") {
  auto rep = make_design("repulsive", "K = 4");
  for (int64_t draw : {0, 3}) CHECK(group_draws(rep, 2, {5}, draw).sum(1).abs().max().item<double>() < 1e-12);
  auto anti_like = make_design("coupling", "matrix = 1 | -1");
  const auto z = group_draws(anti_like, 3, {4}, 2);
  CHECK(torch::equal(z.select(1, 0), -z.select(1, 1)));
  // rqmc draw 0: point 0 .. n-1 of one replicate are stratified in the QMC coordinates (embedding none,
  // s = d = 2: each coordinate has exactly one point per 1/n interval); draw 1: keyed iid, not stratified.
  auto rq = make_design("rqmc", "m = 3\ns = 2\nembedding = none");
  auto stratified = [](const torch::Tensor& zg) {
    const auto u = 0.5 * torch::erfc(-zg / std::sqrt(2.0));  // Phi(z)
    const auto bins = (u * 8).floor().to(torch::kLong);
    return torch::equal(std::get<0>(bins.sort()), torch::arange(8, torch::kLong));
  };
  const auto q0 = group_draws(rq, 1, {2}, 0), q1 = group_draws(rq, 1, {2}, 1);
  CHECK(stratified(q0[0].select(1, 0)));
  CHECK(stratified(q0[0].select(1, 1)));
  CHECK_FALSE((stratified(q1[0].select(1, 0)) && stratified(q1[0].select(1, 1))));
}

TEST_CASE("noise: rqmc in high dimension (d = 3 x 64 x 64) gives exact N(0, I) samples", "[noise][rqmc]") {
  // Member 0 of 600 independent replicates: iid exact N(0, I_d) draws if the embedding is exact.
  auto rq = make_design("rqmc", "m = 1");  // n = 2, s = C*64 = 192 low-frequency DCT coefficients
  const int64_t R = 600, d = 3 * 64 * 64;
  const auto z = group_draws(rq, R, {3, 64, 64}).select(1, 0);  // [R, d]
  const auto mean = z.mean(0), var = z.var(0);
  // Per-coordinate mean ~ N(0, 1/R): the average of R mean^2 is 1 (sd sqrt(2/d)); variance ~ 1.
  CHECK(std::abs((mean.pow(2) * R).mean().item<double>() - 1.0) < 5 * std::sqrt(2.0 / d));
  CHECK(std::abs(var.mean().item<double>() - 1.0) < 5 * std::sqrt(2.0 / (R * d)) + 1e-3);
  // Low frequencies (QMC-driven) as well: the DC coefficient of channel 0 is N(0, 1).
  const auto dc = z.view({R, 3, 4096}).select(1, 0).sum(1) / 64.0;
  CHECK(std::abs(dc.mean().item<double>()) < 5 / std::sqrt(R));
  CHECK(std::abs(dc.var().item<double>() - 1.0) < 5 * std::sqrt(2.0 / R));
  const auto norms = z.pow(2).sum(1);  // chi2_d: mean d, sd sqrt(2d)
  CHECK(std::abs(norms.mean().item<double>() - d) < 5 * std::sqrt(2.0 * d / R));
}

TEST_CASE("noise: DCT matrix is orthonormal and zigzag covers every frequency once", "[noise][rqmc]") {
  for (int64_t N : {1, 5, 8}) {
    const auto c = dct_matrix(N);
    CHECK(torch::allclose(torch::matmul(c, c.t()), torch::eye(N, torch::kDouble), 0, 1e-13));
  }
  const auto zz = zigzag_order(3, 4);
  REQUIRE(zz.size() == 12);
  CHECK(zz[0] == std::make_pair<int64_t, int64_t>(0, 0));
  CHECK((zz[1].first + zz[1].second) == 1);
  CHECK(zz[11] == std::make_pair<int64_t, int64_t>(2, 3));
  std::set<std::pair<int64_t, int64_t>> unique(zz.begin(), zz.end());
  CHECK(unique.size() == 12);
}

TEST_CASE("noise: bad design options are refused with the rule", "[noise][errors]") {
  CHECK_THROWS_WITH(make_design("repulsive", "K = 1"), Catch::Contains("K >= 2"));
  CHECK_THROWS_WITH(make_design("coupling", "matrix = 0.5 0.5 | 1 0"), Catch::Contains("row 1 has norm"));
  CHECK_THROWS_WITH(make_design("coupling", "matrix = 1 0 | 1"), Catch::Contains("same length"));
  CHECK_THROWS_WITH(make_design("coupling", "matrix = 1 x"), Catch::Contains("not a finite number"));
  CHECK_THROWS_WITH(make_design("coupling", ""), Catch::Contains("exactly one of matrix and file"));
  CHECK_THROWS_WITH(make_design("coupling", "file = /nonexistent/A.txt"), Catch::Contains("/nonexistent/A.txt"));
  CHECK_THROWS_WITH(make_design("rqmc", "m = 0"), Catch::Contains("1 <= m <= 20"));
  CHECK_THROWS_WITH(make_design("rqmc", "embedding = haar"), Catch::Contains("dct or none"));
  CHECK_THROWS_WITH(make_design("rqmc", "s = 30000"), Catch::Contains("21201"));
  CHECK_THROWS_WITH(make_design("rqmc", "qmc_draws = 0"), Catch::Contains("qmc_draws >= 1"));
  auto rq = make_design("rqmc", "s = 100");
  NoiseStream s(rq, 1, 0, 1);
  CHECK_THROWS_WITH(s.gaussian({1, 8, 8}), Catch::Contains("exceeds the noise dimension d = 64"));
}

TEST_CASE("noise: a coupling matrix can come from a file", "[noise][designs]") {
  testing::TempDir tmp;
  const auto path = (tmp.path / "A.txt").string();
  std::ofstream(path) << "# antithetic plus an independent member\n1 0\n-1 0\n0 1\n";
  auto d = make_design("coupling", "file = " + path);
  CHECK(d->group_size() == 3);
  const auto z = group_draws(d, 2, {3});
  CHECK(torch::equal(z.select(1, 0), -z.select(1, 1)));
}

// ---- Uniform draws (NoiseStream::uniform; docs/noise-designs.md "Uniform draws") ----

TEST_CASE("noise: uniform draws are U(0,1) per member for every design, inside the open interval", "[noise][uniform]") {
  const std::vector<std::pair<std::string, std::string>> designs{
      {"iid", ""}, {"antithetic", ""}, {"repulsive", "K = 4"}, {"coupling", "matrix = 0.6 0.8 | 0.8 0.6 | 0 1"},
      {"rqmc", "m = 3\ns = 3"}};
  for (const auto& [name, options] : designs) {
    for (auto dtype : {torch::kFloat, torch::kDouble}) {
      INFO(name << " " << options << " dtype " << dtype);
      auto d = make_design(name, options);
      const int64_t K = d->group_size(), G = 8000 / K, D = 5;
      NoiseStream s(d, 4242, 0, G, torch::kCPU, dtype);
      for (int draw = 0; draw < 2; ++draw) {
        const auto u = s.uniform({D}).to(torch::kDouble).view({G, K, D});
        CHECK(u.min().item<double>() > 0.0);
        CHECK(u.max().item<double>() < 1.0);
        for (int64_t k = 0; k < K; ++k) {
          const auto x = u.select(1, k);
          const double n = x.numel();
          CHECK(std::abs(x.mean().item<double>() - 0.5) < 5 * std::sqrt(1.0 / 12.0 / n));
          CHECK(std::abs(x.var().item<double>() - 1.0 / 12.0) < 5 * std::sqrt(1.0 / 180.0 / n));
          // Kolmogorov-Smirnov-type check on the quartiles.
          for (double q : {0.1, 0.25, 0.75}) {
            const double frac = (x < q).to(torch::kDouble).mean().item<double>();
            CHECK(std::abs(frac - q) < 5 * std::sqrt(q * (1 - q) / n));
          }
        }
      }
    }
  }
}

TEST_CASE("noise: antithetic uniforms sum to exactly 1 and the first member equals iid", "[noise][uniform]") {
  auto anti = make_design("antithetic");
  auto iid = make_design("iid");
  for (auto dtype : {torch::kFloat, torch::kDouble}) {
    NoiseStream a(anti, 17, 3, 50, torch::kCPU, dtype), b(iid, 17, 3, 50, torch::kCPU, dtype);
    for (int draw = 0; draw < 3; ++draw) {
      const auto u = a.uniform({7}).view({50, 2, 7});
      CHECK(torch::equal(u.select(1, 0) + u.select(1, 1), torch::ones({50, 7}, dtype)));
      CHECK(torch::equal(u.select(1, 1), 1 - u.select(1, 0)));
      CHECK(torch::equal(u.select(1, 0), b.uniform({7})));
    }
  }
}

TEST_CASE("noise: repulsive and coupling uniforms are Phi of the coupled Gaussian draw", "[noise][uniform]") {
  for (const auto& [name, options] : std::vector<std::pair<std::string, std::string>>{
           {"repulsive", "K = 3"}, {"coupling", "matrix = 1 | -1"}}) {
    auto d = make_design(name, options);
    NoiseStream g(d, 5, 0, 4, torch::kCPU, torch::kDouble), u(d, 5, 0, 4, torch::kCPU, torch::kDouble);
    const auto z = g.gaussian({6});
    const auto v = u.uniform({6});
    CHECK((v - 0.5 * torch::erfc(-z / std::sqrt(2.0))).abs().max().item<double>() < 1e-15);
  }
  // Coupling matrix (1 | -1) is antithetic through Phi: u + u' = 1 up to the grid (2^-53).
  auto d = make_design("coupling", "matrix = 1 | -1");
  NoiseStream s(d, 5, 0, 100, torch::kCPU, torch::kDouble);
  const auto v = s.uniform({3}).view({100, 2, 3});
  CHECK(((v.select(1, 0) + v.select(1, 1)) - 1).abs().max().item<double>() < 1e-15);
}

TEST_CASE("noise: uniform and Gaussian draws share the draw counter and are keyed across batch splits", "[noise][uniform]") {
  const std::vector<std::pair<std::string, std::string>> designs{
      {"iid", ""}, {"antithetic", ""}, {"repulsive", "K = 3"}, {"coupling", "matrix = 0.6 0.8 | 1 0 | 0 1"},
      {"rqmc", "m = 2\ns = 4"}};
  for (const auto& [name, options] : designs) {
    INFO(name);
    auto d = make_design(name, options);
    NoiseStream whole(d, 7, 0, 6, torch::kCPU, torch::kFloat);
    NoiseStream first(d, 7, 0, 2, torch::kCPU, torch::kFloat), rest(d, 7, 2, 4, torch::kCPU, torch::kFloat);
    for (int draw = 0; draw < 3; ++draw) {
      const auto w = draw == 1 ? whole.gaussian({4}) : whole.uniform({4});
      const auto parts = draw == 1 ? torch::cat({first.gaussian({4}), rest.gaussian({4})})
                                   : torch::cat({first.uniform({4}), rest.uniform({4})});
      CHECK(torch::equal(w, parts));
    }
    CHECK(whole.draws() == 3);
    // A uniform draw takes one index: a stream that skipped it gives the same next Gaussian draw.
    NoiseStream a(d, 9, 0, 2), b(d, 9, 0, 2);
    a.uniform({16});
    b.skip();
    CHECK(torch::equal(a.gaussian({4}), b.gaussian({4})));
  }
  // rqmc: the first draw's uniforms are stratified (the Sobol' coordinates themselves).
  auto rq = make_design("rqmc", "m = 3\ns = 2");
  NoiseStream q(rq, 11, 0, 1, torch::kCPU, torch::kDouble);
  const auto u = q.uniform({2});  // [8, 2]
  for (int j = 0; j < 2; ++j) {
    const auto bins = (u.select(1, j) * 8).floor().to(torch::kLong);
    CHECK(torch::equal(std::get<0>(bins.sort()), torch::arange(8, torch::kLong)));
  }
}
