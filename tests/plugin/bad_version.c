/* A plugin that says it was built against other ipbench and LibTorch versions: the loader must refuse
 * it naming both (tests/test_plugin.cpp). Plain C: it mirrors ipbench_plugin_info of solvers/plugin.h. */
struct ipbench_plugin_info {
  int abi;
  const char* name;
  const char* ipbench_version;
  const char* torch_version;
};

__attribute__((visibility("default"))) const struct ipbench_plugin_info* ipbench_plugin_info_v1(void) {
  static const struct ipbench_plugin_info info = {1, "old-plugin", "0.0.9", "1.12.1"};
  return &info;
}

__attribute__((visibility("default"))) void ipbench_plugin_register_v1(void* registry) { (void)registry; }
