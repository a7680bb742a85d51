#include "core/progress.h"

#include <unistd.h>

#include <cstdio>

namespace ipbench {

Progress::Progress(std::string label, int64_t total, bool enabled)
    : label_(std::move(label)), total_(total), enabled_(enabled), tty_(isatty(fileno(stderr)) != 0) {
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

Progress::~Progress() { finish(); }

void Progress::advance(int64_t n, const std::string& detail) {
  done_ += n;
  if (!detail.empty()) detail_ = detail;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_draw_).count();
  if (since >= (tty_ ? 0.2 : 10.0) || done_ >= total_) draw(false);
}

void Progress::finish() {
  if (finished_) return;
  finished_ = true;
  draw(true);
}

void Progress::draw(bool final) {
  if (!enabled_) return;
  last_draw_ = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(last_draw_ - start_).count();
  const double frac = total_ > 0 ? static_cast<double>(done_) / total_ : 1.0;
  const double eta = frac > 0 ? elapsed * (1.0 - frac) / frac : 0.0;
  std::fprintf(stderr, "%s%s %lld/%lld samples (%3.0f%%) %6.1fs elapsed, ~%.0fs left  %s%s", tty_ ? "\r" : "",
               label_.c_str(), static_cast<long long>(done_), static_cast<long long>(total_), 100.0 * frac, elapsed,
               eta, detail_.c_str(), tty_ ? "\033[K" : "\n");
  if (tty_ && final) std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

}  // namespace ipbench
