#pragma once
// Shared by the tests that run small benchmarks: a synthetic dataset and a quiet run of a config text.
#include <filesystem>
#include <string>

#include "core/config.h"
#include "core/rng.h"
#include "datasets/dataset.h"
#include "harness/runner.h"
#include "harness/spec.h"

namespace ipbench::testing {

/// n smooth 1x8x8 images in [-1, 1] (keyed by `key`) written to dir/data.h5; returns its path.
inline std::string write_synthetic_dataset(const std::filesystem::path& dir, int64_t n = 4, uint64_t key = 77) {
  Dataset d;
  d.images = (0.6 * torch::tanh(keyed_normal({n, 1, 8, 8}, key))).to(torch::kFloat);
  d.attributes = {"synthetic", "CC0", "test"};
  const auto path = (dir / "data.h5").string();
  write_dataset(path, d);
  return path;
}

/// Runs the config text `ini` (with one optional --set override) into `out`, without a progress line.
inline RunOutcome run_config_text(const std::string& ini, const std::filesystem::path& out, bool resume = false,
                                  const std::string& set = "", Shard shard = {}) {
  Config cfg = Config::from_string(ini, "t.ini");
  if (!set.empty()) cfg.set(set);
  RunOptions ro;
  ro.out_dir = out.string();
  ro.progress = false;
  ro.resume = resume;
  ro.shard = shard;
  return run_benchmark(parse_spec(std::move(cfg)), ro);
}

}  // namespace ipbench::testing
