#pragma once
// Progress display on stderr: a single updating line on a terminal (every 0.2 s at most), a line every
// 10 s otherwise (logs), or every `interval_s` seconds when given. Work in flight (a batch inside its
// solver) counts by its finished fraction: "batch of 8: network evaluation 37/100".
#include <chrono>
#include <cstdint>
#include <string>

namespace ipbench {

class Progress {
 public:
  /// `total` units of work (samples); `enabled` = false silences it (tests, --quiet).
  /// `interval_s` < 0: the default for the stream (0.2 s on a terminal, 10 s otherwise).
  Progress(std::string label, int64_t total, bool enabled = true, double interval_s = -1);
  ~Progress();
  /// Units finished before this process started (a resumed run): counted, but not in the rate.
  void resume(int64_t n);
  /// Adds `n` finished units; `detail` describes the work in flight (a cell name).
  void advance(int64_t n, const std::string& detail = "");
  /// Work in flight: `units` (a batch) at step `step` of `steps`; counts step/steps of them until the
  /// next advance().
  void step(int64_t units, int64_t step, int64_t steps, const std::string& detail);
  void finish();

 private:
  void draw(bool final);
  void maybe_draw();
  std::string label_;
  std::string detail_, step_detail_;
  int64_t total_;
  int64_t done_ = 0, resumed_ = 0;
  double partial_ = 0;  ///< finished fraction of the batch in flight, in units
  double interval_s_;
  bool enabled_;
  bool tty_;
  bool finished_ = false;
  bool complete_drawn_ = false;  ///< the last line drawn showed every unit done (finish() need not repeat it)
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace ipbench
