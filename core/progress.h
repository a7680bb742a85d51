#pragma once
// Progress display on stderr: a single updating line on a terminal, a line every few seconds otherwise.
#include <chrono>
#include <cstdint>
#include <string>

namespace ipbench {

class Progress {
 public:
  /// `total` units of work (samples); `enabled` = false silences it (tests, --quiet).
  Progress(std::string label, int64_t total, bool enabled = true);
  ~Progress();
  /// Adds `n` finished units; `detail` describes the work in flight (a cell name).
  void advance(int64_t n, const std::string& detail = "");
  void finish();

 private:
  void draw(bool final);
  std::string label_;
  std::string detail_;
  int64_t total_;
  int64_t done_ = 0;
  bool enabled_;
  bool tty_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace ipbench
