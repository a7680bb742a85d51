// Key-by-key configuration differences (core/config_diff.h).
#include "core/config_diff.h"

#include <map>

#include "core/error.h"

namespace ipbench {

namespace {

using Entries = std::map<std::string, std::string>;

Entries entries_of(const Section& s) {
  Entries out;
  for (const auto& [key, entry] : s.entries()) out[key] = entry.value;
  return out;
}

std::vector<KeyDifference> key_differences(const Entries& a, const Entries& b) {
  auto value = [](const Entries& e, const std::string& k) {
    const auto it = e.find(k);
    return it == e.end() ? std::string("(unset)") : it->second;
  };
  std::map<std::string, bool> keys;
  for (const auto& kv : a) keys[kv.first] = true;
  for (const auto& kv : b) keys[kv.first] = true;
  std::vector<KeyDifference> out;
  for (const auto& kv : keys)
    if (value(a, kv.first) != value(b, kv.first)) out.push_back({kv.first, value(a, kv.first), value(b, kv.first)});
  return out;
}

}  // namespace

std::vector<SectionDifference> config_differences(const Config& a, const Config& b) {
  std::vector<std::string> names = a.section_names();
  for (const std::string& n : b.section_names())
    if (!a.find_section(n)) names.push_back(n);
  std::vector<SectionDifference> out;
  for (const std::string& name : names) {
    const Section *sa = a.find_section(name), *sb = b.find_section(name);
    SectionDifference d;
    d.section = name;
    d.in_a = sa != nullptr;
    d.in_b = sb != nullptr;
    if (sa && sb) {
      d.keys = key_differences(entries_of(*sa), entries_of(*sb));
      if (d.keys.empty()) continue;
    }
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<std::string> describe_differences(const std::vector<SectionDifference>& diffs, const std::string& a_name,
                                              const std::string& b_name) {
  std::vector<std::string> out;
  for (const SectionDifference& d : diffs) {
    if (!d.in_a || !d.in_b) {
      out.push_back(str_cat("[", d.section, "] (only in ", d.in_a ? a_name : b_name, ")"));
      continue;
    }
    for (const KeyDifference& k : d.keys) out.push_back(str_cat("[", d.section, "] ", k.key, ": ", k.a, " -> ", k.b));
  }
  return out;
}

}  // namespace ipbench
