#pragma once
// A fresh directory under the system temp dir for one test, removed with its content at scope exit.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/runtime.h"

namespace ipbench::testing {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("ipbench_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    remove_tree(path.string());
    std::filesystem::create_directories(path);
  }
  ~TempDir() { remove_tree(path.string()); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  /// The path of `name` inside the directory.
  std::string file(const std::string& name) const { return (path / name).string(); }
  /// Writes `text` to `name` and returns its path.
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
    return file(name);
  }
};

}  // namespace ipbench::testing
