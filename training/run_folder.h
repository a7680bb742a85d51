#pragma once
// Helpers shared by the training runs (`ipbench train`, `ipbench distill`): the run folder's
// fresh/resume checks, its CSV log, atomic checkpoint archives, keyed integer draws, durations and the
// one-line result.
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/options.h"

namespace ipbench {

using Clock = std::chrono::steady_clock;

/// Writes `archive` to `path` atomically (write_file_atomic, core/atomic_file.h); Error naming `path` and `what`
/// ("training state") when either step fails. A good file at `path` is never replaced by a partial one.
void save_archive_atomic(torch::serialize::OutputArchive& archive, const std::string& path, const std::string& what);

/// A scalar written with archive.write(key, torch::tensor(value)).
template <class T>
T read_scalar(torch::serialize::InputArchive& archive, const char* key) {
  torch::Tensor t;
  archive.read(key, t);
  return t.item<T>();
}

/// The one-line outcome of a training run: "<status>: steps a -> b, loss (EMA) l, s s this run (t s in
/// total), <device>, n thread(s)".
std::string run_brief(const char* status, int64_t start_step, int64_t last_step, double loss_ema, double seconds,
                      double total_seconds, const std::string& device, int threads);

/// The device part of run_brief: "cuda:0", "cuda:0, bf16", "cuda:0, fp16, 3 steps skipped".
std::string precision_label(const std::string& device, const std::string& precision, int64_t skipped_steps);

/// Seconds since `t`.
double elapsed_since(Clock::time_point t);
/// "1h05m", "3m20s", "42s".
std::string duration_str(double seconds);

/// Throws Error when `dir` already holds a run (train_state.pt or model.ini): a fresh run must not
/// overwrite one. `what` names the kind of run in the message ("training", "distillation").
void check_fresh_folder(const std::filesystem::path& dir, const std::string& what);

/// Prepares the run's CSV log: a fresh run starts a new file with `header`; a resumed run keeps the
/// rows up to step `keep_up_to` (rows after the last checkpoint were written by the interrupted run
/// and are written again; a torn last line is dropped). Written atomically.
void prepare_log(const std::filesystem::path& path, const std::string& header, int64_t keep_up_to, bool resume);

/// n uniform integers in [lo, hi] from KeyedGenerator(key), as an int64 tensor on `device`.
torch::Tensor keyed_ints(uint64_t key, int64_t n, int64_t lo, int64_t hi, torch::Device device);

/// (key, value) of every field of an Options struct.
template <class O>
std::vector<std::pair<std::string, std::string>> option_values(O o) {
  std::vector<std::pair<std::string, std::string>> v;
  o.fields([&](const char* key, auto& value, const char*) { v.emplace_back(key, option_value(value)); });
  return v;
}

/// Throws Error listing every field where `given` differs from the checkpoint's `stored` options.
template <class O>
void require_same(const O& given, const O& stored, const std::string& section, const std::string& file) {
  const auto a = option_values(given), b = option_values(stored);
  std::string diff;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].second != b[i].second)
      diff += str_cat("\n  [", section, "] ", a[i].first, ": checkpoint ", b[i].second, ", given ", a[i].second);
  require(diff.empty(), "cannot resume: the ", section, " options differ from the checkpoint's (", file, "):", diff,
          "\nresume with the configuration the run was started with, or write into another folder");
}

}  // namespace ipbench
