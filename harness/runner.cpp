// Spec, plan and run folder -> records (harness/runner.h).
#include "harness/runner.h"

#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "core/progress.h"
#include "core/rng.h"
#include "core/runtime.h"
#include "datasets/dataset.h"
#include "harness/autocast_prior.h"
#include "harness/batching.h"
#include "harness/prior_factory.h"
#include "harness/run_folder.h"
#include "harness/step_progress.h"
#include "harness/two_stage.h"
#include "models/denoiser.h"
#include "operators/item_batch.h"

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
  Precision precision = Precision::kFloat32;       // [benchmark] precision (harness/autocast_prior.h)
  int64_t memory_budget_bytes = 0;                 // [benchmark] memory_budget_mib (harness/batching.h); 0 = off
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
  ctx.precision = read_inference_precision(spec.config->section("benchmark"), bench.device, bench.dtype);
  ctx.memory_budget_bytes = read_memory_budget_bytes(spec.config->section("benchmark"), bench.batch_size, bench.device);
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

// The design of a cell for one item: a subspace design on the operator's own mask is bound to it.
std::shared_ptr<const NoiseDesign> item_design(const Spec& spec, const PlanCell& cell, const ItemProblem& problem) {
  auto design = spec.designs[cell.design].design;
  if (!design->uses_operator_mask()) return design;
  try {
    return design->bind_operator_mask(problem.op->pixel_mask());
  } catch (const Error& e) {
    throw Error(str_cat("config [noise.", cell.design_label, "] with [operator.", cell.op_label, "]: ", e.what()));
  }
}

// What a batch left: its records, one reconstruction tensor per part (none when the solver threw), and
// whether it ran out of memory (then nothing else: the caller splits it).
struct BatchResult {
  std::vector<Record> records;
  std::vector<torch::Tensor> xs;
  bool out_of_memory = false;
};

// One solver call on a batch (one item's groups, or several items' on an ItemBatchOperator with a stream
// of NoiseSegments), scored per item; a solver or model exception becomes data. `on_network_call(k)`
// follows the batch's k-th prior evaluation (per-step progress, harness/step_progress.h).
BatchResult solve_batch(const Spec& spec, const Context& ctx, const PlanCell& cell, const WorkBatch& batch,
                        const std::function<void(int64_t)>& on_network_call) {
  const Solver& solver = *spec.solvers[cell.solver].per_operator[cell.op];
  const int64_t K = cell.group_size;
  const int64_t samples = batch.groups() * K;
  std::vector<const ItemProblem*> problems;
  std::vector<std::shared_ptr<const NoiseDesign>> designs;
  std::vector<NoiseSegment> segments;
  for (const auto& p : batch.parts) {
    problems.push_back(&ctx.problems[cell.op][p.unit.item_pos]);
    designs.push_back(item_design(spec, cell, *problems.back()));
    segments.push_back({noise_key(ctx.seed, cell.design_label, p.unit.item), p.g0, p.groups()});
  }
  // One part: the item's own operator and measurement, exactly the per-item batch.
  std::unique_ptr<ItemBatchOperator> batch_op;
  const Operator* op = problems.front()->op.get();
  torch::Tensor y = problems.front()->y;
  if (batch.parts.size() > 1) {
    std::vector<const Operator*> ops;
    std::vector<int64_t> counts;
    std::vector<torch::Tensor> ys;
    for (size_t i = 0; i < batch.parts.size(); ++i) {
      ops.push_back(problems[i]->op.get());
      counts.push_back(batch.parts[i].groups() * K);
      ys.push_back(problems[i]->y);
    }
    batch_op = std::make_unique<ItemBatchOperator>(ops, counts);
    y = batch_op->stack_measurements(ys);
    op = batch_op.get();
  }
  NoiseStream noise(designs.front(), segments, ctx.device, ctx.dtype);
  const auto t0 = std::chrono::steady_clock::now();
  BatchResult out;
  auto stamp = [&] {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (Record& r : out.records) r.seconds = s / static_cast<double>(samples);
  };
  auto failed = [&](const std::exception& e, const std::string& message) {
    out.records.clear();
    out.xs.clear();
    if (is_out_of_memory(e) && batch.groups() > 1) {
      out.out_of_memory = true;
      return;
    }
    for (const auto& p : batch.parts) {
      auto part = error_batch(spec, unit_base(cell, p.unit), p.g0, p.groups(), message);
      out.records.insert(out.records.end(), part.begin(), part.end());
    }
    stamp();
  };
  try {
    if (batch_faults().oom_above_samples >= 0 && samples > batch_faults().oom_above_samples)
      throw c10::OutOfMemoryError({__func__, __FILE__, static_cast<uint32_t>(__LINE__)},
                                  str_cat("out of memory (test hook: a batch of ", samples, " samples)"));
    const AutocastDenoiser autocast(*ctx.prior, ctx.precision);  // fp32: unused, the prior as it is
    const Denoiser& inner = ctx.precision == Precision::kFloat32 ? static_cast<const Denoiser&>(*ctx.prior) : autocast;
    const CountingDenoiser prior(inner, on_network_call);
    // A CM solver's consistency function (a network of its own) runs under the same autocast.
    const ConsistencyFunction* consistency = ctx.consistency[cell.solver][cell.op].get();
    std::optional<AutocastConsistency> autocast_consistency;
    if (consistency != nullptr && ctx.precision != Precision::kFloat32)
      consistency = &autocast_consistency.emplace(*consistency, ctx.precision);
    const SolveResult result = solver.solve(Problem{prior, *op, y, consistency}, noise);
    int64_t offset = 0;
    for (size_t i = 0; i < batch.parts.size(); ++i) {
      const WorkPiece& p = batch.parts[i];
      const int64_t n = p.groups() * K;
      SolveResult part;
      part.x = batch.parts.size() == 1 ? result.x : result.x.narrow(0, offset, n);
      part.nfe = result.nfe;
      part.status.assign(result.status.begin() + offset, result.status.begin() + offset + n);
      Record base = unit_base(cell, p.unit);
      base.nfe = result.nfe;
      auto records = score_batch(spec, *problems[i], part, ctx.images.slice(0, p.unit.item_pos, p.unit.item_pos + 1),
                                 base, p.g0, *designs[i]);
      out.records.insert(out.records.end(), records.begin(), records.end());
      out.xs.push_back(part.x);
      offset += n;
    }
    stamp();
  } catch (const Error&) {
    throw;  // a user error (configuration, data, paths) stops the run
  } catch (const c10::Error& e) {
    failed(e, e.what_without_backtrace());
  } catch (const std::exception& e) {
    failed(e, e.what());
  }
  return out;
}

struct Session {
  const Spec& spec;
  const Plan& plan;
  RunFolder& folder;
  const Context& ctx;
  const Done& done;
  Progress& progress;
  RunOutcome& outcome;
  int stage = 0;  ///< Record::stage of what this session solves: 0 fixed-size run, 1 pilot, 2 planned groups
};

// Whether groups [g0, g0 + G) of a unit must be solved: a group is missing, or their stored
// reconstructions are (only batches that produced reconstructions store them).
bool part_needed(const Session& s, const Record& base, int64_t g0, int64_t G) {
  bool complete = true, errored = true;
  for (int64_t g = g0; g < g0 + G; ++g) {
    complete &= s.done.complete.count({base.cell, base.item, g}) > 0;
    errored &= s.done.errored.count({base.cell, base.item, g}) > 0;
  }
  if (!complete) return true;
  return s.spec.benchmark.save_reconstructions && !errored &&
         !s.folder.reconstructions_ok(base, base.item, g0 * base.group_size, G * base.group_size);
}

// Solves a batch unless every part is done; on out of memory, its halves (logged), down to one group.
// Returns the batch's peak memory above its start with a memory budget (-1 without one, when nothing
// was solved, or when the batch was split).
int64_t run_batch(Session& s, const PlanCell& cell, const WorkBatch& batch) {
  bool needed = false;
  for (const auto& p : batch.parts) needed = needed || part_needed(s, unit_base(cell, p.unit), p.g0, p.groups());
  if (!needed) return -1;
  const int64_t samples = batch.groups() * cell.group_size;
  const int64_t nfe = s.spec.solvers[cell.solver].per_operator[cell.op]->nfe_per_sample();
  std::optional<PeakMemory> memory;
  if (s.ctx.memory_budget_bytes > 0) memory.emplace(s.ctx.device);
  BatchResult result = solve_batch(s.spec, s.ctx, cell, batch,
                                   [&](int64_t k) { s.progress.step(samples, k, nfe, cell.label); });
  const int64_t peak = memory && !result.out_of_memory ? memory->bytes_above_start(samples) : -1;
  if (peak >= 0) {
    BatchMemory& m = s.outcome.batch_memory[cell.label];
    if (peak > m.largest_peak_bytes) {
      m.largest_peak_bytes = peak;
      m.largest_batch_samples = samples;
    }
  }
  if (result.out_of_memory) {
    const auto halves = split_batch(batch);
    std::fprintf(stderr, "note: out of memory on a batch of %lld samples of %s (item %lld group %lld on): split into "
                 "%lld + %lld samples and retried\n",
                 static_cast<long long>(samples), cell.label.c_str(),
                 static_cast<long long>(batch.parts.front().unit.item), static_cast<long long>(batch.parts.front().g0),
                 static_cast<long long>(halves.first.groups() * cell.group_size),
                 static_cast<long long>(halves.second.groups() * cell.group_size));
    ++s.outcome.oom_splits;
    run_batch(s, cell, halves.first);
    run_batch(s, cell, halves.second);
    return -1;
  }
  if (result.xs.empty()) ++s.outcome.failed_batches;
  if (s.spec.benchmark.save_reconstructions)
    for (size_t i = 0; i < result.xs.size(); ++i) {
      const WorkPiece& p = batch.parts[i];
      s.folder.write_reconstructions(unit_base(cell, p.unit), p.unit.item, p.g0 * cell.group_size, result.xs[i]);
    }
  std::vector<Record> fresh;
  for (auto& r : result.records)
    if (!s.done.complete.count({r.cell, r.item, r.group})) {
      r.stage = s.stage;
      fresh.push_back(std::move(r));
    }
  s.folder.append(fresh);
  s.outcome.solved_samples += static_cast<int64_t>(fresh.size());
  s.progress.advance(static_cast<int64_t>(fresh.size()), cell.label);
  s.outcome.records.insert(s.outcome.records.end(), fresh.begin(), fresh.end());
  return result.xs.empty() ? -1 : peak;  // a failed solver call says nothing of the memory it needs
}

// Whether a cell's batches may span items: max_batch or memory_budget_mib set, a solver audited for it, a
// design not bound to one item's mask, and every item's operator measuring the same shape.
bool across_items(const Spec& spec, const Context& ctx, const PlanCell& cell) {
  const bool asked = spec.benchmark.max_batch > 0 || ctx.memory_budget_bytes > 0;
  if (!asked || !solver_takes_item_batch(*spec.solvers[cell.solver].per_operator[cell.op]) ||
      spec.designs[cell.design].design->uses_operator_mask())
    return false;
  for (const auto& p : ctx.problems[cell.op])
    if (p.op->measurement_shape() != ctx.problems[cell.op].front().op->measurement_shape() ||
        p.op->name() != ctx.problems[cell.op].front().op->name())
      return false;
  return true;
}

// With a memory budget: the cell's groups per batch, from its first solved group (the probe) unless an
// earlier call (stage 1 of a two-stage run) measured it. Solves single groups from the front of `pieces`
// (consuming them) until one is measured; 0 when none is left to measure.
int64_t groups_within_memory_budget(Session& s, const PlanCell& cell, std::vector<WorkPiece>& pieces) {
  const int64_t max_batch = s.spec.benchmark.max_batch;
  const int64_t cap = max_batch > 0 ? max_batch / cell.group_size : 0;
  auto known = s.outcome.batch_memory.find(cell.label);
  if (known != s.outcome.batch_memory.end() && known->second.groups_per_batch > 0) return known->second.groups_per_batch;
  while (!pieces.empty()) {
    WorkPiece& front = pieces.front();
    const WorkBatch probe{{WorkPiece{front.unit, front.g0, front.g0 + 1}}};
    if (++front.g0 >= front.g1) pieces.erase(pieces.begin());
    const int64_t peak = run_batch(s, cell, probe);
    if (peak < 0) continue;  // already done, or failed: probe the next group
    BatchMemory& m = s.outcome.batch_memory[cell.label];
    m.probe_samples = cell.group_size;
    m.probe_peak_bytes = peak;
    m.groups_per_batch = groups_within_budget(s.ctx.memory_budget_bytes, peak, cell.group_size, cell.group_size, cap);
    m.group_size = cell.group_size;
    const std::string capped = cap > 0 && m.groups_per_batch == cap ? str_cat(", capped by max_batch = ", max_batch) : "";
    std::fprintf(stderr, "note: %s: a group of %lld samples peaked at %.1f MiB; batches of %lld samples (memory_budget_mib"
                 " = %lld%s)\n", cell.label.c_str(), static_cast<long long>(cell.group_size),
                 static_cast<double>(peak) / (1 << 20), static_cast<long long>(m.groups_per_batch * cell.group_size),
                 static_cast<long long>(s.ctx.memory_budget_bytes >> 20), capped.c_str());
    return m.groups_per_batch;
  }
  return 0;
}

// The pieces of one cell (plan order), packed per item (batch_size), across items (max_batch), or
// across items within a memory budget (memory_budget_mib, after a one-group probe).
void solve_pieces(Session& s, const PlanCell& cell, std::vector<WorkPiece> pieces) {
  const int64_t max_batch = s.spec.benchmark.max_batch;
  int64_t max_groups = max_batch > 0 ? max_batch / cell.group_size : s.plan.groups_per_batch(cell);
  if (s.ctx.memory_budget_bytes > 0) {
    max_groups = groups_within_memory_budget(s, cell, pieces);
    if (pieces.empty()) return;
  }
  for (const WorkBatch& batch : pack_batches(pieces, max_groups, across_items(s.spec, s.ctx, cell)))
    run_batch(s, cell, batch);
}

// Group ranges in plan order (whole units in stage 1, a two-stage run's stage-2 ranges), each cell's
// ranges packed together by solve_pieces.
void solve_ranges(Session& s, const std::vector<GroupRange>& ranges) {
  for (size_t u = 0; u < ranges.size();) {
    const size_t cell = ranges[u].unit.cell;
    std::vector<WorkPiece> pieces;
    for (; u < ranges.size() && ranges[u].unit.cell == cell; ++u)
      if (ranges[u].last > ranges[u].first) pieces.push_back(WorkPiece{ranges[u].unit, ranges[u].first, ranges[u].last});
    if (!pieces.empty()) solve_pieces(s, s.plan.cells()[cell], std::move(pieces));
  }
}

// Stage 2 of a two-stage run (harness/two_stage.h): the plan from the pilot records (those of this
// invocation and of a resumed one alike), written to the folder, then its group ranges.
void run_stage_two(Session& s, const TwoStageOptions& options, const RunOptions& run) {
  const StageTwo stage = plan_stage_two(s.plan, options, s.spec.benchmark.confidence, s.outcome.records);
  s.folder.write_stage_plan(stage_plan_csv(stage, options));
  Progress progress("stage 2", stage.samples(s.plan), run.progress, run.progress_every_s);
  progress.resume(records_in_stage(s.outcome.records, options, 2));
  Session stage_two{s.spec, s.plan, s.folder, s.ctx, s.done, progress, s.outcome, 2};
  solve_ranges(stage_two, stage.ranges);
  progress.finish();
}

}  // namespace

std::string describe_batch_memory(const std::string& cell, const BatchMemory& m) {
  auto mib = [](int64_t bytes) { return str_cat(static_cast<double>(bytes) / (1 << 20), " MiB"); };
  std::string out = cell + ": ";
  if (m.probe_peak_bytes >= 0)
    out += str_cat("a group of ", m.probe_samples, " samples peaked at ", mib(m.probe_peak_bytes), " -> batches of ",
                   m.groups_per_batch * m.group_size, " samples");
  else
    out += "no group was solved to measure (all recorded)";
  if (m.largest_peak_bytes >= 0 && m.largest_batch_samples > 0)
    out += str_cat("; largest measured batch ", m.largest_batch_samples, " samples at ", mib(m.largest_peak_bytes), " (",
                   mib(m.largest_peak_bytes / m.largest_batch_samples), " per sample)");
  return out;
}

RunOutcome run_benchmark(const Spec& spec, const Plan& plan, RunFolder& folder, const RunOptions& options) {
  const TwoStageOptions two_stage = two_stage_options(spec);
  refuse_sharded_two_stage(two_stage, plan.shard());
  const std::vector<PlanUnit> units = stage_one_units(plan, two_stage);
  const Context ctx = load_context(spec, plan);
  RunOutcome outcome;
  outcome.records = folder.start(spec.resolved_ini(), plan.shard(), spec.metrics, options.resume, two_stage.enabled());
  check_record_stages(outcome.records, two_stage, folder.path("records.csv"));
  const Done done(outcome.records);
  const auto t0 = std::chrono::steady_clock::now();
  int64_t samples = 0;
  std::vector<GroupRange> ranges;
  for (const PlanUnit& unit : units) {
    samples += unit.groups * plan.cells()[unit.cell].group_size;
    ranges.push_back(GroupRange{unit, 0, unit.groups});
  }
  Progress progress("run", samples, options.progress, options.progress_every_s);
  progress.resume(records_in_stage(outcome.records, two_stage, 1));
  Session session{spec, plan, folder, ctx, done, progress, outcome, two_stage.enabled() ? 1 : 0};
  solve_ranges(session, ranges);
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
