// Batches across items in the runner (issue 17, harness/batching.h): with [benchmark] max_batch the
// run folder's records (as text, every column but seconds) and reconstructions are those of per-item
// batching, through resume, sharding and out-of-memory splits.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "harness/batching.h"
#include "harness/devices.h"
#include "harness/merge.h"
#include "harness/run_folder.h"
#include "harness/runner.h"
#include "harness/spec.h"
#include "solvers/dps.h"
#include "synthetic_run.h"
#include "temp_dir.h"

using namespace ipbench;
namespace fs = std::filesystem;

namespace {

using testing::TempDir;

// 3 items x 4 samples; iid (K = 1), antithetic (K = 2), rqmc (K = 2). With max_batch = 6 a batch holds
// 6 iid groups or 3 coupled groups: every cell has batches spanning two items and pieces cut in two.
std::string config(const std::string& data, const std::string& solver, const std::string& prior) {
  const std::string prior_section = prior == "gaussian" ? "[prior]\ntype = gaussian\nmean = 0\nvariance = 0.3\n"
                                                        : "[prior]\ntype = empirical\ndata = " + data + "\n";
  return "[benchmark]\nname = x\nitems = 3\nsamples_per_item = 4\noperators = inpaint\nsolvers = " + solver +
         "\ndesigns = iid, antithetic, rqmc\nmetrics = l1, psnr, ssim\ndevice = cpu\nthreads = 1\n"
         "save_reconstructions = true\n[dataset]\nsource = " + data + "\npad_to = 0\n" + prior_section +
         "[operator.inpaint]\n[solver.dps]\nsteps = 5\nzeta = 0.5\n[solver.dds]\nsteps = 5\n"
         "[solver.dps_edm]\nsteps = 5\nzeta = 0.5\n[solver.euler_ancestral]\nsteps = 5\n"
         "[solver.ddpm]\nsteps = 5\n[solver.ddim]\nsteps = 5\n"
         "[solver.pigdm]\nsteps = 5\n[solver.diffpir]\nsteps = 5\n[solver.reddiff]\nsteps = 5\n"
         "[solver.pnpdm]\niterations = 3\nedm_steps = 4\n"
         "[solver.pnpdm_langevin]\ntype = pnpdm\niterations = 3\nedm_steps = 4\nlikelihood = langevin\n"
         "langevin_steps = 3\n[solver.daps]\nannealing_steps = 3\node_steps = 2\n"
         "langevin_steps = 3\n[solver.ddrm]\nsteps = 5\n[solver.ddnm]\nsteps = 5\n"
         "[solver.ddnm_plain]\ntype = ddnm\nsteps = 5\nvariant = simplified\n"
         "[solver.ddsmc]\nparticles = 3\nsteps = 4\n[solver.enkg]\nensemble = 3\nsteps = 4\nthreshold = 0\n"
         "[solver.lgd]\nsteps = 5\nzeta = 0.5\nmc_samples = 3\n"
         "[solver.cm_dps]\nsteps = 5\nzeta = 0.5\nconsistency = gaussian\n"
         "[solver.cm_inversion]\nsteps = 5\nts = 0, 2, 4\niterations = 3\nconsistency = gaussian\n"
         "[solver.cm_sample]\nsteps = 5\nts = 0, 2, 4\nconsistency = gaussian\n"
         "[noise.rqmc]\nm = 1\ns = 4\n";
}

RunOutcome run(const std::string& ini, const fs::path& out, const std::string& set = "", bool resume = false,
               Shard shard = {}) {
  return testing::run_config_text(ini, out, resume, set, shard);
}

// records.csv as text without the seconds and run_id columns (the run id hashes the config, which
// differs in max_batch).
std::vector<std::string> records_text(const fs::path& dir) {
  std::ifstream in(dir / "records.csv");
  std::vector<std::string> out;
  int seconds = -1, run_id = -1;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> fields;
    size_t start = 0;
    for (size_t comma; (comma = line.find(',', start)) != std::string::npos; start = comma + 1)
      fields.push_back(line.substr(start, comma - start));
    fields.push_back(line.substr(start));
    if (out.empty()) {
      for (size_t i = 0; i < fields.size(); ++i) {
        if (fields[i] == "seconds") seconds = static_cast<int>(i);
        else if (fields[i] == "run_id") run_id = static_cast<int>(i);
      }
    }
    std::string kept;
    for (size_t i = 0; i < fields.size(); ++i)
      if (static_cast<int>(i) != seconds && static_cast<int>(i) != run_id) kept += fields[i] + ",";
    out.push_back(kept);
  }
  REQUIRE(seconds >= 0);
  return out;
}

void require_same_records(const fs::path& a, const fs::path& b) {
  const auto ta = records_text(a), tb = records_text(b);
  REQUIRE(ta.size() == tb.size());
  for (size_t i = 0; i < ta.size(); ++i) {
    INFO("line " << i);
    CHECK(ta[i] == tb[i]);
  }
}

void require_same_reconstructions(const fs::path& a, const fs::path& b) {
  const auto ra = RunFolder::open(a.string()), rb = RunFolder::open(b.string());
  for (const std::string design : {"iid", "antithetic", "rqmc"}) {
    const auto sa = ra.read_cell_reconstructions("inpaint", "dps", design);
    const auto sb = rb.read_cell_reconstructions("inpaint", "dps", design);
    REQUIRE(sa.size() == 3);
    REQUIRE(sa.size() == sb.size());
    for (const auto& [item, samples] : sa) {
      REQUIRE(samples.size() == 4);
      for (const auto& [index, image] : samples) CHECK(torch::equal(image, sb.at(item).at(index)));
    }
  }
}

// DPS that declares Requirements::item_batch as told and remembers the largest measurement batch
// (y.size(0)) it was given: 1 unless the harness spanned items.
class ProbeSolver final : public Solver {
 public:
  ProbeSolver(DpsOptions options, bool item_batch) : dps_(std::move(options)), item_batch_(item_batch) {}
  SolveResult solve(const Problem& problem, NoiseStream& noise) const override {
    largest_y() = std::max(largest_y(), problem.y.size(0));
    return dps_.solve(problem, noise);
  }
  Requirements requirements() const override {
    Requirements r;
    r.item_batch = item_batch_;
    return r;
  }
  int64_t nfe_per_sample() const override { return dps_.nfe_per_sample(); }
  std::string describe() const override { return "probe " + dps_.describe(); }
  static int64_t& largest_y() {
    static int64_t n = 0;
    return n;
  }

 private:
  DpsSolver dps_;
  bool item_batch_;
};

// Registers probe_on (item_batch) and probe_off (not) once; returns the config running `name`.
std::string probe_config(const std::string& data, const std::string& name) {
  register_builtin_solvers();
  for (const bool on : {true, false}) {
    const std::string n = on ? "probe_on" : "probe_off";
    Requirements req;
    req.item_batch = on;
    if (!solver_registry().contains(n))
      solver_registry().add(n, {{n, "test probe", describe_options<DpsOptions>()}, req,
                                [on](const Section& s) -> std::unique_ptr<Solver> {
                                  return std::make_unique<ProbeSolver>(read_options<DpsOptions>(s), on);
                                }});
  }
  std::string ini = config(data, "dps", "gaussian");
  ini.replace(ini.find("solvers = dps"), 13, "solvers = " + name);
  return ini + "[solver." + name + "]\nsteps = 5\nzeta = 0.5\n";
}

PlanUnit unit(int64_t item, int64_t groups) {
  PlanUnit u;
  u.item = u.index = item;
  u.item_pos = static_cast<size_t>(item);
  u.groups = groups;
  return u;
}

}  // namespace

TEST_CASE("cross-item: pieces pack into whole-group batches in order, and halve for a retry", "[cross_item]") {
  const std::vector<WorkPiece> pieces{{unit(0, 4), 0, 4}, {unit(1, 4), 1, 4}, {unit(2, 4), 0, 4}};
  // "item:g0-g1 ..." per batch, batches separated by " | ".
  auto shape = [](const std::vector<WorkBatch>& batches) {
    std::string out;
    for (const auto& b : batches) {
      if (!out.empty()) out += " | ";
      for (size_t i = 0; i < b.parts.size(); ++i)
        out += (i ? " " : "") + std::to_string(b.parts[i].unit.item) + ":" + std::to_string(b.parts[i].g0) + "-" +
               std::to_string(b.parts[i].g1);
    }
    return out;
  };
  CHECK(shape(pack_batches(pieces, 5, true)) == "0:0-4 1:1-2 | 1:2-4 2:0-3 | 2:3-4");
  CHECK(shape(pack_batches(pieces, 3, false)) == "0:0-3 | 0:3-4 | 1:1-4 | 2:0-3 | 2:3-4");
  CHECK(shape(pack_batches(pieces, 100, true)) == "0:0-4 1:1-4 2:0-4");
  CHECK_THROWS_AS(pack_batches(pieces, 0, true), Error);
  WorkBatch b;
  b.parts = {{unit(0, 4), 2, 4}, {unit(1, 4), 0, 3}};
  const auto [first, second] = split_batch(b);
  CHECK(shape({first, second}) == "0:2-4 1:0-1 | 1:1-3");
  WorkBatch one;
  one.parts = {{unit(0, 4), 1, 2}};
  CHECK_THROWS_AS(split_batch(one), Error);
  register_builtin_solvers();
  // Every built-in solver is audited and declares it (its records are compared below).
  for (const auto& name : solver_registry().names()) {
    INFO(name);
    CHECK(solver_registry().get(name).requirements.item_batch);
  }
  CHECK(is_out_of_memory(std::runtime_error("CUDA out of memory. Tried to allocate 2.00 GiB")));
  CHECK(is_out_of_memory(std::bad_alloc()));
  CHECK_FALSE(is_out_of_memory(std::runtime_error("shape mismatch")));
}

TEST_CASE("cross-item: every built-in solver's records equal per-item batching (and dps's reconstructions)",
          "[cross_item]") {
  TempDir tmp;
  const auto data = testing::write_synthetic_dataset(tmp.path);
  for (const auto& [solver, prior] : std::vector<std::pair<std::string, std::string>>{
           {"dps", "gaussian"}, {"dds", "gaussian"}, {"dps", "empirical"}, {"dps_edm", "gaussian"},
           {"euler_ancestral", "gaussian"}, {"ddpm", "gaussian"}, {"ddim", "gaussian"},
           // SVD data steps on per-item random masks (operators/item_batch.h's ItemBatchSvd)
           {"pigdm", "gaussian"}, {"diffpir", "gaussian"}, {"reddiff", "gaussian"}, {"pnpdm", "gaussian"},
           {"pnpdm_langevin", "gaussian"}, {"daps", "gaussian"}, {"ddrm", "gaussian"}, {"ddnm", "gaussian"}, {"ddnm_plain", "gaussian"},
           {"ddsmc", "gaussian"},
           // k rows per sample, sample-major (LGD's MC copies, EnKG's members) split by item
           {"lgd", "gaussian"}, {"enkg", "gaussian"},
           // consistency = gaussian: the prior's closed-form flow map
           {"cm_dps", "gaussian"}, {"cm_inversion", "gaussian"}, {"cm_sample", "gaussian"}}) {
    INFO(solver << " with a " << prior << " prior");
    const auto ini = config(data, solver, prior);
    const auto dir = tmp.path / (solver + "_" + prior);
    run(ini, dir / "per_item");
    const auto across = run(ini, dir / "across", "benchmark.max_batch=6");
    CHECK(across.oom_splits == 0);
    require_same_records(dir / "across", dir / "per_item");
    if (solver == "dps") require_same_reconstructions(dir / "across", dir / "per_item");
  }
}

TEST_CASE("cross-item: only a solver declaring Requirements::item_batch gets batches spanning items",
          "[cross_item]") {
  TempDir tmp;
  const auto data = testing::write_synthetic_dataset(tmp.path);
  for (const std::string name : {"probe_off", "probe_on"}) {
    INFO(name);
    const auto ini = probe_config(data, name);
    ProbeSolver::largest_y() = 0;
    run(ini, tmp.path / name / "per_item");
    CHECK(ProbeSolver::largest_y() == 1);
    ProbeSolver::largest_y() = 0;
    run(ini, tmp.path / name / "max_batch", "benchmark.max_batch=6");
    // Without the flag every call holds one item's measurement even with max_batch set; with it a
    // batch of 6 samples spans items (y per sample).
    CHECK(ProbeSolver::largest_y() == (name == "probe_on" ? 6 : 1));
    require_same_records(tmp.path / name / "max_batch", tmp.path / name / "per_item");
  }
}

TEST_CASE("cross-item: resume after a kill inside a batch across items gives the same records", "[cross_item]") {
  TempDir tmp;
  const auto data = testing::write_synthetic_dataset(tmp.path);
  const auto ini = config(data, "dps", "gaussian");
  run(ini, tmp.path / "full", "benchmark.max_batch=6");
  // Keep the iid cell and the antithetic cell's first batch (item 0's 4 records, item 1's first group)
  // plus one member of item 1's second group and a torn line: the repair drops the lone member.
  const size_t keep = 12 + 4 + 2 + 1;
  fs::create_directories(tmp.path / "part");
  fs::copy_file(tmp.path / "full" / "config.resolved.ini", tmp.path / "part" / "config.resolved.ini");
  {
    std::ifstream in(tmp.path / "full" / "records.csv");
    std::ofstream out(tmp.path / "part" / "records.csv");
    std::string line;
    for (size_t i = 0; i <= keep && std::getline(in, line); ++i) out << line << "\n";
    out << "inpaint/dps/antithetic,inpai";
  }
  const auto resumed = run(ini, tmp.path / "part", "benchmark.max_batch=6", true);
  CHECK(resumed.solved_samples == 36 - 18);
  require_same_records(tmp.path / "part", tmp.path / "full");
  run(ini, tmp.path / "per_item");
  require_same_records(tmp.path / "part", tmp.path / "per_item");
}

TEST_CASE("cross-item: shards merged equal the unsharded per-item run", "[cross_item]") {
  TempDir tmp;
  const auto data = testing::write_synthetic_dataset(tmp.path);
  const auto ini = config(data, "dps", "gaussian");
  run(ini, tmp.path / "per_item");
  run(ini, tmp.path / "s0", "benchmark.max_batch=6", false, Shard::parse("0/2"));
  run(ini, tmp.path / "s1", "benchmark.max_batch=6", false, Shard::parse("1/2"));
  merge_runs({(tmp.path / "s0").string(), (tmp.path / "s1").string()}, (tmp.path / "merged").string());
  require_same_records(tmp.path / "merged", tmp.path / "per_item");
}

TEST_CASE("cross-item: a batch out of memory is halved and retried; one group that does not fit is an error",
          "[cross_item]") {
  TempDir tmp;
  const auto data = testing::write_synthetic_dataset(tmp.path);
  const auto ini = config(data, "dps", "gaussian");
  run(ini, tmp.path / "per_item");
  struct Reset {
    ~Reset() { batch_faults().oom_above_samples = -1; }
  } reset;
  batch_faults().oom_above_samples = 2;  // 6-sample batches split to 3 + 3, then 2 + 1 (iid) or 2 + 2 ... (K = 2)
  const auto split = run(ini, tmp.path / "split", "benchmark.max_batch=6");
  CHECK(split.oom_splits > 0);
  CHECK(split.failed_batches == 0);
  require_same_records(tmp.path / "split", tmp.path / "per_item");
  require_same_reconstructions(tmp.path / "split", tmp.path / "per_item");
  // Per-item batching splits too.
  const auto per_item_split = run(ini, tmp.path / "per_item_split");
  CHECK(per_item_split.oom_splits > 0);
  require_same_records(tmp.path / "per_item_split", tmp.path / "per_item");
  // A coupled group of 2 samples cannot be split: its samples are recorded as errors, the run goes on.
  batch_faults().oom_above_samples = 1;
  const auto errors = run(ini, tmp.path / "errors", "benchmark.max_batch=6");
  int64_t ok = 0, oom = 0;
  for (const auto& r : errors.records) {
    ok += r.status == "ok";
    oom += r.status.rfind("error:out of memory", 0) == 0 && r.group_size == 2;
  }
  CHECK(ok == 12);   // the iid cell
  CHECK(oom == 24);  // antithetic and rqmc
}

TEST_CASE("cross-item: max_batch and memory_budget_mib are checked against batch_size, K and the device",
          "[cross_item][errors]") {
  TempDir tmp;
  const auto data = testing::write_synthetic_dataset(tmp.path);
  const auto ini = config(data, "dps", "gaussian");
  auto refused = [&](const std::vector<std::string>& sets, const std::string& needle) {
    Config cfg = Config::from_string(ini, "t.ini");
    for (const auto& set : sets) cfg.set(set);
    INFO(needle);
    CHECK_THROWS_WITH(parse_spec(std::move(cfg)), Catch::Contains(needle));
  };
  refused({"benchmark.max_batch=-1"}, "max_batch >= 0");
  refused({"benchmark.max_batch=1"}, "max_batch = 1 is smaller than design 'antithetic' group size K = 2");
  refused({"benchmark.max_batch=4", "benchmark.batch_size=2"}, "batch_size = 0 when max_batch > 0");
  refused({"benchmark.memory_budget_mib=-5"}, "memory_budget_mib >= 0");
  refused({"benchmark.memory_budget_mib=100", "benchmark.batch_size=2"},
          "batch_size = 0 when memory_budget_mib > 0");
  // device = cpu in this config: only the CUDA allocator measures a batch's peak.
  refused({"benchmark.memory_budget_mib=100"}, "memory_budget_mib needs a CUDA device");
  Config off = Config::from_string(ini, "t.ini");
  off.set("benchmark.memory_budget_mib=0");
  CHECK_NOTHROW(parse_spec(std::move(off)));
}

TEST_CASE("cross-item: --devices names are parsed and refused clearly without CUDA", "[cross_item][devices][errors]") {
  CHECK_THROWS_WITH(parse_cuda_devices("cuda:0,cpu"), Catch::Contains("'cpu' is not a CUDA device"));
  CHECK_THROWS_WITH(parse_cuda_devices("cuda:0,cuda"), Catch::Contains("'cuda' is not a CUDA device"));
  CHECK_THROWS_WITH(parse_cuda_devices("cuda:1,cuda:1"), Catch::Contains("cuda:1 is given twice"));
  CHECK_THROWS_WITH(parse_cuda_devices("cuda:0,,cuda:1"), Catch::Contains("'' is not a CUDA device"));
  CHECK_THROWS_WITH(require_device_per_child("cuda:1"), Catch::Contains("would put every shard on one device"));
  CHECK_THROWS_WITH(require_device_per_child("cpu"), Catch::Contains("device = cpu"));
  CHECK_NOTHROW(require_device_per_child("auto"));
  if (!torch::cuda::is_available()) {
    CHECK_THROWS_WITH(parse_cuda_devices("cuda:0,cuda:1"), Catch::Contains("CUDA is not available"));
  } else {
    const auto n = static_cast<int>(torch::cuda::device_count());
    CHECK(parse_cuda_devices("cuda:0") == std::vector<int>{0});
    CHECK_THROWS_WITH(parse_cuda_devices("cuda:" + std::to_string(n)), Catch::Contains("is absent"));
  }
}

TEST_CASE("cross-item: memory_budget_mib sizes a cell's batches from its probe group's peak", "[cross_item]") {
  // 1 MiB over a per-sample peak of 200 KiB: 5 samples, in whole groups.
  const int64_t mib = int64_t{1} << 20, per = 200 << 10;
  CHECK(groups_within_budget(mib, per, 1, 1, 0) == 5);
  CHECK(groups_within_budget(mib, 2 * per, 2, 2, 0) == 2);   // K = 2: 4 samples
  CHECK(groups_within_budget(mib, 2 * per, 2, 2, 1) == 1);   // capped by max_batch
  CHECK(groups_within_budget(mib, 8 * mib, 1, 1, 0) == 1);   // a group larger than the budget: still one
  CHECK(groups_within_budget(mib, 0, 2, 2, 3) == 3);         // nothing measured: the cap
  CHECK_THROWS_AS(groups_within_budget(0, per, 1, 1, 0), Error);

  TempDir tmp;
  const auto data = testing::write_synthetic_dataset(tmp.path);
  struct Reset {
    ~Reset() { batch_faults().peak_bytes_per_sample = -1; }
  } reset;
  batch_faults().peak_bytes_per_sample = per;  // the CUDA allocator's reading, made deterministic
  std::string ini = probe_config(data, "probe_on");
  ini.replace(ini.find("[benchmark]\n"), 12, "[benchmark]\nmemory_budget_mib = 1\n");
  run(ini, tmp.path / "per_item_ref", "benchmark.memory_budget_mib=0");
  ProbeSolver::largest_y() = 0;
  const auto budget = run(ini, tmp.path / "budget");
  // iid: the probe (1 sample), then batches of 5 across items; antithetic and rqmc (K = 2): 4.
  CHECK(ProbeSolver::largest_y() == 5);
  require_same_records(tmp.path / "budget", tmp.path / "per_item_ref");
  REQUIRE(budget.batch_memory.size() == 3);
  const BatchMemory& iid = budget.batch_memory.at("inpaint/probe_on/iid");
  CHECK(iid.probe_samples == 1);
  CHECK(iid.probe_peak_bytes == per);
  CHECK(iid.groups_per_batch == 5);
  CHECK(iid.largest_batch_samples == 5);
  CHECK(iid.largest_peak_bytes == 5 * per);
  const BatchMemory& anti = budget.batch_memory.at("inpaint/probe_on/antithetic");
  CHECK(anti.probe_samples == 2);
  CHECK(anti.groups_per_batch * anti.group_size == 4);
  CHECK_THAT(describe_batch_memory("inpaint/probe_on/iid", iid),
             Catch::Contains("a group of 1 samples peaked at 0.195312 MiB -> batches of 5 samples") &&
                 Catch::Contains("largest measured batch 5 samples"));
  // max_batch caps what the budget allows.
  ProbeSolver::largest_y() = 0;
  run(ini, tmp.path / "capped", "benchmark.max_batch=2");
  CHECK(ProbeSolver::largest_y() == 2);
  require_same_records(tmp.path / "capped", tmp.path / "per_item_ref");
}
