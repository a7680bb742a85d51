#pragma once
// The record store: records.csv, one row per reconstructed sample, appended batch by batch.
//
// Columns: cell, operator, solver, design, group_size, item, group, member, <metric...>, nfe,
// seconds, status. Numbers are written with 17 significant digits (exact round trip); NaN as "nan".
// Each batch is appended and flushed at once, so a killed run loses at most the batch in flight.
#include <fstream>
#include <string>
#include <vector>

#include "core/record.h"

namespace ipbench {

class RecordWriter {
 public:
  /// Opens `path` for appending; writes the header when the file is new or empty.
  RecordWriter(const std::string& path, std::vector<std::string> metrics);
  void append(const std::vector<Record>& batch);  ///< writes and flushes
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<std::string> metrics_;
  std::ofstream out_;
};

/// The path of `name` (records.csv, config.resolved.ini, ...) in the run folder `dir`; Error naming it
/// when it is not a file ("is 'dir' a run folder written by `ipbench run`?").
std::string run_file(const std::string& dir, const std::string& name);

/// Writes `text` to `path` atomically (a temporary file, then rename); Error naming the file on failure.
void write_text_atomic(const std::string& path, const std::string& text);

/// Reads a records.csv written by RecordWriter; throws Error naming the file and line on bad input.
/// A truncated last line (a run killed mid-write) is ignored with a warning on stderr.
std::vector<Record> read_records(const std::string& path);

}  // namespace ipbench
