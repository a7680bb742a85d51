// Spec, plan and run folder -> records (harness/runner.h).
#include "harness/runner.h"

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <set>
#include <tuple>

#include "core/progress.h"
#include "core/rng.h"
#include "core/runtime.h"
#include "harness/step_progress.h"
#include "datasets/dataset.h"
#include "harness/prior_factory.h"
#include "harness/run_folder.h"
#include "harness/two_stage.h"
#include "models/denoiser.h"

namespace ipbench {

namespace {

using ConsistencyTable = std::vector<std::vector<std::shared_ptr<const ConsistencyFunction>>>;

// What every unit needs: the data, the prior, each (operator, item) problem, each CM solver's function.
struct Context {
  torch::Device device = torch::kCPU;
  torch::ScalarType dtype = torch::kFloat;
  uint64_t seed = 0;
  torch::Tensor images;  // [I, C, H, W] on device
  std::shared_ptr<Denoiser> prior;
  std::vector<std::vector<ItemProblem>> problems;  // [operator][item position]
  ConsistencyTable consistency;                    // [solver][operator]; null for non-CM solvers
};

// The consistency function of every CM solver, one instance per distinct source, built before anything
// is solved: a missing model folder or `gaussian` with another prior is refused here, naming the solver.
ConsistencyTable build_consistency_functions(const Spec& spec, const std::shared_ptr<Denoiser>& prior,
                                             torch::Device device) {
  std::map<std::string, std::shared_ptr<const ConsistencyFunction>> built;
  ConsistencyTable out;
  for (const auto& s : spec.solvers) {
    out.emplace_back();
    for (const auto& solver : s.per_operator) {
      const auto src = solver->consistency_source();
      std::shared_ptr<const ConsistencyFunction> f;
      if (src) {
        auto& shared = built[src->key()];
        try {
          if (!shared) shared = make_consistency_function(*src, prior, device);
        } catch (const Error& e) {
          throw Error(str_cat("config [solver.", s.label, "]: ", e.what()));
        }
        f = shared;
      }
      out.back().push_back(f);
    }
  }
  return out;
}

// Data, prior, key accounting, problems (shape errors surface here, before solving), CM functions.
Context load_context(const Spec& spec, const Plan& plan) {
  const auto& bench = spec.benchmark;
  Context ctx;
  ctx.device = resolve_device(bench.device);
  ctx.dtype = bench.dtype == "float64" ? torch::kDouble : torch::kFloat;
  ctx.seed = static_cast<uint64_t>(bench.seed);
  Dataset data = load_dataset_source(spec.dataset.source, spec.dataset.pad_to, spec.dataset.first, bench.items);
  require(data.images.size(0) == bench.items, "config [benchmark] items = ", bench.items, ": dataset '",
          spec.dataset.source, "' has only ", data.images.size(0), " images from index ", spec.dataset.first);
  ctx.images = data.images.to(ctx.device, ctx.dtype);
  const std::vector<int64_t> shape{ctx.images.size(1), ctx.images.size(2), ctx.images.size(3)};
  set_deterministic_kernels(bench.kernels == "deterministic");  // core/runtime.h
  ctx.prior = build_prior(spec.prior_type, *spec.prior_section, ctx.device, ctx.dtype, shape, spec.dataset.pad_to);
  spec.config->check_all_used();
  for (const auto& op : spec.operators) {
    ctx.problems.emplace_back();
    for (int64_t i = 0; i < plan.items(); ++i)
      ctx.problems.back().push_back(
          make_item_problem(op, ctx.images.slice(0, i, i + 1), plan.first_item() + i, ctx.seed));
  }
  ctx.consistency = build_consistency_functions(spec, ctx.prior, ctx.device);
  return ctx;
}

using GroupKey = std::tuple<std::string, int64_t, int64_t>;  // cell, item, group

// What the folder already holds: groups complete in an earlier invocation, and those recorded as errors.
struct Done {
  std::set<GroupKey> complete, errored;
  explicit Done(const std::vector<Record>& records) {
    std::map<GroupKey, int64_t> members;
    for (const auto& r : records) {
      const GroupKey k{r.cell, r.item, r.group};
      if (++members[k] >= r.group_size) complete.insert(k);
      if (r.status.rfind("error:", 0) == 0) errored.insert(k);
    }
  }
};

// The record fields every sample of a unit shares.
Record unit_base(const PlanCell& cell, const PlanUnit& unit) {
  Record base;
  base.op = cell.op_label;
  base.solver = cell.solver_label;
  base.design = cell.design_label;
  base.cell = cell.label;
  base.group_size = cell.group_size;
  base.item = unit.item;
  return base;
}

std::vector<Record> score_batch(const Spec& spec, const ItemProblem& problem, const SolveResult& result,
                                const torch::Tensor& x_true, const Record& base, int64_t first_group,
                                const NoiseDesign& design) {
  torch::NoGradGuard no_grad;
  const int64_t K = base.group_size;
  MetricInput in{result.x, x_true, problem.y, problem.op->forward(result.x)};
  std::map<std::string, torch::Tensor> values;
  for (const auto& m : spec.metrics) {
    const auto& entry = metric_registry().get(m);
    if (!entry.gallery) {
      values[m] = entry.compute(in).to(torch::kCPU, torch::kDouble);
      continue;
    }
    // Gallery metrics: one value per group, stored in every member's record (docs/formats.md).
    const auto region = entry.needs_region ? design.pixel_region(x_true.sizes().slice(1)) : torch::Tensor();
    require(!entry.needs_region || region.defined(), "metric '", m, "' splits by a design's pixel region; design '",
            base.design, "' (", design.name(), ") has none. Violated: a subspace design on a box, operator mask or channel");
    values[m] = entry.gallery(GalleryInput{result.x, K, region}).repeat_interleave(K);
  }
  // A finite sample beyond kDivergedMagnitude has diverged (images live on [-1, 1]).
  const auto diverged =
      (torch::nan_to_num(result.x.detach().flatten(1).abs(), 0.0, 0.0, 0.0) > kDivergedMagnitude).any(1).to(torch::kCPU);
  std::vector<Record> out;
  for (int64_t b = 0; b < result.x.size(0); ++b) {
    Record r = base;
    r.group = first_group + b / K;
    r.member = b % K;
    const bool ok = result.status[b] == SampleStatus::kOk && !diverged[b].item<bool>();
    r.status = result.status[b] != SampleStatus::kOk ? to_string(result.status[b]) : ok ? "ok" : "diverged";
    for (const auto& m : spec.metrics) r.metrics[m] = ok ? values[m][b].item<double>() : NAN;
    out.push_back(std::move(r));
  }
  return out;
}

// The samples of a batch whose solver threw: status error:<message>, NaN metrics.
std::vector<Record> error_batch(const Spec& spec, const Record& base, int64_t first_group, int64_t groups,
                                const std::string& message) {
  std::vector<Record> out;
  for (int64_t g = first_group; g < first_group + groups; ++g)
    for (int64_t k = 0; k < base.group_size; ++k) {
      Record r = base;
      r.group = g;
      r.member = k;
      r.status = error_status(message);
      for (const auto& m : spec.metrics) r.metrics[m] = NAN;
      out.push_back(std::move(r));
    }
  return out;
}

// One solver call on groups [g0, g0 + G) of a unit, scored; a solver or model exception becomes data.
// `on_network_call(k)` follows the batch's k-th prior evaluation (per-step progress, harness/step_progress.h).
std::vector<Record> solve_batch(const Spec& spec, const Context& ctx, const PlanCell& cell, const PlanUnit& unit,
                                Record base, int64_t g0, int64_t G, torch::Tensor& x,
                                const std::function<void(int64_t)>& on_network_call = {}) {
  const Solver& solver = *spec.solvers[cell.solver].per_operator[cell.op];
  const ItemProblem& problem = ctx.problems[cell.op][unit.item_pos];
  // A subspace design on the operator's own mask is bound to this item's operator.
  auto design = spec.designs[cell.design].design;
  if (design->uses_operator_mask()) {
    try {
      design = design->bind_operator_mask(problem.op->pixel_mask());
    } catch (const Error& e) {
      throw Error(str_cat("config [noise.", cell.design_label, "] with [operator.", cell.op_label, "]: ", e.what()));
    }
  }
  NoiseStream noise(design, noise_key(ctx.seed, cell.design_label, unit.item), g0, G, ctx.device, ctx.dtype);
  const auto t0 = std::chrono::steady_clock::now();
  auto stamp = [&](std::vector<Record> batch) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (Record& r : batch) r.seconds = s / static_cast<double>(G * cell.group_size);
    return batch;
  };
  try {
    const CountingDenoiser prior(*ctx.prior, on_network_call);
    const SolveResult result =
        solver.solve(Problem{prior, *problem.op, problem.y, ctx.consistency[cell.solver][cell.op].get()}, noise);
    base.nfe = result.nfe;
    x = result.x;
    return stamp(score_batch(spec, problem, result, ctx.images.slice(0, unit.item_pos, unit.item_pos + 1), base, g0, *design));
  } catch (const Error&) {
    throw;  // a user error (configuration, data, paths) stops the run
  } catch (const c10::Error& e) {
    x = torch::Tensor();
    return stamp(error_batch(spec, base, g0, G, e.what_without_backtrace()));
  } catch (const std::exception& e) {
    x = torch::Tensor();
    return stamp(error_batch(spec, base, g0, G, e.what()));
  }
}

struct Session {
  const Spec& spec;
  const Plan& plan;
  RunFolder& folder;
  const Context& ctx;
  const Done& done;
  Progress& progress;
  RunOutcome& outcome;
};

// Whether groups [g0, g0 + G) of a unit must be solved: a group is missing, or their stored
// reconstructions are (only batches that produced reconstructions store them).
bool batch_needed(const Session& s, const Record& base, int64_t g0, int64_t G) {
  bool complete = true, errored = true;
  for (int64_t g = g0; g < g0 + G; ++g) {
    complete &= s.done.complete.count({base.cell, base.item, g}) > 0;
    errored &= s.done.errored.count({base.cell, base.item, g}) > 0;
  }
  if (!complete) return true;
  return s.spec.benchmark.save_reconstructions && !errored &&
         !s.folder.reconstructions_ok(base, base.item, g0 * base.group_size, G * base.group_size);
}

// Groups [first, last) of a unit, in batches (a two-stage run's stage 2 starts at its pilot_groups).
void solve_groups(Session& s, const PlanUnit& unit, int64_t first, int64_t last) {
  const PlanCell& cell = s.plan.cells()[unit.cell];
  const Record base = unit_base(cell, unit);
  const int64_t per_batch = s.plan.groups_per_batch(cell);
  for (int64_t g0 = first; g0 < last; g0 += per_batch) {
    const int64_t G = std::min(per_batch, last - g0);
    if (!batch_needed(s, base, g0, G)) continue;
    torch::Tensor x;
    const int64_t nfe = s.spec.solvers[cell.solver].per_operator[cell.op]->nfe_per_sample();
    std::vector<Record> batch = solve_batch(s.spec, s.ctx, cell, unit, base, g0, G, x, [&](int64_t k) {
      s.progress.step(G * cell.group_size, k, nfe, cell.label);
    });
    if (!x.defined()) ++s.outcome.failed_batches;
    if (s.spec.benchmark.save_reconstructions && x.defined())
      s.folder.write_reconstructions(base, unit.item, g0 * cell.group_size, x);
    std::vector<Record> fresh;
    for (auto& r : batch)
      if (!s.done.complete.count({r.cell, r.item, r.group})) fresh.push_back(std::move(r));
    s.folder.append(fresh);
    s.outcome.solved_samples += static_cast<int64_t>(fresh.size());
    s.progress.advance(static_cast<int64_t>(fresh.size()), cell.label);
    s.outcome.records.insert(s.outcome.records.end(), fresh.begin(), fresh.end());
  }
}

void solve_unit(Session& s, const PlanUnit& unit) { solve_groups(s, unit, 0, unit.groups); }

// Stage 2 of a two-stage run (harness/two_stage.h): the plan from the pilot records (those of this
// invocation and of a resumed one alike), written to the folder, then its group ranges.
void run_stage_two(Session& s, const TwoStageOptions& options, const RunOptions& run) {
  const StageTwo stage = plan_stage_two(s.plan, options, s.spec.benchmark.confidence, s.outcome.records);
  s.folder.write_stage_plan(stage_plan_csv(stage, options));
  Progress progress("stage 2", stage.samples(s.plan), run.progress, run.progress_every_s);
  progress.resume(records_in_stage(s.outcome.records, options, 2));
  Session stage_two{s.spec, s.plan, s.folder, s.ctx, s.done, progress, s.outcome};
  for (const GroupRange& r : stage.ranges) solve_groups(stage_two, r.unit, r.first, r.last);
  progress.finish();
}

}  // namespace

RunOutcome run_benchmark(const Spec& spec, const Plan& plan, RunFolder& folder, const RunOptions& options) {
  const TwoStageOptions two_stage = two_stage_options(spec);
  refuse_sharded_two_stage(two_stage, plan.shard());
  const std::vector<PlanUnit> units = stage_one_units(plan, two_stage);
  const Context ctx = load_context(spec, plan);
  RunOutcome outcome;
  outcome.records = folder.start(spec.resolved_ini(), plan.shard(), spec.metrics, options.resume);
  const Done done(outcome.records);
  const auto t0 = std::chrono::steady_clock::now();
  int64_t samples = 0;
  for (const PlanUnit& unit : units) samples += unit.groups * plan.cells()[unit.cell].group_size;
  Progress progress("run", samples, options.progress, options.progress_every_s);
  progress.resume(records_in_stage(outcome.records, two_stage, 1));
  Session session{spec, plan, folder, ctx, done, progress, outcome};
  for (const PlanUnit& unit : units) solve_unit(session, unit);
  progress.finish();
  if (two_stage.enabled()) run_stage_two(session, two_stage, options);
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return outcome;
}

RunOutcome run_benchmark(const Spec& spec, const RunOptions& options) {
  RunFolder folder = RunFolder::open_for_writing(options.out_dir);
  return run_benchmark(spec, Plan(spec, options.shard), folder, options);
}

std::string error_status(const std::string& message) {
  std::string line = message.substr(0, message.find('\n'));
  for (char& c : line)
    if (c == ',' || c == '"' || static_cast<unsigned char>(c) < 0x20) c = c == ',' ? ';' : c == '"' ? '\'' : ' ';
  line = trim(line);
  if (line.size() > 160) line = line.substr(0, 157) + "...";
  return "error:" + (line.empty() ? std::string("unknown") : line);
}

ItemProblem make_item_problem(const OperatorSpec& op, const torch::Tensor& x, int64_t item, uint64_t seed) {
  torch::NoGradGuard no_grad;
  OperatorContext oc{{x.size(1), x.size(2), x.size(3)}, problem_key(seed, op.label, item), x.device(),
                     x.scalar_type()};
  ItemProblem p;
  try {
    p.op = op.build(oc);
  } catch (const Error& e) {
    throw Error(str_cat("config [operator.", op.label, "]: ", e.what()));
  }
  p.y = p.op->measure(x, measurement_key(seed, op.label, item));
  return p;
}

}  // namespace ipbench
