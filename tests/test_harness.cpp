// End-to-end tests of the harness: spec parsing, runs, determinism, resume and bad input.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/rng.h"
#include "datasets/dataset.h"
#include "harness/merge.h"
#include "harness/records.h"
#include "harness/run_folder.h"
#include "harness/runner.h"
#include "harness/spec.h"
#include "synthetic_run.h"
#include "temp_dir.h"

using namespace ipbench;
namespace fs = std::filesystem;

namespace {

using testing::TempDir;

// A small synthetic dataset of smooth images in [-1, 1].
std::string write_synthetic_dataset(const fs::path& dir) { return testing::write_synthetic_dataset(dir); }

std::string base_config(const std::string& data) {
  return "[benchmark]\nname = t\nitems = 2\nsamples_per_item = 4\noperators = inpaint, superres\n"
         "solvers = dps\ndesigns = iid, antithetic\nmetrics = l1, psnr, ssim, residual\ndevice = cpu\n"
         "[dataset]\nsource = " + data + "\npad_to = 0\n"
         "[prior]\ntype = gaussian\nmean = 0\nvariance = 0.3\n"
         "[operator.inpaint]\n[operator.superres]\nfactor = 2\n"
         "[solver.dps]\nsteps = 6\nzeta = 0.5\n[solver.dps@superres]\nzeta = 0.3\n";
}

RunOutcome run(const Config& cfg, const fs::path& out, bool resume = false) {
  RunOptions ro;
  ro.out_dir = out.string();
  ro.progress = false;
  ro.resume = resume;
  return run_benchmark(parse_spec(cfg), ro);
}

}  // namespace

TEST_CASE("a run writes one record per sample and the resolved config", "[harness]") {
  TempDir tmp;
  const auto data = write_synthetic_dataset(tmp.path);
  auto out = run(Config::from_string(base_config(data), "t.ini"), tmp.path / "run");
  // 2 operators x 1 solver x 2 designs x 2 items x 4 samples
  REQUIRE(out.records.size() == 32);
  CHECK(fs::exists(tmp.path / "run" / "config.resolved.ini"));
  auto reread = read_records((tmp.path / "run" / "records.csv").string());
  REQUIRE(reread.size() == 32);
  for (size_t i = 0; i < reread.size(); ++i) {
    CHECK(reread[i].cell == out.records[i].cell);
    CHECK(reread[i].metrics.at("psnr") == out.records[i].metrics.at("psnr"));  // exact round trip
    CHECK(reread[i].status == "ok");
    CHECK(reread[i].nfe == 6);
  }
  // Antithetic records: two members per group.
  int antithetic = 0;
  for (const auto& r : out.records) antithetic += r.design == "antithetic" && r.group_size == 2;
  CHECK(antithetic == 16);
  // The resolved config holds the defaults that were not written (and re-parses).
  std::ifstream in(tmp.path / "run" / "config.resolved.ini");
  std::stringstream ss;
  ss << in.rdbuf();
  CHECK(ss.str().find("variance = auto") != std::string::npos);
  CHECK_NOTHROW(parse_spec(Config::from_string(ss.str(), "resolved.ini")));
}

TEST_CASE("records do not depend on the batch size or the thread count", "[harness][determinism]") {
  TempDir tmp;
  const auto data = write_synthetic_dataset(tmp.path);
  auto a = run(Config::from_string(base_config(data), "t.ini"), tmp.path / "a");
  auto cfg_b = Config::from_string(base_config(data), "t.ini");
  cfg_b.set("benchmark.batch_size=2");
  cfg_b.set("benchmark.threads=1");
  auto b = run(cfg_b, tmp.path / "b");
  REQUIRE(a.records.size() == b.records.size());
  for (size_t i = 0; i < a.records.size(); ++i) {
    INFO(a.records[i].cell << " item " << a.records[i].item << " group " << a.records[i].group);
    CHECK(a.records[i].group == b.records[i].group);
    for (const auto& [name, v] : a.records[i].metrics) CHECK(v == b.records[i].metrics.at(name));
  }
}

TEST_CASE("an existing run is refused unless resumed, and resume completes it", "[harness][resume]") {
  TempDir tmp;
  const auto data = write_synthetic_dataset(tmp.path);
  auto full = run(Config::from_string(base_config(data), "t.ini"), tmp.path / "full");
  // Simulate a killed run: keep the header and the first 10 records.
  fs::create_directories(tmp.path / "part");
  fs::copy_file(tmp.path / "full" / "config.resolved.ini", tmp.path / "part" / "config.resolved.ini");
  {
    std::ifstream in(tmp.path / "full" / "records.csv");
    std::ofstream out(tmp.path / "part" / "records.csv");
    std::string line;
    for (int i = 0; i < 11 && std::getline(in, line); ++i) out << line << "\n";
    out << "inpaint/dps/iid,inpaint,dps";  // a truncated line, as a kill mid-write leaves
  }
  CHECK_THROWS_WITH(run(Config::from_string(base_config(data), "t.ini"), tmp.path / "part"),
                    Catch::Contains("--resume"));
  auto resumed = run(Config::from_string(base_config(data), "t.ini"), tmp.path / "part", true);
  CHECK(resumed.solved_samples == 22);
  auto all = read_records((tmp.path / "part" / "records.csv").string());
  REQUIRE(all.size() == full.records.size());
  for (size_t i = 0; i < all.size(); ++i)
    for (const auto& [name, v] : full.records[i].metrics) CHECK(all[i].metrics.at(name) == v);
}

TEST_CASE("bad configurations are refused before anything runs", "[harness][errors]") {
  TempDir tmp;
  const auto data = write_synthetic_dataset(tmp.path);
  auto expect_error = [&](const std::string& ini, const std::string& needle, const std::string& set = "") {
    auto attempt = [&] {
      auto cfg = Config::from_string(ini, "bad.ini");
      if (!set.empty()) cfg.set(set);
      run(cfg, tmp.path / "bad");
    };
    INFO(needle);
    CHECK_THROWS_WITH(attempt(), Catch::Contains(needle));
    CHECK_FALSE(fs::exists(tmp.path / "bad" / "records.csv"));
  };
  expect_error(base_config(data) + "[solver.dps]\n", "appears twice");
  expect_error(base_config(data) + "[noise.iid]\nk = 3\n", "bad.ini:26: unknown key 'k' in [noise.iid]");
  expect_error(base_config(data), "unknown key 'stepz'", "solver.dps.stepz=3");
  expect_error(base_config(data), "not a multiple of design 'antithetic'", "benchmark.samples_per_item=3");
  expect_error(base_config(data), "unknown solver 'nosuch_solver'", "benchmark.solvers=nosuch_solver");
  expect_error(base_config(data), "DdpmChainOptions::steps = 0", "solver.dps.steps=0");
  expect_error(base_config(tmp.path.string() + "/missing.h5"), "missing.h5");
  expect_error(base_config(data), "superres", "operator.superres.factor=3");
  expect_error(base_config(data), "the dataset holds 4 images", "benchmark.items=9");
}

TEST_CASE("configured but unselected components are noted, not errors", "[harness][config]") {
  auto cfg = Config::from_string(
      "[benchmark]\noperators = inpaint\n[operator.inpaint]\n[operator.superres]\nfactor = 2\n"
      "[solver.dps@superres]\nzeta = 1\n[operatr.typo]\nx = 1\n",
      "t.ini");
  Spec spec = parse_spec(cfg);
  CHECK(spec.operators.size() == 1);
  std::string dummy;
  cfg.section("prior").read("type", dummy);
  CHECK_THROWS_WITH(cfg.check_all_used(), Catch::Contains("unknown section [operatr.typo]") &&
                                              !Catch::Contains("operator.superres"));
}

namespace {
// A prior that fails (NaN) for odd batch positions: the failure must be recorded, not fatal.
class NanForOddSamples : public Denoiser {
 public:
  explicit NanForOddSamples(std::vector<int64_t> shape) : shape_(std::move(shape)) {}
  Prediction predict(const torch::Tensor& x, const torch::Tensor&) const override {
    auto odd = (torch::arange(x.size(0), x.options()).remainder(2) == 1).view({-1, 1, 1, 1});
    return {torch::where(odd, torch::full_like(x, NAN), 0.5 * x), {}};
  }
  std::vector<int64_t> image_shape() const override { return shape_; }
  std::string describe() const override { return "nan for odd samples"; }

 private:
  std::vector<int64_t> shape_;
};
}  // namespace

TEST_CASE("NaN from a prior is recorded per sample and the run continues", "[harness][errors]") {
  register_builtins();
  if (!prior_registry().contains("test_nan"))
    prior_registry().add("test_nan", {{"test_nan", "test prior", {}}, [](const Section&, const PriorContext& pc) {
                                        return std::make_shared<NanForOddSamples>(pc.image_shape);
                                      }});
  TempDir tmp;
  auto cfg = Config::from_string(base_config(write_synthetic_dataset(tmp.path)), "t.ini");
  cfg.set("prior.type=test_nan");
  cfg.ignore_section("prior");
  auto out = run(cfg, tmp.path / "nan");
  REQUIRE(out.records.size() == 32);
  int failed = 0;
  for (const auto& r : out.records) {
    if (r.status == "non_finite") {
      ++failed;
      CHECK(std::isnan(r.metrics.at("l1")));
    } else {
      CHECK(std::isfinite(r.metrics.at("l1")));
    }
  }
  CHECK(failed == 16);
  std::map<std::string, int> per_cell;
  for (const auto& r : out.records) per_cell[r.cell] += r.status != "ok";
  for (const auto& [cell, n] : per_cell) CHECK(n == 4);  // 2 items x 4 samples, half fail
}

TEST_CASE("every shipped benchmark config parses and validates", "[harness][config]") {
  int n = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(IPBENCH_SOURCE_DIR) / "configs")) {
    if (entry.path().extension() != ".ini") continue;
    INFO(entry.path().string());
    auto cfg = Config::from_file(entry.path().string());
    if (!cfg.has_section("benchmark")) continue;  // train / distill / quality configs have their own tests
    // A config of a Python solver parses only with its class registered (ipbench.run(..., solvers=[...]));
    // python/tests run it.
    if (entry.path().filename().string().rfind("python-", 0) == 0) continue;
    CHECK_NOTHROW(parse_spec(cfg));
    ++n;
  }
  CHECK(n >= 1);
}

namespace {

RunOutcome run_shard(const std::string& config_text, const fs::path& out, const std::string& shard, bool resume = false) {
  const Config cfg = Config::from_string(config_text, "t.ini");
  RunOptions ro;
  ro.out_dir = out.string();
  ro.progress = false;
  ro.resume = resume;
  ro.shard = Shard::parse(shard);
  return run_benchmark(parse_spec(cfg), ro);
}

// Every field but the wall time.
void require_same_records(const std::vector<Record>& a, const std::vector<Record>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("record " << i << ": " << a[i].cell << " item " << a[i].item << " group " << a[i].group);
    CHECK(a[i].cell == b[i].cell);
    CHECK(a[i].item == b[i].item);
    CHECK(a[i].group == b[i].group);
    CHECK(a[i].member == b[i].member);
    CHECK(a[i].nfe == b[i].nfe);
    CHECK(a[i].status == b[i].status);
    CHECK(a[i].metrics == b[i].metrics);
  }
}

}  // namespace

TEST_CASE("harness: sharded runs merge into exactly the records of the unsharded run", "[harness][shard]") {
  TempDir tmp;
  const std::string config = base_config(write_synthetic_dataset(tmp.path));
  const auto full = run(Config::from_string(config, "t.ini"), tmp.path / "full");
  std::vector<std::string> shards;
  size_t total = 0;
  for (int i = 0; i < 3; ++i) {
    const fs::path dir = tmp.path / ("shard" + std::to_string(i));
    const auto part = run_shard(config, dir, std::to_string(i) + "/3");
    // 4 cells x 2 items = 8 units, round-robin: shard 0 gets units 0, 3, 6; 1 gets 1, 4, 7; 2 gets 2, 5.
    CHECK(part.records.size() == (i < 2 ? 3u : 2u) * 4);
    std::ifstream shard_file(dir / "shard");
    std::string text;
    std::getline(shard_file, text);
    CHECK(text == std::to_string(i) + "/3");
    total += part.records.size();
    shards.push_back(dir.string());
  }
  CHECK(total == full.records.size());
  // Given in any order.
  std::swap(shards[0], shards[2]);
  const MergeOutcome merged = merge_runs(shards, (tmp.path / "merged").string());
  CHECK(merged.shards == 3);
  CHECK(merged.shard_count == 3);
  require_same_records(merged.records, full.records);
  require_same_records(read_records((tmp.path / "merged" / "records.csv").string()), full.records);
  std::ifstream a(tmp.path / "full" / "config.resolved.ini"), b(tmp.path / "merged" / "config.resolved.ini");
  std::stringstream sa, sb;
  sa << a.rdbuf();
  sb << b.rdbuf();
  CHECK(sa.str() == sb.str());
  // Shards of one configuration share its run id; the merged folder's rows carry it.
  const std::string id = RunFolder::open((tmp.path / "full").string()).run_id();
  CHECK(id.size() == 16);
  for (const std::string& s : shards) CHECK(RunFolder::open(s).run_id() == id);
  const RecordTable merged_table = read_record_table((tmp.path / "merged" / "records.csv").string());
  CHECK(merged_table.has_run_id);
  for (const std::string& r : merged_table.run_ids) CHECK(r == id);
  CHECK(RunFolder::open((tmp.path / "merged").string()).read_records().size() == full.records.size());
  // A shard resumes only as the same shard.
  CHECK_THROWS_WITH(run_shard(config, tmp.path / "shard1", "2/3", true), Catch::Contains("holds shard 1/3"));
  CHECK(run_shard(config, tmp.path / "shard1", "1/3", true).solved_samples == 0);
}

TEST_CASE("harness: merge refuses mismatched, duplicate, missing and unfinished shards", "[harness][shard][errors]") {
  TempDir tmp;
  const std::string config = base_config(write_synthetic_dataset(tmp.path));
  const std::string s0 = (tmp.path / "s0").string(), s1 = (tmp.path / "s1").string();
  run_shard(config, s0, "0/2");
  run_shard(config, s1, "1/2");
  const std::string out = (tmp.path / "m").string();
  CHECK_THROWS_WITH(merge_runs({s0}, out), Catch::Contains("1/2 missing"));
  CHECK_THROWS_WITH(merge_runs({s0, s0}, out), Catch::Contains("given twice"));
  CHECK_THROWS_WITH(merge_runs({s0, (tmp.path / "full").string()}, out), Catch::Contains("not a folder"));
  // Another configuration.
  const std::string other = (tmp.path / "other").string();
  std::string changed = config;
  changed.replace(changed.find("zeta = 0.5"), 10, "zeta = 0.4");
  run_shard(changed, other, "1/2");
  CHECK_THROWS_WITH(merge_runs({s0, other}, out), Catch::Contains("differs"));
  // Another split.
  const std::string third = (tmp.path / "third").string();
  run_shard(config, third, "1/3");
  CHECK_THROWS_WITH(merge_runs({s0, third}, out), Catch::Contains("the same way"));
  // An unfinished shard: drop its last record.
  const std::string cut = (tmp.path / "cut").string();
  fs::create_directories(cut);
  for (const char* f : {"config.resolved.ini", "shard"}) fs::copy_file(fs::path(s1) / f, fs::path(cut) / f);
  {
    std::ifstream in(fs::path(s1) / "records.csv");
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    std::ofstream o(fs::path(cut) / "records.csv");
    for (size_t i = 0; i + 1 < lines.size(); ++i) o << lines[i] << "\n";
  }
  CHECK_THROWS_WITH(merge_runs({s0, cut}, out), Catch::Contains("did not finish"));
  CHECK(merge_runs({s0, cut}, out, true).records.size() == 31);
  // The output folder now holds a run.
  CHECK_THROWS_WITH(merge_runs({s0, s1}, out), Catch::Contains("already holds a run"));
  // Shard specs.
  CHECK_THROWS_WITH(Shard::parse("2/2"), Catch::Contains("0 <= i < n"));
  CHECK_THROWS_WITH(Shard::parse("a/2"), Catch::Contains("expected i/n"));
  CHECK_THROWS_WITH(Shard::parse("1"), Catch::Contains("expected i/n"));
  CHECK(Shard::parse("3/8").str() == "3/8");
}

TEST_CASE("a records file of another layout is refused naming the column, never read shifted", "[harness][errors]") {
  TempDir tmp;
  const auto good = tmp.path / "good.csv";
  std::ofstream(good) << "cell,operator,solver,design,group_size,item,group,member,l1,psnr,nfe,seconds,status,run_id\n"
                         "a/b/c,a,b,c,1,0,0,0,0.1,20,5,0.01,ok,0123456789abcdef\n";
  const RecordTable t = read_record_table(good.string());
  CHECK(t.metrics == std::vector<std::string>{"l1", "psnr"});
  CHECK(t.has_run_id);
  // An older layout without the nfe column: its psnr column would have been read as nfe.
  const auto old = tmp.path / "old.csv";
  std::ofstream(old) << "cell,operator,solver,design,group_size,item,group,member,l1,psnr,seconds,status\n"
                        "a/b/c,a,b,c,1,0,0,0,0.1,20,0.01,ok\n";
  CHECK_THROWS_WITH(read_record_table(old.string()),
                    Catch::Contains("column 10 is 'psnr' where this version of ipbench writes 'nfe'") &&
                        Catch::Contains("scripts/ci-gate.sh --record"));
  const auto renamed = tmp.path / "renamed.csv";
  std::ofstream(renamed) << "cell,op,solver,design,group_size,item,group,member,l1,nfe,seconds,status\n";
  CHECK_THROWS_WITH(read_record_table(renamed.string()), Catch::Contains("column 2 is 'op'"));
}
