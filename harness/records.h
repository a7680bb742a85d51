#pragma once
// The record store: records.csv, one row per reconstructed sample, appended batch by batch.
//
// Columns: cell, operator, solver, design, group_size, item, group, member, <metric...>, nfe,
// seconds, status, [stage,] run_id. `stage` (1 pilot, 2 planned groups) is written by runs to a target
// precision only (harness/two_stage.h); fixed-size runs have no such column. `run_id` (docs/formats.md) is the run folder's id, the hash of its
// config.resolved.ini (run_id_of): a row from another run or configuration carries another id and is
// refused when the folder's records are read (RunFolder::read_records). Files written without an id
// (before the column existed, or by a writer given none) end at `status` and are read unchecked. Numbers are written with 17 significant digits (exact round trip); NaN as "nan".
// Each batch is appended and flushed at once, so a killed run loses at most the batch in flight.
#include <fstream>
#include <string>
#include <vector>

#include "core/record.h"

namespace ipbench {

class RecordWriter {
 public:
  /// Opens `path` for appending; writes the header when the file is new or empty. A non-empty `run_id`
  /// adds the run_id column (every row carries it); `stage_column` the stage column (Record::stage, which
  /// must then be 1 or 2 in every appended record).
  RecordWriter(const std::string& path, std::vector<std::string> metrics, std::string run_id = "",
               bool stage_column = false);
  void append(const std::vector<Record>& batch);  ///< writes and flushes
  /// The CSV rows of `batch` (each ending in a newline), as append() writes them.
  std::string format(const std::vector<Record>& batch) const;
  /// Writes and flushes `text` (rows from format()); Error naming the file when the write fails.
  void write_raw(const std::string& text);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<std::string> metrics_;
  std::string run_id_;
  bool stage_column_ = false;
  std::ofstream out_;
};

/// The run id of a run folder whose config.resolved.ini holds `resolved_ini`: 16 hex digits of the
/// 64-bit hash of that text (core/rng.h hash_string). Shards and resumes of one configuration share it.
std::string run_id_of(const std::string& resolved_ini);

/// The path of `name` (records.csv, config.resolved.ini, ...) in the run folder `dir`; Error naming it
/// when it is not a file ("is 'dir' a run folder written by `ipbench run`?").
std::string run_file(const std::string& dir, const std::string& name);

/// Writes `text` to `path` atomically (a temporary file, then rename); Error naming the file on failure.
void write_text_atomic(const std::string& path, const std::string& text);

/// Reads a records.csv written by RecordWriter; throws Error naming the file and line on bad input.
/// A truncated last line (a run killed mid-write) is ignored with a warning on stderr.
std::vector<Record> read_records(const std::string& path);

/// records.csv line by line: the header, the metric columns, every complete record with its line text,
/// and whether a partial last line (no final newline: a write cut short) was left out.
struct RecordTable {
  std::string header;
  std::vector<std::string> metrics;
  std::vector<Record> records;
  std::vector<std::string> lines;  ///< the text of each record's line, without the newline
  std::vector<int64_t> line_numbers;  ///< each record's 1-based line number in the file
  bool has_run_id = false;            ///< the header ends with the run_id column
  bool has_stage = false;             ///< the header has the stage column (a two-stage run's records)
  std::vector<std::string> run_ids;   ///< each record's run id ("" without the column)
  bool torn_tail = false;
  int64_t torn_line = 0;  ///< line number of the partial line when torn_tail
};
/// Error naming the file and line for a malformed complete line; an empty file or one without a whole
/// header line gives an empty table (header empty).
RecordTable read_record_table(const std::string& path);

}  // namespace ipbench
