#pragma once
// Name -> factory registries (lower_snake names), filled by explicit register_builtin_*() calls.
//
// No static self-registration: a static library can silently drop such objects. Duplicate names
// throw; an unknown name throws an Error that lists the known names.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/options.h"
#include "core/suggest.h"

namespace ipbench {

/// What `ipbench list` prints for one registered component.
struct ComponentInfo {
  std::string name;
  std::string description;       ///< one line
  std::vector<OptionDoc> options;  ///< from describe_options<Options>()
};

template <class Entry>
class Registry {
 public:
  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  void add(const std::string& name, Entry entry) {
    require(!name.empty(), "cannot register an unnamed ", kind_);
    require(entries_.count(name) == 0, kind_, " '", name, "' is registered twice");
    entries_.emplace(name, std::move(entry));
  }
  bool contains(const std::string& name) const { return entries_.count(name) > 0; }
  const Entry& get(const std::string& name) const {
    auto it = entries_.find(name);
    if (it == entries_.end()) {
      std::string known;
      for (const auto& kv : entries_) known += (known.empty() ? "" : ", ") + kv.first;
      throw Error(str_cat("unknown ", kind_, " '", name, "'", did_you_mean(name, names()), " (registered: ", known, ")"));
    }
    return it->second;
  }
  /// Sorted names.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& kv : entries_) out.push_back(kv.first);
    return out;
  }
  const std::string& kind() const { return kind_; }

 private:
  std::string kind_;
  std::map<std::string, Entry> entries_;
};

}  // namespace ipbench
