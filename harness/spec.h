#pragma once
// Spec: a benchmark configuration, parsed and validated before anything runs.
//
// Sections (docs/configs.md):
//   [benchmark]               name, seed, items, samples_per_item, batch_size, max_batch, operators, solvers,
//                             designs, metrics, device, dtype, threads, kernels, confidence, baseline_design
//   [dataset]                 source, pad_to, first
//   [prior]                   type + the prior's options
//   [operator.<label>]        type (default: the label) + the operator's options
//   [solver.<label>]          type (default: the label) + the solver's options
//   [solver.<label>@<op>]     overrides of the solver's options for one operator (DPS's zeta per task)
//   [noise.<label>]           type (default: the label) + the design's options
// Labels let one config hold two instances of one type (say inpaint random and inpaint box).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/config.h"
#include "metrics/metric.h"
#include "noise/design.h"
#include "operators/operator.h"
#include "solvers/solver.h"

namespace ipbench {

struct BenchmarkOptions {
  std::string name = "benchmark";  ///< run name; default output folder runs/<name>
  int64_t seed = 0;                ///< root of every key: measurement noise, masks, solver noise
  int64_t items = 8;               ///< dataset images benchmarked (from [dataset] first)
  int64_t samples_per_item = 16;   ///< reconstructions per item and cell (a multiple of every design's K)
  int64_t batch_size = 0;          ///< samples per solver call, a multiple of K; 0 = all samples of an item
  int64_t max_batch = 0;           ///< > 0: batches across items of up to max_batch samples (whole groups)
  std::vector<std::string> operators{"inpaint"};
  std::vector<std::string> solvers{"dps"};
  std::vector<std::string> designs{"iid", "antithetic"};
  std::vector<std::string> metrics{"l1", "psnr", "ssim", "residual"};
  std::string device = "auto";     ///< auto | cpu | cuda | cuda:N
  std::string dtype = "float32";   ///< float32 | float64
  int64_t threads = 0;             ///< intra-op threads; 0 = all cores
  /// deterministic: records independent of the thread count and batch size (oneDNN off, core/runtime.h);
  /// fast: LibTorch picks oneDNN per call (CPU: up to 1.8x faster UNet passes, docs/performance.md).
  std::string kernels = "deterministic";
  double confidence = 0.95;        ///< level of every interval
  std::string baseline_design = "iid";  ///< design that efficiencies are measured against
  bool save_reconstructions = false;    ///< store every reconstruction (reports/run_summary.h)

  template <class F>
  void fields(F&& f) {
    f("name", name, "run name; default output folder runs/<name>");
    f("seed", seed, "root seed of every key (measurements, masks, solver noise)");
    f("items", items, "number of dataset images benchmarked, >= 1");
    f("samples_per_item", samples_per_item, "reconstructions per item and cell, a multiple of each design's K");
    f("batch_size", batch_size, "samples per solver call, a multiple of K; 0 = all samples of an item");
    f("max_batch", max_batch,
      "> 0: solver calls span items, up to max_batch samples of whole groups (batch_size must be 0); 0 = per item");
    f("operators", operators, "operator labels ([operator.<label>] sections; label = type by default)");
    f("solvers", solvers, "solver labels ([solver.<label>] sections)");
    f("designs", designs, "noise design labels ([noise.<label>] sections)");
    f("metrics", metrics, "per-sample metrics");
    f("device", device, "auto | cpu | cuda | cuda:N");
    f("dtype", dtype, "float32 | float64");
    f("threads", threads, "intra-op threads, 0 = all cores");
    f("kernels", kernels, "deterministic (records independent of threads and batch size) | fast (oneDNN on the CPU)");
    f("confidence", confidence, "confidence level of every interval, in (0, 1)");
    f("baseline_design", baseline_design, "design the relative efficiencies are measured against");
    f("save_reconstructions", save_reconstructions,
      "store every reconstruction under DIR/reconstructions (needed by `ipbench correlate`)");
  }
  void validate() const;
};

struct DatasetOptions {
  std::string source = "fashion-mnist:test";  ///< HDF5 path or fashion-mnist:train|test
  int64_t pad_to = 32;                        ///< pad importer images to this size (0 = none)
  int64_t first = 0;                          ///< index of the first benchmarked item

  template <class F>
  void fields(F&& f) {
    f("source", source, "HDF5 dataset path, or fashion-mnist:train / fashion-mnist:test");
    f("pad_to", pad_to, "pad imported images to pad_to x pad_to (0 = none); must match an HDF5 file's size");
    f("first", first, "index of the first benchmarked item, >= 0");
  }
  void validate() const;
};

struct OperatorSpec {
  std::string label, type;
  bool linear = true;
  OperatorBuilder build;
};

struct SolverSpec {
  std::string label, type;
  /// One configured solver per operator label (overrides from [solver.<label>@<op>] applied).
  std::vector<std::shared_ptr<const Solver>> per_operator;
};

struct DesignSpec {
  std::string label, type;
  std::shared_ptr<const NoiseDesign> design;
};

/// Everything a run needs, parsed: the runner takes a Spec and never the caller's Config.
struct Spec {
  BenchmarkOptions benchmark;
  DatasetOptions dataset;
  /// The parsed configuration with its read / unread accounting: the prior's section is read from it
  /// when the prior is built (that needs the data), then check_all_used() and resolved_ini(). Owned
  /// when parsed from a Config rvalue; a view of the caller's Config (which must outlive the Spec's
  /// use) when parsed from an lvalue.
  std::shared_ptr<const Config> config;
  const Section* prior_section = nullptr;  ///< [prior] of `config`
  std::string prior_type;
  std::vector<OperatorSpec> operators;
  std::vector<SolverSpec> solvers;
  std::vector<DesignSpec> designs;
  std::vector<std::string> metrics;

  /// The resolved configuration (every key, defaults included once the prior is built) as INI text:
  /// what config.resolved.ini holds.
  std::string resolved_ini() const { return config->to_ini(); }
};

/// Parses and validates everything that needs no data: options, registry names, solver/operator
/// compatibility, sample counts against each design's K. Registers the built-in components.
/// Throws Error naming the section, key and rule. The prior's keys are read by build_prior().
/// `notes`: print a note on stderr for each configured but unselected component (run time); false
/// when re-reading a stored run's resolved config (merge, report), where the user has seen them.
Spec parse_spec(const Config& config, bool notes = true);
/// The same, the Spec owning the configuration (self-contained: nothing else needs to stay alive).
Spec parse_spec(Config&& config, bool notes = true);

/// Registers every built-in component (priors, operators, designs, solvers, metrics).
void register_builtins();

/// The solver x operator matrix of every registered solver and operator (for `ipbench list`): "ok"
/// where the pair can run, "-" where the spec refuses it (check_compatible), then each solver's
/// requirements. Registers the built-ins.
std::string solver_operator_matrix();

}  // namespace ipbench
