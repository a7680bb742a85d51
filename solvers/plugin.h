#pragma once
// Solver plugins: a shared object, built out of tree against an installed ipbench
// (find_package(ipbench), examples/plugin-solver, docs/adding-a-solver.md), that adds solvers to the
// solver registry of a running ipbench: `ipbench run --plugin path.so`, `ipbench.run(..., plugins=[...])`.
//
// The C entry points (resolved with dlsym; IPBENCH_SOLVER_PLUGIN defines both):
//   const ipbench_plugin_info* ipbench_plugin_info_v1(void);
//       the plugin's name and the ipbench and LibTorch versions it was compiled against;
//   void ipbench_plugin_register_v1(ipbench::Registry<ipbench::SolverEntry>* registry);
//       registers its solvers (SolverEntry, as register_builtin_solvers does).
// The loader reads the info first and refuses (Error naming both versions) a plugin built against
// another ipbench version, another LibTorch version or another entry-point ABI: C++ classes
// (Solver, Denoiser, Operator, torch::Tensor) cross the boundary, so only an exact match is safe.
//
// A plugin source file:
//   #include "solvers/plugin.h"
//   namespace { void add_solvers(ipbench::Registry<ipbench::SolverEntry>& r) { r.add("my_solver", {...}); } }
//   IPBENCH_SOLVER_PLUGIN("my-plugin", add_solvers)
#include <torch/version.h>

#include <string>
#include <vector>

#include "core/version.h"
#include "solvers/solver.h"

/// Version of the two entry points' contract; bumped when their signatures or meaning change.
#define IPBENCH_PLUGIN_ABI 1

extern "C" {
/// What a plugin was built against (static storage in the plugin).
struct ipbench_plugin_info {
  int abi;                      ///< IPBENCH_PLUGIN_ABI of the plugin's headers
  const char* name;             ///< the plugin's name, for messages
  const char* ipbench_version;  ///< IPBENCH_VERSION_STRING of the plugin's headers
  const char* torch_version;    ///< TORCH_VERSION of the plugin's LibTorch headers
};
}

/// Defines the two entry points of a plugin named `NAME` (a string literal) whose solvers are added by
/// `REGISTER_FN(ipbench::Registry<ipbench::SolverEntry>&)`. Use once per plugin.
#define IPBENCH_SOLVER_PLUGIN(NAME, REGISTER_FN)                                                            \
  extern "C" __attribute__((visibility("default"))) const ipbench_plugin_info* ipbench_plugin_info_v1() {  \
    static const ipbench_plugin_info info{IPBENCH_PLUGIN_ABI, NAME, IPBENCH_VERSION_STRING, TORCH_VERSION}; \
    return &info;                                                                                            \
  }                                                                                                          \
  extern "C" __attribute__((visibility("default"))) void ipbench_plugin_register_v1(                         \
      ::ipbench::Registry<::ipbench::SolverEntry>* registry) {                                               \
    REGISTER_FN(*registry);                                                                                  \
  }

namespace ipbench {

struct LoadedPlugin {
  std::string path;                  ///< as given
  std::string name;                  ///< the plugin's own name
  std::string ipbench_version, torch_version;
  std::vector<std::string> solvers;  ///< the solver names it registered
};

/// Loads the plugin at `path` (dlopen) into solver_registry() after checking its versions against this
/// build's. Loading the same file again returns the first load's result. Error naming the file and the
/// rule when it cannot be opened, lacks an entry point, was built against another ipbench / LibTorch
/// version (both named), or registers a solver name that exists already.
LoadedPlugin load_solver_plugin(const std::string& path);

/// This build's versions, as a plugin reports them.
const char* ipbench_version();
const char* torch_version();

}  // namespace ipbench
