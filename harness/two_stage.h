#pragma once
// Running to a target precision through the harness: Stein's two-stage procedure per cell
// ([benchmark] target_halfwidth, pilot_groups, max_samples_per_item; docs/statistics.md section 8c,
// /work/shared/specs/noise-and-stats.md). The statistics are stats/precision.h; this file holds the
// run's side of it: the options, the sizing decision and the stage-2 work as data.
//
//   stage 1  groups [0, pilot_groups) of every (cell, item) unit (stage_one_units)
//   plan     per cell, from the pilot records only: U_i groups per item (plan_two_stage: Neyman's
//            allocation over items, Stein's t), clamped to [pilot_groups, max_samples_per_item / K]
//   stage 2  groups [pilot_groups, U_i) of every unit (StageTwo::ranges)
//
// Group indices continue: group g of a two-stage run is keyed like group g of a fixed-size run
// (harness/plan.h), so the records of groups that both runs hold have identical values. Each record
// says which stage made it (records.csv's `stage` column, written by two-stage runs only: 1 for group
// < pilot_groups, else 2; check_record_stages on resume); the decision of every unit is written to the
// run folder's two_stage.csv (docs/formats.md). The plan is a pure function of the pilot
// records, whose values round-trip through records.csv exactly (%.17g), so a resumed run recomputes the
// same plan and continues it. A two-stage run cannot be sharded (each cell's plan needs every item's
// pilot): refuse_sharded_two_stage.
//
// This is the one place where harness/ calls stats/: the sizing decision is statistics, but it decides
// what the runner solves.
#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/record.h"
#include "harness/plan.h"

namespace ipbench {

struct BenchmarkOptions;
struct DesignSpec;
struct Spec;

/// The two-stage keys of [benchmark]. Off (fixed samples_per_item) while target_halfwidth is empty.
struct TwoStageOptions {
  std::vector<std::string> target_halfwidth;  ///< "metric:halfwidth" entries (psnr:0.05, l1:0.001)
  /// Stein's pilot: stage-1 groups per (cell, item). 8: with 4 the pilot variances are too noisy and the
  /// interval under-covers (measured on the harness's exact sampler, docs/statistics.md section 8c).
  int64_t pilot_groups = 8;
  int64_t max_samples_per_item = 0;  ///< cap per (cell, item); 0 = 16 x samples_per_item

  template <class F>
  void fields(F&& f) {
    f("target_halfwidth", target_halfwidth,
      "run each cell to these given-items half-widths, metric:halfwidth (psnr:0.05, l1:0.001); empty = off");
    f("pilot_groups", pilot_groups, "with target_halfwidth: stage-1 (pilot) groups per item and cell, >= 2");
    f("max_samples_per_item", max_samples_per_item,
      "with target_halfwidth: most samples per item and cell (0 = 16 x samples_per_item)");
  }
  void validate() const;
  bool enabled() const { return !target_halfwidth.empty(); }
  /// The most groups per (cell, item) for group size k.
  int64_t max_groups(int64_t k, int64_t samples_per_item) const;
};

/// Reads the two-stage keys of `benchmark` (validate(): target entries metric:halfwidth with a finite
/// half-width > 0, pilot_groups >= 2, max_samples_per_item >= 0). A section that sets none of them gives
/// the defaults and resolves nothing: a fixed-size run's config.resolved.ini is unchanged.
TwoStageOptions read_two_stage_options(const Section& benchmark);

/// The checks that need the benchmark: every target names a metric of [benchmark] metrics, and the cap
/// allows at least pilot_groups groups of every design. Error naming the key, the value and the rule.
void check_two_stage(const TwoStageOptions& options, const BenchmarkOptions& bench,
                     const std::vector<DesignSpec>& designs);

/// read_two_stage_options + check_two_stage on a parsed spec's [benchmark].
TwoStageOptions two_stage_options(const Spec& spec);

/// Error (exit 2) when a two-stage run is asked to run a shard.
void refuse_sharded_two_stage(const TwoStageOptions& options, const Shard& shard);

/// The units of stage 1: the plan's owned units, with groups = pilot_groups when two-stage is on
/// (unchanged otherwise).
std::vector<PlanUnit> stage_one_units(const Plan& plan, const TwoStageOptions& options);

/// Error (exit 2) naming `file` when a record's stage (records.csv's stage column, written by two-stage
/// runs) is not that of its group: 1 for group < pilot_groups, else 2. Records without a stage (a
/// fixed-size run, or a folder written before the column existed) are not checked.
void check_record_stages(const std::vector<Record>& records, const TwoStageOptions& options, const std::string& file);

/// Records of stage 1 (all records when two-stage is off; else group < pilot_groups) or stage 2.
int64_t records_in_stage(const std::vector<Record>& records, const TwoStageOptions& options, int stage);

/// Groups [first, last) of one unit.
struct GroupRange {
  PlanUnit unit;
  int64_t first = 0, last = 0;
};

/// The decision for one (cell, item).
struct StageDecision {
  std::string cell;
  int64_t item = 0, group_size = 1;
  int64_t pilot_groups = 0;     ///< stage-1 groups
  int64_t groups = 0;           ///< total groups (pilot included), in [pilot_groups, max groups]
  bool capped = false;          ///< some item of the cell wanted more than max_samples_per_item
  std::vector<double> pilot_variance;  ///< per target (options order): variance of the pilot unit values
};

struct StageTwo {
  std::vector<StageDecision> decisions;  ///< every owned unit, plan order
  std::vector<GroupRange> ranges;        ///< the stage-2 work: units with groups > pilot_groups
  int64_t samples(const Plan& plan) const;  ///< samples of `ranges`
};

/// The stage-2 plan from the pilot records (groups < pilot_groups of `records`; later groups are ignored).
StageTwo plan_stage_two(const Plan& plan, const TwoStageOptions& options, double confidence,
                        const std::vector<Record>& records);

/// two_stage.csv: "cell,item,group_size,pilot_groups,groups,capped,pilot_var:<metric>...", one row per
/// decision.
std::string stage_plan_csv(const StageTwo& plan, const TwoStageOptions& options);

/// Samples a two_stage.csv plans (sum of groups x group_size); Error naming `origin` when it is malformed.
int64_t stage_plan_samples(const std::string& csv, const std::string& origin);

}  // namespace ipbench
