// Fault injection on the run folder (harness/run_folder.h): kills inside a coupled group, torn lines, a
// full disk on records and on reconstructions, a second writer, solver exceptions. Every scenario ends
// with records equal to an uninterrupted run's (every column but seconds), nothing lost or duplicated.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "core/rng.h"
#include "datasets/dataset.h"
#include "harness/merge.h"
#include "harness/records.h"
#include "harness/run_folder.h"
#include "harness/runner.h"
#include "harness/spec.h"
#include "error_message.h"
#include "synthetic_run.h"
#include "temp_dir.h"

using namespace ipbench;
namespace fs = std::filesystem;

namespace {

using testing::TempDir;

std::string write_data(const fs::path& dir) { return testing::write_synthetic_dataset(dir, 2, 78); }

// 2 cells (iid, antithetic) x 2 items x 6 samples; batches of 4 samples and a last one of 2.
std::string tiny_config(const std::string& data, const std::string& prior = "gaussian") {
  return "[benchmark]\nname = f\nitems = 2\nsamples_per_item = 6\nbatch_size = 4\noperators = inpaint\n"
         "solvers = dps\ndesigns = iid, antithetic\nmetrics = l1, psnr\ndevice = cpu\nthreads = 1\n"
         "[dataset]\nsource = " + data + "\npad_to = 0\n[prior]\ntype = " + prior +
         (prior == "gaussian" ? "\nmean = 0\nvariance = 0.3\n" : "\n") +
         "[operator.inpaint]\n[solver.dps]\nsteps = 4\nzeta = 0.5\n";
}

RunOutcome run(const std::string& ini, const fs::path& out, bool resume = false, const std::string& set = "") {
  return testing::run_config_text(ini, out, resume, set);
}

std::vector<std::string> lines_of(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// A copy of `from` whose records.csv keeps the header, `keep` whole record lines and then `tail` (no newline).
void killed_copy(const fs::path& from, const fs::path& to, size_t keep, const std::string& tail = "") {
  fs::create_directories(to);
  fs::copy_file(from / "config.resolved.ini", to / "config.resolved.ini");
  const auto lines = lines_of(from / "records.csv");
  std::ofstream out(to / "records.csv");
  for (size_t i = 0; i <= keep; ++i) out << lines[i] << "\n";
  out << tail;
}

bool same_value(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

// Every column but seconds equal, in order; no sample twice.
void require_same_records(const fs::path& dir, const fs::path& reference) {
  const auto a = read_records((dir / "records.csv").string());
  const auto b = read_records((reference / "records.csv").string());
  REQUIRE(a.size() == b.size());
  std::set<std::tuple<std::string, int64_t, int64_t, int64_t>> keys;
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("record " << i << ": " << a[i].cell << " item " << a[i].item << " group " << a[i].group << " member "
                   << a[i].member);
    CHECK(keys.insert({a[i].cell, a[i].item, a[i].group, a[i].member}).second);
    CHECK(a[i].cell == b[i].cell);
    CHECK(a[i].item == b[i].item);
    CHECK(a[i].group == b[i].group);
    CHECK(a[i].member == b[i].member);
    CHECK(a[i].nfe == b[i].nfe);
    CHECK(a[i].status == b[i].status);
    REQUIRE(a[i].metrics.size() == b[i].metrics.size());
    for (const auto& [name, v] : b[i].metrics) CHECK(same_value(a[i].metrics.at(name), v));
  }
}

// 0.5 x, but a c10::Error (a model failure, not a user error) for a batch of 2 samples.
class ThrowsOnPairs : public Denoiser {
 public:
  explicit ThrowsOnPairs(std::vector<int64_t> shape) : shape_(std::move(shape)) {}
  Prediction predict(const torch::Tensor& x, const torch::Tensor&) const override {
    TORCH_CHECK(x.size(0) != 2, "injected model failure, \"quoted\"\nsecond line");
    return {0.5 * x, {}};
  }
  std::vector<int64_t> image_shape() const override { return shape_; }
  std::string describe() const override { return "throws on pairs"; }

 private:
  std::vector<int64_t> shape_;
};

// An ipbench::Error from the prior: a user error, which stops the run.
class UserErrorPrior : public ThrowsOnPairs {
 public:
  using ThrowsOnPairs::ThrowsOnPairs;
  Prediction predict(const torch::Tensor&, const torch::Tensor&) const override {
    throw Error("config [prior]: injected user error");
  }
};

void register_test_priors() {
  register_builtins();
  if (!prior_registry().contains("test_throws_on_pairs"))
    prior_registry().add("test_throws_on_pairs",
                         {{"test_throws_on_pairs", "test prior", {}}, [](const Section&, const PriorContext& pc) {
                            return std::make_shared<ThrowsOnPairs>(pc.image_shape);
                          }});
  if (!prior_registry().contains("test_user_error"))
    prior_registry().add("test_user_error", {{"test_user_error", "test prior", {}},
                                             [](const Section&, const PriorContext& pc) {
                                               return std::make_shared<UserErrorPrior>(pc.image_shape);
                                             }});
}

}  // namespace

TEST_CASE("faults: a kill inside a coupled group is repaired on resume, never duplicated", "[faults]") {
  TempDir tmp;
  const std::string ini = tiny_config(write_data(tmp.path));
  const auto ref = run(ini, tmp.path / "ref");
  REQUIRE(ref.records.size() == 24);
  // 12 iid records, then member 0 of the first antithetic group: the kill fell between the pair's rows.
  killed_copy(tmp.path / "ref", tmp.path / "killed", 13);
  CHECK_THROWS_WITH(run(ini, tmp.path / "killed"), Catch::Contains("--resume"));
  const auto resumed = run(ini, tmp.path / "killed", true);
  CHECK(resumed.solved_samples == 12);  // the torn pair is solved again, with the rest
  require_same_records(tmp.path / "killed", tmp.path / "ref");
  // Resuming a finished run solves nothing and changes nothing.
  CHECK(run(ini, tmp.path / "killed", true).solved_samples == 0);
  require_same_records(tmp.path / "killed", tmp.path / "ref");
}

TEST_CASE("records carry the run id; rows of another run or configuration are refused, naming the line",
          "[faults][run_id]") {
  TempDir tmp;
  const std::string ini = tiny_config(write_data(tmp.path));
  run(ini, tmp.path / "a");
  std::string changed = ini;
  changed.replace(changed.find("zeta = 0.5"), 10, "zeta = 0.4");
  run(changed, tmp.path / "b");
  const RunFolder a = RunFolder::open((tmp.path / "a").string()), b = RunFolder::open((tmp.path / "b").string());
  CHECK(a.run_id() == run_id_of(a.resolved_config_text()));
  CHECK(a.run_id() != b.run_id());
  const auto la = lines_of(tmp.path / "a" / "records.csv"), lb = lines_of(tmp.path / "b" / "records.csv");
  CHECK(la[0].substr(la[0].size() - 7) == ",run_id");
  CHECK(la[1].substr(la[1].size() - 17) == "," + a.run_id());
  CHECK(a.read_records().size() == 24);
  // A row of run b appended to run a's records (same cell and columns, another configuration): line 26.
  { std::ofstream(tmp.path / "a" / "records.csv", std::ios::app) << lb[5] << "\n"; }
  const std::string msg = testing::error_message([&] { a.read_records(); });
  CHECK_THAT(msg, Catch::Contains("records.csv line 26: run id " + b.run_id() + " is not this run's " + a.run_id()));
  // A resume of run a refuses it too, and a hand-made row with a made-up id likewise.
  CHECK_THROWS_WITH(run(ini, tmp.path / "a", true), Catch::Contains("line 26: run id"));
  killed_copy(tmp.path / "b", tmp.path / "c", 24, lb[3].substr(0, lb[3].size() - 16) + "0123456789abcdef\n");
  CHECK_THROWS_WITH(RunFolder::open((tmp.path / "c").string()).read_records(),
                    Catch::Contains("line 26: run id 0123456789abcdef is not this run's " + b.run_id()));
  // Records written before the column existed (no run_id) are read unchecked and resumed without it.
  fs::create_directories(tmp.path / "old");
  fs::copy_file(tmp.path / "b" / "config.resolved.ini", tmp.path / "old" / "config.resolved.ini");
  {
    std::ofstream out(tmp.path / "old" / "records.csv");
    for (size_t i = 0; i < 13; ++i) out << (i == 0 ? lb[i].substr(0, lb[i].size() - 7) : lb[i].substr(0, lb[i].size() - 17)) << "\n";
  }
  CHECK(RunFolder::open((tmp.path / "old").string()).read_records().size() == 12);
  CHECK(run(changed, tmp.path / "old", true).solved_samples == 12);
  const auto lo = lines_of(tmp.path / "old" / "records.csv");
  CHECK(lo.size() == 25);
  CHECK(lo[0].find("run_id") == std::string::npos);
  CHECK(RunFolder::open((tmp.path / "old").string()).read_records().size() == 24);
}

TEST_CASE("faults: torn last lines are dropped and solved again", "[faults]") {
  TempDir tmp;
  const std::string ini = tiny_config(write_data(tmp.path));
  run(ini, tmp.path / "ref");
  const auto lines = lines_of(tmp.path / "ref" / "records.csv");
  SECTION("a few bytes of a line") { killed_copy(tmp.path / "ref", tmp.path / "torn", 5, "inpaint/dps/iid,inp"); }
  SECTION("a line cut before its last character: every field present, the status cut") {
    killed_copy(tmp.path / "ref", tmp.path / "torn", 5, lines[6].substr(0, lines[6].size() - 1));
  }
  SECTION("the second row of an antithetic pair cut") {
    killed_copy(tmp.path / "ref", tmp.path / "torn", 13, lines[14].substr(0, 20));
  }
  run(ini, tmp.path / "torn", true);
  require_same_records(tmp.path / "torn", tmp.path / "ref");
  const auto text = lines_of(tmp.path / "torn" / "records.csv");
  CHECK(text.size() == 25);
}

TEST_CASE("faults: a full disk while appending records", "[faults]") {
  TempDir tmp;
  const std::string ini = tiny_config(write_data(tmp.path));
  run(ini, tmp.path / "ref");
  killed_copy(tmp.path / "ref", tmp.path / "full", 4);
  // The next batch writes 70 bytes of its rows, then the disk is full: the run stops with an error.
  run_folder_faults().records_bytes_left = 70;
  CHECK_THROWS_WITH(run(ini, tmp.path / "full", true), Catch::Contains("disk full"));
  CHECK(run_folder_faults().records_bytes_left == -1);
  run(ini, tmp.path / "full", true);
  require_same_records(tmp.path / "full", tmp.path / "ref");
}

TEST_CASE("faults: a full disk while writing reconstructions; a corrupt batch file is redone", "[faults]") {
  TempDir tmp;
  const std::string ini = tiny_config(write_data(tmp.path));
  const std::string save = "benchmark.save_reconstructions=true";
  run(ini, tmp.path / "ref", false, save);
  const fs::path cell = tmp.path / "run" / "reconstructions" / "inpaint" / "dps" / "iid";
  // The first batch's file cannot be written: nothing is committed and no record of it is written.
  run_folder_faults().fail_reconstruction = true;
  CHECK_THROWS_WITH(run(ini, tmp.path / "run", false, save), Catch::Contains("disk full"));
  CHECK_FALSE(fs::exists(cell / "item0_s0.h5"));
  // The run failed before its first record: a rerun may reuse the folder without --resume.
  run(ini, tmp.path / "run", false, save);
  require_same_records(tmp.path / "run", tmp.path / "ref");
  // A corrupt (truncated) committed file: resume solves that batch again and rewrites it, records unchanged.
  const auto good_size = fs::file_size(cell / "item1_s4.h5");
  fs::resize_file(cell / "item1_s4.h5", 100);
  fs::remove(cell / "item0_s0.h5");
  const auto again = run(ini, tmp.path / "run", true, save);
  CHECK(again.solved_samples == 0);
  CHECK(fs::file_size(cell / "item1_s4.h5") == good_size);
  CHECK(read_dataset((cell / "item0_s0.h5").string()).images.size(0) == 4);
  require_same_records(tmp.path / "run", tmp.path / "ref");
  for (const auto& f : fs::recursive_directory_iterator(tmp.path / "run" / "reconstructions"))
    if (f.is_regular_file()) CHECK(f.path().extension() == ".h5");  // no temporary left behind
}

TEST_CASE("faults: a second writer is refused naming the holder's pid", "[faults]") {
  TempDir tmp;
  const std::string ini = tiny_config(write_data(tmp.path));
  const std::string dir = (tmp.path / "run").string();
  {
    RunFolder holder = RunFolder::open_for_writing(dir);
    const std::string pid = "pid " + std::to_string(::getpid());
    CHECK_THROWS_WITH(RunFolder::open_for_writing(dir), Catch::Contains(pid) && Catch::Contains("another process"));
    CHECK_THROWS_WITH(run(ini, dir), Catch::Contains(pid));
    CHECK_THROWS_WITH(run(ini, dir, true), Catch::Contains(pid));
    CHECK_FALSE(fs::exists(fs::path(dir) / "records.csv"));
  }
  run(ini, tmp.path / "ref");
  run(ini, dir);  // the lock was released with its holder
  require_same_records(dir, tmp.path / "ref");
  CHECK(RunFolder::open(dir).read_records().size() == 24);
}

TEST_CASE("faults: a solver exception is recorded for its batch and the run goes on; resume after it",
          "[faults]") {
  register_test_priors();
  TempDir tmp;
  const std::string ini = tiny_config(write_data(tmp.path), "test_throws_on_pairs");
  const auto ref = run(ini, tmp.path / "ref");
  REQUIRE(ref.records.size() == 24);
  CHECK(ref.failed_batches == 4);  // the batch of 2 samples of each (cell, item)
  int errors = 0;
  for (const Record& r : ref.records) {
    if (r.status == "ok") {
      CHECK(std::isfinite(r.metrics.at("l1")));
      continue;
    }
    ++errors;
    CHECK(r.status.rfind("error:", 0) == 0);
    CHECK(r.status.find("injected model failure") != std::string::npos);
    CHECK(r.status.find_first_of(",\"\n") == std::string::npos);
    CHECK(std::isnan(r.metrics.at("psnr")));
  }
  CHECK(errors == 8);
  // Killed after the first failed batch and its successor's first rows: resume gives the same records.
  killed_copy(tmp.path / "ref", tmp.path / "killed", 7, "inpaint/dps/iid,inpaint,dps,iid,1,1,");
  run(ini, tmp.path / "killed", true);
  require_same_records(tmp.path / "killed", tmp.path / "ref");
  // A user error (ipbench::Error) still stops the run, and leaves a folder a rerun can reuse.
  CHECK_THROWS_WITH(run(tiny_config(write_data(tmp.path), "test_user_error"), tmp.path / "user"),
                    Catch::Contains("injected user error"));
  run(ini, tmp.path / "user");
  require_same_records(tmp.path / "user", tmp.path / "ref");
}

TEST_CASE("faults: resume and merge with another configuration name every changed key", "[faults][config]") {
  TempDir tmp;
  const std::string ini = tiny_config(write_data(tmp.path));
  run(ini, tmp.path / "run");
  auto changed = [&](const std::string& a, const std::string& b) {
    std::string s = ini;
    s.replace(s.find(a), a.size(), b);
    return s;
  };
  CHECK_THROWS_WITH(run(changed("zeta = 0.5", "zeta = 0.4"), tmp.path / "run", true,
                        "benchmark.seed=3"),
                    Catch::Contains("[solver.dps] zeta: 0.5 -> 0.4") && Catch::Contains("[benchmark] seed: 0 -> 3"));
  RunOptions ro;
  ro.progress = false;
  ro.out_dir = (tmp.path / "s0").string();
  ro.shard = Shard::parse("0/2");
  run_benchmark(parse_spec(Config::from_string(ini, "f.ini")), ro);
  ro.out_dir = (tmp.path / "s1").string();
  ro.shard = Shard::parse("1/2");
  run_benchmark(parse_spec(Config::from_string(changed("steps = 4", "steps = 3"), "f.ini")), ro);
  CHECK_THROWS_WITH(merge_runs({(tmp.path / "s0").string(), (tmp.path / "s1").string()}, (tmp.path / "m").string()),
                    Catch::Contains("[solver.dps] steps: 4 -> 3"));
}
