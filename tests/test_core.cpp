// Tests for core/: configuration parsing and key accounting, options, keyed random numbers.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <vector>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/options.h"
#include "core/registry.h"
#include "core/rng.h"
#include "core/runtime.h"
#include "error_message.h"
#include "temp_dir.h"
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

TEST_CASE("config files: a directory, an empty file or one without sections is refused; a BOM is skipped", "[core][config]") {
  testing::TempDir tmp;
  CHECK_THAT(testing::error_message([&] { Config::from_file(tmp.path.string()); }), Catch::Contains("is a directory"));
  CHECK_THAT(testing::error_message([&] { Config::from_file(tmp.write("e.ini", "")); }),
             Catch::Contains("e.ini' is empty"));
  CHECK_THAT(testing::error_message([&] { Config::from_file(tmp.write("w.ini", "\xEF\xBB\xBF \n\n")); }),
             Catch::Contains("w.ini' is empty"));
  CHECK_THAT(testing::error_message([&] { Config::from_file(tmp.write("c.ini", "; only a comment\n")); }),
             Catch::Contains("c.ini' has no [section]"));
  const Config bom = Config::from_file(tmp.write("b.ini", "\xEF\xBB\xBF[benchmark]\nitems = 2\n"));
  CHECK(bom.has_section("benchmark"));
  int64_t items = 0;
  bom.section("benchmark").read("items", items);
  CHECK(items == 2);
}

TEST_CASE("numbers must be finite: the reader and check_option say so", "[core][config][options]") {
  auto cfg = Config::from_string("[demo]\nzeta = inf\nsteps = 3\n[l]\nv = 1, nan\n[m]\nzeta = -Infinity\n", "t.ini");
  CHECK_THAT(testing::error_message([&] { read_options<DemoOptions>(cfg.section("demo")); }),
             Catch::Contains("t.ini:2") && Catch::Contains("zeta = 'inf': must be finite"));
  std::vector<double> v;
  CHECK_THAT(testing::error_message([&] { cfg.section("l").read("v", v); }), Catch::Contains("must be finite"));
  double z = 0;
  CHECK_THAT(testing::error_message([&] { cfg.section("m").read("zeta", z); }), Catch::Contains("must be finite"));
  // Set from C++ (no reader in between): the rule names finiteness rather than a bound inf satisfies.
  DemoOptions o;
  o.zeta = std::numeric_limits<double>::quiet_NaN();
  CHECK_THAT(testing::error_message([&] { o.validate(); }),
             Catch::Contains("DemoOptions::zeta = nan. Violated: zeta must be finite (zeta > 0)"));
  o.zeta = -1;
  CHECK_THAT(testing::error_message([&] { o.validate(); }), Catch::Contains("Violated: zeta > 0") &&
                                                             !Catch::Contains("finite"));
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

namespace {
std::vector<std::string> folder_names(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}
std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
}  // namespace

TEST_CASE("write_file_atomic replaces a file whole and leaves no temporary file", "[core][atomic_file]") {
  testing::TempDir tmp;
  const std::string path = tmp.write("a.txt", "old");
  write_file_atomic(path, std::string("new\0bytes", 9), "test file");
  CHECK(file_text(path) == std::string("new\0bytes", 9));
  write_file_atomic(tmp.file("b.bin"), [](const std::string& t) { std::ofstream(t, std::ios::binary) << "via callback"; });
  CHECK(file_text(tmp.file("b.bin")) == "via callback");
  CHECK((folder_names(tmp.path) == std::vector<std::string>{"a.txt", "b.bin"}));
}

TEST_CASE("write_file_atomic failures name the file, keep the old content and remove the temporary", "[core][atomic_file]") {
  testing::TempDir tmp;
  const std::string path = tmp.write("a.txt", "old");
  const std::string msg = testing::error_message([&] {
    write_file_atomic(
        path,
        [](const std::string& t) {
          std::ofstream(t) << "partial";
          throw std::runtime_error("disk full");
        },
        "records");
  });
  CHECK_THAT(msg, Catch::Contains(path) && Catch::Contains("records") && Catch::Contains("disk full"));
  CHECK(file_text(path) == "old");
  CHECK((folder_names(tmp.path) == std::vector<std::string>{"a.txt"}));
  // A folder that does not exist: the open fails, named.
  const std::string missing = tmp.file("no/such/folder/x.txt");
  CHECK_THAT(testing::error_message([&] { write_file_atomic(missing, "x"); }), Catch::Contains(missing));
  // A folder where the file should be: the rename fails, the temporary is removed.
  std::filesystem::create_directories(tmp.path / "d" / "inner");
  CHECK_THAT(testing::error_message([&] { write_file_atomic(tmp.file("d"), "x"); }), Catch::Contains("renaming"));
  CHECK((folder_names(tmp.path) == std::vector<std::string>{"a.txt", "d"}));
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
