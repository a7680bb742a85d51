// Two run folders through the regression gate (reports/compare_runs.h).
#include "reports/compare_runs.h"

#include <algorithm>

#include "core/config.h"
#include "core/config_diff.h"
#include "core/error.h"
#include "harness/run_folder.h"
#include "metrics/metric.h"

namespace ipbench {

namespace {

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// What a section's difference means for the comparison.
enum class Role { measurement, noise, other };
Role role_of(const std::string& section) {
  if (section == "dataset" || starts_with(section, "operator.")) return Role::measurement;
  if (starts_with(section, "noise.")) return Role::noise;
  return Role::other;
}

}  // namespace

RunComparison compare_run_folders(const std::string& baseline_dir, const std::string& candidate_dir,
                                  RegressionOptions options) {
  const RunFolder base_run = RunFolder::open(baseline_dir), cand_run = RunFolder::open(candidate_dir);
  const Config base = base_run.resolved_config(), cand = cand_run.resolved_config();
  RunComparison out;
  for (SectionDifference d : config_differences(base, cand)) {
    const Role role = role_of(d.section);
    if (!d.in_a || !d.in_b) {
      out.config_differences.push_back(str_cat("[", d.section, "] (only in the ", d.in_a ? "baseline" : "candidate", ")"));
      if (role == Role::noise) out.common_random_numbers = false;
      continue;
    }
    if (d.section == "benchmark") {
      for (const KeyDifference& k : d.keys)
        if (k.key == "seed") out.common_random_numbers = false;
      d.keys.erase(std::remove_if(d.keys.begin(), d.keys.end(), [](const KeyDifference& k) { return k.key == "name"; }),
                   d.keys.end());
    }
    if (d.keys.empty()) continue;
    const std::vector<std::string> lines = describe_differences({d}, "the baseline", "the candidate");
    if (role == Role::measurement) {
      std::string list;
      for (const KeyDifference& k : d.keys) list += str_cat("\n  ", k.key, ": ", k.a, " -> ", k.b);
      throw Error(str_cat("compare: [", d.section, "] differs between ", baseline_dir, " and ", candidate_dir, ":", list,
                          "\nthe runs measured different problems; compare runs of the same dataset and operators"));
    }
    if (role == Role::noise) out.common_random_numbers = false;
    out.config_differences.insert(out.config_differences.end(), lines.begin(), lines.end());
  }
  if (options.lower_better.empty()) options.lower_better = metric_directions();
  out.report = compare_runs(base_run.read_records(), cand_run.read_records(), options);
  return out;
}

}  // namespace ipbench
