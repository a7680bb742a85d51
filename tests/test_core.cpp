// Tests for core/: configuration parsing and key accounting, options, keyed random numbers.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/config.h"
#include "core/error.h"
#include "core/options.h"
#include "core/registry.h"
#include "core/rng.h"
#include "core/runtime.h"
#include "core/suggest.h"

using namespace ipbench;

namespace {
struct DemoOptions {
  double zeta = 0.3;
  int64_t steps = 100;
  std::string mode = "random";
  template <class F>
  void fields(F&& f) {
    f("zeta", zeta, "step size");
    f("steps", steps, "steps");
    f("mode", mode, "mode");
  }
  void validate() const {
    check_option(zeta > 0, "DemoOptions", "zeta", zeta, "zeta > 0");
    check_option(steps >= 1, "DemoOptions", "steps", steps, "steps >= 1");
  }
};
}  // namespace

TEST_CASE("config parses sections, keys, comments and overrides", "[core][config]") {
  auto cfg = Config::from_string("[a]\nx = 1 ; comment\n# full comment\n[b.c]\nname = hello world\n", "t.ini");
  REQUIRE(cfg.has_section("a"));
  REQUIRE(cfg.has_section("b.c"));
  int64_t x = 0;
  cfg.section("a").read("x", x);
  CHECK(x == 1);
  cfg.set("b.c.name=other");
  std::string name;
  cfg.section("b.c").read("name", name);
  CHECK(name == "other");
  CHECK_NOTHROW(cfg.check_all_used());
}

TEST_CASE("unknown keys and sections are errors naming the line", "[core][config]") {
  auto cfg = Config::from_string("[a]\nx = 1\ntypo = 2\n[zzz]\nk = v\n", "t.ini");
  int64_t x = 0;
  cfg.section("a").read("x", x);
  try {
    cfg.check_all_used();
    FAIL("expected an error");
  } catch (const Error& e) {
    std::string msg = e.what();
    CHECK(msg.find("t.ini:3: unknown key 'typo' in [a]") != std::string::npos);
    CHECK(msg.find("t.ini:4: unknown section [zzz]") != std::string::npos);
  }
}

TEST_CASE("syntax errors name file and line", "[core][config]") {
  CHECK_THROWS_WITH(Config::from_string("[a]\nnovalue\n", "f.ini"), Catch::Contains("f.ini:2"));
  CHECK_THROWS_WITH(Config::from_string("x = 1\n", "f.ini"), Catch::Contains("before any [section]"));
  CHECK_THROWS_WITH(Config::from_string("[a]\nx=1\nx=2\n", "f.ini"), Catch::Contains("repeated"));
  CHECK_THROWS_AS(Config::from_file("/nonexistent/file.ini"), Error);
}

TEST_CASE("typed reads reject malformed values", "[core][config]") {
  auto cfg = Config::from_string("[a]\nn = 12x\nf = abc\nb = maybe\n", "t.ini");
  int64_t n = 0;
  double f = 0;
  bool b = false;
  CHECK_THROWS_WITH(cfg.section("a").read("n", n), Catch::Contains("t.ini:2") && Catch::Contains("integer"));
  CHECK_THROWS_WITH(cfg.section("a").read("f", f), Catch::Contains("number"));
  CHECK_THROWS_WITH(cfg.section("a").read("b", b), Catch::Contains("boolean"));
}

TEST_CASE("read_options fills, validates and resolves defaults", "[core][options]") {
  auto cfg = Config::from_string("[demo]\nzeta = 0.5\n", "t.ini");
  auto o = read_options<DemoOptions>(cfg.section("demo"));
  CHECK(o.zeta == 0.5);
  CHECK(o.steps == 100);
  CHECK(cfg.to_ini().find("steps = 100") != std::string::npos);  // resolved default written out
  auto bad = Config::from_string("[demo]\nzeta = -0.1\n", "t.ini");
  CHECK_THROWS_WITH(read_options<DemoOptions>(bad.section("demo")),
                    Catch::Contains("DemoOptions::zeta = -0.1. Violated: zeta > 0"));
  auto docs = describe_options<DemoOptions>();
  REQUIRE(docs.size() == 3);
  CHECK(docs[1].name == "steps");
  CHECK(docs[1].default_value == "100");
}

TEST_CASE("keyed normals are deterministic, offset-consistent and standard", "[core][rng]") {
  const uint64_t key = derive_key(42, 7, 3);
  auto a = keyed_normal({100000}, key, torch::kDouble);
  auto b = keyed_normal({100000}, key, torch::kDouble);
  CHECK(torch::equal(a, b));
  // Element i depends only on (key, i): a window filled with an offset equals the slice.
  std::vector<double> window(1001);
  fill_normal(window.data(), 1001, key, 12345);
  for (int i = 0; i < 1001; ++i) REQUIRE(window[i] == a[12345 + i].item<double>());
  // Moments of N(0,1): mean within 5 SE, variance within 5 SE (SE of var = sqrt(2/n)).
  CHECK(std::abs(a.mean().item<double>()) < 5.0 / std::sqrt(1e5));
  CHECK(std::abs(a.var().item<double>() - 1.0) < 5.0 * std::sqrt(2.0 / 1e5));
  // A different key gives (practically) uncorrelated values.
  auto c = keyed_normal({100000}, derive_key(42, 7, 4), torch::kDouble);
  CHECK(std::abs((a * c).mean().item<double>()) < 5.0 / std::sqrt(1e5));
  // Float output matches the double stream rounded.
  auto f = keyed_normal({1000}, key, torch::kFloat);
  CHECK(torch::allclose(f.to(torch::kDouble), a.slice(0, 0, 1000), 1e-6, 1e-6));
}

TEST_CASE("keyed uniforms lie in the open unit interval", "[core][rng]") {
  auto u = keyed_uniform({200000}, 9);
  CHECK(u.min().item<double>() > 0.0);
  CHECK(u.max().item<double>() < 1.0);
  CHECK(std::abs(u.mean().item<double>() - 0.5) < 5.0 * std::sqrt(1.0 / 12 / 2e5));
  KeyedGenerator g(5), h(5);
  for (int i = 0; i < 100; ++i) {
    auto v = g.uniform_int(3, 9);
    REQUIRE(v >= 3);
    REQUIRE(v <= 9);
    REQUIRE(v == h.uniform_int(3, 9));
  }
}

TEST_CASE("derive_key separates its arguments", "[core][rng]") {
  CHECK(derive_key(1, 2) != derive_key(2, 1));
  CHECK(derive_key(1, 2, 3) != derive_key(1, 3, 2));
  CHECK(hash_string("inpaint") != hash_string("superres"));
}

TEST_CASE("remove_tree removes a folder tree, not the targets of its links", "[core][runtime]") {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("ipbench_remove_tree_" + std::to_string(::getpid()));
  const fs::path outside = root.string() + "_outside.txt";
  fs::create_directories(root / "a" / "b");
  std::ofstream(root / "a" / "b" / "f.txt") << "x";
  std::ofstream(root / "g.txt") << "y";
  std::ofstream(outside) << "keep";
  fs::create_symlink(outside, root / "a" / "link");
  CHECK(remove_tree(root.string()));
  CHECK_FALSE(fs::exists(root));
  CHECK(fs::is_regular_file(outside));
  CHECK(remove_tree(root.string()));  // nothing there: nothing to do
  CHECK(remove_tree(outside.string()));  // a plain file
  CHECK_FALSE(fs::exists(outside));
}

TEST_CASE("misspelled keys, sections and names get a suggestion", "[core][config]") {
  CHECK(edit_distance("steps", "stpes") == 1);  // a transposition
  CHECK(edit_distance("zeta", "zeta") == 0);
  CHECK(edit_distance("", "abc") == 3);
  CHECK(closest_match("stpes", {"zeta", "steps", "mode"}) == "steps");
  CHECK(closest_match("banana", {"zeta", "steps", "mode"}).empty());  // nothing close: no guess
  CHECK(did_you_mean("modee", {"mode"}) == " (did you mean 'mode'?)");

  auto cfg = Config::from_string("[demo]\nstpes = 3\n[benchmrk]\nx = 1\n[benchmark]\n", "t.ini");
  read_options<DemoOptions>(cfg.section("demo"));
  cfg.section("benchmark");
  CHECK_THROWS_WITH(cfg.check_all_used(), Catch::Contains("unknown key 'stpes' in [demo] (did you mean 'steps'?)") &&
                                              Catch::Contains("unknown section [benchmrk]") &&
                                              Catch::Contains("(did you mean 'benchmark'?)"));

  Registry<int> registry("solver");
  registry.add("dps", 1);
  registry.add("ddim", 2);
  CHECK_THROWS_WITH(registry.get("dsp"), Catch::Contains("unknown solver 'dsp' (did you mean 'dps'?)"));
}
