// The two-stage (Stein) procedure's options, sizing decision and stage-2 work (harness/two_stage.h).
#include "harness/two_stage.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include "core/error.h"
#include "core/options.h"
#include "harness/spec.h"
#include "stats/intervals.h"
#include "stats/precision.h"
#include "stats/summary.h"

namespace ipbench {

namespace {

constexpr const char* kWhere = "config [benchmark] target_halfwidth";

// The stage of a two-stage run's group: 1 in the pilot, 2 after it.
int stage_of_group(int64_t group, const TwoStageOptions& options) { return group < options.pilot_groups ? 1 : 2; }

}  // namespace

void TwoStageOptions::validate() const {
  parse_precision_targets(target_halfwidth, "target_halfwidth");  // read_options names the section
  check_option(pilot_groups >= 2, "TwoStageOptions", "pilot_groups", pilot_groups,
               "pilot_groups >= 2 (Stein's pilot needs a variance per item)");
  check_option(max_samples_per_item >= 0, "TwoStageOptions", "max_samples_per_item", max_samples_per_item,
               "max_samples_per_item >= 0 (0 = 16 x samples_per_item)");
}

int64_t TwoStageOptions::max_groups(int64_t k, int64_t samples_per_item) const {
  return (max_samples_per_item > 0 ? max_samples_per_item : 16 * samples_per_item) / k;
}

TwoStageOptions read_two_stage_options(const Section& benchmark) {
  bool any = false;
  TwoStageOptions defaults;
  defaults.fields([&](const char* key, auto&, const char*) { any |= benchmark.has(key); });
  if (!any) return defaults;
  return read_options<TwoStageOptions>(benchmark);
}

void check_two_stage(const TwoStageOptions& options, const BenchmarkOptions& bench,
                     const std::vector<DesignSpec>& designs) {
  if (!options.enabled()) return;
  for (const PrecisionTarget& t : parse_precision_targets(options.target_halfwidth, kWhere))
    require(std::find(bench.metrics.begin(), bench.metrics.end(), t.metric) != bench.metrics.end(), kWhere,
            ": metric '", t.metric, "' is not measured. Violated: every target names a metric of [benchmark] metrics (",
            option_value(bench.metrics), ")");
  for (const DesignSpec& d : designs) {
    const int64_t K = d.design->group_size();
    const int64_t cap = options.max_groups(K, bench.samples_per_item);
    require(cap >= options.pilot_groups, "config [benchmark] max_samples_per_item = ", options.max_samples_per_item,
            options.max_samples_per_item == 0 ? str_cat(" (16 x samples_per_item = ", 16 * bench.samples_per_item, ")") : "",
            " allows ", cap, " groups of design '", d.label, "' (K = ", K, "), fewer than pilot_groups = ",
            options.pilot_groups, ". Violated: max_samples_per_item >= pilot_groups x K");
  }
}

TwoStageOptions two_stage_options(const Spec& spec) {
  TwoStageOptions o = read_two_stage_options(spec.config->section("benchmark"));
  check_two_stage(o, spec.benchmark, spec.designs);
  return o;
}

void refuse_sharded_two_stage(const TwoStageOptions& options, const Shard& shard) {
  require(!options.enabled() || shard.count == 1, kWhere, ": a two-stage run sizes each cell from the pilot groups ",
          "of all its items, which shards cannot pool, so it cannot be sharded (--shard ", shard.str(),
          "). Run it unsharded, or set a fixed samples_per_item without target_halfwidth");
}

std::vector<PlanUnit> stage_one_units(const Plan& plan, const TwoStageOptions& options) {
  std::vector<PlanUnit> units = plan.owned_units();
  if (options.enabled())
    for (PlanUnit& u : units) u.groups = options.pilot_groups;
  return units;
}

void check_record_stages(const std::vector<Record>& records, const TwoStageOptions& options, const std::string& file) {
  for (const Record& r : records) {
    if (r.stage == 0) continue;
    const std::string sample = str_cat(file, ": sample (cell ", r.cell, ", item ", r.item, ", group ", r.group,
                                       ", member ", r.member, ") has stage ", r.stage);
    const std::string rule = ". Violated: a two-stage run's groups below pilot_groups are stage 1, the rest stage 2 "
                             "(a records file edited by hand?)";
    require(options.enabled(), sample, " but this run has no target_halfwidth", rule);
    const int expected = stage_of_group(r.group, options);
    require(r.stage == expected, sample, " where group ", r.group, expected == 1 ? " < " : " >= ",
            "pilot_groups = ", options.pilot_groups, " makes it stage ", expected, rule);
  }
}

int64_t records_in_stage(const std::vector<Record>& records, const TwoStageOptions& options, int stage) {
  if (!options.enabled()) return stage == 1 ? static_cast<int64_t>(records.size()) : 0;
  return std::count_if(records.begin(), records.end(),
                       [&](const Record& r) { return stage_of_group(r.group, options) == stage; });
}

int64_t StageTwo::samples(const Plan& plan) const {
  int64_t n = 0;
  for (const GroupRange& r : ranges) n += (r.last - r.first) * plan.cells()[r.unit.cell].group_size;
  return n;
}

StageTwo plan_stage_two(const Plan& plan, const TwoStageOptions& options, double confidence,
                        const std::vector<Record>& records) {
  StageTwo out;
  const int64_t n0 = options.pilot_groups;
  const std::vector<PrecisionTarget> targets = parse_precision_targets(options.target_halfwidth, kWhere);
  // Pilot records only: the plan must not depend on stage-2 records a resumed run already holds.
  std::vector<Record> pilot;
  for (const Record& r : records)
    if (stage_of_group(r.group, options) == 1) pilot.push_back(r);
  std::vector<std::map<std::string, UnitValues>> units;  // per target: cell -> item -> group -> value
  std::vector<double> halfwidths;
  for (const PrecisionTarget& t : targets) {
    units.push_back(cell_unit_values(pilot, t.metric));
    halfwidths.push_back(t.halfwidth);
  }
  const std::vector<PlanUnit> owned = stage_one_units(plan, options);
  for (size_t c = 0; c < plan.cells().size(); ++c) {
    const PlanCell& cell = plan.cells()[c];
    std::vector<PlanUnit> cell_units;
    for (const PlanUnit& u : owned)
      if (u.cell == c) cell_units.push_back(u);
    if (cell_units.empty()) continue;
    // pilot_var[m][i]: variance of item i's pilot unit values (NaN with fewer than 2 complete groups).
    std::vector<std::vector<double>> pilot_var(targets.size());
    for (size_t m = 0; m < targets.size(); ++m)
      for (const PlanUnit& u : cell_units) {
        std::vector<double> values;
        const auto cell_it = units[m].find(cell.label);
        if (cell_it != units[m].end()) {
          const auto item_it = cell_it->second.find(u.item);
          if (item_it != cell_it->second.end())
            for (const auto& [group, value] : item_it->second) values.push_back(value);
        }
        pilot_var[m].push_back(sample_variance(values));
      }
    const int64_t cap = options.max_groups(cell.group_size, plan.samples_per_item());
    const TwoStagePlan p = plan_two_stage(pilot_var, halfwidths, n0, cap, confidence);
    for (size_t i = 0; i < cell_units.size(); ++i) {
      StageDecision d;
      d.cell = cell.label;
      d.item = cell_units[i].item;
      d.group_size = cell.group_size;
      d.pilot_groups = n0;
      d.groups = p.groups[i];
      d.capped = p.capped;
      for (size_t m = 0; m < targets.size(); ++m) d.pilot_variance.push_back(pilot_var[m][i]);
      out.decisions.push_back(d);
      if (d.groups > n0) out.ranges.push_back({cell_units[i], n0, d.groups});
    }
  }
  return out;
}

std::string stage_plan_csv(const StageTwo& plan, const TwoStageOptions& options) {
  std::ostringstream os;
  os << "cell,item,group_size,pilot_groups,groups,capped";
  for (const PrecisionTarget& t : parse_precision_targets(options.target_halfwidth, kWhere)) os << ",pilot_var:" << t.metric;
  os << "\n";
  for (const StageDecision& d : plan.decisions) {
    os << d.cell << "," << d.item << "," << d.group_size << "," << d.pilot_groups << "," << d.groups << ","
       << (d.capped ? "true" : "false");
    for (double v : d.pilot_variance) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", v);
      os << "," << buf;
    }
    os << "\n";
  }
  return os.str();
}

int64_t stage_plan_samples(const std::string& csv, const std::string& origin) {
  std::istringstream in(csv);
  std::string line;
  int64_t samples = 0, row = 0;
  while (std::getline(in, line)) {
    if (++row == 1 || trim(line).empty()) continue;
    const std::vector<std::string> f = split_list(line);
    int64_t k = 0, groups = 0;
    try {
      require(f.size() >= 6, "");
      k = std::stoll(f[2]);
      groups = std::stoll(f[4]);
    } catch (const std::exception&) {
      throw Error(str_cat(origin, ": line ", row, " is not cell,item,group_size,pilot_groups,groups,capped,...: '",
                          line, "'"));
    }
    samples += k * groups;
  }
  return samples;
}

}  // namespace ipbench
