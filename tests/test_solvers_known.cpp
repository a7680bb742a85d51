// Solvers through the harness: configs select every solver, CM solvers get their consistency function,
// and bad solver configurations are refused before anything runs (with the reason).
#include <catch2/catch.hpp>

#include <filesystem>

#include "core/rng.h"
#include "datasets/dataset.h"
#include "harness/runner.h"
#include "harness/spec.h"
#include "temp_dir.h"

using namespace ipbench;
namespace fs = std::filesystem;

namespace {

std::string write_data(const fs::path& dir) {
  Dataset d;
  d.images = (0.6 * torch::tanh(keyed_normal({2, 1, 8, 8}, 78))).to(torch::kFloat);
  d.attributes = {"synthetic", "CC0", "test"};
  const auto path = (dir / "data.h5").string();
  write_dataset(path, d);
  return path;
}

std::string config(const std::string& data, const std::string& solvers, const std::string& prior = "gaussian\nmean = 0\nvariance = 0.3") {
  return "[benchmark]\nname = t\nitems = 1\nsamples_per_item = 2\noperators = inpaint\nsolvers = " + solvers +
         "\ndesigns = iid, antithetic\nmetrics = l1, residual\ndevice = cpu\n"
         "[dataset]\nsource = " + data + "\npad_to = 0\n[prior]\ntype = " + prior + "\n[operator.inpaint]\n"
         "[solver.dps]\nsteps = 5\n[solver.lgd]\nsteps = 5\nmc_samples = 2\n[solver.dds]\nsteps = 5\n"
         "[solver.cm_dps]\nsteps = 5\nconsistency = gaussian\n"
         "[solver.cm_inversion]\niterations = 3\nconsistency = ode\node_steps = 2\n";
}

RunOutcome run(const std::string& ini, const fs::path& out) {
  auto cfg = Config::from_string(ini, "t.ini");
  Spec spec = parse_spec(cfg);
  RunOptions ro;
  ro.out_dir = out.string();
  ro.progress = false;
  return run_benchmark(spec, ro);
}

}  // namespace

TEST_CASE("solvers: the five mission solvers run from a config, CM solvers with their consistency model",
          "[solvers][harness]") {
  testing::TempDir tmp;
  auto out = run(config(write_data(tmp.path), "dps, lgd, dds, cm_dps, cm_inversion"), tmp.path / "run");
  REQUIRE(out.records.size() == 5 * 2 * 2);
  for (const auto& r : out.records) {
    INFO(r.cell);
    CHECK(r.status == "ok");
    CHECK(std::isfinite(r.metrics.at("l1")));
  }
  for (const auto& r : out.records)
    if (r.solver == "cm_inversion") CHECK(r.nfe == 3 * 2 * 4);  // iterations x stages x 2 ode_steps
}

TEST_CASE("solvers: bad solver configurations are refused before running, with the reason", "[solvers][harness]") {
  testing::TempDir tmp;
  const auto data = write_data(tmp.path);
  auto parse = [&](const std::string& ini) { return parse_spec(Config::from_string(ini, "bad.ini")); };
  auto with = [&](const std::string& solver, const std::string& extra) {
    return "[benchmark]\nitems = 1\nsamples_per_item = 2\noperators = inpaint\nsolvers = " + solver +
           "\ndesigns = iid\nmetrics = l1\n[dataset]\nsource = " + data + "\npad_to = 0\n[prior]\ntype = gaussian\n"
           "[operator.inpaint]\n[solver." + solver + "]\n" + extra;
  };
  CHECK_THROWS_WITH(parse(with("cm_dps", "steps = 5\n")),
                    Catch::Contains("[solver.cm_dps]") && Catch::Contains("consistency") && Catch::Contains("required"));
  CHECK_THROWS_WITH(parse(with("cm_inversion", "consistency = ode\nts = 0, 30, 17\n")),
                    Catch::Contains("ts strictly increasing"));
  CHECK_THROWS_WITH(parse(with("dds", "steps = 0\n")), Catch::Contains("DdsOptions::steps = 0"));
  CHECK_THROWS_WITH(parse(with("cm_dps", "consistency = ode\nsteps = 0\n")), Catch::Contains("steps >= 1"));
  // Sources are resolved before any sample is solved: a gaussian flow map needs the gaussian prior,
  // a model folder must exist.
  CHECK_NOTHROW(run(with("cm_sample", "consistency = gaussian\n"), tmp.path / "ok"));
  const std::string gmm = "[benchmark]\nitems = 1\nsamples_per_item = 2\noperators = inpaint\nsolvers = cm_sample\n"
                          "designs = iid\nmetrics = l1\n[dataset]\nsource = " + data + "\npad_to = 0\n"
                          "[prior]\ntype = empirical\ndata = " + data + "\n[operator.inpaint]\n[solver.cm_sample]\n";
  CHECK_THROWS_WITH(run(gmm + "consistency = gaussian\n", tmp.path / "r1"),
                    Catch::Contains("[solver.cm_sample]") && Catch::Contains("needs the `gaussian` prior"));
  CHECK_FALSE(fs::exists(tmp.path / "r1" / "records.csv"));
  CHECK_THROWS_WITH(run(gmm + "consistency = /no/such/cm\n", tmp.path / "r2"), Catch::Contains("/no/such/cm"));
}

TEST_CASE("solvers: ipbench list's matrix marks every refused pair", "[solvers][harness]") {
  const std::string m = solver_operator_matrix();
  CHECK(m.find("dds") != std::string::npos);
  CHECK(m.find("cm_inversion") != std::string::npos);
  CHECK(m.find("a consistency model") != std::string::npos);
  for (const auto& name : solver_registry().names()) CHECK(m.find(name) != std::string::npos);
}
