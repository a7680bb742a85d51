// Run folders -> leaderboard files (reports/leaderboard_files.h).
#include "reports/leaderboard_files.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <fstream>
#include <set>
#include <sstream>

#include "core/config.h"
#include "core/config_diff.h"
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
#include "reports/format.h"
#include "reports/leaderboard_report.h"
#include "reports/run_summary.h"
#include "stats/correlation.h"

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
  std::vector<Record> records;
  std::string run_id;
  std::string recorded_context;  ///< the context line in summary.json ("" without one)
  bool reconstructions = false;
};

// The string value of `"key": "..."` in a JSON text written by reports/format (json_string), or "".
std::string json_string_field(const std::string& json, const std::string& key) {
  const std::string tag = "\"" + key + "\": \"";
  const size_t at = json.find(tag);
  if (at == std::string::npos) return "";
  std::string out;
  for (size_t i = at + tag.size(); i < json.size(); ++i) {
    const char c = json[i];
    if (c == '"') return out;
    if (c == '\\' && i + 1 < json.size()) {
      const char n = json[++i];
      out += n == 'n' ? '\n' : n == 't' ? '\t' : n;
      continue;
    }
    out += c;
  }
  return "";
}

LoadedRun load_run(const fs::path& dir) {
  LoadedRun run;
  run.dir = dir;
  run.name = dir.filename().empty() ? dir.parent_path().filename().string() : dir.filename().string();
  const RunFolder folder = RunFolder::open(dir.string());
  const Config config = folder.resolved_config();
  run.resolved = config.to_ini();
  run.bench = read_options<BenchmarkOptions>(config.section("benchmark"));
  run.dataset = read_options<DatasetOptions>(config.section("dataset"));
  run.records = folder.read_records();  // refuses rows of another run (their run id)
  const std::vector<Record>& records = run.records;
  require(!records.empty(), "report: run folder '", dir.string(), "': records.csv holds no records");
  run.summary = summarize(records, summary_options(run.bench));
  run.run_id = folder.run_id();
  run.reconstructions = folder.has_reconstructions();
  if (fs::is_regular_file(dir / "summary.json")) {
    std::ifstream in(dir / "summary.json");
    std::stringstream ss;
    ss << in.rdbuf();
    run.recorded_context = json_string_field(ss.str(), "context");
  }
  RunInfo counts;
  counts.records = static_cast<int64_t>(records.size());
  counts.expected_records = expected_samples(folder, run.bench);
  run.incomplete = counts.incomplete();
  if (!run.incomplete.empty()) std::fprintf(stderr, "note: %s: %s\n", dir.string().c_str(), run.incomplete.c_str());
  return run;
}

// The stored reconstructions of (cell, item) ([n, C, H, W], at most n), or undefined.
torch::Tensor first_reconstructions(const LoadedRun& run, const CellSummary& cell, int64_t item, int64_t n) {
  return RunFolder::open(run.dir.string()).first_reconstructions(cell.op, cell.solver, cell.design, item, n);
}

// Dataset item `item` of the run [1, C, H, W] float32; undefined when its dataset is gone.
torch::Tensor dataset_item(const LoadedRun& run, int64_t item) {
  try {
    return load_dataset_source(run.dataset.source, run.dataset.pad_to, item, 1).images.to(torch::kFloat);
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
std::optional<Preview> measurement_preview(const LoadedRun& run, const OperatorSpec& op, const torch::Tensor& x,
                                           int64_t item) {
  torch::NoGradGuard no_grad;
  const ItemProblem p = make_item_problem(op, x, item, static_cast<uint64_t>(run.bench.seed));
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

// Operator label -> its preview of item `item` (ground truth x), for every operator of the run.
std::map<std::string, Preview> measurement_previews(const LoadedRun& run, const torch::Tensor& x, int64_t item) {
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
      if (auto p = measurement_preview(run, op, x, item)) out[op.label] = std::move(*p);
    } catch (const Error&) {
      // an operator that cannot be rebuilt here (e.g. a moved TorchScript file): no preview for it
    }
  }
  return out;
}

// A non-negative map [C, H, W] as an image in [-1, 1]: 0 black, `scale` white.
torch::Tensor map_image(const torch::Tensor& m, double scale) {
  return scale > 0 ? (m / scale).clamp(0, 1) * 2.0 - 1.0 : torch::full_like(m, -1.0);
}

// The stored samples of (cell, item) whose records are ok: sample index -> image.
using ItemSamples = std::map<int64_t, torch::Tensor>;

struct CellStore {
  std::map<int64_t, ItemSamples> items;  ///< item -> sample -> image (every stored sample)
  std::set<std::pair<int64_t, int64_t>> failed;  ///< (item, sample) of records not ok
};

CellStore cell_store(const LoadedRun& run, const CellSummary& cell) {
  CellStore s;
  if (!run.reconstructions) return s;
  s.items = RunFolder::open(run.dir.string()).read_cell_reconstructions(cell.op, cell.solver, cell.design);
  const std::string label = cell.op + "/" + cell.solver + "/" + cell.design;
  for (const Record& r : run.records)
    if (r.cell == label && r.status != "ok") s.failed.insert({r.item, r.group * r.group_size + r.member});
  return s;
}

// One item's panel for one cell: ground truth, measurement, two samples (a coupled pair for K >= 2),
// the per-pixel mean, std and |mean - truth| of the ok samples; nullopt when the cell stored none of it.
std::optional<ReportImage> item_panel(const std::string& board, const LeaderboardEntry& e, const CellStore& store,
                                      int64_t item, const torch::Tensor& truth, const Preview* preview,
                                      bool several_runs) {
  const auto it = store.items.find(item);
  if (it == store.items.end() || it->second.size() < 2) return std::nullopt;
  std::vector<torch::Tensor> ok;
  for (const auto& [sample, image] : it->second)
    if (!store.failed.count({item, sample})) ok.push_back(image.to(torch::kFloat));
  if (ok.size() < 2) return std::nullopt;
  const auto first = it->second.begin(), second = std::next(first);
  const torch::Tensor samples = torch::stack(ok);
  const torch::Tensor mean = samples.mean(torch::IntArrayRef{0}), sd = samples.std(torch::IntArrayRef{0}, true, false);
  std::vector<torch::Tensor> tiles;
  std::string caption = str_cat(e.rank, ". ", e.cell.solver, " / ", e.cell.design, several_runs ? " (" + e.run + ")" : "",
                                ", item ", item, ": ");
  const bool have_truth = truth.defined() && truth.sizes().slice(1) == samples.sizes().slice(1);
  if (have_truth) {
    tiles.push_back(truth[0]);
    caption += "ground truth, ";
    if (preview) {
      tiles.push_back(preview->images[1]);
      caption += preview->what + ", ";
    }
  }
  const bool coupled = e.cell.group_size >= 2;
  tiles.push_back(first->second.to(torch::kFloat));
  tiles.push_back(second->second.to(torch::kFloat));
  caption += coupled ? str_cat("a coupled pair (samples ", first->first, " and ", second->first, " of group 0)")
                     : str_cat("two independent samples (", first->first, " and ", second->first, ")");
  const double sd_max = sd.max().item<double>();
  tiles.push_back(mean);
  tiles.push_back(map_image(sd, sd_max));
  caption += str_cat(", per-pixel mean and std of ", ok.size(), " samples (white = ", fmt(sd_max, 3), ")");
  if (have_truth) {
    const torch::Tensor err = (mean - truth[0]).abs();
    const double err_max = err.max().item<double>();
    tiles.push_back(map_image(err, err_max));
    caption += str_cat(", |mean - truth| (white = ", fmt(err_max, 3), ")");
  } else {
    caption += " (ground truth unavailable: no error map)";
  }
  const torch::Tensor grid = torch::stack(tiles);
  return ReportImage{board, caption, png_bytes(image_grid(grid, grid.size(0), 2)), "item"};
}

std::vector<ReportImage> cell_images(const std::vector<LoadedRun>& runs, const Leaderboard& board, int64_t n,
                                     const std::vector<int64_t>& chosen, std::vector<std::string>& notes) {
  std::vector<ReportImage> images;
  std::map<std::string, const LoadedRun*> by_name;
  // run name -> item -> ground truth / operator previews
  std::map<std::string, std::map<int64_t, torch::Tensor>> truth;
  std::map<std::string, std::map<int64_t, std::map<std::string, Preview>>> previews;
  std::map<std::string, std::vector<int64_t>> items_of;  // run name -> chosen items it holds
  for (const LoadedRun& r : runs) {
    by_name[r.name] = &r;
    std::vector<int64_t> missing;
    for (int64_t item : chosen.empty() ? std::vector<int64_t>{r.dataset.first} : chosen) {
      if (item < r.dataset.first || item >= r.dataset.first + r.bench.items) {
        missing.push_back(item);
        continue;
      }
      items_of[r.name].push_back(item);
      truth[r.name][item] = dataset_item(r, item);
      previews[r.name][item] = measurement_previews(r, truth[r.name][item], item);
    }
    if (!missing.empty())
      notes.push_back(str_cat(r.dir.string(), ": item(s) ", option_value(missing), " not in the run (its items are ",
                              r.dataset.first, "-", r.dataset.first + r.bench.items - 1, ")"));
    if (!r.reconstructions)
      notes.push_back(str_cat(r.dir.string(), ": no reconstructions stored (run with [benchmark] ",
                              "save_reconstructions = true): no reconstructions, per-pixel maps or pair correlations ",
                              "of this run are shown"));
  }
  for (const OperatorBoard& ob : board.operators) {
    // Per chosen item: the ground truth and measurement of each run on the board, then each cell's panel.
    std::set<std::string> runs_here;
    for (const LeaderboardEntry& e : ob.entries) runs_here.insert(e.run);
    std::map<std::string, CellStore> stores;  // entry key -> stored samples (read once)
    for (const LeaderboardEntry& e : ob.entries)
      if (by_name.at(e.run)->reconstructions) stores[e.run + "|" + e.cell.solver + "|" + e.cell.design] = cell_store(*by_name.at(e.run), e.cell);
    std::set<std::string> previewed;
    for (const LeaderboardEntry& e : ob.entries) {
      if (!previewed.insert(e.run).second) continue;
      for (int64_t item : items_of[e.run]) {
        const auto& p = previews.at(e.run).at(item);
        const auto it = p.find(ob.op);
        if (it == p.end()) continue;
        images.push_back({ob.title,
                          str_cat(runs.size() > 1 ? e.run + ": " : "", "item ", item, ", ground truth and ", it->second.what),
                          png_bytes(image_grid(it->second.images, 2, 2)), "measurement"});
      }
    }
    for (const LeaderboardEntry& e : ob.entries) {
      if (n <= 0) break;
      const LoadedRun& run = *by_name.at(e.run);
      if (items_of[e.run].empty()) continue;
      const int64_t item = items_of[e.run].front();
      const torch::Tensor x = first_reconstructions(run, e.cell, item, n);
      if (!x.defined()) continue;
      std::string caption = str_cat(e.rank, ". ", e.cell.solver, " / ", e.cell.design, ": item ", item);
      torch::Tensor tiles = x;
      const torch::Tensor& gt = truth.at(e.run).at(item);
      if (!gt.defined()) {
        caption += " (ground truth unavailable)";
      } else if (gt.sizes().slice(1) == x.sizes().slice(1)) {
        tiles = torch::cat({gt.to(x.dtype()), x});
        caption += ", ground truth then";
      }
      caption += str_cat(" reconstructions 0-", x.size(0) - 1);
      images.push_back({ob.title, caption, png_bytes(image_grid(tiles, tiles.size(0), 2)), "reconstructions"});
    }
    for (const LeaderboardEntry& e : ob.entries) {
      const auto store = stores.find(e.run + "|" + e.cell.solver + "|" + e.cell.design);
      if (store == stores.end()) continue;
      for (int64_t item : items_of[e.run]) {
        const auto& p = previews.at(e.run).at(item);
        const auto pv = p.find(ob.op);
        if (auto panel = item_panel(ob.title, e, store->second, item, truth.at(e.run).at(item),
                                    pv == p.end() ? nullptr : &pv->second, runs.size() > 1))
          images.push_back(std::move(*panel));
      }
    }
  }
  return images;
}

// PN / RR pair correlations of every cell on the boards whose run stored its reconstructions.
std::vector<CorrelationHistogram> correlation_histograms(const std::vector<LoadedRun>& runs, const Leaderboard& board) {
  std::vector<CorrelationHistogram> out;
  std::map<std::string, const LoadedRun*> by_name;
  for (const LoadedRun& r : runs) by_name[r.name] = &r;
  for (const OperatorBoard& ob : board.operators)
    for (const LeaderboardEntry& e : ob.entries) {
      const LoadedRun& run = *by_name.at(e.run);
      if (!run.reconstructions) continue;
      const CellStore store = cell_store(run, e.cell);
      if (store.items.empty()) continue;
      const PairCorrelations pooled =
          pool_cell_correlations(store.items, e.cell.group_size, [&](int64_t item, int64_t sample) {
            return !store.failed.count({item, sample});
          });
      if (pooled.standard.empty() && pooled.centralized.empty()) continue;
      const bool coupled = e.cell.group_size >= 2;
      out.push_back({ob.title,
                     str_cat(e.cell.solver, " / ", e.cell.design, runs.size() > 1 ? " (" + e.run + ")" : "", ": ",
                             coupled ? "PN pairs (coupled)" : "RR pairs (independent)", ", ",
                             std::max(pooled.standard.size(), pooled.centralized.size()), " pairs"),
                     pooled.standard, pooled.centralized});
    }
  return out;
}

// The problem a run's cells of operator `op` measured: what must agree for one board (dataset, items,
// prior, the operator's section, the measurement keys' seed), as a config of those sections.
Config board_signature(const LoadedRun& run, const std::string& op) {
  const Config config = Config::from_string(run.resolved, (run.dir / "config.resolved.ini").string());
  std::string text;
  auto section = [&](const std::string& name) {
    text += "[" + name + "]\n";
    if (const Section* s = config.find_section(name))
      for (const auto& [key, entry] : s->entries()) text += key + " = " + entry.value + "\n";
  };
  text += str_cat("[benchmark]\nitems = ", run.bench.items, "\nseed = ", run.bench.seed, "\n");
  section("dataset");
  section("prior");
  section("operator." + op);
  return Config::from_string(text, run.dir.string());
}

// "fashion-mnist:test, 8 items, unet fmnist32-ddpm"
std::string problem_summary(const LoadedRun& run) {
  const Config config = Config::from_string(run.resolved, (run.dir / "config.resolved.ini").string());
  std::string prior;
  if (const Section* s = config.find_section("prior"))
    for (const auto& [key, entry] : s->entries()) {
      if (key == "type") prior = entry.value + prior;
      if (key == "path") prior += " " + fs::path(entry.value).filename().string();
    }
  return str_cat(run.dataset.source, ", ", run.bench.items, " items", prior.empty() ? "" : ", " + prior);
}

// Groups each operator's runs by board_signature: one board when they agree; otherwise one board per
// distinct problem (titled with its runs, noting the keys that differ from the first), or, strict, an
// Error naming every differing key with both values.
BoardAssignments assign_boards(const std::vector<LoadedRun>& runs, bool strict) {
  BoardAssignments out;
  std::vector<std::string> ops;
  std::map<std::string, std::vector<const LoadedRun*>> runs_of;
  for (const LoadedRun& r : runs)
    for (const CellSummary& c : r.summary.cells) {
      auto& v = runs_of[c.op];
      if (v.empty()) ops.push_back(c.op);
      if (std::find(v.begin(), v.end(), &r) == v.end()) v.push_back(&r);
    }
  for (const std::string& op : ops) {
    struct Group {
      Config signature;
      std::vector<const LoadedRun*> members;
    };
    std::vector<Group> groups;
    for (const LoadedRun* r : runs_of[op]) {
      Config sig = board_signature(*r, op);
      auto g = std::find_if(groups.begin(), groups.end(),
                            [&](const Group& x) { return config_differences(x.signature, sig).empty(); });
      if (g == groups.end()) {
        groups.push_back({std::move(sig), {r}});
      } else {
        g->members.push_back(r);
      }
    }
    if (groups.size() < 2) continue;
    const Group& first = groups.front();
    const std::string a_name = first.members.front()->dir.string();
    if (strict) {
      std::string list;
      for (size_t g = 1; g < groups.size(); ++g) {
        const std::string b_name = groups[g].members.front()->dir.string();
        list += str_cat("\n  ", a_name, " vs ", b_name, ":");
        for (const SectionDifference& d : config_differences(first.signature, groups[g].signature))
          for (const KeyDifference& k : d.keys)
            list += str_cat("\n    [", d.section, "] ", k.key, ": ", k.a, " (", a_name, ") vs ", k.b, " (", b_name, ")");
      }
      throw Error(str_cat("report --strict: the runs' '", op, "' cells measured different problems and cannot share ",
                          "a board:", list, "\nrank them separately (drop --strict for one board per problem)"));
    }
    for (size_t g = 0; g < groups.size(); ++g) {
      std::vector<std::string> names;
      for (const LoadedRun* r : groups[g].members) names.push_back(r->dir.string());
      const std::string title =
          str_cat(op, " \u2014 ", option_value(names), " (", problem_summary(*groups[g].members.front()), ")");
      std::string note;
      if (g == 0) {
        note = str_cat("Separate boards for '", op, "': the runs measured different problems (dataset, items, prior, ",
                       "operator or measurement seed differ); entries are ranked only against runs of the same problem.");
      } else {
        std::vector<std::string> diffs;
        for (const SectionDifference& d : config_differences(first.signature, groups[g].signature))
          for (const KeyDifference& k : d.keys) diffs.push_back(str_cat("[", d.section, "] ", k.key, " = ", k.b, " (", k.a, " in ", a_name, ")"));
        note = str_cat("Not ranked with ", a_name, ": ", option_value(diffs), ".");
      }
      for (const LoadedRun* r : groups[g].members) out[{r->name, op}] = {title, note};
    }
  }
  return out;
}

// "steps=50, zeta=1.0" of [solver.<label>] and its per-operator sections ([solver.<label>@op]).
RunContextTable run_context_table(const std::vector<LoadedRun>& runs) {
  RunContextTable t;
  std::vector<std::string> prior, dataset, items, samples, designs, seed, ids, device, context;
  // solver type -> key -> value -> count, to find keys that differ between entries of one type.
  std::map<std::string, std::map<std::string, std::set<std::string>>> values;
  struct SolverRow {
    std::string run, label, type;
    std::vector<std::pair<std::string, std::string>> options;
  };
  std::vector<SolverRow> rows;
  for (const LoadedRun& r : runs) {
    t.runs.push_back(r.dir.string());
    const Config config = Config::from_string(r.resolved, (r.dir / "config.resolved.ini").string());
    auto section_text = [&](const std::string& name) {
      std::string s;
      if (const Section* sec = config.find_section(name))
        for (const auto& [key, entry] : sec->entries()) s += str_cat(s.empty() ? "" : ", ", key, " = ", entry.value);
      return s;
    };
    prior.push_back(section_text("prior"));
    dataset.push_back(str_cat(r.dataset.source, " (pad_to ", r.dataset.pad_to, ")"));
    items.push_back(str_cat(r.bench.items, " (items ", r.dataset.first, "-", r.dataset.first + r.bench.items - 1, ")"));
    samples.push_back(std::to_string(r.bench.samples_per_item));
    designs.push_back(option_value(r.bench.designs));
    seed.push_back(std::to_string(r.bench.seed));
    ids.push_back(r.run_id);
    device.push_back(str_cat(r.bench.device, ", ", r.bench.dtype, ", ", r.bench.threads, " thread(s)"));
    context.push_back(r.recorded_context.empty() ? "(no summary.json)" : r.recorded_context);
    for (const std::string& label : r.bench.solvers) {
      SolverRow row{r.dir.string(), label, "", {}};
      for (const std::string& name : config.section_names()) {
        const bool base = name == "solver." + label, per_op = name.rfind("solver." + label + "@", 0) == 0;
        if (!base && !per_op) continue;
        const std::string prefix = per_op ? name.substr(7 + label.size()) + ": " : "";
        for (const auto& [key, entry] : config.section(name).entries()) {
          if (base && key == "type") {
            row.type = entry.value;
            continue;
          }
          row.options.emplace_back(prefix + key, entry.value);
        }
      }
      if (row.type.empty()) row.type = label;
      rows.push_back(std::move(row));
    }
  }
  for (const SolverRow& row : rows)
    for (const auto& [key, value] : row.options) values[row.type][key].insert(value);
  // A key differs when entries of one type hold different values, or some lack it.
  std::map<std::string, int64_t> rows_of_type;
  for (const SolverRow& row : rows) ++rows_of_type[row.type];
  for (SolverRow& row : rows) {
    std::string text;
    for (const auto& [key, value] : row.options) {
      int64_t holders = 0;
      for (const SolverRow& o : rows)
        if (o.type == row.type)
          for (const auto& kv : o.options) holders += kv.first == key;
      const bool differs = values[row.type][key].size() > 1 || holders < rows_of_type[row.type];
      if (differs) {
        const std::string name = row.type + "." + key;
        if (std::find(t.differing.begin(), t.differing.end(), name) == t.differing.end()) t.differing.push_back(name);
      }
      text += str_cat(text.empty() ? "" : ", ", differs ? "*" : "", key, " = ", value);
    }
    t.solvers.push_back({row.run, row.label + (row.type != row.label ? " (" + row.type + ")" : ""), text});
  }
  t.rows = {{"prior", prior},     {"dataset", dataset}, {"items", items},   {"samples per item", samples},
            {"designs", designs}, {"seed", seed},       {"run id", ids},    {"device, dtype, threads", device},
            {"run context (git revision, LibTorch, ...)", context}};
  return t;
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
  const Leaderboard board =
      build_leaderboard(summaries, options.primary, primary.lower_better, assign_boards(runs, options.strict));

  ReportInfo info;
  info.title = options.title;
  for (const LoadedRun& r : runs)
    info.runs.push_back(r.dir.string() + (r.incomplete.empty() ? "" : " (" + r.incomplete + ")"));
  info.context = "rendered by " + context_line();
  info.run_context = run_context_table(runs);
  info.correlations = correlation_histograms(runs, board);
  const std::vector<ReportImage> images = cell_images(runs, board, options.images_per_cell, options.items, info.notes);
  const fs::path dir(out_dir);
  fs::create_directories(dir);
  const std::vector<std::pair<std::string, std::string>> files{
      {"leaderboard.md", leaderboard_markdown(board, info)},
      {"leaderboard.csv", leaderboard_csv(board)},
      {"leaderboard.json", leaderboard_json(board, info)},
      {"leaderboard.tex", leaderboard_latex(board, info)},
      {"leaderboard.html", leaderboard_html(board, info, images)}};
  std::vector<std::string> written;
  for (const auto& [name, text] : files) {
    write_text_atomic((dir / name).string(), text);  // the leaderboard's own files, not a run folder's
    written.push_back((dir / name).string());
  }
  return written;
}

}  // namespace ipbench
