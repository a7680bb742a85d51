#pragma once
// Solver: an inverse-problem solver, `Options` + solve(problem, noise).
//
// A solver draws EVERY random number from the NoiseStream (never torch::randn or another RNG), so
// the harness controls coupling. It declares what it needs from the operator; the harness refuses a
// mismatched (solver, operator) pair before running anything.
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/registry.h"
#include "models/consistency_fn.h"
#include "models/denoiser.h"
#include "noise/noise_stream.h"
#include "operators/operator.h"

namespace ipbench {

struct Problem {
  const Denoiser& prior;
  const Operator& op;
  /// [1, m...] the measurement of one item (broadcast over the batch); [B, m...] per sample on a batch
  /// across items (an ItemBatchOperator; only for solvers with Requirements::item_batch).
  torch::Tensor y;
  /// The consistency function of a CM solver (cm_dps, cm_inversion, cm_sample), built by the harness
  /// from the solver's consistency_source(); null for every other solver. A CM solver given none throws
  /// Error.
  const ConsistencyFunction* consistency = nullptr;
};

/// Per-sample termination status; anything but kOk makes the sample's metrics NaN.
enum class SampleStatus { kOk, kNonFinite };
const char* to_string(SampleStatus s);

/// kOk for samples whose every value is finite, kNonFinite otherwise (x: [B, ...]).
std::vector<SampleStatus> finite_status(const torch::Tensor& x);

struct SolveResult {
  torch::Tensor x;                    ///< [G*K, C, H, W] reconstructions (CPU or device)
  int64_t nfe = 0;                    ///< network evaluations per sample
  std::vector<SampleStatus> status;   ///< one per sample
  std::string used;                   ///< what was used (steps, variance, device), for reports
};

struct Requirements {
  bool linear_operator = false;    ///< needs A linear (with a true adjoint)
  bool consistency_model = false;  ///< needs a consistency function (option `consistency`)
  /// Needs a closed-form SVD of the operator (OperatorCapabilities::svd, operators/svd.h): DDRM, DDNM+.
  bool svd = false;
  /// May be solved in one batch spanning several items (harness/batching.h, `[benchmark] max_batch`): the
  /// solver reads y only per sample (through the operator's forward / adjoint / normal / loss, or not at
  /// all) and derives no scalar from y or the operator across the batch, so every sample gets its per-item
  /// result. Declared only after an audit; false (per-item batches) by default.
  bool item_batch = false;
  std::string describe() const;
  /// An audited solver's requirements: item-batch safe, with or without a linear operator.
  static Requirements batched(bool linear_operator = false) {
    Requirements r;
    r.linear_operator = linear_operator;
    r.item_batch = true;
    return r;
  }
};

class Solver {
 public:
  virtual ~Solver() = default;
  virtual SolveResult solve(const Problem& problem, NoiseStream& noise) const = 0;
  virtual Requirements requirements() const { return {}; }
  /// Where the harness gets Problem::consistency from (CM solvers); nullopt for the others.
  virtual std::optional<ConsistencySource> consistency_source() const { return std::nullopt; }
  /// Network evaluations per sample, known before running (for summaries and planning).
  virtual int64_t nfe_per_sample() const = 0;
  /// One line: the solver and its resolved options.
  virtual std::string describe() const = 0;
};

struct SolverEntry {
  ComponentInfo info;
  Requirements requirements;
  std::function<std::unique_ptr<Solver>(const Section&)> make;
};

Registry<SolverEntry>& solver_registry();
/// Registers every built-in solver (idempotent): dps, lgd, dds, cm_dps, cm_inversion and the baselines
/// dps_edm, ddpm, ddim, euler_ancestral, cm_sample.
void register_builtin_solvers();

/// Throws Error when `solver` cannot run with `op` (names both and the rule).
void check_compatible(const std::string& solver_label, const Requirements& req, const std::string& op_label,
                      bool op_linear);
/// The same, also checking the capabilities the solver needs (svd) against what the operator offers.
void check_compatible(const std::string& solver_label, const Requirements& req, const std::string& op_label,
                      bool op_linear, const OperatorCapabilities& caps);

/// The consistency function of a CM solver's problem: Error naming the solver when it is null.
const ConsistencyFunction& require_consistency(const Problem& problem, const std::string& solver);

}  // namespace ipbench
