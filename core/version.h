#pragma once
// The ipbench version (kept equal to project(ipbench VERSION ...) in CMakeLists.txt; CMake checks).
// Solver plugins compile it in and the loader refuses a plugin built against another version
// (solvers/plugin.h).
#define IPBENCH_VERSION_STRING "0.1.0"
