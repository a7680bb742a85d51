#pragma once
// RunFolder: the one type that creates, opens, locks, validates and resumes a run folder, and the only
// code that reads or writes its files (docs/formats.md "Run folder"):
//
//   config.resolved.ini   every key of the run, defaults included
//   shard                 "i/n" for a run of part of the plan (`ipbench run --shard i/n`)
//   two_stage.csv         the stage-2 plan of a run with target_halfwidth (harness/two_stage.h)
//   records.csv           one row per sample (harness/records.h), appended and flushed per batch; each
//                         row carries the run id (run_id_of(config.resolved.ini)): read_records()
//                         refuses a row of another run ("records.csv line N: run id X is not this run's Y")
//   reconstructions/      <op>/<solver>/<design>/item<I>_s<first>.h5 with save_reconstructions
//   summary.json, summary.md, correlations.json   written by reports/ through write_summary_files()
//   rescore.ini, set_metrics/<metric>.json        written by `ipbench rescore` (reports/rescore.h)
//   lock                  the writer's advisory lock (flock), holding its pid
//
// Writers: open_for_writing() takes an exclusive flock on DIR/lock for the life of the object; a second
// writer (a run, a --resume, a merge into the folder) is refused naming the holder's pid. start() then
// checks the folder against the run: a folder with records is refused unless resumed; a resume needs the
// same resolved configuration (else every changed key is named, old and new value) and the same shard.
// A folder without a single record (a run that failed before its first batch) is reused by any run.
//
// Resume repairs a torn tail: a partial last line (a kill or a full disk mid-write) and every coupled
// group with fewer than K members (a kill between the rows of one group) are dropped, records.csv is
// rewritten atomically without them, and the runner solves them again: nothing is duplicated.
// A reconstruction file is written to a temporary name, read back, and only then renamed into place;
// a missing or unreadable one makes the runner solve its batch again (records it already has are kept).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/config.h"
#include "core/record.h"
#include "harness/plan.h"
#include "harness/records.h"

namespace ipbench {

/// Test hooks (tests/test_run_folder.cpp): simulated disk-full failures. Set them before the write.
struct RunFolderFaults {
  /// >= 0: the next records append writes only this many bytes of its rows, then fails as a full disk.
  int64_t records_bytes_left = -1;
  /// true: the next reconstruction write leaves a truncated temporary file and fails as a full disk.
  bool fail_reconstruction = false;
};
RunFolderFaults& run_folder_faults();

class RunFolder {
 public:
  /// Opens an existing run folder to read it: it must hold config.resolved.ini and records.csv (Error
  /// naming the missing file: "is 'dir' a run folder written by `ipbench run`?").
  static RunFolder open(const std::string& dir);
  /// Creates `dir` if needed and takes the writer lock (Error naming the holder's pid when another
  /// process or object writes it). Nothing else is read or written until start().
  static RunFolder open_for_writing(const std::string& dir);

  RunFolder(RunFolder&&) noexcept;
  RunFolder& operator=(RunFolder&&) noexcept;
  ~RunFolder();  ///< releases the lock

  /// Begins (or resumes) the run of `resolved_ini` / `shard` with these metric columns: validates the
  /// folder as described above, repairs a torn tail, writes config.resolved.ini and the shard file, opens
  /// records.csv for appending, and returns the records kept from an earlier invocation. `stage_column`:
  /// the records carry a stage (a run to a target precision, harness/two_stage.h). A resumed records.csv
  /// keeps the columns it was written with.
  std::vector<Record> start(const std::string& resolved_ini, const Shard& shard,
                            const std::vector<std::string>& metrics, bool resume, bool stage_column = false);
  /// Writes and flushes one batch of records (start() first).
  void append(const std::vector<Record>& batch);
  /// Replaces records.csv by `records` atomically (merge: a fresh folder's whole record set; rescore). The
  /// stage column is written when the records carry a stage.
  void write_records(const std::vector<Record>& records, const std::vector<std::string>& metrics);

  const std::string& dir() const { return dir_; }
  std::string path(const std::string& name) const;

  std::string resolved_config_text() const;
  Config resolved_config() const;
  /// The folder's shard ("0/1" without a shard file); has_shard_file() says whether one was written.
  Shard shard() const;
  bool has_shard_file() const;
  /// Every record of records.csv (a torn last line is ignored with a warning). Error naming the line when
  /// a row's run id is not run_id() (a row appended by hand or from another run or configuration).
  std::vector<Record> read_records() const;
  /// This run's id: run_id_of(config.resolved.ini), 16 hex digits (harness/records.h).
  std::string run_id() const;

  /// two_stage.csv, the stage-2 plan of a two-stage run (harness/two_stage.h), written atomically;
  /// stage_plan_text() is "" when the folder has none (a fixed-size run).
  void write_stage_plan(const std::string& csv) const;
  std::string stage_plan_text() const;

  // Reconstructions: x [B, C, H, W] are samples first_sample .. first_sample + B - 1 of (cell, item).
  bool has_reconstructions() const;
  void write_reconstructions(const Record& cell, int64_t item, int64_t first_sample, const torch::Tensor& x);
  /// Whether the batch's file exists, reads, and holds `count` samples.
  bool reconstructions_ok(const Record& cell, int64_t item, int64_t first_sample, int64_t count) const;
  /// Stored samples of one cell: item -> sample index -> image [C, H, W]; empty when none.
  std::map<int64_t, std::map<int64_t, torch::Tensor>> read_cell_reconstructions(const std::string& op,
                                                                               const std::string& solver,
                                                                               const std::string& design) const;
  /// The first stored samples of (cell, item) ([n', C, H, W], n' <= n), or an undefined tensor.
  torch::Tensor first_reconstructions(const std::string& op, const std::string& solver, const std::string& design,
                                      int64_t item, int64_t n) const;
  /// Copies another folder's reconstructions into this one (merge), keeping files already here.
  void import_reconstructions(const RunFolder& from);

  /// `ipbench rescore` (reports/rescore.h): replaces records.csv atomically by `records` with the metric
  /// columns `metrics` (writer lock needed), writes rescore.ini (the metrics added after the run and
  /// their [metric.<label>] sections) and set_metrics/<metric>.json for each entry (a JSON array).
  void write_rescored(const std::vector<Record>& records, const std::vector<std::string>& metrics,
                      const std::string& rescore_ini, const std::map<std::string, std::string>& set_metrics_json);
  /// rescore.ini's text, "" when the run was never rescored.
  std::string rescore_ini_text() const;
  /// The JSON arrays of set_metrics/*.json in name order (empty without).
  std::vector<std::string> set_metrics_json() const;

  /// Summary files (reports' write_summary is the only caller): summary.json and summary.md, and
  /// correlations.json.
  void write_summary_files(const std::string& json, const std::string& markdown) const;
  void write_correlations(const std::string& json) const;

 private:
  explicit RunFolder(std::string dir) : dir_(std::move(dir)) {}
  std::vector<Record> repair(const std::vector<std::string>& metrics);
  std::string shard_text() const;
  void release();

  std::string dir_;
  int lock_fd_ = -1;
  std::unique_ptr<RecordWriter> writer_;
};

}  // namespace ipbench
