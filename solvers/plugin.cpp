#include "solvers/plugin.h"

#include <dlfcn.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <set>

namespace ipbench {

const char* ipbench_version() { return IPBENCH_VERSION_STRING; }
const char* torch_version() { return TORCH_VERSION; }

LoadedPlugin load_solver_plugin(const std::string& path) {
  static std::mutex mutex;
  static std::map<std::string, LoadedPlugin> loaded;  // by canonical path
  std::lock_guard<std::mutex> lock(mutex);
  const std::string where = str_cat("plugin '", path, "'");
  std::error_code ec;
  const auto canonical = std::filesystem::canonical(path, ec);
  require(!ec, where, ": no such file");
  if (auto it = loaded.find(canonical.string()); it != loaded.end()) return it->second;

  // RTLD_LOCAL: the plugin's copies of ipbench's static libraries stay private to it; only the
  // registry it is handed and the objects it registers are shared.
  void* handle = dlopen(canonical.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = dlerror();
    throw Error(str_cat(where, ": cannot be loaded (", why ? why : "dlopen failed", ")"));
  }
  using InfoFn = const ipbench_plugin_info* (*)();
  using RegisterFn = void (*)(Registry<SolverEntry>*);
  auto info_fn = reinterpret_cast<InfoFn>(dlsym(handle, "ipbench_plugin_info_v1"));
  auto register_fn = reinterpret_cast<RegisterFn>(dlsym(handle, "ipbench_plugin_register_v1"));
  if (!info_fn || !register_fn) {
    dlclose(handle);
    throw Error(str_cat(where, ": not an ipbench solver plugin (it lacks the entry points ipbench_plugin_info_v1 ",
                        "and ipbench_plugin_register_v1; define them with IPBENCH_SOLVER_PLUGIN, solvers/plugin.h)"));
  }
  const ipbench_plugin_info* info = info_fn();
  const std::string name = info && info->name ? info->name : "?";
  const std::string built_ipbench = info && info->ipbench_version ? info->ipbench_version : "?";
  const std::string built_torch = info && info->torch_version ? info->torch_version : "?";
  const int abi = info ? info->abi : -1;
  if (abi != IPBENCH_PLUGIN_ABI || built_ipbench != ipbench_version() || built_torch != torch_version()) {
    dlclose(handle);
    throw Error(str_cat(where, " (", name, ") was built against ipbench ", built_ipbench, " and LibTorch ", built_torch,
                        " (plugin ABI ", abi, "); this ipbench is ", ipbench_version(), " with LibTorch ",
                        torch_version(), " (plugin ABI ", IPBENCH_PLUGIN_ABI,
                        "). Rule: a plugin must be built against the same ipbench and LibTorch versions; rebuild it "
                        "against this installation (find_package(ipbench))"));
  }

  auto& registry = solver_registry();
  register_builtin_solvers();  // a plugin's names must not shadow a built-in one
  const auto before_names = registry.names();
  const std::set<std::string> before(before_names.begin(), before_names.end());
  try {
    register_fn(&registry);
  } catch (const std::exception& e) {
    // The handle stays open: entries registered before the failure point into the plugin's code.
    throw Error(str_cat(where, " (", name, "): registering its solvers failed: ", e.what()));
  }
  LoadedPlugin out{path, name, built_ipbench, built_torch, {}};
  for (const auto& n : registry.names())
    if (!before.count(n)) out.solvers.push_back(n);
  // Never dlclose: the registry now holds functions and objects from the plugin's code.
  loaded.emplace(canonical.string(), out);
  return out;
}

}  // namespace ipbench
