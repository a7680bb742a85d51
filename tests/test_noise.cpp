// Tests for noise/: designs and the NoiseStream.
#include <catch2/catch.hpp>

#include "core/config.h"
#include "noise/designs.h"
#include "noise/noise_stream.h"

using namespace ipbench;

namespace {
std::shared_ptr<const NoiseDesign> make_design(const std::string& name) {
  register_builtin_designs();
  auto cfg = Config::from_string("", "test");
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
  for (const std::string name : {"iid", "antithetic"}) {
    auto d = make_design(name);
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
