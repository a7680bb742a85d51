// Runs to a target precision through the harness ([benchmark] target_halfwidth, harness/two_stage.h):
// fixed-size runs unchanged, the records two-stage and fixed-size runs share, the plan and the summary's
// report of it, resuming an interrupted two-stage run, and the refused inputs. Coverage over many seeds
// is in test_coverage.cpp ([coverage]).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>

#include "core/rng.h"
#include "datasets/dataset.h"
#include "harness/records.h"
#include "harness/run_folder.h"
#include "harness/runner.h"
#include "harness/spec.h"
#include "harness/two_stage.h"
#include "reports/run_summary.h"
#include "temp_dir.h"

using namespace ipbench;
namespace fs = std::filesystem;

namespace {

std::string write_data(const fs::path& dir) {
  Dataset d;
  // Item 2 is far from the prior mean: the items' L1 variances differ (Neyman allocates by them).
  auto images = 0.05 * keyed_normal({3, 1, 8, 8}, 3, torch::kDouble);
  images[2] += 0.6;
  d.images = images.to(torch::kFloat);
  d.attributes = {"synthetic", "CC0", "test"};
  const auto path = (dir / "data.h5").string();
  write_dataset(path, d);
  return path;
}

// The exact sampler of test_coverage.cpp (gaussian prior, one cm_sample step): fast and stochastic.
std::string config(const std::string& data, const std::string& extra = "", int64_t samples = 8) {
  return "[benchmark]\nname = t\nitems = 3\nsamples_per_item = " + std::to_string(samples) +
         "\noperators = inpaint\nsolvers = cm\ndesigns = iid, antithetic\nmetrics = l1, psnr\ndevice = cpu\n"
         "dtype = float64\nthreads = 1\nbatch_size = 6\n" + extra +
         "[dataset]\nsource = " + data + "\npad_to = 0\n[prior]\ntype = gaussian\nmean = 0\nvariance = 0.05\n"
         "[operator.inpaint]\n[solver.cm]\ntype = cm_sample\nsteps = 2\nts = 0, 1\nconsistency = gaussian\n";
}

const std::string kTwoStage = "target_halfwidth = l1:0.004\npilot_groups = 4\nmax_samples_per_item = 400\n";

RunOutcome run(const std::string& text, const fs::path& dir, bool resume = false, Shard shard = {}) {
  RunOptions ro;
  ro.out_dir = dir.string();
  ro.progress = false;
  ro.resume = resume;
  ro.shard = shard;
  return run_benchmark(parse_spec(Config::from_string(text, "t.ini")), ro);
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

using Key = std::tuple<std::string, int64_t, int64_t, int64_t>;
struct Row {
  std::map<std::string, double> metrics;
  int64_t nfe = 0;
  std::string status;
  int stage = 0;
};
// Records by (cell, item, group, member), everything but the timing.
std::map<Key, Row> by_key(const std::vector<Record>& records) {
  std::map<Key, Row> out;
  for (const Record& r : records) out[{r.cell, r.item, r.group, r.member}] = {r.metrics, r.nfe, r.status, r.stage};
  return out;
}

void check_same(const std::map<Key, Row>& a, const std::map<Key, Row>& b) {
  REQUIRE(a.size() == b.size());
  for (const auto& [key, row] : a) {
    const auto it = b.find(key);
    REQUIRE(it != b.end());
    CHECK(row.metrics == it->second.metrics);
    CHECK(row.status == it->second.status);
    CHECK(row.stage == it->second.stage);
  }
}

std::map<std::pair<std::string, int64_t>, int64_t> groups_per_unit(const std::vector<Record>& records) {
  std::map<std::pair<std::string, int64_t>, int64_t> groups;
  for (const Record& r : records) groups[{r.cell, r.item}] = std::max(groups[{r.cell, r.item}], r.group + 1);
  return groups;
}

}  // namespace

TEST_CASE("two-stage: a run without target_halfwidth is the fixed-size run, its folder unchanged",
          "[harness][two_stage]") {
  testing::TempDir tmp;
  const std::string data = write_data(tmp.path);
  const auto fixed = run(config(data), tmp.path / "fixed");
  CHECK(fixed.records.size() == 2u * 3u * 8u);
  const std::string resolved = read_file(tmp.path / "fixed" / "config.resolved.ini");
  CHECK(resolved.find("target_halfwidth") == std::string::npos);  // resolved config as before
  CHECK(resolved.find("pilot_groups") == std::string::npos);
  CHECK_FALSE(fs::exists(tmp.path / "fixed" / "two_stage.csv"));
  const std::string csv = read_file(tmp.path / "fixed" / "records.csv");
  CHECK(csv.substr(0, csv.find('\n')) ==
        "cell,operator,solver,design,group_size,item,group,member,l1,psnr,nfe,seconds,status,run_id");
  // The keys without a target change nothing (they are resolved, the run is the fixed-size run).
  const auto keys_only = run(config(data, "pilot_groups = 3\nmax_samples_per_item = 64\n"), tmp.path / "keys");
  check_same(by_key(fixed.records), by_key(keys_only.records));
  CHECK_FALSE(fs::exists(tmp.path / "keys" / "two_stage.csv"));
}

TEST_CASE("two-stage: stops at the target, Neyman gives noisier items more groups, the summary reports it",
          "[harness][two_stage]") {
  testing::TempDir tmp;
  const std::string data = write_data(tmp.path);
  const auto out = run(config(data, kTwoStage), tmp.path / "run");
  const auto groups = groups_per_unit(out.records);
  REQUIRE(groups.size() == 6u);
  for (const auto& [unit, g] : groups) {
    CHECK(g >= 4);
    CHECK(g <= 400 / (unit.first == "inpaint/cm/iid" ? 1 : 2));
  }
  int64_t most = 0;
  for (const auto& [unit, g] : groups) most = std::max(most, g);
  CHECK(most > 4);  // stage 2 ran
  // Every group is complete and numbered 0 .. U_i - 1: group indices continue after the pilot.
  std::map<std::pair<std::string, int64_t>, int64_t> count;
  for (const Record& r : out.records) ++count[{r.cell, r.item}];
  for (const auto& [unit, n] : count) CHECK(n == groups.at(unit) * (unit.first == "inpaint/cm/iid" ? 1 : 2));
  // two_stage.csv: one row per unit, its groups those of the records.
  const RunFolder folder = RunFolder::open((tmp.path / "run").string());
  const std::string plan = folder.stage_plan_text();
  CHECK(plan.rfind("cell,item,group_size,pilot_groups,groups,capped,pilot_var:l1\n", 0) == 0);
  INFO(plan);
  // Rows: cell, item, K, pilot groups, groups as in the records, capped, pilot variance.
  std::vector<std::tuple<std::string, double, int64_t>> rows;
  std::istringstream lines(plan);
  std::string line;
  std::getline(lines, line);
  while (std::getline(lines, line)) {
    std::vector<std::string> f;
    std::stringstream fields(line);
    for (std::string x; std::getline(fields, x, ',');) f.push_back(x);
    REQUIRE(f.size() == 7u);
    CHECK(f[3] == "4");
    CHECK(f[5] == "false");
    CHECK(std::stoll(f[4]) == groups.at({f[0], std::stoll(f[1])}));
    rows.emplace_back(f[0], std::stod(f[6]), std::stoll(f[4]));
  }
  CHECK(rows.size() == 6u);
  // Neyman: within a cell, an item with a larger pilot variance never gets fewer groups.
  for (const auto& [cell_a, var_a, groups_a] : rows)
    for (const auto& [cell_b, var_b, groups_b] : rows)
      if (cell_a == cell_b && var_a > var_b) CHECK(groups_a >= groups_b);
  CHECK(stage_plan_samples(plan, "two_stage.csv") == static_cast<int64_t>(out.records.size()));
  // The summary: Stein's interval meets the target; pilot + stage-2 samples are the records.
  const SummaryOutcome s = write_summary(folder, RunInfo{});
  CHECK(s.info.expected_records == static_cast<int64_t>(out.records.size()));  // not "incomplete"
  for (const CellSummary& c : s.summary.cells) {
    const MetricSummary& l1 = c.metrics.at(0);
    REQUIRE(l1.name == "l1");
    INFO(c.cell << ": achieved " << l1.precision.achieved_halfwidth << ", samples " << l1.precision.pilot_samples
                << " + " << l1.precision.stage2_samples << ", iid would need " << l1.precision.iid_samples);
    REQUIRE(l1.precision.active);
    CHECK(l1.precision.met);
    CHECK(l1.precision.achieved_halfwidth <= 0.004);
    CHECK(l1.precision.pilot_samples == 3 * 4 * c.group_size);
    CHECK(l1.precision.pilot_samples + l1.precision.stage2_samples ==
          std::count_if(out.records.begin(), out.records.end(), [&](const Record& r) { return r.cell == c.cell; }));
    CHECK(std::isfinite(l1.precision.saved_nfe));
    CHECK_FALSE(c.metrics.at(1).precision.active);  // psnr has no target
  }
  const std::string json = read_file(tmp.path / "run" / "summary.json");
  CHECK(json.find("\"precision\": {\"target_halfwidth\": 0.004") != std::string::npos);
}

TEST_CASE("two-stage: every record says which stage made it, and a wrong stage is refused",
          "[harness][two_stage]") {
  testing::TempDir tmp;
  const std::string data = write_data(tmp.path);
  const auto out = run(config(data, kTwoStage), tmp.path / "run");
  const fs::path records = tmp.path / "run" / "records.csv";
  const std::string csv = read_file(records);
  CHECK(csv.substr(0, csv.find('\n')) ==
        "cell,operator,solver,design,group_size,item,group,member,l1,psnr,nfe,seconds,status,stage,run_id");
  const RecordTable table = read_record_table(records.string());
  CHECK(table.has_stage);
  CHECK(table.has_run_id);
  REQUIRE(table.records.size() == out.records.size());
  // The stage each record was solved in is the stage its group belongs to, and stage 2 holds exactly the
  // groups two_stage.csv planned beyond the pilot.
  int64_t stage2 = 0;
  for (const Record& r : table.records) {
    INFO(r.cell << " item " << r.item << " group " << r.group);
    CHECK(r.stage == (r.group < 4 ? 1 : 2));
    stage2 += r.stage == 2;
  }
  const std::string plan = read_file(tmp.path / "run" / "two_stage.csv");
  CHECK(stage2 == stage_plan_samples(plan, "two_stage.csv") - 3 * 4 * (1 + 2));
  CHECK(stage2 > 0);
  for (const Record& r : out.records) CHECK(r.stage == (r.group < 4 ? 1 : 2));  // in memory too
  // A pilot row edited to stage 2 is refused on --resume, naming the file, the sample and the rule.
  const fs::path edited = tmp.path / "edited";
  fs::create_directories(edited);
  fs::copy_file(tmp.path / "run" / "config.resolved.ini", edited / "config.resolved.ini");
  std::string text = csv;
  const size_t row = text.find('\n') + 1;                   // the first record: a pilot group
  const size_t comma = text.find(",1,", text.find(",ok,", row));  // its stage field
  REQUIRE(comma < text.find('\n', row));
  text[comma + 1] = '2';
  std::ofstream(edited / "records.csv") << text;
  CHECK_THROWS_WITH(run(config(data, kTwoStage), edited, true),
                    Catch::Contains("has stage 2 where group 0 < pilot_groups = 4 makes it stage 1"));
  // A stage that is neither 1 nor 2 does not parse.
  text[comma + 1] = '3';
  std::ofstream(edited / "records.csv") << text;
  CHECK_THROWS_WITH(read_record_table((edited / "records.csv").string()),
                    Catch::Contains("line 2: stage '3'; the stage column holds 1 (pilot) or 2"));
}

TEST_CASE("two-stage: records of the groups a two-stage and a fixed-size run share are identical",
          "[harness][two_stage]") {
  testing::TempDir tmp;
  const std::string data = write_data(tmp.path);
  const auto two = run(config(data, kTwoStage), tmp.path / "two");
  const auto fixed = run(config(data, "", 32), tmp.path / "fixed");  // 32 iid groups, 16 antithetic
  const auto a = by_key(two.records), b = by_key(fixed.records);
  int64_t shared = 0, shared_stage2 = 0;
  for (const auto& [key, row] : a) {
    const auto it = b.find(key);
    if (it == b.end()) continue;
    ++shared;
    shared_stage2 += std::get<2>(key) >= 4;
    INFO(std::get<0>(key) << " item " << std::get<1>(key) << " group " << std::get<2>(key));
    CHECK(row.metrics == it->second.metrics);
    CHECK(row.nfe == it->second.nfe);
    CHECK(row.status == it->second.status);
  }
  CHECK(shared >= 2 * 3 * 8);  // every pilot record
  CHECK(shared_stage2 > 0);    // and stage-2 records
}

TEST_CASE("two-stage: a resumed run recomputes the plan from the stored pilot and gives the same records",
          "[harness][two_stage][resume]") {
  testing::TempDir tmp;
  const std::string data = write_data(tmp.path);
  const std::string text = config(data, kTwoStage);
  const auto full = run(text, tmp.path / "full");
  const std::string plan = read_file(tmp.path / "full" / "two_stage.csv");
  const int64_t pilot_records = 3 * 4 * (1 + 2);
  REQUIRE(static_cast<int64_t>(full.records.size()) > pilot_records + 10);
  // Killed in stage 1, and in stage 2: the first `lines` records and half a line (a torn tail).
  for (const int64_t lines : {pilot_records / 2 + 1, pilot_records + 7}) {
    INFO("killed after " << lines << " records");
    const fs::path part = tmp.path / ("part" + std::to_string(lines));
    fs::create_directories(part);
    fs::copy_file(tmp.path / "full" / "config.resolved.ini", part / "config.resolved.ini");
    {
      std::ifstream in(tmp.path / "full" / "records.csv");
      std::ofstream out(part / "records.csv");
      std::string line;
      for (int64_t i = 0; i <= lines && std::getline(in, line); ++i) out << line << "\n";
      std::getline(in, line);
      out << line.substr(0, line.size() / 2);  // no newline: torn
    }
    const auto resumed = run(text, part, true);
    check_same(by_key(full.records), by_key(resumed.records));
    check_same(by_key(full.records), by_key(read_records((part / "records.csv").string())));
    CHECK(read_file(part / "two_stage.csv") == plan);
  }
}

TEST_CASE("two-stage: bad input is refused naming the key and the rule", "[harness][two_stage]") {
  testing::TempDir tmp;
  const std::string data = write_data(tmp.path);
  auto refused = [&](const std::string& extra) {
    try {
      parse_spec(Config::from_string(config(data, extra), "t.ini"));
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  for (const std::string bad : {"0", "-0.1", "nan", "inf"}) {
    const std::string msg = refused("target_halfwidth = l1:" + bad + "\n");
    INFO(msg);
    CHECK(msg.find("target_halfwidth") != std::string::npos);
    CHECK(msg.find("half-width must be > 0 and finite") != std::string::npos);
  }
  CHECK_THAT(refused("target_halfwidth = l1\n"), Catch::Contains("is not metric:halfwidth"));
  CHECK_THAT(refused("target_halfwidth = ssim:0.01\n"),
             Catch::Contains("target_halfwidth") && Catch::Contains("every target names a metric of [benchmark] metrics"));
  std::string msg = refused("target_halfwidth = l1:0.01\npilot_groups = 1\n");
  CHECK_THAT(msg, Catch::Contains("pilot_groups = 1") && Catch::Contains("pilot_groups >= 2"));
  // antithetic: 6 samples are 3 groups, fewer than the pilot's 4.
  msg = refused("target_halfwidth = l1:0.01\npilot_groups = 4\nmax_samples_per_item = 6\n");
  CHECK_THAT(msg, Catch::Contains("max_samples_per_item = 6") && Catch::Contains("design 'antithetic'") &&
                      Catch::Contains("max_samples_per_item >= pilot_groups x K"));
  CHECK_THAT(refused("target_halfwidth = l1:0.01\nmax_samples_per_item = -1\n"),
             Catch::Contains("max_samples_per_item >= 0"));
  CHECK(refused("target_halfwidth = l1:0.01\n") == "accepted");
  // A shard cannot pool the pilots of all items: refused before anything is solved.
  CHECK_THROWS_WITH(run(config(data, kTwoStage), tmp.path / "shard", false, Shard::parse("0/2")),
                    Catch::Contains("cannot be sharded") && Catch::Contains("--shard 0/2"));
  CHECK_FALSE(fs::exists(tmp.path / "shard" / "records.csv"));
}
