// Runs to a target precision ([benchmark] target_halfwidth, stats/precision.h) through the harness:
// the plan, the summary's report of it, and resuming a two-stage run.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <tuple>

#include "core/rng.h"
#include "datasets/dataset.h"
#include "harness/records.h"
#include "harness/runner.h"
#include "harness/spec.h"
#include "reports/summary_report.h"
#include "stats/summary.h"
#include "temp_dir.h"

using namespace ipbench;
namespace fs = std::filesystem;

namespace {

std::string write_data(const fs::path& dir) {
  Dataset d;
  // Item 1 is far from the prior mean: its L1 varies more, so Neyman gives it more groups.
  auto images = 0.05 * keyed_normal({2, 1, 8, 8}, 3, torch::kDouble);
  images[1] += 0.6;
  d.images = images.to(torch::kFloat);
  d.attributes = {"synthetic", "CC0", "test"};
  const auto path = (dir / "data.h5").string();
  write_dataset(path, d);
  return path;
}

std::string config(const std::string& data) {
  return "[benchmark]\nname = t\nitems = 2\nsamples_per_item = 4\noperators = inpaint\nsolvers = cm\n"
         "designs = iid, antithetic\nmetrics = l1, psnr\ndevice = cpu\ndtype = float64\n"
         "target_halfwidth = l1:0.004\npilot_groups = 4\nmax_samples_per_item = 400\n"
         "[dataset]\nsource = " + data + "\npad_to = 0\n[prior]\ntype = gaussian\nmean = 0\nvariance = 0.05\n"
         "[operator.inpaint]\n[solver.cm]\ntype = cm_sample\nsteps = 2\nts = 0, 1\nconsistency = gaussian\n";
}

RunOutcome run(const std::string& text, const fs::path& dir, bool resume = false) {
  const Config cfg = Config::from_string(text, "t.ini");
  RunOptions ro;
  ro.out_dir = dir.string();
  ro.progress = false;
  ro.resume = resume;
  return run_benchmark(cfg, parse_spec(cfg), ro);
}

}  // namespace

TEST_CASE("two-stage: the run stops at the target half-width and reports the compute saved", "[harness][precision]") {
  testing::TempDir tmp;
  const std::string text = config(write_data(tmp.path));
  const auto out = run(text, tmp.path / "run");
  // Groups per (cell, item): the pilot (4) and then the plan.
  std::map<std::pair<std::string, int64_t>, int64_t> groups;
  for (const Record& r : out.records)
    groups[{r.cell, r.item}] = std::max(groups[{r.cell, r.item}], r.group + 1);
  for (const auto& [key, g] : groups) CHECK(g >= 4);
  CHECK(groups.at({"inpaint/cm/iid", 1}) > groups.at({"inpaint/cm/iid", 0}));  // Neyman: the noisier item
  const Config cfg = Config::from_string(text, "t.ini");
  const BenchmarkSummary s = summarize(out.records, summary_options(parse_spec(cfg, false).benchmark));
  for (const CellSummary& c : s.cells) {
    const MetricSummary& l1 = c.metrics.at(0);
    REQUIRE(l1.name == "l1");
    INFO(c.cell << ": achieved " << l1.precision.achieved_halfwidth << ", samples " << l1.precision.pilot_samples
                << " + " << l1.precision.stage2_samples << ", iid would need " << l1.precision.iid_samples);
    REQUIRE(l1.precision.active);
    CHECK(l1.precision.met);
    CHECK(l1.precision.achieved_halfwidth <= 0.004);
    CHECK(l1.precision.pilot_samples == 2 * 4 * c.group_size);
    CHECK(l1.precision.pilot_samples + l1.precision.stage2_samples ==
          static_cast<int64_t>(std::count_if(out.records.begin(), out.records.end(),
                                             [&](const Record& r) { return r.cell == c.cell; })));
    CHECK(std::isfinite(l1.precision.saved_nfe));
    CHECK_FALSE(c.metrics.at(1).precision.active);  // psnr has no target
  }
  // Antithetic pairs of this linear sampler save compute against iid: fewer samples than iid needs.
  const MetricSummary& anti = s.cells.at(1).metrics.at(0);
  CHECK(anti.precision.saved_samples > 0.0);
  const std::string json = summary_json(s, RunInfo{});
  CHECK(json.find("\"precision\": {\"target_halfwidth\": 0.004") != std::string::npos);
  CHECK(summary_table(s).find("iid would need") != std::string::npos);
}

TEST_CASE("two-stage: a resumed run continues its plan", "[harness][precision][resume]") {
  testing::TempDir tmp;
  const std::string text = config(write_data(tmp.path));
  const auto full = run(text, tmp.path / "full");
  // A run killed after its pilot and part of stage 2: the first 30 records.
  fs::create_directories(tmp.path / "part");
  fs::copy_file(tmp.path / "full" / "config.resolved.ini", tmp.path / "part" / "config.resolved.ini");
  {
    std::ifstream in(tmp.path / "full" / "records.csv");
    std::ofstream out(tmp.path / "part" / "records.csv");
    std::string line;
    for (int i = 0; i < 31 && std::getline(in, line); ++i) out << line << "\n";
  }
  const auto resumed = run(text, tmp.path / "part", true);
  REQUIRE(resumed.records.size() == full.records.size());
  const auto all = read_records((tmp.path / "part" / "records.csv").string());
  REQUIRE(all.size() == full.records.size());
  std::map<std::tuple<std::string, int64_t, int64_t, int64_t>, double> expect;
  for (const Record& r : full.records) expect[{r.cell, r.item, r.group, r.member}] = r.metrics.at("l1");
  for (const Record& r : all) CHECK(expect.at({r.cell, r.item, r.group, r.member}) == r.metrics.at("l1"));
  // Sharding needs every item's pilot in one process.
  Config cfg = Config::from_string(text, "t.ini");
  RunOptions ro;
  ro.out_dir = (tmp.path / "shard").string();
  ro.progress = false;
  ro.shard = Shard::parse("0/2");
  CHECK_THROWS_WITH(run_benchmark(cfg, parse_spec(cfg), ro), Catch::Contains("cannot be sharded"));
}
