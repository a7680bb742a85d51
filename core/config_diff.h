#pragma once
// What differs between two configurations, key by key: the one comparison used by `ipbench compare`
// (the change under test), `run --resume` and `merge` (refused, naming every changed key).
#include <string>
#include <vector>

#include "core/config.h"

namespace ipbench {

struct KeyDifference {
  std::string key;
  std::string a, b;  ///< the two values; "(unset)" where one configuration lacks the key
};

struct SectionDifference {
  std::string section;
  bool in_a = true, in_b = true;   ///< false: the section exists in one configuration only
  std::vector<KeyDifference> keys; ///< sorted by key; empty when the section is in one only
};

/// Every section of a or b (a's order, then b's new ones) that differs, with its differing keys.
std::vector<SectionDifference> config_differences(const Config& a, const Config& b);

/// One line per difference: "[solver.dps] zeta: 1 -> 0.5", "[solver.lgd] (only in <b_name>)".
std::vector<std::string> describe_differences(const std::vector<SectionDifference>& diffs, const std::string& a_name,
                                              const std::string& b_name);

}  // namespace ipbench
