#include "harness/runner.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <tuple>

#include "core/progress.h"
#include "core/rng.h"
#include "core/runtime.h"
#include "datasets/dataset.h"
#include "harness/prior_factory.h"
#include "harness/reconstructions.h"
#include "harness/records.h"
#include "models/denoiser.h"
#include "stats/precision.h"
#include "stats/summary.h"

namespace ipbench {

namespace fs = std::filesystem;

namespace {

struct Context {
  torch::Device device = torch::kCPU;
  torch::ScalarType dtype = torch::kFloat;
  uint64_t seed = 0;
  torch::Tensor images;  // [I, C, H, W] on device
  std::vector<int64_t> item_index;
  std::vector<int64_t> image_shape;
};

// One operator instance and measurement per (operator, item); shape errors surface here, before solving.
std::vector<std::vector<ItemProblem>> build_problems(const Spec& spec, const Context& ctx) {
  std::vector<std::vector<ItemProblem>> problems;
  for (const auto& op : spec.operators) {
    std::vector<ItemProblem> per_item;
    for (size_t i = 0; i < ctx.item_index.size(); ++i)
      per_item.push_back(make_item_problem(op, ctx.images.slice(0, i, i + 1), ctx.item_index[i], ctx.seed));
    problems.push_back(std::move(per_item));
  }
  return problems;
}

// The consistency function of every CM solver (per solver and operator; null for the others), one
// instance per distinct source, built before anything is solved: a missing model folder or `gaussian`
// with another prior is refused here, naming the solver's section.
std::vector<std::vector<std::shared_ptr<const ConsistencyFunction>>> build_consistency_functions(
    const Spec& spec, const std::shared_ptr<Denoiser>& prior, torch::Device device) {
  std::map<std::string, std::shared_ptr<const ConsistencyFunction>> built;
  std::vector<std::vector<std::shared_ptr<const ConsistencyFunction>>> out;
  for (const auto& s : spec.solvers) {
    out.emplace_back();
    for (const auto& solver : s.per_operator) {
      const auto src = solver->consistency_source();
      if (!src) {
        out.back().push_back(nullptr);
        continue;
      }
      auto& f = built[src->key()];
      if (!f) {
        try {
          f = make_consistency_function(*src, prior, device);
        } catch (const Error& e) {
          throw Error(str_cat("config [solver.", s.label, "]: ", e.what()));
        }
      }
      out.back().push_back(f);
    }
  }
  return out;
}

using UnitKey = std::tuple<std::string, int64_t, int64_t>;  // cell, item, group

// Groups already complete (all K members) in an earlier invocation.
std::set<UnitKey> completed_units(const std::vector<Record>& records) {
  std::map<UnitKey, int64_t> members;
  std::map<UnitKey, int64_t> needed;
  for (const auto& r : records) {
    UnitKey k{r.cell, r.item, r.group};
    ++members[k];
    needed[k] = r.group_size;
  }
  std::set<UnitKey> done;
  for (const auto& [k, n] : members)
    if (n >= needed[k]) done.insert(k);
  return done;
}

std::vector<Record> score_batch(const Spec& spec, const ItemProblem& problem, const SolveResult& result,
                                const torch::Tensor& x_true, Record base, int64_t first_group, int64_t K) {
  torch::NoGradGuard no_grad;
  MetricInput in{result.x, x_true, problem.y, problem.op->forward(result.x)};
  std::map<std::string, torch::Tensor> values;
  for (const auto& m : spec.metrics) values[m] = metric_registry().get(m).compute(in).to(torch::kCPU, torch::kDouble);
  std::vector<Record> out;
  const int64_t B = result.x.size(0);
  for (int64_t b = 0; b < B; ++b) {
    Record r = base;
    r.group = first_group + b / K;
    r.member = b % K;
    r.status = to_string(result.status[b]);
    for (const auto& m : spec.metrics)
      r.metrics[m] = result.status[b] == SampleStatus::kOk ? values[m][b].item<double>() : NAN;
    out.push_back(std::move(r));
  }
  return out;
}

/// The stage-2 plan of one cell from its pilot records (groups < n0) of every targeted metric.
TwoStagePlan plan_cell(const std::vector<Record>& records, const std::string& cell,
                       const std::vector<int64_t>& items, const std::vector<PrecisionTarget>& targets, int64_t n0,
                       int64_t max_groups, double confidence) {
  std::vector<std::vector<double>> pilot_var;
  std::vector<double> halfwidths;
  for (const PrecisionTarget& t : targets) {
    const auto units = cell_unit_values(records, t.metric);
    const auto it = units.find(cell);
    std::vector<double> var;
    for (int64_t item : items) {
      std::vector<double> pilot;
      if (it != units.end() && it->second.count(item))
        for (const auto& [group, value] : it->second.at(item))
          if (group < n0) pilot.push_back(value);
      var.push_back(sample_variance(pilot));
    }
    pilot_var.push_back(var);
    halfwidths.push_back(t.halfwidth);
  }
  return plan_two_stage(pilot_var, halfwidths, n0, max_groups, confidence);
}

}  // namespace

RunOutcome run_benchmark(const Config& config, const Spec& spec, const RunOptions& options) {
  const auto& bench = spec.benchmark;
  Context ctx;
  ctx.device = resolve_device(bench.device);
  ctx.dtype = bench.dtype == "float64" ? torch::kDouble : torch::kFloat;
  ctx.seed = static_cast<uint64_t>(bench.seed);

  Dataset data = load_dataset_source(spec.dataset.source, spec.dataset.pad_to, spec.dataset.first, bench.items);
  require(data.images.size(0) == bench.items, "config [benchmark] items = ", bench.items, ": dataset '",
          spec.dataset.source, "' has only ", data.images.size(0), " images from index ", spec.dataset.first);
  ctx.images = data.images.to(ctx.device, ctx.dtype);
  ctx.image_shape = {ctx.images.size(1), ctx.images.size(2), ctx.images.size(3)};
  for (int64_t i = 0; i < bench.items; ++i) ctx.item_index.push_back(spec.dataset.first + i);

  auto prior = build_prior(spec.prior_type, *spec.prior_section, ctx.device, ctx.dtype, ctx.image_shape,
                           spec.dataset.pad_to);
  config.check_all_used();
  auto problems = build_problems(spec, ctx);
  const auto consistency = build_consistency_functions(spec, prior, ctx.device);

  // The run directory: refuse to mix runs; resume only the same resolved configuration.
  const fs::path dir(options.out_dir);
  fs::create_directories(dir);
  const fs::path records_path = dir / "records.csv", resolved_path = dir / "config.resolved.ini",
                 shard_path = dir / "shard";
  const std::string resolved = config.to_ini();
  std::vector<Record> previous;
  if (fs::exists(records_path)) {
    require(options.resume, "output folder '", dir.string(), "' already holds a run (records.csv); pass --resume ",
            "to continue it, or choose another --out");
    std::ifstream in(resolved_path);
    std::stringstream old;
    old << in.rdbuf();
    require(old.str() == resolved, "cannot --resume '", dir.string(),
            "': its config.resolved.ini differs from this configuration");
    std::string old_shard = "0/1";
    if (fs::exists(shard_path)) std::getline(std::ifstream(shard_path), old_shard);
    require(old_shard == options.shard.str(), "cannot --resume '", dir.string(), "': it holds shard ", old_shard,
            ", not ", options.shard.str());
    previous = read_records(records_path.string());
  }
  write_text_atomic(resolved_path.string(), resolved);
  if (options.shard.count > 1) write_text_atomic(shard_path.string(), options.shard.str() + "\n");
  RecordWriter writer(records_path.string(), spec.metrics);
  const auto done = completed_units(previous);

  RunOutcome outcome;
  outcome.records = previous;
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t cells = static_cast<int64_t>(spec.operators.size() * spec.solvers.size() * spec.designs.size());
  int64_t owned_units = 0;
  for (int64_t u = 0; u < cells * bench.items; ++u) owned_units += options.shard.owns(u);
  Progress progress("run", owned_units * bench.samples_per_item, options.progress);
  progress.advance(static_cast<int64_t>(previous.size()));

  const bool two_stage = !bench.target_halfwidth.empty();
  require(!two_stage || options.shard.count == 1, "config [benchmark] target_halfwidth: a two-stage run plans ",
          "each cell from all its items' pilot groups, so it cannot be sharded (--shard ", options.shard.str(), ")");
  const auto targets = parse_precision_targets(bench.target_halfwidth, "config [benchmark] target_halfwidth");
  int64_t unit = -1;  // (cell, item) units in plan order, for sharding
  for (size_t o = 0; o < spec.operators.size(); ++o) {
    for (size_t si = 0; si < spec.solvers.size(); ++si) {
      const auto& solver_spec = spec.solvers[si];
      const Solver& solver = *solver_spec.per_operator[o];
      const ConsistencyFunction* cm = consistency[si][o].get();
      for (const auto& design : spec.designs) {
        const int64_t K = design.design->group_size();
        // Fixed runs: samples_per_item / K groups. Two-stage runs: pilot_groups, then the plan.
        const int64_t groups = two_stage ? bench.pilot_groups : bench.samples_per_item / K;
        const int64_t per_batch = bench.batch_size > 0 ? bench.batch_size / K : groups;
        Record base;
        base.op = spec.operators[o].label;
        base.solver = solver_spec.label;
        base.design = design.label;
        base.cell = base.op + "/" + base.solver + "/" + base.design;
        base.group_size = K;
        // Solves groups [first, last) of item i (those not already complete) in batches of per_batch.
        auto solve_groups = [&](size_t i, int64_t first, int64_t last) {
          base.item = ctx.item_index[i];
          const auto& problem = problems[o][i];
          const uint64_t stream_key =
              derive_key(ctx.seed, hash_string("noise"), hash_string(design.label), static_cast<uint64_t>(base.item));
          for (int64_t g0 = first; g0 < last; g0 += per_batch) {
            const int64_t G = std::min(per_batch, last - g0);
            bool all_done = true;
            for (int64_t g = g0; g < g0 + G; ++g) all_done &= done.count({base.cell, base.item, g}) > 0;
            if (all_done) continue;
            NoiseStream noise(design.design, stream_key, g0, G, ctx.device, ctx.dtype);
            const auto tb = std::chrono::steady_clock::now();
            SolveResult result;
            try {
              result = solver.solve(Problem{*prior, *problem.op, problem.y, cm}, noise);
            } catch (const c10::Error& e) {
              throw Error(str_cat("cell ", base.cell, ", item ", base.item, ": the solver failed: ",
                                  e.what_without_backtrace()));
            }
            base.nfe = result.nfe;
            base.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - tb).count() / (G * K);
            auto batch = score_batch(spec, problem, result, ctx.images.slice(0, i, i + 1), base, g0, K);
            if (bench.save_reconstructions) write_reconstruction_batch(dir.string(), base, base.item, g0 * K, result.x);
            std::vector<Record> fresh;
            for (auto& r : batch)
              if (!done.count({r.cell, r.item, r.group})) fresh.push_back(std::move(r));
            writer.append(fresh);
            outcome.solved_samples += static_cast<int64_t>(fresh.size());
            progress.advance(static_cast<int64_t>(fresh.size()), base.cell);
            outcome.records.insert(outcome.records.end(), fresh.begin(), fresh.end());
          }
        };
        for (size_t i = 0; i < ctx.item_index.size(); ++i)
          if (options.shard.owns(++unit)) solve_groups(i, 0, groups);
        if (!two_stage) continue;
        // Stage 2 (stats/precision.h): the plan is a function of the pilot records only, so a resumed
        // run recomputes the same plan and continues it.
        const TwoStagePlan plan = plan_cell(outcome.records, base.cell, ctx.item_index, targets, bench.pilot_groups,
                                            bench.max_groups(K), bench.confidence);
        for (size_t i = 0; i < ctx.item_index.size(); ++i) solve_groups(i, groups, plan.groups[i]);
      }
    }
  }
  progress.finish();
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return outcome;
}

ItemProblem make_item_problem(const OperatorSpec& op, const torch::Tensor& x, int64_t item, uint64_t seed) {
  torch::NoGradGuard no_grad;
  const auto key_item = static_cast<uint64_t>(item);
  OperatorContext oc{{x.size(1), x.size(2), x.size(3)},
                     derive_key(seed, hash_string("problem"), hash_string(op.label), key_item), x.device(),
                     x.scalar_type()};
  ItemProblem p;
  try {
    p.op = op.build(oc);
  } catch (const Error& e) {
    throw Error(str_cat("config [operator.", op.label, "]: ", e.what()));
  }
  p.y = p.op->measure(x, derive_key(seed, hash_string("measurement"), hash_string(op.label), key_item));
  return p;
}

Shard Shard::parse(const std::string& text) {
  const auto slash = text.find('/');
  Shard s;
  try {
    require(slash != std::string::npos, "");
    size_t used_i = 0, used_n = 0;
    const std::string a = text.substr(0, slash), b = text.substr(slash + 1);
    s.index = std::stoll(a, &used_i);
    s.count = std::stoll(b, &used_n);
    require(used_i == a.size() && used_n == b.size(), "");
  } catch (const std::exception&) {
    throw Error(str_cat("--shard ", text, ": expected i/n with whole numbers, e.g. --shard 0/4"));
  }
  require(s.count >= 1 && s.index >= 0 && s.index < s.count, "--shard ", text,
          ": violated 0 <= i < n (shards are numbered from 0)");
  return s;
}

std::string Shard::str() const { return str_cat(index, "/", count); }

}  // namespace ipbench
