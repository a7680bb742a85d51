// Run folders -> leaderboard files (reports/leaderboard_files.h).
#include "reports/leaderboard_files.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "core/config.h"
#include "core/error.h"
#include "core/options.h"
#include "core/runtime.h"
#include "datasets/dataset.h"
#include "datasets/png.h"
#include "harness/records.h"  // write_text_atomic
#include "harness/run_folder.h"
#include "harness/runner.h"
#include "harness/spec.h"
#include "metrics/metric.h"
#include "reports/leaderboard_report.h"
#include "reports/run_summary.h"

namespace ipbench {

namespace {

namespace fs = std::filesystem;

struct LoadedRun {
  std::string name;
  fs::path dir;
  BenchmarkOptions bench;
  DatasetOptions dataset;
  std::string resolved;  ///< config.resolved.ini
  BenchmarkSummary summary;
  std::string incomplete;  ///< "incomplete: N of M samples" or ""

};

LoadedRun load_run(const fs::path& dir) {
  LoadedRun run;
  run.dir = dir;
  run.name = dir.filename().empty() ? dir.parent_path().filename().string() : dir.filename().string();
  const RunFolder folder = RunFolder::open(dir.string());
  const Config config = folder.resolved_config();
  run.resolved = config.to_ini();
  run.bench = read_options<BenchmarkOptions>(config.section("benchmark"));
  run.dataset = read_options<DatasetOptions>(config.section("dataset"));
  const std::vector<Record> records = folder.read_records();
  require(!records.empty(), "report: run folder '", dir.string(), "': records.csv holds no records");
  run.summary = summarize(records, summary_options(run.bench));
  RunInfo counts;
  counts.records = static_cast<int64_t>(records.size());
  counts.expected_records = expected_samples(folder, run.bench);
  run.incomplete = counts.incomplete();
  if (!run.incomplete.empty()) std::fprintf(stderr, "note: %s: %s\n", dir.string().c_str(), run.incomplete.c_str());
  return run;
}

// The stored reconstructions of the cell's first item ([n, C, H, W], at most n), or undefined.
torch::Tensor first_reconstructions(const LoadedRun& run, const CellSummary& cell, int64_t item, int64_t n) {
  return RunFolder::open(run.dir.string()).first_reconstructions(cell.op, cell.solver, cell.design, item, n);
}

// The run's first item [1, C, H, W] float32, read once per run; undefined when its dataset is gone.
torch::Tensor first_item(const LoadedRun& run) {
  try {
    return load_dataset_source(run.dataset.source, run.dataset.pad_to, run.dataset.first, 1).images.to(torch::kFloat);
  } catch (const Error&) {
    return {};
  }
}

struct Preview {
  torch::Tensor images;  ///< [2, C, H, W]: the ground truth, then the measurement as an image
  std::string what;
};

// Ground truth x [1, C, H, W] beside what operator `op` measured of it (the run's keys:
// harness/runner.h): y when it has the image's shape, y enlarged when it is a smaller image, else a
// min-max scaled A^T y for a linear operator; nullopt when none of these can be shown.
std::optional<Preview> measurement_preview(const LoadedRun& run, const OperatorSpec& op, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  const ItemProblem p = make_item_problem(op, x, run.dataset.first, static_cast<uint64_t>(run.bench.seed));
  const bool image_like = !p.y.is_complex() && p.y.dim() == 4 && p.y.size(1) == x.size(1);
  Preview out;
  torch::Tensor shown;
  if (image_like && p.y.sizes() == x.sizes()) {
    shown = p.y;
    out.what = "measurement y";
  } else if (image_like && p.y.size(2) <= x.size(2) && p.y.size(3) <= x.size(3)) {
    namespace F = torch::nn::functional;
    shown = F::interpolate(p.y.to(torch::kFloat), F::InterpolateFuncOptions()
                                                      .size(std::vector<int64_t>{x.size(2), x.size(3)})
                                                      .mode(torch::kNearest));
    out.what = str_cat("measurement y (", p.y.size(2), "x", p.y.size(3), ", enlarged)");
  } else if (p.op->linear()) {
    shown = p.op->adjoint(p.y);
    if (shown.is_complex() || shown.sizes() != x.sizes()) return std::nullopt;
    const double lo = shown.min().item<double>(), hi = shown.max().item<double>();
    shown = hi > lo ? (shown - lo) * (2.0 / (hi - lo)) - 1.0 : torch::zeros_like(shown);
    out.what = "A^T y, min-max scaled (back-projection of the measurement)";
  } else {
    return std::nullopt;
  }
  out.images = torch::cat({x, shown.to(torch::kFloat).clamp(-1, 1)});
  return out;
}

// Operator label -> its preview, for every operator of the run (one parse of its config).
std::map<std::string, Preview> measurement_previews(const LoadedRun& run, const torch::Tensor& x) {
  std::map<std::string, Preview> out;
  if (!x.defined()) return out;
  std::optional<Config> config;
  std::optional<Spec> spec;
  try {
    config.emplace(Config::from_string(run.resolved, (run.dir / "config.resolved.ini").string()));
    spec.emplace(parse_spec(*config, false));
  } catch (const Error&) {
    return out;  // a config this build cannot parse: no previews
  }
  for (const OperatorSpec& op : spec->operators) {
    try {
      if (auto p = measurement_preview(run, op, x)) out[op.label] = std::move(*p);
    } catch (const Error&) {
      // an operator that cannot be rebuilt here (e.g. a moved TorchScript file): no preview for it
    }
  }
  return out;
}

std::vector<ReportImage> cell_images(const std::vector<LoadedRun>& runs, const Leaderboard& board, int64_t n) {
  std::vector<ReportImage> images;
  if (n <= 0) return images;
  std::map<std::string, const LoadedRun*> by_name;
  std::map<std::string, torch::Tensor> truth;                       // run name -> first item
  std::map<std::string, std::map<std::string, Preview>> previews;  // run name -> operator -> preview
  for (const LoadedRun& r : runs) {
    by_name[r.name] = &r;
    truth[r.name] = first_item(r);
    previews[r.name] = measurement_previews(r, truth[r.name]);
  }
  for (const OperatorBoard& ob : board.operators) {
    std::set<std::string> previewed;
    for (const LeaderboardEntry& e : ob.entries) {
      const auto& run_previews = previews.at(e.run);
      const auto it = run_previews.find(ob.op);
      if (it == run_previews.end() || !previewed.insert(e.run).second) continue;
      images.push_back({ob.op,
                        str_cat(runs.size() > 1 ? e.run + ": " : "", "item ", by_name.at(e.run)->dataset.first,
                                ", ground truth and ", it->second.what),
                        png_bytes(image_grid(it->second.images, 2, 2))});
    }
    for (const LeaderboardEntry& e : ob.entries) {
      const LoadedRun& run = *by_name.at(e.run);
      const int64_t item = run.dataset.first;  // the run's first item
      const torch::Tensor x = first_reconstructions(run, e.cell, item, n);
      if (!x.defined()) continue;
      std::string caption = str_cat(e.rank, ". ", e.cell.solver, " / ", e.cell.design, ": item ", item);
      torch::Tensor tiles = x;
      const torch::Tensor& gt = truth.at(e.run);
      if (!gt.defined()) {
        caption += " (ground truth unavailable)";
      } else if (gt.sizes().slice(1) == x.sizes().slice(1)) {
        tiles = torch::cat({gt.to(x.dtype()), x});
        caption += ", ground truth then";
      }
      caption += str_cat(" reconstructions 0-", x.size(0) - 1);
      images.push_back({ob.op, caption, png_bytes(image_grid(tiles, tiles.size(0), 2))});
    }
  }
  return images;
}

}  // namespace

std::vector<std::string> write_report(const std::vector<std::string>& run_dirs, const std::string& out_dir,
                                      const ReportOptions& options) {
  require(!run_dirs.empty(), "report: no run folder given");
  register_builtin_metrics();
  require(metric_registry().contains(options.primary), "report: --metric ", options.primary,
          ": not a metric (ipbench list shows them)");
  const MetricEntry& primary = metric_registry().get(options.primary);
  require(primary.directional, "report: --metric ", options.primary,
          ": an image statistic has no better direction to rank by (use l1, psnr, ssim or residual)");
  std::vector<LoadedRun> runs;
  for (const auto& d : run_dirs) runs.push_back(load_run(d));
  std::map<std::string, int> names;
  for (const LoadedRun& r : runs) {
    require(++names[r.name] == 1, "report: two run folders are named '", r.name, "'; rename one");
    require(r.bench.confidence == runs.front().bench.confidence, "report: ", r.dir.string(), " uses confidence ",
            r.bench.confidence, ", ", runs.front().dir.string(), " uses ", runs.front().bench.confidence,
            ": a leaderboard needs one confidence level");
  }
  std::vector<std::pair<std::string, BenchmarkSummary>> summaries;
  for (const LoadedRun& r : runs) {
    BenchmarkSummary s = r.summary;
    if (!options.designs.empty())
      s.cells.erase(std::remove_if(s.cells.begin(), s.cells.end(),
                                   [&](const CellSummary& c) {
                                     return std::find(options.designs.begin(), options.designs.end(), c.design) ==
                                            options.designs.end();
                                   }),
                    s.cells.end());
    summaries.emplace_back(r.name, std::move(s));
  }
  size_t cells = 0;
  for (const auto& s : summaries) cells += s.second.cells.size();
  require(cells > 0, "report: no cell of design(s) ", option_value(options.designs), " in the runs");
  const Leaderboard board = build_leaderboard(summaries, options.primary, primary.lower_better);

  ReportInfo info;
  info.title = options.title;
  for (const LoadedRun& r : runs)
    info.runs.push_back(r.dir.string() + (r.incomplete.empty() ? "" : " (" + r.incomplete + ")"));
  info.context = context_line();
  const fs::path dir(out_dir);
  fs::create_directories(dir);
  const std::vector<std::pair<std::string, std::string>> files{
      {"leaderboard.md", leaderboard_markdown(board, info)},
      {"leaderboard.csv", leaderboard_csv(board)},
      {"leaderboard.json", leaderboard_json(board, info)},
      {"leaderboard.tex", leaderboard_latex(board, info)},
      {"leaderboard.html", leaderboard_html(board, info, cell_images(runs, board, options.images_per_cell))}};
  std::vector<std::string> written;
  for (const auto& [name, text] : files) {
    write_text_atomic((dir / name).string(), text);  // the leaderboard's own files, not a run folder's
    written.push_back((dir / name).string());
  }
  return written;
}

}  // namespace ipbench
