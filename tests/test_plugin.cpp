// Solver plugins (solvers/plugin.h): the loader refuses what it must, naming the file and the rule.
// The out-of-tree example plugin is built and run by the ctest entry plugin_example.
#include <catch2/catch.hpp>

#include "error_message.h"
#include "solvers/plugin.h"

using namespace ipbench;

TEST_CASE("a plugin built against other versions is refused naming both", "[plugin]") {
  const std::string msg = testing::error_message([] { load_solver_plugin(BAD_VERSION_PLUGIN); });
  CHECK_THAT(msg, Catch::Contains("(old-plugin) was built against ipbench 0.0.9 and LibTorch 1.12.1"));
  CHECK_THAT(msg, Catch::Contains(std::string("this ipbench is ") + ipbench_version() + " with LibTorch " +
                                  torch_version()));
  CHECK_THAT(msg, Catch::Contains("Rule: a plugin must be built against the same ipbench and LibTorch versions"));
  CHECK(std::string(ipbench_version()) == IPBENCH_VERSION_STRING);
}

TEST_CASE("a shared object without the entry points, or no file, is refused", "[plugin]") {
  CHECK_THAT(testing::error_message([] { load_solver_plugin(NO_ENTRY_PLUGIN); }),
             Catch::Contains("not an ipbench solver plugin (it lacks the entry points ipbench_plugin_info_v1"));
  CHECK_THAT(testing::error_message([] { load_solver_plugin("/nonexistent/p.so"); }),
             Catch::Contains("plugin '/nonexistent/p.so': no such file"));
}
