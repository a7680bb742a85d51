// ipbench: the command-line front end. Subcommands map 1:1 to the uses in docs/ARCHITECTURE.md;
// all logic lives in the libraries. Exit codes: 0 success, 2 user/config error, 1 internal error,
// 3 `compare`: the regression gate failed.
#include <boost/program_options.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "core/config.h"
#include "core/error.h"
#include "core/options.h"
#include "core/runtime.h"
#include "core/suggest.h"
#include "datasets/dataset.h"
#include "harness/autocast_prior.h"
#include "harness/couple_learn.h"
#include "harness/devices.h"
#include "harness/merge.h"
#include "harness/plan.h"
#include "harness/records.h"
#include "harness/run_folder.h"
#include "harness/runner.h"
#include "harness/spec.h"
#include "harness/two_stage.h"
#include "metrics/gallery.h"
#include "reports/compare_report.h"
#include "reports/compare_runs.h"
#include "reports/format.h"
#include "reports/gallery_report.h"
#include "reports/leaderboard_files.h"
#include "reports/quality.h"
#include "reports/rescore.h"
#include "reports/run_summary.h"
#include "reports/summary_report.h"
#include "solvers/plugin.h"
#include "training/classifier.h"
#include "training/distill.h"
#include "training/trainer.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace ipbench;

namespace {

po::variables_map parse(const std::vector<std::string>& args, const po::options_description& desc,
                        const po::positional_options_description* positional = nullptr) {
  po::variables_map vm;
  try {
    auto parser = po::command_line_parser(args).options(desc);
    if (positional) parser.positional(*positional);
    po::store(parser.run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw Error(str_cat(e.what(), "\n", desc));
  }
  return vm;
}

// The --config file with every --set override applied.
Config load_config(const po::variables_map& vm) {
  Config config = Config::from_file(vm["config"].as<std::string>());
  if (vm.count("set"))
    for (const auto& s : vm["set"].as<std::vector<std::string>>()) config.set(s);
  return config;
}

// Prints what write_summary wrote: the table, an incomplete run's count, failed samples, the files.
void print_summary(const SummaryOutcome& out, const RunFolder& folder) {
  std::cout << "\n" << summary_table(out.summary);
  for (const auto& [status, n] : out.info.statuses)
    if (status != "ok") std::cout << n << " sample(s) with status " << status << "\n";
  if (!out.info.incomplete().empty())
    std::cout << out.info.incomplete() << " (finish the run with `ipbench run ... --resume`)\n";
  std::cout << "\nwrote " << folder.path("records.csv") << ", " << out.files[0] << ", " << out.files[1] << "\n";
}

int cmd_run(const std::vector<std::string>& args) {
  po::options_description desc("ipbench run");
  desc.add_options()("help,h", "this help")("config,c", po::value<std::string>()->required(), "benchmark config (.ini)")(
      "set", po::value<std::vector<std::string>>()->composing(), "override: section.key=value (repeatable)")(
      "out,o", po::value<std::string>(), "output folder (default runs/<benchmark.name>)")(
      "resume", po::bool_switch(), "continue an interrupted run in the output folder")(
      "shard", po::value<std::string>(), "i/n: run only shard i (0-based) of n; join the shards with `ipbench merge`")(
      "devices", po::value<std::string>(),
      "cuda:0,cuda:1,...: one shard per GPU as child processes, then merged into --out (docs/scaling.md)")(
      "quiet,q", po::bool_switch(), "no progress line")(
      "progress-every", po::value<double>(),
      "seconds between progress lines (default: 0.2 on a terminal, 10 in a log); each shows the batch in flight")(
      "plugin", po::value<std::vector<std::string>>()->composing(),
      "solver plugin (.so built with find_package(ipbench), docs/adding-a-solver.md); repeatable");
  if (std::find(args.begin(), args.end(), "--help") != args.end() || std::find(args.begin(), args.end(), "-h") != args.end()) {
    std::cout << desc;
    return 0;
  }
  auto vm = parse(args, desc);
  Config config = load_config(vm);
  if (vm.count("plugin"))
    for (const auto& path : vm["plugin"].as<std::vector<std::string>>()) {
      const LoadedPlugin p = load_solver_plugin(path);
      std::cout << "plugin " << p.name << " (" << path << "): " << option_value(p.solvers) << "\n";
    }

  const Spec spec = parse_spec(config);
  if (vm.count("devices")) {
    require(!vm.count("shard"), "--devices runs one shard per device: drop --shard");
    const std::vector<int> devices = parse_cuda_devices(vm["devices"].as<std::string>());
    require_device_per_child(spec.benchmark.device);
    const std::string out = vm.count("out") ? vm["out"].as<std::string>() : "runs/" + spec.benchmark.name;
    std::vector<std::string> child_args;  // this command's arguments but --devices and --out
    for (size_t i = 0; i < args.size(); ++i) {
      const std::string& a = args[i];
      if (a == "--devices" || a == "--out" || a == "-o") ++i;
      else if (a.rfind("--devices=", 0) != 0 && a.rfind("--out=", 0) != 0) child_args.push_back(a);
    }
    run_on_devices(fs::read_symlink("/proc/self/exe").string(), child_args, devices, out);
    const RunFolder folder = RunFolder::open(out);
    RunInfo info;
    info.context = context_line() + str_cat(" (merged from ", devices.size(), " devices)");
    print_summary(write_summary(folder, info), folder);
    return 0;
  }
  const int threads =
      configure_threads(static_cast<int>(spec.benchmark.threads), spec.benchmark.kernels == "deterministic");
  (void)threads;
  if (!optimized_build()) std::fprintf(stderr, "warning: this is not a Release build: expect it to be slow\n");
  RunOptions ro;
  ro.out_dir = vm.count("out") ? vm["out"].as<std::string>() : "runs/" + spec.benchmark.name;
  ro.resume = vm["resume"].as<bool>();
  ro.progress = !vm["quiet"].as<bool>();
  if (vm.count("progress-every")) {
    ro.progress_every_s = vm["progress-every"].as<double>();
    require(std::isfinite(ro.progress_every_s) && ro.progress_every_s >= 0, "--progress-every ", ro.progress_every_s,
            ": must be a finite number of seconds >= 0");
  }
  if (vm.count("shard")) ro.shard = Shard::parse(vm["shard"].as<std::string>());

  RunInfo info;
  info.name = spec.benchmark.name;
  info.context = context_line();
  info.device = resolve_device(spec.benchmark.device).str();
  info.dtype = dtype_with_precision(  // "float32, prior under bf16 autocast" (harness/autocast_prior.h)
      spec.benchmark.dtype,
      read_inference_precision(spec.config->section("benchmark"), spec.benchmark.device, spec.benchmark.dtype));
  info.seed = spec.benchmark.seed;
  std::cout << info.context << "\n"
            << "device " << info.device << " | dtype " << info.dtype << " | seed " << info.seed << " | config "
            << config.origin() << " -> " << ro.out_dir
            << (ro.shard.count > 1 ? " | shard " + ro.shard.str() : std::string()) << "\n";
  std::cout << spec.operators.size() << " operator(s) x " << spec.solvers.size() << " solver(s) x "
            << spec.designs.size() << " design(s), " << spec.benchmark.items << " items x "
            << spec.benchmark.samples_per_item << " samples" << std::endl;
  const TwoStageOptions two_stage = two_stage_options(spec);
  if (two_stage.enabled())
    std::cout << "two-stage: " << two_stage.pilot_groups << " pilot groups per item and cell, then Stein's plan for "
              << "target_halfwidth = " << option_value(two_stage.target_halfwidth) << " (samples_per_item only sets "
              << "the default cap)" << std::endl;

  RunFolder folder = RunFolder::open_for_writing(ro.out_dir);
  const RunOutcome outcome = run_benchmark(spec, Plan(spec, ro.shard), folder, ro);
  info.seconds = outcome.seconds;
  std::cout << "solved " << outcome.solved_samples << " samples in " << outcome.seconds << " s" << std::endl;
  if (outcome.failed_batches > 0)
    std::cout << outcome.failed_batches << " batch(es) failed in the solver: recorded with status error:<message>"
              << std::endl;
  if (outcome.oom_splits > 0)
    std::cout << outcome.oom_splits << " batch(es) ran out of memory and were halved and retried (lower "
              << "[benchmark] max_batch, memory_budget_mib or batch_size to avoid the retries)" << std::endl;
  for (const auto& [cell, memory] : outcome.batch_memory) std::cout << "memory " << describe_batch_memory(cell, memory) << "\n";
  print_summary(write_summary(folder, info, &outcome.records), folder);
  return 0;
}

// Summarizes a stored run folder; `how` says where the records came from in the context line.
void summarize_stored_run(const std::string& dir, const std::string& how) {
  const RunFolder folder = RunFolder::open(dir);
  RunInfo info;
  info.context = context_line() + " (" + how + ")";
  print_summary(write_summary(folder, info), folder);
}

int cmd_summarize(const std::vector<std::string>& args) {
  po::options_description desc("ipbench summarize");
  desc.add_options()("help,h", "this help")("dir", po::value<std::string>()->required(), "run folder");
  po::positional_options_description pos;
  pos.add("dir", 1);
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << "usage: ipbench summarize DIR\n" << desc;
    return 0;
  }
  auto vm = parse(args, desc, &pos);
  summarize_stored_run(vm["dir"].as<std::string>(), "summarized from records");
  return 0;
}

// Read-only on the run except for DIR/correlations.json.
int cmd_correlate(const std::vector<std::string>& args) {
  po::options_description desc("ipbench correlate");
  desc.add_options()("help,h", "this help")("dir", po::value<std::string>()->required(), "run folder");
  po::positional_options_description pos;
  pos.add("dir", 1);
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << "usage: ipbench correlate DIR\n" << desc;
    return 0;
  }
  auto vm = parse(args, desc, &pos);
  const RunFolder folder = RunFolder::open(vm["dir"].as<std::string>());
  const auto bench = read_options<BenchmarkOptions>(folder.resolved_config().section("benchmark"));
  require(folder.has_reconstructions(), "run folder '", folder.dir(),
          "' has no stored reconstructions (reconstructions/): run it with [benchmark] save_reconstructions = true");
  const auto correlations = correlate_run(folder, folder.read_records(), bench.confidence);
  folder.write_correlations("{\n  \"correlations\": " + correlations_json(correlations) + "\n}\n");
  std::cout << correlation_table(correlations, bench.confidence) << "\nwrote " << folder.path("correlations.json")
            << "\n";
  return 0;
}

// Writes only the leaderboard files.
int cmd_report(const std::vector<std::string>& args) {
  po::options_description desc("ipbench report");
  ReportOptions defaults;
  desc.add_options()("help,h", "this help")("runs", po::value<std::vector<std::string>>()->required(),
                                            "run folders")(
      "out,o", po::value<std::string>(), "output folder (default: the run folder when there is one run)")(
      "metric,m", po::value<std::string>()->default_value(defaults.primary), "ranking metric (l1, psnr, ssim, residual)")(
      "images", po::value<int64_t>()->default_value(defaults.images_per_cell),
      "reconstructions shown per cell in the HTML page when the runs stored them (0 = none)")(
      "title", po::value<std::string>()->default_value(defaults.title), "title of the Markdown and HTML pages")(
      "design", po::value<std::string>(), "comma-separated designs to include (default: all)")(
      "items", po::value<std::string>(), "comma-separated items shown with per-pixel maps (default: each run's first)")(
      "strict", po::bool_switch(), "refuse runs that measured different problems instead of separate boards");
  po::positional_options_description pos;
  pos.add("runs", -1);
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << "usage: ipbench report RUN_DIR... [--out DIR] [--metric psnr] [--items 0,3,7] [--strict]\n" << desc;
    return 0;
  }
  auto vm = parse(args, desc, &pos);
  const auto runs = vm["runs"].as<std::vector<std::string>>();
  require(vm.count("out") || runs.size() == 1, "report: --out is required with ", runs.size(),
          " run folders (with one, the leaderboard goes into it)");
  ReportOptions options;
  options.primary = vm["metric"].as<std::string>();
  options.images_per_cell = vm["images"].as<int64_t>();
  require(options.images_per_cell >= 0, "report: --images ", options.images_per_cell, ": must be >= 0");
  options.title = vm["title"].as<std::string>();
  if (vm.count("design")) options.designs = split_list(vm["design"].as<std::string>());
  if (vm.count("items"))
    for (const std::string& item : split_list(vm["items"].as<std::string>())) {
      char* end = nullptr;
      const long long v = std::strtoll(item.c_str(), &end, 10);
      require(!item.empty() && *end == '\0' && v >= 0, "report: --items ", vm["items"].as<std::string>(), ": '", item,
              "' is not an item number (>= 0)");
      options.items.push_back(v);
    }
  options.strict = vm["strict"].as<bool>();
  const std::string out = vm.count("out") ? vm["out"].as<std::string>() : runs.front();
  for (const std::string& f : write_report(runs, out, options)) std::cout << "wrote " << f << "\n";
  return 0;
}

// The shards' folders are only read.
int cmd_merge(const std::vector<std::string>& args) {
  po::options_description desc("ipbench merge");
  desc.add_options()("help,h", "this help")("out,o", po::value<std::string>()->required(), "merged run folder")(
      "shards", po::value<std::vector<std::string>>()->required(), "the shard run folders")(
      "allow-partial", po::bool_switch(), "merge even when shards or samples are missing");
  po::positional_options_description pos;
  pos.add("shards", -1);
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << "usage: ipbench merge --out DIR SHARD_DIR...\n" << desc;
    return 0;
  }
  auto vm = parse(args, desc, &pos);
  const fs::path dir = vm["out"].as<std::string>();
  const MergeOutcome merged =
      merge_runs(vm["shards"].as<std::vector<std::string>>(), dir.string(), vm["allow-partial"].as<bool>());
  std::cout << "merged " << merged.shards << " of " << merged.shard_count << " shards: " << merged.records.size()
            << " records\n";
  const RunFolder folder = RunFolder::open(dir.string());
  RunInfo info;
  info.context = context_line() + " (merged from shards)";
  print_summary(write_summary(folder, info, &merged.records), folder);
  return 0;
}

// Exit 0 when the gate passes, 3 when it fails; the run folders are only read.
int cmd_compare(const std::vector<std::string>& args) {
  po::options_description desc("ipbench compare");
  desc.add_options()("help,h", "this help")("baseline", po::value<std::string>()->required(), "baseline run folder")(
      "candidate", po::value<std::string>()->required(), "candidate run folder")(
      "margin", po::value<std::vector<std::string>>()->composing(),
      "metric=value: a worsening smaller than value (metric units) never fails the gate (repeatable)")(
      "metrics", po::value<std::string>(), "comma-separated metrics to compare (default: every shared metric with a "
                                           "better direction)")(
      "confidence", po::value<double>()->default_value(0.95), "confidence level of the intervals")(
      "out", po::value<std::string>(), "also write the comparison as JSON to this file")(
      "quiet,q", "print only the gate line");
  po::positional_options_description pos;
  pos.add("baseline", 1).add("candidate", 1);
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << "usage: ipbench compare BASELINE CANDIDATE [options]\n"
              << "exit status: 0 the gate passed, 3 it failed, 2 bad input\n"
              << desc;
    return 0;
  }
  auto vm = parse(args, desc, &pos);
  RegressionOptions options;
  options.confidence = vm["confidence"].as<double>();
  if (vm.count("metrics")) options.metrics = split_list(vm["metrics"].as<std::string>());
  if (vm.count("margin"))
    for (const std::string& m : vm["margin"].as<std::vector<std::string>>()) {
      const auto eq = m.find('=');
      require(eq != std::string::npos && eq > 0, "--margin ", m, ": expected metric=value, e.g. --margin psnr=0.1");
      const std::string metric = trim(m.substr(0, eq)), value = trim(m.substr(eq + 1));
      try {
        size_t used = 0;
        options.margins[metric] = std::stod(value, &used);
        require(used == value.size(), "");
      } catch (const std::exception&) {
        throw Error(str_cat("--margin ", m, ": '", value, "' is not a number"));
      }
    }
  CompareInfo info;
  info.baseline = vm["baseline"].as<std::string>();
  info.candidate = vm["candidate"].as<std::string>();
  const RunComparison c = compare_run_folders(info.baseline, info.candidate, options);
  info.config_differences = c.config_differences;
  info.common_random_numbers = c.common_random_numbers;
  if (vm.count("out")) write_text_atomic(vm["out"].as<std::string>(), compare_json(c.report, info));
  std::cout << (vm.count("quiet") ? gate_line(c.report) + "\n" : compare_markdown(c.report, info));
  return c.report.passed() ? 0 : 3;
}

// Metrics after the fact (reports/rescore.h): new columns of records.csv, set metrics, summary files.
int cmd_rescore(const std::vector<std::string>& args) {
  po::options_description desc("ipbench rescore");
  desc.add_options()("help,h", "this help")("dir", po::value<std::string>()->required(), "run folder")(
      "metrics", po::value<std::string>()->required(), "comma-separated metrics to compute from the stored reconstructions")(
      "config", po::value<std::string>(), "INI file with the [metric.<label>] sections of configured metrics")(
      "set", po::value<std::vector<std::string>>()->composing(), "override: metric.<label>.key=value (repeatable)")(
      "resamples", po::value<int64_t>()->default_value(2000), "bootstrap resamples of the set-level distances")(
      "quiet,q", "no progress line");
  po::positional_options_description pos;
  pos.add("dir", 1);
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << "usage: ipbench rescore DIR --metrics a,b [--config M.ini] [--set metric.<label>.key=value ...]\n"
              << "needs a run with save_reconstructions = true; adds columns to DIR/records.csv, rewrites summary.json\n"
              << desc;
    return 0;
  }
  auto vm = parse(args, desc, &pos);
  RescoreOptions options;
  options.metrics = split_list(vm["metrics"].as<std::string>());
  options.resamples = vm["resamples"].as<int64_t>();
  options.progress = !vm.count("quiet");
  if (vm.count("config") || vm.count("set")) {
    Config metrics = vm.count("config") ? Config::from_file(vm["config"].as<std::string>())
                                        : Config::from_string("[rescore]\n", "--set");
    if (vm.count("set"))
      for (const auto& s : vm["set"].as<std::vector<std::string>>()) metrics.set(s);
    options.metric_config = metrics.to_ini();
    options.metric_config_origin = vm.count("config") ? vm["config"].as<std::string>() : "--set";
  }
  const std::string dir = vm["dir"].as<std::string>();
  const RescoreOutcome out = rescore_run(dir, options);
  std::cout << "rescored " << dir << ": " << out.samples_scored << " samples scored from stored reconstructions in "
            << fmt(out.seconds) << " s (nothing solved)\n";
  if (!out.added.empty()) {
    std::cout << "added columns:";
    for (const auto& m : out.added) std::cout << " " << m;
    std::cout << "\n";
  }
  for (const auto& c : out.checked)
    std::cout << "recomputed " << c.metric << ": " << c.compared - c.differing << " of " << c.compared
              << " records equal to the stored value, max |difference| " << fmt(c.max_abs_difference) << "\n";
  if (!out.set_metrics.empty()) {
    std::cout << "set-level Frechet distance (features vs ground truth, " << fmt(100.0 * out.set_metrics.front().confidence)
              << "% BCa bootstrap over items):\n";
    for (const auto& r : out.set_metrics)
      std::cout << "  " << r.metric << "  " << r.cell << "  " << fmt(r.distance.value.value) << " ["
                << fmt(r.distance.value.low) << ", " << fmt(r.distance.value.high) << "]  items " << r.distance.items
                << ", reconstructions " << r.distance.rows_a << "\n";
  }
  for (const auto& f : out.files) std::cout << "wrote " << f << "\n";
  return 0;
}

void print_component(const ComponentInfo& info, const std::string& extra = "") {
  std::cout << "  " << info.name << " - " << info.description << extra << "\n";
  for (const auto& o : info.options)
    std::cout << "      " << o.name << " (" << o.type << ", default " << (o.default_value.empty() ? "\"\"" : o.default_value)
              << "): " << o.help << "\n";
}

// `ipbench list NAME`: the one component of that name (a prior, operator, solver, design or metric may
// share a name, e.g. the operator and the solver tables both print theirs).
int list_one(const std::string& name) {
  bool found = false;
  auto header = [&](const char* what) {
    std::cout << (found ? "\n" : "") << what << ":\n";
    found = true;
  };
  if (prior_registry().contains(name)) {
    header("prior ([prior] type = ...)");
    print_component(prior_registry().get(name).info);
  }
  if (operator_registry().contains(name)) {
    header("operator ([operator.<label>] type = ...)");
    const auto& e = operator_registry().get(name);
    print_component(e.info, e.linear ? " [linear]" : " [nonlinear]");
  }
  if (solver_registry().contains(name)) {
    header("solver ([solver.<label>] type = ...)");
    const auto& e = solver_registry().get(name);
    print_component(e.info, " [needs: " + e.requirements.describe() + "]");
  }
  if (design_registry().contains(name)) {
    header("noise design ([noise.<label>] type = ...)");
    print_component(design_registry().get(name).info);
  }
  if (metric_registry().contains(name)) {
    header("metric ([benchmark] metrics = ...)");
    const auto& e = metric_registry().get(name);
    print_component(e.info, !e.directional ? " (an estimand: no better direction)"
                            : e.lower_better ? " (lower is better)" : " (higher is better)");
  }
  if (!found) {
    std::vector<std::string> all;
    for (const auto& names : {prior_registry().names(), operator_registry().names(), solver_registry().names(),
                              design_registry().names(), metric_registry().names()})
      all.insert(all.end(), names.begin(), names.end());
    throw Error(str_cat("list: no prior, operator, solver, noise design or metric is named '", name, "'",
                        did_you_mean(name, all), " (`ipbench list` prints them all)"));
  }
  return 0;
}

int cmd_list(const std::vector<std::string>& args) {
  register_builtins();
  if (args.size() > 1) throw Error("list: expected at most one name (ipbench list [NAME])");
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << "usage: ipbench list [NAME]   every registered component, or the one named NAME\n";
    return 0;
  }
  if (!args.empty()) return list_one(args[0]);
  std::cout << "priors ([prior] type = ...):\n";
  for (const auto& n : prior_registry().names()) print_component(prior_registry().get(n).info);
  std::cout << "\noperators ([operator.<label>] type = ...):\n";
  for (const auto& n : operator_registry().names()) {
    const auto& e = operator_registry().get(n);
    print_component(e.info, e.linear ? " [linear]" : " [nonlinear]");
  }
  std::cout << "\nsolvers ([solver.<label>] type = ...):\n";
  for (const auto& n : solver_registry().names()) {
    const auto& e = solver_registry().get(n);
    print_component(e.info, " [needs: " + e.requirements.describe() + "]");
  }
  std::cout << "\nsolver x operator (which pairs can run):\n" << solver_operator_matrix();
  std::cout << "\nnoise designs ([noise.<label>] type = ...):\n";
  for (const auto& n : design_registry().names()) print_component(design_registry().get(n).info);
  std::cout << "\nmetrics ([benchmark] metrics = ...):\n";
  for (const auto& n : metric_registry().names()) {
    const auto& e = metric_registry().get(n);
    print_component(e.info, !e.directional ? " (an estimand: no better direction)"
                            : e.lower_better ? " (lower is better)" : " (higher is better)");
  }
  std::cout << "\nbenchmark options ([benchmark]):\n";
  print_component({"benchmark", "the cell matrix and run settings", describe_options<BenchmarkOptions>()});
  std::cout << "\ndataset options ([dataset]):\n";
  print_component({"dataset", "the benchmarked images", describe_options<DatasetOptions>()});
  return 0;
}

int cmd_dataset(const std::vector<std::string>& args) {
  const char* usage =
      "usage: ipbench dataset import fashion-mnist --split train|test --out F.h5 [--pad-to N]\n"
      "       ipbench dataset import png --dir DIR --out F.h5 [--channels 1|3] [--resize N]\n";
  if (args.size() < 2 || args[0] != "import" || (args[1] != "fashion-mnist" && args[1] != "png")) {
    std::cout << usage;
    return !args.empty() && (args[0] == "--help" || args[0] == "-h") ? 0 : 2;
  }
  const bool png = args[1] == "png";
  po::options_description desc(png ? "ipbench dataset import png" : "ipbench dataset import fashion-mnist");
  desc.add_options()("help,h", "this help")("out,o", po::value<std::string>()->required(), "output HDF5 file");
  if (png) {
    desc.add_options()("dir", po::value<std::string>()->required(),
                       "folder of .png files, or of class subfolders of .png files (labels = sorted index)")(
        "channels", po::value<int64_t>()->default_value(0), "1 (gray), 3 (RGB), 0 = 3 if any image has color")(
        "resize", po::value<int64_t>()->default_value(0), "scale every image to N x N (0 = keep; sizes must agree)");
  } else {
    desc.add_options()("split", po::value<std::string>()->required(), "train or test")(
        "pad-to", po::value<int64_t>()->default_value(0), "pad images to N x N with background -1 (0 = 28x28)")(
        "dir", po::value<std::string>()->default_value(kFashionMnistDir), "folder of the IDX .gz files");
  }
  if (std::find(args.begin(), args.end(), "--help") != args.end() || std::find(args.begin(), args.end(), "-h") != args.end()) {
    std::cout << desc;
    return 0;
  }
  auto vm = parse(std::vector<std::string>(args.begin() + 2, args.end()), desc);
  const Dataset d = png ? import_png_folder(vm["dir"].as<std::string>(), vm["channels"].as<int64_t>(),
                                            vm["resize"].as<int64_t>())
                        : import_fashion_mnist(vm["split"].as<std::string>(), vm["pad-to"].as<int64_t>(),
                                               vm["dir"].as<std::string>());
  write_dataset(vm["out"].as<std::string>(), d);
  std::cout << "wrote " << vm["out"].as<std::string>() << ": " << d.images.sizes() << " float32 in [-1, 1]"
            << (d.labels.defined() ? ", with labels" : "") << " (" << d.attributes.source << ")\n";
  return 0;
}

// The exact command line, quoted for a POSIX shell where needed (recorded in the model's provenance).
std::string quoted_command(const std::string& cmd, const std::vector<std::string>& args) {
  std::string out = "ipbench " + cmd;
  for (const auto& a : args) {
    const bool plain = !a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                         "0123456789_./=:,+-@%") == std::string::npos;
    std::string q;
    for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    out += " " + (plain ? a : "'" + q + "'");
  }
  return out;
}

int cmd_quality(const std::vector<std::string>& args) {
  po::options_description desc("ipbench quality");
  desc.add_options()("help,h", "this help")("config,c", po::value<std::string>()->required(),
                                           "config with [quality] and [prior] sections")(
      "set", po::value<std::vector<std::string>>()->composing(), "override: section.key=value (repeatable)")(
      "out,o", po::value<std::string>(), "also write the report as Markdown (FILE.md) and JSON (FILE.json)");
  if (std::find(args.begin(), args.end(), "--help") != args.end()) {
    std::cout << desc;
    return 0;
  }
  auto vm = parse(args, desc);
  Config config = load_config(vm);
  const QualityReport report = evaluate_prior_quality(config);
  std::cout << report.context << "\n" << report.markdown();
  if (vm.count("out")) {
    const fs::path out = vm["out"].as<std::string>();
    write_text_atomic(out, report.markdown());
    write_text_atomic(fs::path(out).replace_extension(".json").string(), report.json());
  }
  return 0;
}

int cmd_train_classifier(const std::vector<std::string>& args) {
  po::options_description desc("ipbench train-classifier");
  desc.add_options()("help,h", "this help")("config,c", po::value<std::string>()->required(),
                                            "config (.ini) with a [classifier] section (training/classifier.h)")(
      "set", po::value<std::vector<std::string>>()->composing(), "override: section.key=value (repeatable)")(
      "out,o", po::value<std::string>()->required(), "output folder (model.pt, features.pt, result.ini, ...)")(
      "quiet,q", po::bool_switch(), "no progress lines");
  if (std::find(args.begin(), args.end(), "--help") != args.end() || std::find(args.begin(), args.end(), "-h") != args.end()) {
    std::cout << "usage: ipbench train-classifier --config F.ini [--set classifier.key=value ...] --out DIR\n" << desc;
    return 0;
  }
  auto vm = parse(args, desc);
  Config config = load_config(vm);
  auto options = read_options<ClassifierTrainOptions>(config.section("classifier"));
  config.check_all_used();
  options.quiet = options.quiet || vm["quiet"].as<bool>();
  const std::string out = vm["out"].as<std::string>();
  const auto r = train_classifier(options, out, quoted_command("train-classifier", args));
  std::cout << "test accuracy " << r.test_accuracy << " | " << r.parameters << " parameters | " << options.steps
            << " steps | " << r.seconds << " s\nwrote " << out << "/model.pt, features.pt, train_log.csv, result.ini\n";
  return 0;
}

int cmd_train(const std::vector<std::string>& args) {
  po::options_description desc("ipbench train");
  desc.add_options()("help,h", "this help")("config,c", po::value<std::string>()->required(),
                                            "training config (.ini): sections [train], [unet], [diffusion]")(
      "set", po::value<std::vector<std::string>>()->composing(), "override: section.key=value (repeatable)")(
      "out,o", po::value<std::string>()->required(), "output folder (model.ini, model.pt, train_state.pt, ...)")(
      "resume", po::bool_switch(), "continue the run in --out from its last checkpoint")(
      "quiet,q", po::bool_switch(), "no progress lines");
  if (std::find(args.begin(), args.end(), "--help") != args.end() || std::find(args.begin(), args.end(), "-h") != args.end()) {
    std::cout << "usage: ipbench train --config F.ini [--set section.key=value ...] --out DIR [--resume]\n" << desc;
    return 0;
  }
  auto vm = parse(args, desc);
  Config config = load_config(vm);
  auto train = read_options<TrainOptions>(config.section("train"));
  const auto unet = read_options<UNetOptions>(config.section("unet"));
  const auto diffusion = read_options<DiffusionOptions>(config.section("diffusion"));
  config.check_all_used();
  train.quiet = train.quiet || vm["quiet"].as<bool>();
  const std::string out = vm["out"].as<std::string>();

  configure_threads(static_cast<int>(train.threads));
  if (!optimized_build()) std::fprintf(stderr, "warning: this is not a Release build: expect it to be slow\n");
  std::cout << context_line() << "\n"
            << "device " << resolve_device(train.device).str() << " | seed " << train.seed << " | config "
            << config.origin() << " -> " << out << (vm["resume"].as<bool>() ? " (resume)" : "") << "\n"
            << "UNet " << UNet(unet)->parameter_count() << " parameters | data " << train.data << " | "
            << train.steps << " steps x batch " << train.batch_size << std::endl;
  const TrainResult result =
      train_unet(train, unet, diffusion, out, vm["resume"].as<bool>(), quoted_command("train", args));
  std::cout << result.brief() << "\n";
  if (result.status != TrainStatus::kCompleted) {
    std::cerr << "ipbench: training stopped at step " << result.last_step
              << ": the loss is not finite (try a lower lr or grad_clip); the last checkpoint in " << out
              << " is intact\n";
    return 1;
  }
  if (result.last_step == result.start_step)
    std::cout << "nothing to do: the run in " << out << " already has " << result.last_step
              << " steps (raise --set train.steps=N to train further)\n";
  else
    std::cout << "wrote " << out << "/model.ini, model.pt (EMA weights), train_state.pt, train_log.csv, samples_step"
              << result.last_step << ".png\n";
  return 0;
}

int cmd_distill(const std::vector<std::string>& args) {
  po::options_description desc("ipbench distill");
  desc.add_options()("help,h", "this help")("config,c", po::value<std::string>()->required(),
                                            "distillation config (.ini): [distill], and [unet] when init_from_teacher = false")(
      "teacher,t", po::value<std::string>()->required(), "teacher model folder (from `ipbench train`)")(
      "set", po::value<std::vector<std::string>>()->composing(), "override: section.key=value (repeatable)")(
      "out,o", po::value<std::string>()->required(), "output folder (model.ini, model.pt, train_state.pt, ...)")(
      "resume", po::bool_switch(), "continue the run in --out from its last checkpoint")(
      "quiet,q", po::bool_switch(), "no progress lines");
  if (std::find(args.begin(), args.end(), "--help") != args.end() || std::find(args.begin(), args.end(), "-h") != args.end()) {
    std::cout << "usage: ipbench distill --config F.ini --teacher DIR --out DIR [--set section.key=value ...] [--resume]\n"
              << desc;
    return 0;
  }
  auto vm = parse(args, desc);
  Config config = load_config(vm);
  auto o = read_options<DistillOptions>(config.section("distill"));
  std::optional<UNetOptions> student;
  if (const Section* unet = config.find_section("unet")) {
    require(!o.init_from_teacher, "config [unet] (", unet->origin(), "): a student architecture has no effect with ",
            "[distill] init_from_teacher = true (the student copies the teacher); remove [unet] or set ",
            "init_from_teacher = false");
    student = read_options<UNetOptions>(config.section("unet"));
  }
  config.check_all_used();
  o.quiet = o.quiet || vm["quiet"].as<bool>();
  const std::string out = vm["out"].as<std::string>(), teacher = vm["teacher"].as<std::string>();

  configure_threads(static_cast<int>(o.threads));
  if (!optimized_build()) std::fprintf(stderr, "warning: this is not a Release build: expect it to be slow\n");
  std::cout << context_line() << "\n"
            << "device " << resolve_device(o.device).str() << " | seed " << o.seed << " | config " << config.origin()
            << " | teacher " << teacher << " -> " << out << (vm["resume"].as<bool>() ? " (resume)" : "") << "\n"
            << "consistency distillation: N " << o.N << ", " << (o.heun ? "heun" : "euler") << ", loss " << o.loss
            << " | data " << o.data << " | " << o.steps << " steps x batch " << o.batch_size << std::endl;
  const DistillResult result =
      distill_consistency(o, teacher, out, vm["resume"].as<bool>(), quoted_command("distill", args), student);
  std::cout << result.brief() << "\n";
  if (result.last_step > result.start_step)
    std::cout << result.step_seconds / static_cast<double>(result.last_step - result.start_step)
              << " s per step (checkpoints and sample grids included)\n";
  if (result.status != DistillStatus::kCompleted) {
    std::cerr << "ipbench: distillation stopped at step " << result.last_step
              << ": the loss is not finite (try a lower lr); the last checkpoint in " << out << " is intact\n";
    return 1;
  }
  std::cout << "wrote " << out << "/model.ini, model.pt (EMA weights), train_state.pt, distill_log.csv, samples_step"
            << result.last_step << "_1step.png, _2step.png\n";
  return 0;
}

int cmd_couple(const std::vector<std::string>& args) {
  const char* usage =
      "usage: ipbench couple learn --config F.ini --out A.txt [--set section.key=value ...]\n"
      "       ipbench couple gallery DIR [--baseline LABEL]\n";
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << usage;
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  po::options_description desc("ipbench couple " + args[0]);
  if (args[0] == "learn") {
    desc.add_options()("help,h", "this help")("config,c", po::value<std::string>()->required(),
                                              "benchmark config with a [couple] section")(
        "set", po::value<std::vector<std::string>>()->composing(), "override: section.key=value (repeatable)")(
        "out,o", po::value<std::string>()->required(), "coupling matrix file to write");
    auto vm = parse(rest, desc);
    Config config = load_config(vm);
    const auto result = learn_coupling_from_config(config, [](int64_t t, double objective) {
      std::fprintf(stderr, "step %lld objective %.6g\n", static_cast<long long>(t), objective);
    });
    const std::string out = vm["out"].as<std::string>();
    write_coupling_file(out, result.A,
                        str_cat("learned by ipbench couple learn --config ", vm["config"].as<std::string>(), "\n",
                                "objective ", result.objective.front(), " -> ", result.objective.back(),
                                ", mean off-diagonal of A A^T ", result.mean_offdiagonal));
    std::cout << "A A^T =\n" << result.correlation << "\nmean off-diagonal " << result.mean_offdiagonal
              << "\nwrote " << out << "; use it as\n  [noise.learned]\n  type = coupling\n  matrix_file = " << out
              << "\n";
    return 0;
  }
  if (args[0] == "gallery") {
    desc.add_options()("help,h", "this help")("dir", po::value<std::string>()->required(), "run folder")(
        "baseline", po::value<std::string>(), "design(s) that are B in comparisons, comma-separated (default: the run's baseline_design)");
    po::positional_options_description pos;
    pos.add("dir", 1);
    auto vm = parse(rest, desc, &pos);
    const fs::path dir = vm["dir"].as<std::string>();
    const Config config = Config::from_file((dir / "config.resolved.ini").string());
    const BenchmarkOptions bench = read_options<BenchmarkOptions>(config.section("benchmark"));
    register_gallery_metrics();  // before summary_options: their directions
    SummaryOptions so = summary_options(bench);
    if (vm.count("baseline")) so.baseline_design = vm["baseline"].as<std::string>();
    std::vector<std::string> gallery;
    for (const auto& m : bench.metrics)
      if (is_gallery_metric(m)) gallery.push_back(m);
    const std::string md = gallery_markdown(read_records((dir / "records.csv").string()), gallery, so);
    write_text_atomic((dir / "gallery.md").string(), md);
    std::cout << md << "\nwrote " << (dir / "gallery.md").string() << "\n";
    return 0;
  }
  std::cerr << "ipbench couple: unknown subcommand '" << args[0] << "'\n" << usage;
  return 2;
}

// The subcommands: name, usage lines for `ipbench --help`, and the function that parses its arguments
// and calls the library. Add a command by adding a row.
struct Command {
  const char* name;
  const char* usage;
  int (*run)(const std::vector<std::string>& args);
};

const std::vector<Command>& commands() {
  static const std::vector<Command> table{
      {"run", "run --config F.ini [--set section.key=value ...] [--out DIR] [--resume] [--shard i/n | --devices cuda:0,cuda:1] [--quiet]\n"
              "      [--plugin P.so ...]  (solvers from a C++ plugin, docs/adding-a-solver.md)\n"
              "                     run a benchmark: records.csv, summary.json, summary.md in DIR",
       cmd_run},
      {"merge", "merge --out DIR SHARD_DIR...\n"
                "                     join the folders of `run --shard i/n` into one run (docs/scaling.md)",
       cmd_merge},
      {"summarize", "summarize DIR      recompute and print the summary of a run from its records", cmd_summarize},
      {"report", "report RUN_DIR... [--out DIR] [--metric psnr]\n"
                 "                     leaderboard of one or more runs: Markdown, CSV, JSON, self-contained HTML",
       cmd_report},
      {"rescore", "rescore DIR --metrics a,b [--config M.ini] [--set metric.<label>.key=value ...]\n"
                  "                     compute metrics from stored reconstructions without solving (docs/metrics.md)",
       cmd_rescore},
      {"correlate", "correlate DIR      pixel-wise PN / RR pair correlations of a run's stored reconstructions",
       cmd_correlate},
      {"compare", "compare BASELINE CANDIDATE [--margin metric=value ...] [--metrics a,b] [--out F.json]\n"
                  "                     regression gate: exit 3 when a metric got significantly worse (docs/compare.md)",
       cmd_compare},
      {"quality", "quality --config F.ini [--set ...] [--out FILE.md]\n"
                  "                     sample-quality evidence for a prior (Frechet and nearest-neighbour distances)",
       cmd_quality},
      {"train", "train --config F.ini --out DIR [--set ...] [--resume]\n"
                "                     train a DDPM UNet on an HDF5 dataset (docs/training.md)",
       cmd_train},
      {"distill", "distill --config F.ini --teacher DIR --out DIR [--set ...] [--resume]\n"
                  "                     distill a trained DDPM into a consistency model (docs/distillation.md)",
       cmd_distill},
      {"train-classifier", "train-classifier --config F.ini --out DIR [--set ...]\n"
                           "                     train the small Fashion-MNIST classifier (TorchScript logits + features)",
       cmd_train_classifier},
      {"couple", "couple learn --config F.ini --out A.txt [--set ...]\n"
                 "                     learn a coupling matrix for a gallery objective (docs/couplings.md)\n"
                 "  couple gallery DIR [--baseline LABEL]\n"
                 "                     gallery metrics of a run with intervals and design comparisons at equal K",
       cmd_couple},
      {"list", "list [NAME]        every registered prior, operator, solver, noise design and metric, or one", cmd_list},
      {"dataset", "dataset import fashion-mnist --split train|test --out F.h5 [--pad-to N]\n"
                  "                     write Debian's Fashion-MNIST as an ipbench HDF5 dataset\n"
                  "  dataset import png --dir DIR --out F.h5 [--channels 1|3] [--resize N]\n"
                  "                     write a folder of PNG images (or class subfolders) as an ipbench HDF5 dataset",
       cmd_dataset},
  };
  return table;
}

std::string usage() {
  std::string out = "usage: ipbench <command> [options]\n\ncommands:\n";
  for (const Command& c : commands()) out += std::string("  ") + c.usage + "\n";
  return out + "  --version          the version, git revision, build type and LibTorch\n"
               "\n`ipbench <command> --help` describes a command's options.\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << usage();
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version" || args[0] == "version") {
    std::cout << context_line() << "\n";  // version, git revision, build type, LibTorch, threads, CUDA
    return 0;
  }
  const std::string cmd = args[0];
  args.erase(args.begin());
  try {
    for (const Command& c : commands())
      if (cmd == c.name) return c.run(args);
    std::vector<std::string> names;
    for (const Command& c : commands()) names.push_back(c.name);
    std::cerr << "ipbench: unknown command '" << cmd << "'" << did_you_mean(cmd, names) << "\n\n" << usage();
    return 2;
  } catch (const Error& e) {
    std::cerr << "ipbench: error: " << e.what() << "\n";
    return 2;
  } catch (const fs::filesystem_error& e) {
    std::cerr << "ipbench: error: " << e.what() << "\n";
    return 2;
  } catch (const c10::Error& e) {
    std::cerr << "ipbench: internal error (LibTorch): " << e.what_without_backtrace() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "ipbench: internal error: " << e.what() << "\n";
    return 1;
  }
}
