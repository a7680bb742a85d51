// ipbench: the command-line front end. Subcommands map 1:1 to the uses in docs/ARCHITECTURE.md;
// all logic lives in the libraries. Exit codes: 0 success, 2 user/config error, 1 internal error.
#include <boost/program_options.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "core/config.h"
#include "core/error.h"
#include "core/options.h"
#include "core/runtime.h"
#include "datasets/dataset.h"
#include "harness/records.h"
#include "harness/runner.h"
#include "harness/spec.h"
#include "reports/summary_report.h"
#include "stats/summary.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using namespace ipbench;

namespace {

constexpr const char* kUsage =
    "usage: ipbench <command> [options]\n"
    "\n"
    "commands:\n"
    "  run --config F.ini [--set section.key=value ...] [--out DIR] [--resume] [--quiet]\n"
    "                     run a benchmark: records.csv, summary.json, summary.md in DIR\n"
    "  summarize DIR      recompute and print the summary of a run from its records\n"
    "  list               every registered prior, operator, solver, noise design and metric\n"
    "  dataset import fashion-mnist --split train|test --out F.h5 [--pad-to N]\n"
    "                     write Debian's Fashion-MNIST as an ipbench HDF5 dataset\n"
    "\n"
    "`ipbench <command> --help` describes a command's options.\n";

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

void write_file_atomic(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp);
    require(static_cast<bool>(out), "cannot write '", tmp.string(), "'");
    out << text;
  }
  fs::rename(tmp, path);
}

// Summarizes records and writes summary.json / summary.md into dir; prints the table.
void report(const std::vector<Record>& records, const BenchmarkOptions& bench, const fs::path& dir, RunInfo info) {
  SummaryOptions so;
  so.confidence = bench.confidence;
  so.baseline_design = bench.baseline_design;
  so.metrics = bench.metrics;
  const BenchmarkSummary summary = summarize(records, so);
  info.records = static_cast<int64_t>(records.size());
  write_file_atomic(dir / "summary.json", summary_json(summary, info));
  write_file_atomic(dir / "summary.md", summary_markdown(summary, info));
  std::cout << "\n" << summary_table(summary) << "\nwrote " << (dir / "records.csv").string() << ", "
            << (dir / "summary.json").string() << ", " << (dir / "summary.md").string() << "\n";
}

int cmd_run(const std::vector<std::string>& args) {
  po::options_description desc("ipbench run");
  desc.add_options()("help,h", "this help")("config,c", po::value<std::string>()->required(), "benchmark config (.ini)")(
      "set", po::value<std::vector<std::string>>()->composing(), "override: section.key=value (repeatable)")(
      "out,o", po::value<std::string>(), "output folder (default runs/<benchmark.name>)")(
      "resume", po::bool_switch(), "continue an interrupted run in the output folder")(
      "quiet,q", po::bool_switch(), "no progress line");
  if (std::find(args.begin(), args.end(), "--help") != args.end() || std::find(args.begin(), args.end(), "-h") != args.end()) {
    std::cout << desc;
    return 0;
  }
  auto vm = parse(args, desc);
  Config config = Config::from_file(vm["config"].as<std::string>());
  if (vm.count("set"))
    for (const auto& s : vm["set"].as<std::vector<std::string>>()) config.set(s);

  const Spec spec = parse_spec(config);
  const int threads = configure_threads(static_cast<int>(spec.benchmark.threads));
  (void)threads;
  if (!optimized_build()) std::fprintf(stderr, "warning: this is not a Release build: expect it to be slow\n");
  RunOptions ro;
  ro.out_dir = vm.count("out") ? vm["out"].as<std::string>() : "runs/" + spec.benchmark.name;
  ro.resume = vm["resume"].as<bool>();
  ro.progress = !vm["quiet"].as<bool>();

  RunInfo info;
  info.name = spec.benchmark.name;
  info.context = context_line();
  info.device = resolve_device(spec.benchmark.device).str();
  info.dtype = spec.benchmark.dtype;
  info.seed = spec.benchmark.seed;
  std::cout << info.context << "\n"
            << "device " << info.device << " | dtype " << info.dtype << " | seed " << info.seed << " | config "
            << config.origin() << " -> " << ro.out_dir << "\n";
  std::cout << spec.operators.size() << " operator(s) x " << spec.solvers.size() << " solver(s) x "
            << spec.designs.size() << " design(s), " << spec.benchmark.items << " items x "
            << spec.benchmark.samples_per_item << " samples" << std::endl;

  const RunOutcome outcome = run_benchmark(config, spec, ro);
  info.seconds = outcome.seconds;
  std::cout << "solved " << outcome.solved_samples << " samples in " << outcome.seconds << " s" << std::endl;
  report(outcome.records, spec.benchmark, ro.out_dir, info);
  return 0;
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
  const fs::path dir = vm["dir"].as<std::string>();
  Config config = Config::from_file((dir / "config.resolved.ini").string());
  const auto bench = read_options<BenchmarkOptions>(config.section("benchmark"));
  RunInfo info;
  info.name = bench.name;
  info.context = context_line() + " (summarized from records)";
  info.device = bench.device;
  info.dtype = bench.dtype;
  info.seed = bench.seed;
  report(read_records((dir / "records.csv").string()), bench, dir, info);
  return 0;
}

void print_component(const ComponentInfo& info, const std::string& extra = "") {
  std::cout << "  " << info.name << " - " << info.description << extra << "\n";
  for (const auto& o : info.options)
    std::cout << "      " << o.name << " (" << o.type << ", default " << (o.default_value.empty() ? "\"\"" : o.default_value)
              << "): " << o.help << "\n";
}

int cmd_list(const std::vector<std::string>&) {
  register_builtins();
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
  std::cout << "\nnoise designs ([noise.<label>] type = ...):\n";
  for (const auto& n : design_registry().names()) print_component(design_registry().get(n).info);
  std::cout << "\nmetrics ([benchmark] metrics = ...):\n";
  for (const auto& n : metric_registry().names()) {
    const auto& e = metric_registry().get(n);
    print_component(e.info, e.lower_better ? " (lower is better)" : " (higher is better)");
  }
  std::cout << "\nbenchmark options ([benchmark]):\n";
  print_component({"benchmark", "the cell matrix and run settings", describe_options<BenchmarkOptions>()});
  std::cout << "\ndataset options ([dataset]):\n";
  print_component({"dataset", "the benchmarked images", describe_options<DatasetOptions>()});
  return 0;
}

int cmd_dataset(const std::vector<std::string>& args) {
  po::options_description desc("ipbench dataset import fashion-mnist");
  desc.add_options()("help,h", "this help")("split", po::value<std::string>()->required(), "train or test")(
      "out,o", po::value<std::string>()->required(), "output HDF5 file")(
      "pad-to", po::value<int64_t>()->default_value(0), "pad images to N x N with background -1 (0 = 28x28)")(
      "dir", po::value<std::string>()->default_value(kFashionMnistDir), "folder of the IDX .gz files");
  if (args.size() < 2 || args[0] != "import" || args[1] != "fashion-mnist") {
    std::cout << "usage: ipbench dataset import fashion-mnist --split train|test --out F.h5 [--pad-to N]\n" << desc;
    return args.empty() ? 2 : (args[0] == "--help" || args[0] == "-h" ? 0 : 2);
  }
  auto vm = parse(std::vector<std::string>(args.begin() + 2, args.end()), desc);
  if (vm.count("help")) {
    std::cout << desc;
    return 0;
  }
  Dataset d = import_fashion_mnist(vm["split"].as<std::string>(), vm["pad-to"].as<int64_t>(), vm["dir"].as<std::string>());
  write_dataset(vm["out"].as<std::string>(), d);
  std::cout << "wrote " << vm["out"].as<std::string>() << ": " << d.images.sizes() << " float32 in [-1, 1], split "
            << d.attributes.split << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kUsage;
    return args.empty() ? 2 : 0;
  }
  const std::string cmd = args[0];
  args.erase(args.begin());
  try {
    if (cmd == "run") return cmd_run(args);
    if (cmd == "summarize") return cmd_summarize(args);
    if (cmd == "list") return cmd_list(args);
    if (cmd == "dataset") return cmd_dataset(args);
    std::cerr << "ipbench: unknown command '" << cmd << "'\n\n" << kUsage;
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
