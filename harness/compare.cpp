// Two run folders through the regression gate (harness/compare.h).
#include "harness/compare.h"

#include <map>

#include "core/config.h"
#include "core/error.h"
#include "harness/records.h"
#include "metrics/metric.h"

namespace ipbench {

namespace {

using Entries = std::map<std::string, std::string>;

Entries entries_of(const Config& config, const std::string& section) {
  Entries out;
  if (const Section* s = config.find_section(section))
    for (const auto& [key, entry] : s->entries()) out[key] = entry.value;
  return out;
}

// "key: a -> b" for every key whose value differs ("(unset)" for a missing one).
std::vector<std::string> key_differences(const Entries& a, const Entries& b) {
  std::vector<std::string> out;
  auto value = [](const Entries& e, const std::string& k) {
    auto it = e.find(k);
    return it == e.end() ? std::string("(unset)") : it->second;
  };
  std::map<std::string, bool> keys;
  for (const auto& kv : a) keys[kv.first] = true;
  for (const auto& kv : b) keys[kv.first] = true;
  for (const auto& kv : keys)
    if (value(a, kv.first) != value(b, kv.first))
      out.push_back(str_cat(kv.first, ": ", value(a, kv.first), " -> ", value(b, kv.first)));
  return out;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// What a section's difference means for the comparison.
enum class Role { measurement, noise, other };
Role role_of(const std::string& section) {
  if (section == "dataset" || starts_with(section, "operator.")) return Role::measurement;
  if (starts_with(section, "noise.")) return Role::noise;
  return Role::other;
}

std::vector<std::string> section_union(const Config& a, const Config& b) {
  std::vector<std::string> names = a.section_names();
  for (const std::string& n : b.section_names())
    if (!a.find_section(n)) names.push_back(n);
  return names;
}

Config resolved_config(const std::string& dir) { return Config::from_file(run_file(dir, "config.resolved.ini")); }

std::vector<Record> run_records(const std::string& dir) { return read_records(run_file(dir, "records.csv")); }

}  // namespace

RunComparison compare_run_folders(const std::string& baseline_dir, const std::string& candidate_dir,
                                  RegressionOptions options) {
  const Config base = resolved_config(baseline_dir), cand = resolved_config(candidate_dir);
  RunComparison out;
  for (const std::string& section : section_union(base, cand)) {
    const bool in_base = base.find_section(section) != nullptr, in_cand = cand.find_section(section) != nullptr;
    const Role role = role_of(section);
    if (!in_base || !in_cand) {
      out.config_differences.push_back(str_cat("[", section, "] (only in the ", in_base ? "baseline" : "candidate", ")"));
      if (role == Role::noise) out.common_random_numbers = false;
      continue;
    }
    Entries a = entries_of(base, section), b = entries_of(cand, section);
    if (section == "benchmark") {
      if (a["seed"] != b["seed"]) out.common_random_numbers = false;
      a.erase("name");
      b.erase("name");
    }
    const std::vector<std::string> diff = key_differences(a, b);
    if (diff.empty()) continue;
    if (role == Role::measurement) {
      std::string list;
      for (const std::string& d : diff) list += "\n  " + d;
      throw Error(str_cat("compare: [", section, "] differs between ", baseline_dir, " and ", candidate_dir, ":", list,
                          "\nthe runs measured different problems; compare runs of the same dataset and operators"));
    }
    if (role == Role::noise) out.common_random_numbers = false;
    for (const std::string& d : diff) out.config_differences.push_back(str_cat("[", section, "] ", d));
  }
  if (options.lower_better.empty()) options.lower_better = metric_directions();
  out.report = compare_runs(run_records(baseline_dir), run_records(candidate_dir), options);
  return out;
}

}  // namespace ipbench
