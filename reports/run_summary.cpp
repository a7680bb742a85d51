// A run folder's summary files (reports/run_summary.h).
#include "reports/run_summary.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "core/error.h"
#include "core/options.h"
#include "core/runtime.h"
#include "harness/plan.h"
#include "harness/two_stage.h"
#include "metrics/feature_metric.h"
#include "metrics/metric.h"

namespace ipbench {

SummaryOptions summary_options(const BenchmarkOptions& bench) {
  SummaryOptions so;
  so.confidence = bench.confidence;
  so.baseline_design = bench.baseline_design;
  so.metrics = bench.metrics;
  so.lower_better = metric_directions();
  // Ranges of the built-in metrics (metrics/metric.h: images on [0, 1]): intervals are clipped to them.
  const double inf = std::numeric_limits<double>::infinity();
  so.bounds = {{"l1", {0.0, 1.0}},         {"psnr", {0.0, inf}},       {"ssim", {-1.0, 1.0}},
               {"residual", {0.0, inf}},   {"pixel_mean", {0.0, 1.0}}, {"brightness", {0.0, 1.0}},
               {"contrast", {-1.0, 1.0}}, {"centroid", {0.0, 1.0}}};
  for (const auto& m : bench.metrics)
    if (feature_network(m)) so.bounds[m] = {0.0, 4.0};  // LPIPS-style distance of unit vectors
  return so;
}

void add_two_stage_targets(SummaryOptions& so, const Section& benchmark) {
  const TwoStageOptions two_stage = read_two_stage_options(benchmark);
  if (!two_stage.enabled()) return;
  so.targets = parse_precision_targets(two_stage.target_halfwidth, "config [benchmark] target_halfwidth");
  so.pilot_groups = two_stage.pilot_groups;
}

int64_t expected_samples(const RunFolder& folder, const BenchmarkOptions& bench) {
  // A two-stage run planned its samples per (cell, item) after its pilot (harness/two_stage.h).
  const std::string stage_plan = folder.stage_plan_text();
  if (!stage_plan.empty()) return stage_plan_samples(stage_plan, folder.path("two_stage.csv"));
  const auto cells = static_cast<int64_t>(bench.operators.size() * bench.solvers.size() * bench.designs.size());
  return planned_samples(cells, bench.items, bench.samples_per_item, folder.shard());
}

std::vector<CellCorrelation> correlate_run(const RunFolder& folder, const std::vector<Record>& records,
                                           double confidence) {
  std::map<std::tuple<std::string, int64_t, int64_t>, bool> ok;  // (cell, item, sample) -> status ok
  std::vector<const Record*> cells;
  std::set<std::string> seen;
  for (const auto& r : records) {
    ok[{r.cell, r.item, r.group * r.group_size + r.member}] = r.status == "ok";
    if (seen.insert(r.cell).second) cells.push_back(&r);
  }
  std::vector<CellCorrelation> out;
  for (const Record* cell : cells) {
    const auto items = folder.read_cell_reconstructions(cell->op, cell->solver, cell->design);
    if (items.empty()) continue;
    const PairCorrelations pooled = pool_cell_correlations(items, cell->group_size, [&](int64_t item, int64_t s) {
      const auto it = ok.find({cell->cell, item, s});
      require(it != ok.end(), "reconstructions of cell ", cell->cell, ", item ", item, ": sample ", s,
              " has no record in records.csv (a folder from another run?)");
      return it->second;
    });
    CellCorrelation c = summarize_correlations(pooled, confidence);
    c.cell = cell->cell;
    c.op = cell->op;
    c.solver = cell->solver;
    c.design = cell->design;
    c.group_size = cell->group_size;
    c.pairs_kind = cell->group_size >= 2 ? "coupled" : "independent";
    out.push_back(std::move(c));
  }
  return out;
}

SummaryOutcome write_summary(const RunFolder& folder, RunInfo info, const std::vector<Record>* records) {
  const Config config = folder.resolved_config();
  const auto bench = read_options<BenchmarkOptions>(config.section("benchmark"));
  std::vector<Record> read;
  if (!records) {
    read = folder.read_records();
    records = &read;
  }
  require(!records->empty(), "run folder '", folder.dir(), "': records.csv holds no records: nothing to summarize ",
          "(the run failed or was stopped before its first batch; rerun it)");
  if (info.name.empty()) info.name = bench.name;
  if (info.device.empty()) info.device = bench.device;
  if (info.dtype.empty()) info.dtype = bench.dtype;
  if (info.context.empty()) info.context = context_line();
  info.seed = bench.seed;
  info.records = static_cast<int64_t>(records->size());
  info.expected_records = expected_samples(folder, bench);
  info.statuses.clear();
  for (const Record& r : *records) ++info.statuses[r.status];

  // Configured metrics ([metric.<label>] of the run or of `ipbench rescore`): their directions and bounds.
  register_metric_sections(config, bench.metrics);
  std::vector<std::string> rescored;
  const std::string rescore_text = folder.rescore_ini_text();
  if (!rescore_text.empty()) {
    const Config rescore = Config::from_string(rescore_text, folder.path("rescore.ini"));
    rescore.section("rescore").read("metrics", rescored);
    register_metric_sections(rescore, rescored);
  }
  info.set_metrics = folder.set_metrics_json();

  SummaryOutcome out;
  SummaryOptions so = summary_options(bench);
  for (const auto& m : rescored)  // columns added by `ipbench rescore`, after the run's own
    if (std::find(so.metrics.begin(), so.metrics.end(), m) == so.metrics.end()) {
      so.metrics.push_back(m);
      if (feature_network(m)) so.bounds[m] = {0.0, 4.0};
    }
  add_two_stage_targets(so, config.section("benchmark"));
  out.summary = summarize(*records, so);
  if (folder.has_reconstructions()) out.summary.correlations = correlate_run(folder, *records, so.confidence);
  folder.write_summary_files(summary_json(out.summary, info), summary_markdown(out.summary, info));
  out.info = info;
  out.files = {folder.path("summary.json"), folder.path("summary.md")};
  return out;
}

}  // namespace ipbench
