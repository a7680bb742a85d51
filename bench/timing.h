#pragma once
// Shared timing helper of the bench programs: ratios measured in one run, never asserted.
#include <algorithm>
#include <chrono>
#include <vector>

namespace ipbench::bench {

/// Median wall time in milliseconds of `reps` calls of fn, after one warm-up call (allocations, lazy
/// caches such as the Sobol' table or CT matrices) unless `warm_up` is false.
template <class Fn>
double median_ms(Fn&& fn, int reps, bool warm_up = true) {
  if (warm_up) fn();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace ipbench::bench
