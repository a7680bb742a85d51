#pragma once
// Atomic files: the one way ipbench replaces a file so that a reader (or a killed writer's next run)
// sees either the old content or the new one, never a torn mix.
//
// The content goes to a temporary file in the same folder ("<path>.tmp-<pid>", so the rename never
// crosses a file system), is flushed to the disk (fsync), and is renamed over `path`; the folder is
// then synced so the rename itself survives a crash. On any failure the temporary file is removed,
// `path` is left untouched and ipbench::Error names `path`, what it holds and the cause.
#include <functional>
#include <string>

namespace ipbench {

/// The temporary name used for `path` ("<path>.tmp-<pid>").
std::string atomic_temp_name(const std::string& path);

/// Writes `bytes` to `path` atomically. `what` names the content in errors ("records", "model.ini").
void write_file_atomic(const std::string& path, const std::string& bytes, const std::string& what = "file");

/// For writers that need a file name (HDF5, torch::save): `write(tmp)` creates and closes the
/// temporary file, then it is synced and renamed over `path`. An exception from `write` (any
/// std::exception: ipbench::Error, c10::Error, ...) removes the temporary file and becomes an
/// Error naming `path`, `what` and its message (a LibTorch backtrace cut off).
void write_file_atomic(const std::string& path, const std::function<void(const std::string& tmp)>& write,
                       const std::string& what = "file");

}  // namespace ipbench
