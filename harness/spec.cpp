#include "harness/spec.h"

#include <algorithm>
#include <set>
#include <sstream>

#include "core/options.h"
#include "harness/autocast_prior.h"
#include "harness/batching.h"
#include "harness/two_stage.h"
#include "metrics/feature_metric.h"
#include "metrics/gallery.h"
#include "models/denoiser.h"

namespace ipbench {

void BenchmarkOptions::validate() const {
  check_option(items >= 1, "BenchmarkOptions", "items", items, "items >= 1");
  check_option(samples_per_item >= 1, "BenchmarkOptions", "samples_per_item", samples_per_item,
               "samples_per_item >= 1");
  check_option(batch_size >= 0, "BenchmarkOptions", "batch_size", batch_size, "batch_size >= 0");
  check_option(max_batch >= 0, "BenchmarkOptions", "max_batch", max_batch, "max_batch >= 0");
  check_option(max_batch == 0 || batch_size == 0, "BenchmarkOptions", "max_batch", max_batch,
               "batch_size = 0 when max_batch > 0 (max_batch batches across items; batch_size within one)");
  check_option(!operators.empty(), "BenchmarkOptions", "operators", operators, "at least one operator");
  check_option(!solvers.empty(), "BenchmarkOptions", "solvers", solvers, "at least one solver");
  check_option(!designs.empty(), "BenchmarkOptions", "designs", designs, "at least one design");
  check_option(!metrics.empty(), "BenchmarkOptions", "metrics", metrics, "at least one metric");
  check_option(dtype == "float32" || dtype == "float64", "BenchmarkOptions", "dtype", dtype, "float32 or float64");
  check_option(threads >= 0, "BenchmarkOptions", "threads", threads, "threads >= 0");
  check_option(kernels == "deterministic" || kernels == "fast", "BenchmarkOptions", "kernels", kernels,
               "deterministic or fast");
  check_option(confidence > 0 && confidence < 1, "BenchmarkOptions", "confidence", confidence, "0 < confidence < 1");
  for (const auto* list : {&operators, &solvers, &designs, &metrics}) {
    std::set<std::string> seen(list->begin(), list->end());
    check_option(seen.size() == list->size(), "BenchmarkOptions", "labels", *list, "labels are unique");
  }
}

void DatasetOptions::validate() const {
  check_option(!source.empty(), "DatasetOptions", "source", source, "a dataset source");
  check_option(pad_to == 0 || pad_to >= 28, "DatasetOptions", "pad_to", pad_to, "pad_to = 0 or >= 28");
  check_option(first >= 0, "DatasetOptions", "first", first, "first >= 0");
}

void register_builtins() {
  register_builtin_priors();
  register_builtin_operators();
  register_builtin_designs();
  register_builtin_solvers();
  register_builtin_metrics();
  register_gallery_metrics();
}

std::string solver_operator_matrix() {
  register_builtins();
  const auto solvers = solver_registry().names();
  const auto ops = operator_registry().names();
  size_t w0 = 6;
  for (const auto& n : solvers) w0 = std::max(w0, n.size());
  std::ostringstream os;
  auto pad = [](const std::string& t, size_t w) { return t + std::string(w > t.size() ? w - t.size() : 0, ' '); };
  os << "  " << pad("solver", w0 + 2);
  for (const auto& o : ops) os << pad(o, o.size() + 2);
  os << "needs\n";
  std::vector<std::string> refused;  // "solver x operator: reason"
  for (const auto& n : solvers) {
    const auto& req = solver_registry().get(n).requirements;
    os << "  " << pad(n, w0 + 2);
    for (const auto& o : ops) {
      bool ok = true;
      try {
        const auto& op = operator_registry().get(o);
        check_compatible(n, req, o, op.linear, op.capabilities);
      } catch (const Error& e) {
        ok = false;
        const std::string what = e.what();
        const auto colon = what.find("': ");
        refused.push_back(n + " x " + o + ": " + (colon == std::string::npos ? what : what.substr(colon + 3)));
      }
      os << pad(ok ? "ok" : "-", o.size() + 2);
    }
    os << req.describe() << "\n";
  }
  os << "  (ok = valid pair; - = refused before running, reasons below; requirements at default options)\n";
  os << "operator capabilities:\n";
  for (const auto& o : ops) {
    const auto& op = operator_registry().get(o);
    os << "  " << pad(o, w0 + 2) << op.capabilities.describe(op.linear) << "\n";
  }
  os << "refused pairs:\n";
  for (const auto& r : refused) os << "  " << r << "\n";
  return os.str();
}

namespace {

// Whether check_compatible accepts the pair (its rules, without its message).
bool compatible(const Requirements& req, bool op_linear, const OperatorCapabilities& caps) {
  try {
    check_compatible("", req, "", op_linear, caps);
    return true;
  } catch (const Error&) {
    return false;
  }
}

// The registered type of a labelled section: its `type` key, else the label itself.
std::string section_type(const Section& s, const std::string& label) {
  std::string type = label;
  s.read("type", type);
  s.resolve("type", type);
  return type;
}

template <class Entry>
const Entry& lookup(const Registry<Entry>& registry, const std::string& type, const Section& s) {
  try {
    return registry.get(type);
  } catch (const Error& e) {
    throw Error(str_cat("config [", s.name(), "] (", s.origin(), "): ", e.what()));
  }
}

// The solver's section with the [solver.<label>@<op>] overrides layered on top.
std::unique_ptr<Solver> make_solver(const Config& config, const SolverEntry& entry, const std::string& label,
                                    const std::string& op_label) {
  const Section& base = config.section("solver." + label);
  auto solver = entry.make(base);  // validates the base options and resolves their defaults
  const std::string override_name = "solver." + label + "@" + op_label;
  if (!config.has_section(override_name)) return solver;
  const Section& over = config.section(override_name);
  Section merged(override_name, over.origin());
  for (const auto& [key, e] : base.entries())
    if (key != "type") merged.set(key, e.value, e.origin);
  for (const auto& [key, e] : over.entries()) merged.set(key, e.value, e.origin);
  solver = entry.make(merged);
  // Keys the merged section read are read in the originals too (for unknown-key accounting).
  for (const auto& [key, e] : merged.entries())
    if (e.used) {
      std::string ignored;
      if (over.has(key)) over.read(key, ignored);
      if (base.has(key)) base.read(key, ignored);
    }
  return solver;
}

}  // namespace

Spec parse_spec(const Config& config, bool notes) {
  register_builtins();
  Spec spec;
  require(config.has_section("benchmark"), "config ", config.origin(),
          ": no [benchmark] section (a benchmark config names its items, operators, solvers and designs there; "
          "see configs/quickstart.ini)");
  spec.benchmark = read_options<BenchmarkOptions>(config.section("benchmark"));
  spec.dataset = read_options<DatasetOptions>(config.section("dataset"));
  spec.prior_section = &config.section("prior");
  spec.prior_type = "empirical";
  spec.prior_section->read("type", spec.prior_type);
  spec.prior_section->resolve("type", spec.prior_type);
  lookup(prior_registry(), spec.prior_type, *spec.prior_section);

  for (const auto& label : spec.benchmark.operators) {
    const Section& s = config.section("operator." + label);
    const std::string type = section_type(s, label);
    const auto& entry = lookup(operator_registry(), type, s);
    spec.operators.push_back({label, type, entry.linear, entry.parse(s)});
  }
  for (const auto& label : spec.benchmark.designs) {
    const Section& s = config.section("noise." + label);
    const std::string type = section_type(s, label);
    const auto& entry = lookup(design_registry(), type, s);
    auto design = entry.make(s);
    const int64_t K = design->group_size();
    require(spec.benchmark.samples_per_item % K == 0, "config [benchmark] samples_per_item = ",
            spec.benchmark.samples_per_item, " is not a multiple of design '", label, "' group size K = ", K,
            " (", type, " needs whole groups; use an even count for antithetic)");
    require(spec.benchmark.batch_size % K == 0, "config [benchmark] batch_size = ", spec.benchmark.batch_size,
            " is not a multiple of design '", label, "' group size K = ", K, " (coupled members share a batch)");
    require(spec.benchmark.max_batch == 0 || spec.benchmark.max_batch >= K, "config [benchmark] max_batch = ",
            spec.benchmark.max_batch, " is smaller than design '", label, "' group size K = ", K,
            " (a batch holds whole coupled groups)");
    spec.designs.push_back({label, type, design});
    // RQMC: t intervals over R replicates are reliable from R >= 10 (specs/noise-and-stats.md section 4).
    if (notes && type == "rqmc" && spec.benchmark.samples_per_item / K < 10)
      std::fprintf(stderr,
                   "warning: [noise.%s] gives %lld replicates per item (samples_per_item %lld / n = %lld); RQMC "
                   "intervals need >= 10 (fewer points per replicate m, or more samples_per_item)\n",
                   label.c_str(), static_cast<long long>(spec.benchmark.samples_per_item / K),
                   static_cast<long long>(spec.benchmark.samples_per_item), static_cast<long long>(K));
  }
  for (const auto& label : spec.benchmark.solvers) {
    const Section& s = config.section("solver." + label);
    const std::string type = section_type(s, label);
    const auto& entry = lookup(solver_registry(), type, s);
    SolverSpec solver{label, type, {}};
    for (const auto& op : spec.operators) {
      // The configured solver's requirements (they may depend on its options, e.g. ddnm's variant).
      auto configured = make_solver(config, entry, label, op.label);
      const auto& caps = operator_registry().get(op.type).capabilities;
      try {
        check_compatible(label, configured->requirements(), op.label, op.linear, caps);
      } catch (const Error& e) {
        // Name the option when it is what asks for the capability (ddnm variant, daps x0_step, pnpdm likelihood).
        if (!compatible(entry.requirements, op.linear, caps)) throw;
        throw Error(str_cat(e.what(), ". An option of [solver.", label, "] asks for this: at its default options '",
                            type, "' runs on '", op.label, "' (`ipbench list ", type, "` shows them)"));
      }
      solver.per_operator.push_back(std::move(configured));
    }
    spec.solvers.push_back(std::move(solver));
  }
  for (const auto& name : spec.benchmark.metrics) {
    // [metric.<label>]: a configured metric family (metrics/feature_metric.h).
    if (config.has_section("metric." + name)) register_metric_section(name, config.section("metric." + name));
    try {
      metric_registry().get(name);
    } catch (const Error& e) {
      throw Error(str_cat("config [benchmark] metrics: ", e.what()));
    }
    if (metric_registry().get(name).gallery)
      for (const auto& d : spec.designs)
        require(d.design->group_size() >= 2, "config [benchmark] metrics: gallery metric '", name,
                "' needs coupled groups, but design '", d.label, "' has K = 1. Violated: every design of a run with ",
                "gallery metrics has K >= 2 (independent galleries of K: [noise.<label>] type = equicorrelated, K = ",
                "<K>, c = 0)");
    spec.metrics.push_back(name);
  }
  check_two_stage(read_two_stage_options(config.section("benchmark")), spec.benchmark, spec.designs);
  read_inference_precision(config.section("benchmark"), spec.benchmark.device, spec.benchmark.dtype);
  read_memory_budget_bytes(config.section("benchmark"), spec.benchmark.batch_size, spec.benchmark.device);
  // Components configured but not selected (say after --set benchmark.operators=...): a note, not
  // an error; their keys are not checked. Unknown prefixes stay errors (Config::check_all_used).
  for (const auto& name : config.section_names()) {
    const bool component = name.rfind("operator.", 0) == 0 || name.rfind("solver.", 0) == 0 ||
                           name.rfind("noise.", 0) == 0 || name.rfind("metric.", 0) == 0;
    if (component && !config.find_section(name)->requested()) {
      if (notes)
        std::fprintf(stderr, "note: [%s] is not selected by [benchmark]; its settings are not used\n", name.c_str());
      config.ignore_section(name);
    }
  }
  bool has_baseline = false;
  for (const auto& d : spec.designs) has_baseline |= d.label == spec.benchmark.baseline_design;
  if (notes && !has_baseline && spec.designs.size() > 1)
    std::fprintf(stderr, "note: baseline design '%s' is not in the run; only in-run efficiencies are reported\n",
                 spec.benchmark.baseline_design.c_str());
  spec.config = std::shared_ptr<const Config>(std::shared_ptr<const Config>(), &config);  // a view
  return spec;
}

Spec parse_spec(Config&& config, bool notes) {
  auto owned = std::make_shared<const Config>(std::move(config));
  Spec spec = parse_spec(*owned, notes);
  spec.config = owned;
  return spec;
}

}  // namespace ipbench
