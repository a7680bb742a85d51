// Metrics after the fact (reports/rescore.h).
#include "reports/rescore.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "core/config.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/rng.h"
#include "core/runtime.h"
#include "datasets/dataset.h"
#include "harness/plan.h"
#include "harness/run_folder.h"
#include "harness/runner.h"
#include "harness/spec.h"
#include "metrics/feature_metric.h"
#include "metrics/metric.h"
#include "reports/format.h"

namespace ipbench {

namespace {

// The metric columns of the folder's records.csv: the run's metrics, then those of earlier rescores.
std::vector<std::string> stored_columns(const BenchmarkOptions& bench, const std::vector<std::string>& rescored) {
  std::vector<std::string> out = bench.metrics;
  for (const auto& m : rescored)
    if (std::find(out.begin(), out.end(), m) == out.end()) out.push_back(m);
  return out;
}

// "[metric.<label>]\nkey = value\n..." of a section (for rescore.ini).
std::string section_text(const Section& s) {
  std::string out = "[" + s.name() + "]\n";
  for (const auto& [key, e] : s.entries()) out += key + " = " + e.value + "\n";
  return out;
}

struct CellRef {
  std::string cell, op, solver, design;
  int64_t K = 1;
  size_t op_index = 0;
};

}  // namespace

std::string set_metrics_json(const std::vector<SetMetricResult>& results) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    const auto& d = r.distance;
    os << (i ? ",\n  " : "\n  ") << "{\"metric\": " << json_string(r.metric)
       << ", \"statistic\": \"frechet_distance\", \"cell\": " << json_string(r.cell)
       << ", \"operator\": " << json_string(r.op) << ", \"solver\": " << json_string(r.solver)
       << ", \"design\": " << json_string(r.design) << ", \"items\": " << d.items
       << ", \"reconstructions\": " << d.rows_a << ", \"ground_truths\": " << d.rows_b
       << ", \"value\": " << json_number(d.value.value) << ", \"ci_low\": " << json_number(d.value.low)
       << ", \"ci_high\": " << json_number(d.value.high) << ", \"confidence\": " << json_number(r.confidence)
       << ", \"method\": \"bootstrap_bca_items\", \"resamples\": " << d.resamples << "}";
  }
  os << (results.empty() ? "]\n" : "\n]\n");
  return os.str();
}

RescoreOutcome rescore_run(const std::string& dir, const RescoreOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  require(!options.metrics.empty(), "rescore: no metrics given (--metrics a,b)");
  RunFolder::open(dir);  // names a missing config.resolved.ini / records.csv
  RunFolder folder = RunFolder::open_for_writing(dir);
  const Config config = folder.resolved_config();
  const Spec spec = parse_spec(config, false);
  const BenchmarkOptions& bench = spec.benchmark;

  // Earlier rescores: their columns and sections.
  std::vector<std::string> rescored;
  std::map<std::string, std::string> sections;  // label -> [metric.<label>] text for rescore.ini
  const std::string previous = folder.rescore_ini_text();
  if (!previous.empty()) {
    const Config old = Config::from_string(previous, folder.path("rescore.ini"));
    old.section("rescore").read("metrics", rescored);
    register_metric_sections(old, rescored);
    for (const auto& m : rescored)
      if (old.has_section("metric." + m)) sections[m] = section_text(old.section("metric." + m));
  }
  const std::vector<std::string> columns = stored_columns(bench, rescored);

  // The requested metrics: configured here, in the run's config, or registered.
  const Config extra = options.metric_config.empty() ? Config::from_string("[rescore]\n", options.metric_config_origin)
                                                     : Config::from_string(options.metric_config,
                                                                           options.metric_config_origin);
  std::set<std::string> seen;
  for (const auto& m : options.metrics) {
    require(seen.insert(m).second, "rescore --metrics: '", m, "' is listed twice");
    if (extra.has_section("metric." + m)) {
      register_metric_section(m, extra.section("metric." + m));
      sections[m] = section_text(extra.section("metric." + m));
    } else if (config.has_section("metric." + m)) {
      register_metric_section(m, config.section("metric." + m));
    }
    try {
      metric_registry().get(m);
    } catch (const Error& e) {
      throw Error(str_cat("rescore --metrics: ", e.what()));
    }
    require(!metric_registry().get(m).gallery, "rescore --metrics: '", m, "' is a gallery metric (one value per ",
            "coupled group); rescore computes per-sample metrics only. Violated: a per-sample metric");
  }
  for (const auto& name : extra.section_names())
    require(name == "rescore" || (name.rfind("metric.", 0) == 0 && seen.count(name.substr(7))), "rescore --config ",
            extra.origin(), ": section [", name, "] is not a [metric.<label>] of a metric in --metrics");

  const std::vector<Record> stored = folder.read_records();
  require(!stored.empty(), "rescore '", dir, "': records.csv holds no records: nothing to rescore");
  require(folder.has_reconstructions(), "rescore '", dir, "': the run stored no reconstructions ('",
          folder.path("reconstructions"), "' is missing: it ran with [benchmark] save_reconstructions = false); ",
          "metric '", options.metrics.front(), "' needs them. Rerun with --set benchmark.save_reconstructions=true");

  // Ground truth, operators and measurements, exactly as the run built them.
  const torch::Device device = resolve_device(bench.device);
  const auto dtype = bench.dtype == "float64" ? torch::kDouble : torch::kFloat;
  torch::Tensor images;
  try {
    images = load_dataset_source(spec.dataset.source, spec.dataset.pad_to, spec.dataset.first, bench.items).images;
  } catch (const Error& e) {
    throw Error(str_cat("rescore '", dir, "': the run's dataset ([dataset] source = ", spec.dataset.source,
                        ") cannot be loaded; metric '", options.metrics.front(), "' needs the ground truth: ", e.what()));
  }
  require(images.size(0) == bench.items, "rescore '", dir, "': dataset '", spec.dataset.source, "' has ",
          images.size(0), " images from index ", spec.dataset.first, ", the run used ", bench.items);
  images = images.to(device, dtype);
  const uint64_t seed = static_cast<uint64_t>(bench.seed);
  std::map<std::pair<size_t, int64_t>, ItemProblem> problems;  // (operator, item position)
  auto problem = [&](size_t op, int64_t pos) -> const ItemProblem& {
    auto it = problems.find({op, pos});
    if (it == problems.end())
      it = problems
               .emplace(std::make_pair(op, pos), make_item_problem(spec.operators[op], images.slice(0, pos, pos + 1),
                                                                   spec.dataset.first + pos, seed))
               .first;
    return it->second;
  };

  // Records by (cell, item) in order of first appearance.
  std::vector<CellRef> cells;
  std::map<std::string, size_t> cell_index;
  std::map<std::pair<std::string, int64_t>, std::vector<size_t>> by_unit;
  std::vector<std::pair<std::string, int64_t>> units;
  for (size_t i = 0; i < stored.size(); ++i) {
    const Record& r = stored[i];
    if (!cell_index.count(r.cell)) {
      CellRef c{r.cell, r.op, r.solver, r.design, r.group_size, 0};
      const auto op = std::find(bench.operators.begin(), bench.operators.end(), r.op);
      require(op != bench.operators.end(), "rescore '", dir, "': records.csv names operator '", r.op,
              "', which config.resolved.ini does not have");
      c.op_index = static_cast<size_t>(op - bench.operators.begin());
      cell_index[r.cell] = cells.size();
      cells.push_back(c);
    }
    const auto key = std::make_pair(r.cell, r.item);
    if (!by_unit.count(key)) units.push_back(key);
    by_unit[key].push_back(i);
  }

  // values[metric][record index]
  std::map<std::string, std::vector<double>> values;
  for (const auto& m : options.metrics) values[m].assign(stored.size(), NAN);
  // Set-level features: [metric][cell] -> per item position (reconstructions, ground truth).
  std::vector<std::string> feature_metrics;
  for (const auto& m : options.metrics)
    if (feature_network(m)) feature_metrics.push_back(m);
  std::map<std::string, std::map<std::string, std::vector<std::pair<torch::Tensor, torch::Tensor>>>> sets;
  std::map<std::pair<std::string, int64_t>, torch::Tensor> truth_features;  // (metric, item position)

  RescoreOutcome out;
  Progress progress("rescore", static_cast<int64_t>(stored.size()), options.progress);
  std::string loaded_cell;
  std::map<int64_t, std::map<int64_t, torch::Tensor>> recon;
  torch::NoGradGuard no_grad;
  for (const auto& unit : units) {
    const CellRef& c = cells[cell_index[unit.first]];
    const int64_t item = unit.second, pos = item - spec.dataset.first;
    require(pos >= 0 && pos < bench.items, "rescore '", dir, "': records.csv has item ", item,
            " outside the run's items [", spec.dataset.first, ", ", spec.dataset.first + bench.items, ")");
    if (loaded_cell != c.cell) {
      recon = folder.read_cell_reconstructions(c.op, c.solver, c.design);
      loaded_cell = c.cell;
    }
    std::vector<size_t> ok;
    std::vector<torch::Tensor> xs;
    for (size_t i : by_unit[unit]) {
      const Record& r = stored[i];
      if (r.status != "ok") continue;
      const int64_t sample = r.group * r.group_size + r.member;
      const auto it = recon.find(item);
      require(it != recon.end() && it->second.count(sample), "rescore '", dir, "': no stored reconstruction of cell ",
              c.cell, ", item ", item, ", sample ", sample, " (group ", r.group, ", member ", r.member, ") under '",
              folder.path("reconstructions/" + c.op + "/" + c.solver + "/" + c.design), "/item", item,
              "_s<first>.h5'; its record says ok. Violated: every ok sample's reconstruction is stored");
      ok.push_back(i);
      xs.push_back(it->second.at(sample));
    }
    const torch::Tensor x_true = images.slice(0, pos, pos + 1);
    if (!ok.empty()) {
      const auto x = torch::stack(xs).to(device, dtype);
      const ItemProblem& p = problem(c.op_index, pos);
      MetricInput in{x, x_true, p.y, p.op->forward(x)};
      for (const auto& m : options.metrics) {
        torch::Tensor v;
        if (const auto net = feature_network(m)) {
          const auto fa = net->features(x);
          auto& ft = truth_features[{m, pos}];
          if (!ft.defined()) ft = net->features(x_true);
          v = feature_distance(fa, ft);
          auto& per_item = sets[m][c.cell];
          per_item.resize(static_cast<size_t>(bench.items));
          per_item[static_cast<size_t>(pos)].first = fa.flatten(1);
        } else {
          v = metric_registry().get(m).compute(in);
        }
        v = v.to(torch::kCPU, torch::kDouble).contiguous();
        for (size_t b = 0; b < ok.size(); ++b) values[m][ok[b]] = v[static_cast<int64_t>(b)].item<double>();
      }
    }
    for (const auto& m : feature_metrics) {  // the item's ground truth belongs to the cell's set either way
      auto& ft = truth_features[{m, pos}];
      if (!ft.defined()) ft = feature_network(m)->features(x_true);
      auto& per_item = sets[m][c.cell];
      per_item.resize(static_cast<size_t>(bench.items));
      per_item[static_cast<size_t>(pos)].second = ft.flatten(1);
    }
    out.samples_scored += static_cast<int64_t>(ok.size());
    progress.advance(static_cast<int64_t>(by_unit[unit].size()), c.cell);
  }
  progress.finish();

  // Set-level Frechet distances with the bootstrap over items, per (metric, cell).
  std::map<std::string, std::string> set_json;
  for (const auto& m : feature_metrics) {
    std::vector<SetMetricResult> results;
    for (const CellRef& c : cells) {
      const auto& per_item = sets[m][c.cell];
      std::vector<torch::Tensor> a, b;
      for (const auto& [fa, fb] : per_item)
        if (fb.defined()) {
          a.push_back(fa);
          b.push_back(fb);
        }
      SetMetricResult r{m, c.cell, c.op, c.solver, c.design, {}, bench.confidence};
      int64_t rows_a = 0;
      for (const auto& t : a) rows_a += t.defined() ? t.size(0) : 0;
      if (b.size() >= 2 && rows_a >= 2) {
        const uint64_t key = derive_key(seed, hash_string("set_metric"), hash_string(m), hash_string(c.cell));
        r.distance = frechet_distance_over_items(a, b, bench.confidence, key, options.resamples);
      } else {
        r.distance.items = static_cast<int64_t>(b.size());
        r.distance.rows_a = rows_a;
        r.distance.rows_b = static_cast<int64_t>(b.size());
      }
      results.push_back(r);
    }
    set_json[m] = set_metrics_json(results);
    out.set_metrics.insert(out.set_metrics.end(), results.begin(), results.end());
  }

  // New columns appended; stored ones compared.
  std::vector<std::string> new_columns = columns;
  for (const auto& m : options.metrics) {
    if (std::find(columns.begin(), columns.end(), m) == columns.end()) {
      out.added.push_back(m);
      new_columns.push_back(m);
      continue;
    }
    RescoreCheck check{m, 0, 0, 0.0};
    for (size_t i = 0; i < stored.size(); ++i) {
      const auto it = stored[i].metrics.find(m);
      const double was = it == stored[i].metrics.end() ? NAN : it->second, now = values[m][i];
      ++check.compared;
      const bool same = (std::isnan(was) && std::isnan(now)) || was == now;
      if (!same) ++check.differing;
      if (std::isfinite(was) && std::isfinite(now))
        check.max_abs_difference = std::max(check.max_abs_difference, std::abs(was - now));
    }
    out.checked.push_back(check);
  }
  out.records = stored;
  out.recomputed = stored;
  for (size_t i = 0; i < stored.size(); ++i) {
    out.recomputed[i].metrics.clear();
    for (const auto& m : options.metrics) {
      out.recomputed[i].metrics[m] = values[m][i];
      if (std::find(out.added.begin(), out.added.end(), m) != out.added.end()) out.records[i].metrics[m] = values[m][i];
    }
  }

  if (!out.added.empty() || !set_json.empty()) {
    std::vector<std::string> all_rescored = rescored;
    for (const auto& m : out.added) all_rescored.push_back(m);
    std::string ini = "; metrics added after the run by `ipbench rescore` (reports/rescore.h); records.csv holds\n"
                      "; their columns after the run's own\n[rescore]\nmetrics = ";
    for (size_t i = 0; i < all_rescored.size(); ++i) ini += (i ? ", " : "") + all_rescored[i];
    ini += "\n";
    for (const auto& m : all_rescored)
      if (sections.count(m)) ini += "\n" + sections[m];
    folder.write_rescored(out.records, new_columns, ini, set_json);
    out.files.push_back(folder.path("records.csv"));
    out.files.push_back(folder.path("rescore.ini"));
    for (const auto& kv : set_json) out.files.push_back(folder.path("set_metrics/" + kv.first + ".json"));
  }
  RunInfo info;
  info.context = context_line() + " (rescored: " + [&] {
    std::string s;
    for (const auto& m : options.metrics) s += (s.empty() ? "" : ",") + m;
    return s;
  }() + ")";
  out.summary = write_summary(folder, info, &out.records);
  out.files.insert(out.files.end(), out.summary.files.begin(), out.summary.files.end());
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace ipbench
