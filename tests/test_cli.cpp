// Tests of the ipbench executable: exit codes and messages for bad input, list, dataset import, and the
// compare gate.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "core/rng.h"
#include "datasets/dataset.h"
#include "datasets/png.h"
#include "harness/devices.h"
#include "temp_dir.h"

namespace fs = std::filesystem;
using namespace ipbench;

namespace {

struct Outcome {
  int code;
  std::string output;  // stdout and stderr
};

Outcome ipbench_cli(const std::string& args) {
  const std::string cmd = std::string(IPBENCH_BINARY) + " " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

using testing::TempDir;

std::string small_config(const std::string& data) {
  return "[benchmark]\nname = cli\nitems = 1\nsamples_per_item = 2\noperators = inpaint\ndevice = cpu\n"
         "[dataset]\nsource = " + data + "\npad_to = 0\n[prior]\ntype = gaussian\nvariance = 0.3\n"
         "[operator.inpaint]\n[solver.dps]\nsteps = 3\n";
}

std::string synthetic_dataset(const TempDir& tmp) {
  Dataset d;
  d.images = (0.5 * torch::tanh(keyed_normal({2, 1, 8, 8}, 3))).to(torch::kFloat);
  const auto path = (tmp.path / "d.h5").string();
  write_dataset(path, d);
  return path;
}

}  // namespace

TEST_CASE("cli: usage and list", "[cli]") {
  CHECK(ipbench_cli("").code == 2);
  CHECK(ipbench_cli("--help").code == 0);
  auto unknown = ipbench_cli("frobnicate");
  CHECK(unknown.code == 2);
  CHECK_THAT(unknown.output, Catch::Contains("unknown command 'frobnicate'"));
  auto list = ipbench_cli("list");
  CHECK(list.code == 0);
  for (const char* name : {"empirical", "gaussian", "inpaint", "gaussian_blur", "superres", "dps", "iid",
                           "antithetic", "l1", "psnr", "ssim", "residual"})
    CHECK_THAT(list.output, Catch::Contains(std::string("  ") + name + " - "));
}

TEST_CASE("cli: a small run succeeds and writes its files", "[cli]") {
  TempDir tmp;
  const auto cfg = tmp.write("ok.ini", small_config(synthetic_dataset(tmp)));
  auto r = ipbench_cli("run --quiet --config " + cfg + " --out " + (tmp.path / "run").string());
  INFO(r.output);
  CHECK(r.code == 0);
  for (const char* f : {"records.csv", "summary.json", "summary.md", "config.resolved.ini"})
    CHECK(fs::exists(tmp.path / "run" / f));
  CHECK_THAT(r.output, Catch::Contains("RE vs iid"));
  // Rerunning into the same folder is refused (nothing is overwritten), summarize re-renders.
  auto again = ipbench_cli("run --quiet --config " + cfg + " --out " + (tmp.path / "run").string());
  CHECK(again.code == 2);
  CHECK_THAT(again.output, Catch::Contains("--resume"));
  CHECK(ipbench_cli("summarize " + (tmp.path / "run").string()).code == 0);
}

TEST_CASE("cli: bad input exits with code 2 and a message naming the problem", "[cli]") {
  TempDir tmp;
  const auto data = synthetic_dataset(tmp);
  const auto base = small_config(data);
  struct Case {
    std::string what, args, needle;
  };
  const std::vector<Case> cases{
      {"missing config", "run --config " + (tmp.path / "none.ini").string(), "cannot be opened"},
      {"unknown key", "run --config " + tmp.write("k.ini", base + "zeta_typo = 1\n"), "unknown key 'zeta_typo'"},
      {"unknown section", "run --config " + tmp.write("s.ini", base + "[solvr.dps]\n"), "unknown section [solvr.dps]"},
      {"odd antithetic", "run --config " + tmp.write("o.ini", base) + " --set benchmark.samples_per_item=3",
       "not a multiple of design 'antithetic'"},
      {"missing dataset", "run --config " + tmp.write("m.ini", small_config((tmp.path / "x.h5").string())), "x.h5"},
      {"corrupt dataset", "run --config " + tmp.write("c.ini", small_config(tmp.write("bad.h5", "not hdf5"))),
       "bad.h5"},
      {"shape an operator cannot take", "run --config " + tmp.write("sh.ini", base) +
                                            " --set benchmark.operators=gaussian_blur"
                                            " --set operator.gaussian_blur.kernel_size=11",
       "kernel_size = 11 does not fit a 8x8 image"},
      {"bad --set", "run --config " + tmp.write("b.ini", base) + " --set nodot", "section.key=value"},
      {"bad import split", "dataset import fashion-mnist --split valid --out " + (tmp.path / "f.h5").string(), "valid"},
      // Never the all-defaults benchmark (hours of DPS) for a config that configures nothing.
      {"config is a directory", "run --config " + tmp.path.string(), "is a directory"},
      {"empty config", "run --config " + tmp.write("empty.ini", ""), "empty.ini' is empty"},
      {"config of comments", "run --config " + tmp.write("comments.ini", "; nothing\n\n"), "has no [section]"},
      {"no [benchmark]", "run --config " + tmp.write("nb.ini", "[solver.dps]\nsteps = 3\n"), "no [benchmark] section"},
      {"non-finite number", "run --config " + tmp.write("inf.ini", base) + " --set solver.dps.zeta=inf", "must be finite"},
      {"nan in a file", "run --config " + tmp.write("nan.ini", base + "zeta = nan\n"), "zeta = 'nan': must be finite"},
  };
  for (const auto& c : cases) {
    auto r = ipbench_cli(c.args);
    INFO(c.what << ": " << r.output);
    CHECK(r.code == 2);
    CHECK_THAT(r.output, Catch::Contains(c.needle));
  }
}

TEST_CASE("cli: a config with a UTF-8 byte order mark runs", "[cli]") {
  TempDir tmp;
  const auto cfg = tmp.write("bom.ini", "\xEF\xBB\xBF" + small_config(synthetic_dataset(tmp)));
  auto r = ipbench_cli("run --quiet --config " + cfg + " --out " + (tmp.path / "run").string());
  INFO(r.output);
  CHECK(r.code == 0);
}

namespace {

// Copies run folder `from` to `to`, adding `delta` to every value of column `metric` in records.csv.
void shifted_copy(const fs::path& from, const fs::path& to, const std::string& metric, double delta) {
  fs::create_directories(to);
  fs::copy_file(from / "config.resolved.ini", to / "config.resolved.ini");
  std::ifstream in(from / "records.csv");
  std::ofstream out(to / "records.csv");
  std::string line;
  std::getline(in, line);
  out << line << "\n";
  std::vector<std::string> header;
  std::stringstream hs(line);
  for (std::string f; std::getline(hs, f, ',');) header.push_back(f);
  const size_t col = std::find(header.begin(), header.end(), metric) - header.begin();
  REQUIRE(col < header.size());
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream ls(line);
    for (std::string f; std::getline(ls, f, ',');) fields.push_back(f);
    fields[col] = std::to_string(std::stod(fields[col]) + delta);
    for (size_t i = 0; i < fields.size(); ++i) out << (i ? "," : "") << fields[i];
    out << "\n";
  }
}

}  // namespace

TEST_CASE("cli: compare passes identical runs, exits 3 on a regression, 2 on incomparable runs", "[cli][compare]") {
  TempDir tmp;
  const auto data = synthetic_dataset(tmp);
  const auto cfg = tmp.write("c.ini", small_config(data));
  const std::string base = (tmp.path / "base").string(), cand = (tmp.path / "cand").string();
  REQUIRE(ipbench_cli("run --quiet --config " + cfg + " --out " + base).code == 0);
  REQUIRE(ipbench_cli("run --quiet --config " + cfg + " --set benchmark.threads=1 --out " + cand).code == 0);

  auto same = ipbench_cli("compare " + base + " " + cand + " --out " + (tmp.path / "c.json").string());
  INFO(same.output);
  CHECK(same.code == 0);
  CHECK_THAT(same.output, Catch::Contains("gate: passed") && Catch::Contains("common random numbers: yes") &&
                              Catch::Contains("[benchmark] threads: 0 -> 1") && Catch::Contains("inpaint/dps/iid"));
  std::ifstream json(tmp.path / "c.json");
  const std::string text((std::istreambuf_iterator<char>(json)), std::istreambuf_iterator<char>());
  CHECK_THAT(text, Catch::Contains("\"passed\": true") && Catch::Contains("\"changes\": ["));

  // Every PSNR 5 dB lower: a regression (exit 3), unless the margin allows it.
  const std::string worse = (tmp.path / "worse").string();
  shifted_copy(base, worse, "psnr", -5.0);
  auto regressed = ipbench_cli("compare " + base + " " + worse);
  INFO(regressed.output);
  CHECK(regressed.code == 3);
  CHECK_THAT(regressed.output, Catch::Contains("gate: FAILED: 1 regressed metric") && Catch::Contains("**regressed**"));
  CHECK(ipbench_cli("compare " + base + " " + worse + " --margin psnr=6").code == 0);
  CHECK(ipbench_cli("compare " + base + " " + worse + " --metrics l1 --quiet").code == 0);

  // Another operator setting: different problems, refused.
  const std::string other = (tmp.path / "other").string();
  REQUIRE(ipbench_cli("run --quiet --config " + cfg + " --set operator.inpaint.sigma_y=0.2 --out " + other).code == 0);
  auto refused = ipbench_cli("compare " + base + " " + other);
  CHECK(refused.code == 2);
  CHECK_THAT(refused.output, Catch::Contains("[operator.inpaint]") && Catch::Contains("sigma_y"));
  // Bad input.
  CHECK_THAT(ipbench_cli("compare " + base + " " + (tmp.path / "none").string()).output,
             Catch::Contains("config.resolved.ini: missing"));
  CHECK(ipbench_cli("compare " + base + " " + cand + " --margin psnr").code == 2);
  CHECK_THAT(ipbench_cli("compare " + base + " " + cand + " --margin psnr=abc").output, Catch::Contains("not a number"));
}

TEST_CASE("cli: run --shard and merge", "[cli][shard]") {
  TempDir tmp;
  const auto cfg = tmp.write("c.ini", small_config(synthetic_dataset(tmp)));
  const std::string s0 = (tmp.path / "s0").string(), s1 = (tmp.path / "s1").string();
  auto first = ipbench_cli("run --quiet --config " + cfg + " --shard 0/2 --out " + s0);
  INFO(first.output);
  CHECK(first.code == 0);
  CHECK_THAT(first.output, Catch::Contains("| shard 0/2"));
  REQUIRE(ipbench_cli("run --quiet --config " + cfg + " --shard 1/2 --out " + s1).code == 0);
  auto merged = ipbench_cli("merge --out " + (tmp.path / "all").string() + " " + s0 + " " + s1);
  INFO(merged.output);
  CHECK(merged.code == 0);
  CHECK_THAT(merged.output, Catch::Contains("merged 2 of 2 shards: 4 records"));
  for (const char* f : {"records.csv", "summary.json", "summary.md", "config.resolved.ini"})
    CHECK(fs::exists(tmp.path / "all" / f));
  CHECK(ipbench_cli("merge --out " + (tmp.path / "x").string() + " " + s0).code == 2);
  auto bad = ipbench_cli("run --quiet --config " + cfg + " --shard 2/2 --out " + (tmp.path / "b").string());
  CHECK(bad.code == 2);
  CHECK_THAT(bad.output, Catch::Contains("0 <= i < n"));
}

TEST_CASE("cli: report writes a leaderboard with embedded reconstructions", "[cli][report]") {
  TempDir tmp;
  const auto cfg = tmp.write("c.ini", small_config(synthetic_dataset(tmp)) + "");
  const std::string run = (tmp.path / "run").string();
  REQUIRE(ipbench_cli("run --quiet --config " + cfg + " --set benchmark.save_reconstructions=true --out " + run).code ==
          0);
  auto r = ipbench_cli("report " + run);
  INFO(r.output);
  CHECK(r.code == 0);
  for (const char* f : {"leaderboard.md", "leaderboard.csv", "leaderboard.json", "leaderboard.html"})
    CHECK(fs::exists(tmp.path / "run" / f));
  std::ifstream in(tmp.path / "run" / "leaderboard.html");
  const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK_THAT(html, Catch::Contains("data:image/png;base64,iVBORw0KGgo") && Catch::Contains("<svg") &&
                       Catch::Contains("ground truth then reconstructions") &&
                       Catch::Contains("ground truth and measurement y"));
  auto one_design = ipbench_cli("report " + run + " --design iid --metric l1 --out " + (tmp.path / "iid").string());
  CHECK(one_design.code == 0);
  std::ifstream md(tmp.path / "iid" / "leaderboard.md");
  const std::string text((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
  CHECK_THAT(text, Catch::Contains("Ranked by **l1** (lower is better)") && !Catch::Contains("antithetic"));
  // Bad input.
  CHECK_THAT(ipbench_cli("report " + run + " --metric pixel_mean").output, Catch::Contains("no better direction"));
  CHECK_THAT(ipbench_cli("report " + run + " " + run).output, Catch::Contains("--out is required"));
  CHECK_THAT(ipbench_cli("report " + run + " --design rqmc").output, Catch::Contains("no cell of design"));
  CHECK(ipbench_cli("report " + (tmp.path / "none").string()).code == 2);
  CHECK_THAT(ipbench_cli("report " + run + " --items 0,x").output, Catch::Contains("'x' is not an item number"));
  // --items chooses the panels; --strict refuses runs of another problem (here: another seed) with exit 2.
  const std::string other = (tmp.path / "other").string();
  REQUIRE(ipbench_cli("run --quiet --config " + cfg + " --set benchmark.seed=5 --out " + other).code == 0);
  auto strict = ipbench_cli("report " + run + " " + other + " --strict --out " + (tmp.path / "s").string());
  CHECK(strict.code == 2);
  CHECK_THAT(strict.output, Catch::Contains("[benchmark] seed: 0 (" + run + ") vs 5 (" + other + ")"));
  auto split = ipbench_cli("report " + run + " " + other + " --items 0 --out " + (tmp.path / "s").string());
  CHECK(split.code == 0);
  std::ifstream page(tmp.path / "s" / "leaderboard.html");
  const std::string both((std::istreambuf_iterator<char>(page)), std::istreambuf_iterator<char>());
  CHECK_THAT(both, Catch::Contains("Run context") && Catch::Contains("item 0: ground truth") &&
                       Catch::Contains("no reconstructions stored"));
}

TEST_CASE("cli: dataset import png writes a dataset that loads", "[cli][png]") {
  TempDir tmp;
  fs::create_directories(tmp.path / "imgs");
  for (int i = 0; i < 3; ++i)
    write_png((tmp.path / "imgs" / ("im" + std::to_string(i) + ".png")).string(),
              torch::full({6, 6, 3}, 40 * i, torch::kByte));
  const std::string out = (tmp.path / "d.h5").string();
  auto r = ipbench_cli("dataset import png --dir " + (tmp.path / "imgs").string() + " --out " + out + " --resize 4");
  INFO(r.output);
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains("[3, 3, 4, 4]"));
  CHECK(read_dataset(out).images.sizes() == torch::IntArrayRef({3, 3, 4, 4}));
  auto bad = ipbench_cli("dataset import png --dir " + (tmp.path / "nope").string() + " --out " + out);
  CHECK(bad.code == 2);
  CHECK_THAT(bad.output, Catch::Contains("not a folder"));
  CHECK(ipbench_cli("dataset import jpeg --dir x --out y").code == 2);
}

namespace {

// records.csv without its `seconds` column (wall time is the one field that may differ) and its
// `run_id` (the hash of the resolved config, which names the thread count and batch size).
std::vector<std::string> records_without_seconds(const fs::path& run) {
  std::ifstream in(run / "records.csv");
  std::vector<std::string> rows;
  std::string line;
  size_t seconds = std::string::npos;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream ss(line);
    for (std::string f; std::getline(ss, f, ',');) fields.push_back(f);
    if (rows.empty()) seconds = static_cast<size_t>(std::find(fields.begin(), fields.end(), "seconds") - fields.begin());
    if (seconds < fields.size()) fields.erase(fields.begin() + static_cast<std::ptrdiff_t>(seconds));
    if (!fields.empty()) fields.pop_back();  // run_id, the last column
    std::string row;
    for (const auto& f : fields) row += f + ",";
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

TEST_CASE("cli: records on the shipped UNet are identical for any thread count and batch size", "[cli][determinism]") {
  // LibTorch 1.13 picks oneDNN or its native convolution per call from the thread count and the batch
  // size, and the two round differently; the UNet's 1x1 convolutions moved every record by up to 0.3%
  // between 1 and 2 threads: use_deterministic_kernels (core/runtime.h) keeps the native ones. The
  // backward pass of LibTorch's GroupNorm also rounds with the thread count (DPS rows moved by up to
  // 1.3e-5 relative): the UNet's GroupNorm gradient is models/fixed_order.h's. Both solvers, the
  // gradient one (dps) and the forward-only one (dds), must give rows equal as text.
  TempDir tmp;
  Dataset d;
  d.images = (0.8 * torch::tanh(keyed_normal({1, 1, 32, 32}, 11))).to(torch::kFloat);
  const auto data = (tmp.path / "d32.h5").string();
  write_dataset(data, d);
  const auto cfg = tmp.write(
      "unet.ini", "[benchmark]\nname = det\nitems = 1\nsamples_per_item = 4\noperators = inpaint, gaussian_blur\n"
                  "solvers = dps, dds\ndesigns = antithetic\nmetrics = l1, psnr, ssim, residual\ndevice = cpu\n"
                  "[dataset]\nsource = " + data + "\npad_to = 0\n[prior]\ntype = unet\npath = " +
                      std::string(IPBENCH_SOURCE_DIR) + "/models/fmnist32-ddpm\n"
                  "[operator.inpaint]\n[operator.gaussian_blur]\n[solver.dps]\nsteps = 4\n[solver.dds]\nsteps = 4\n"
                  "[noise.antithetic]\n");
  auto run = [&](const std::string& name, const std::string& sets) {
    const auto r = ipbench_cli("run --quiet --config " + cfg + " --out " + (tmp.path / name).string() + sets);
    INFO(r.output);
    REQUIRE(r.code == 0);
    return records_without_seconds(tmp.path / name);
  };
  const auto one = run("t1", " --set benchmark.threads=1");
  REQUIRE(one.size() == 1 + 2 * 2 * 4);
  auto same_rows = [&](const std::vector<std::string>& other) {
    REQUIRE(other.size() == one.size());
    for (size_t i = 0; i < one.size(); ++i) {
      INFO(one[i] << "\n" << other[i]);
      CHECK(one[i] == other[i]);
    }
  };
  same_rows(run("t2", " --set benchmark.threads=2"));
  same_rows(run("t2b2", " --set benchmark.threads=2 --set benchmark.batch_size=2"));
}

TEST_CASE("cli: progress shows the solver's steps inside a batch, one line per update in a log; kernels = fast", "[cli]") {
  TempDir tmp;
  const auto cfg = tmp.write("p.ini", small_config(synthetic_dataset(tmp)));
  auto r = ipbench_cli("run --progress-every 0 --config " + cfg + " --out " + (tmp.path / "run").string());
  INFO(r.output);
  REQUIRE(r.code == 0);
  // dps with 3 steps evaluates the prior 3 times a sample; a batch holds a cell's 2 samples.
  for (int k = 1; k <= 3; ++k)
    CHECK_THAT(r.output, Catch::Contains("(batch of 2: network evaluation " + std::to_string(k) + "/3)"));
  CHECK_THAT(r.output, Catch::Contains("samples/s"));
  CHECK_THAT(r.output, Catch::Contains("run 4/4 samples (100%)"));  // iid and antithetic cells
  const size_t done_line = r.output.find("run 4/4 samples (100%)");
  CHECK(r.output.find("run 4/4 samples (100%)", done_line + 1) == std::string::npos);  // once, not again at finish
  CHECK(r.output.find('\r') == std::string::npos);  // not a terminal: whole lines
  CHECK(ipbench_cli("run --progress-every -1 --config " + cfg + " --out " + (tmp.path / "r2").string()).code == 2);
  auto kernels = ipbench_cli("run --quiet --set benchmark.kernels=quick --config " + cfg + " --out " + (tmp.path / "r3").string());
  CHECK(kernels.code == 2);
  CHECK_THAT(kernels.output, Catch::Contains("kernels") && Catch::Contains("deterministic or fast"));
  auto fast = ipbench_cli("run --quiet --set benchmark.kernels=fast --config " + cfg + " --out " + (tmp.path / "r4").string());
  CHECK(fast.code == 0);
  CHECK_THAT(fast.output, Catch::Contains("oneDNN on"));  // the context line says records may change
}

TEST_CASE("cli: summarize and report say when a run is incomplete and refuse one without records", "[cli]") {
  TempDir tmp;
  const auto cfg = tmp.write("c.ini", small_config(synthetic_dataset(tmp)));
  const fs::path run = tmp.path / "run";
  REQUIRE(ipbench_cli("run --quiet --config " + cfg + " --out " + run.string()).code == 0);
  std::vector<std::string> lines;
  {
    std::ifstream in(run / "records.csv");
    for (std::string l; std::getline(in, l);) lines.push_back(l);
  }
  REQUIRE(lines.size() >= 3);
  const std::string total = std::to_string(lines.size() - 1);
  {
    std::ofstream out(run / "records.csv");
    for (size_t i = 0; i + 1 < lines.size(); ++i) out << lines[i] << "\n";
  }
  const std::string incomplete = "incomplete: " + std::to_string(lines.size() - 2) + " of " + total + " samples";
  auto s = ipbench_cli("summarize " + run.string());
  INFO(s.output);
  CHECK(s.code == 0);
  CHECK_THAT(s.output, Catch::Contains(incomplete));
  std::ifstream json(run / "summary.json");
  const std::string text((std::istreambuf_iterator<char>(json)), std::istreambuf_iterator<char>());
  CHECK_THAT(text, Catch::Contains("\"incomplete\": \"" + incomplete + "\""));
  auto r = ipbench_cli("report " + run.string());
  CHECK(r.code == 0);
  CHECK_THAT(r.output, Catch::Contains(incomplete));
  std::ofstream(run / "records.csv") << lines[0] << "\n";
  auto empty = ipbench_cli("summarize " + run.string());
  CHECK(empty.code == 2);
  CHECK_THAT(empty.output, Catch::Contains("holds no records"));
  CHECK(ipbench_cli("report " + run.string()).code == 2);
  // A run that failed before its first record leaves a folder that a rerun reuses without --resume.
  CHECK(ipbench_cli("run --quiet --config " + cfg + " --out " + run.string()).code == 0);
}

TEST_CASE("cli: --version, list NAME and suggestions for misspelled commands", "[cli]") {
  auto v = ipbench_cli("--version");
  CHECK(v.code == 0);
  CHECK_THAT(v.output, Catch::Contains("ipbench 0.1.0") && Catch::Contains("LibTorch"));
  auto one = ipbench_cli("list dps");
  INFO(one.output);
  CHECK(one.code == 0);
  CHECK_THAT(one.output, Catch::Contains("solver ([solver.<label>] type = ...)") && Catch::Contains("  dps - ") &&
                             Catch::Contains("zeta"));
  CHECK_THAT(one.output, !Catch::Contains("  ddrm - "));  // only the named component
  auto both = ipbench_cli("list inpaint");
  CHECK_THAT(both.output, Catch::Contains("operator ([operator.<label>] type = ...)"));
  auto typo = ipbench_cli("list dsp");
  CHECK(typo.code == 2);
  CHECK_THAT(typo.output, Catch::Contains("no prior, operator, solver, noise design or metric is named 'dsp'") &&
                              Catch::Contains("did you mean 'dps'?"));
  auto cmd = ipbench_cli("reprot x");
  CHECK(cmd.code == 2);
  CHECK_THAT(cmd.output, Catch::Contains("unknown command 'reprot' (did you mean 'report'?)"));
}

TEST_CASE("cli: --devices' child processes and merge give the records of one run (on the CPU)", "[cli][devices]") {
  // run_on_devices is what `ipbench run --devices cuda:0,cuda:1` calls after checking the devices: one
  // child `ipbench run ... --shard i/n` per device (CUDA_VISIBLE_DEVICES = its index), then the merge.
  // The config's device = cpu keeps the children on the CPU, so all of it but the GPU choice runs here.
  TempDir tmp;
  const auto cfg = tmp.write("c.ini", small_config(synthetic_dataset(tmp)));
  const auto one = ipbench_cli("run --quiet --config " + cfg + " --out " + (tmp.path / "one").string());
  REQUIRE(one.code == 0);
  const std::string merged = (tmp.path / "merged").string();
  run_on_devices(IPBENCH_BINARY, {"--quiet", "--config", cfg}, {0, 1}, merged);
  for (const char* shard : {"merged-s0", "merged-s1"}) CHECK(fs::exists(tmp.path / shard / "records.csv"));
  const auto a = records_without_seconds(tmp.path / "one"), b = records_without_seconds(merged);
  REQUIRE(a.size() == 1 + 2 * 2);  // 2 cells (iid, antithetic) x 2 samples
  CHECK(a == b);
  // A child that fails (here: an unknown key) names its shard, device and exit status; nothing is merged.
  const std::string bad = (tmp.path / "bad").string();
  CHECK_THROWS_WITH(run_on_devices(IPBENCH_BINARY, {"--quiet", "--config", cfg, "--set", "benchmark.frobnicate=1"},
                                   {0, 1}, bad),
                    Catch::Contains("shard 0/2 on cuda:0") && Catch::Contains("exit status 2") &&
                        Catch::Contains("nothing merged"));
  CHECK_FALSE(fs::exists(tmp.path / "bad" / "records.csv"));
}
