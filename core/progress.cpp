#include "core/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

namespace ipbench {

Progress::Progress(std::string label, int64_t total, bool enabled, double interval_s)
    : label_(std::move(label)), total_(total), enabled_(enabled), tty_(isatty(fileno(stderr)) != 0) {
  interval_s_ = interval_s >= 0 ? interval_s : (tty_ ? 0.2 : 10.0);
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

Progress::~Progress() { finish(); }

void Progress::resume(int64_t n) {
  done_ += n;
  resumed_ += n;
}

void Progress::advance(int64_t n, const std::string& detail) {
  done_ += n;
  partial_ = 0;
  step_detail_.clear();
  if (!detail.empty()) detail_ = detail;
  if (done_ >= total_) draw(false);
  else maybe_draw();
}

void Progress::step(int64_t units, int64_t step, int64_t steps, const std::string& detail) {
  steps = std::max(steps, step);  // a solver may evaluate its network more often than announced
  partial_ = steps > 0 ? static_cast<double>(units) * static_cast<double>(step) / static_cast<double>(steps) : 0.0;
  detail_ = detail;
  step_detail_ = "batch of " + std::to_string(units) + ": network evaluation " + std::to_string(step) + "/" +
                 std::to_string(steps);
  maybe_draw();
}

void Progress::maybe_draw() {
  const double since = std::chrono::duration<double>(std::chrono::steady_clock::now() - last_draw_).count();
  if (since >= interval_s_) draw(false);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  if (!tty_ && complete_drawn_) return;  // a log already ends with the 100% line
  draw(true);
}

void Progress::draw(bool final) {
  if (!enabled_) return;
  last_draw_ = std::chrono::steady_clock::now();
  complete_drawn_ = done_ >= total_ && partial_ == 0;
  const double elapsed = std::chrono::duration<double>(last_draw_ - start_).count();
  const double done = static_cast<double>(done_) + partial_;
  const double frac = total_ > 0 ? done / static_cast<double>(total_) : 1.0;
  const double rate = elapsed > 0 ? (done - static_cast<double>(resumed_)) / elapsed : 0.0;  // this process's
  const double eta = rate > 0 ? (static_cast<double>(total_) - done) / rate : 0.0;
  const std::string in_flight = step_detail_.empty() ? "" : " (" + step_detail_ + ")";
  std::fprintf(stderr, "%s%s %lld/%lld samples (%3.0f%%) %.3g samples/s %6.1fs elapsed, ~%.0fs left  %s%s%s",
               tty_ ? "\r" : "", label_.c_str(), static_cast<long long>(done_), static_cast<long long>(total_),
               100.0 * frac, rate, elapsed, eta, detail_.c_str(), in_flight.c_str(), tty_ ? "\033[K" : "\n");
  if (tty_ && final) std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

}  // namespace ipbench
