// Atomic file replacement (see atomic_file.h).
#include "core/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "core/error.h"

namespace ipbench {

namespace {

// fsync of an existing file or folder; the errno on failure, 0 on success.
int sync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return errno;
  const int rc = ::fsync(fd) == 0 ? 0 : errno;
  ::close(fd);
  return rc;
}

[[noreturn]] void fail(const std::string& path, const std::string& what, const std::string& tmp,
                       const std::string& cause) {
  std::remove(tmp.c_str());
  throw Error(str_cat(path, ": cannot write the ", what, " (temporary file ", tmp, "): ", cause));
}

// Syncs tmp, renames it over path, syncs the folder (best effort: some file systems refuse it).
void commit(const std::string& path, const std::string& what, const std::string& tmp) {
  if (const int err = sync_path(tmp, O_RDONLY)) fail(path, what, tmp, str_cat("fsync failed: ", std::strerror(err)));
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    fail(path, what, tmp, str_cat("renaming it over the file failed: ", std::strerror(err)));
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  sync_path(dir.empty() ? std::string(".") : dir, O_RDONLY | O_DIRECTORY);
}

}  // namespace

std::string atomic_temp_name(const std::string& path) { return str_cat(path, ".tmp-", ::getpid()); }

void write_file_atomic(const std::string& path, const std::string& bytes, const std::string& what) {
  write_file_atomic(
      path,
      [&](const std::string& tmp) {
        std::FILE* f = std::fopen(tmp.c_str(), "wb");
        if (!f) throw Error(std::strerror(errno));
        const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
        const int write_err = errno;
        const bool closed = std::fclose(f) == 0;
        if (!written || !closed) throw Error(str_cat(std::strerror(written ? errno : write_err), " (disk full?)"));
      },
      what);
}

void write_file_atomic(const std::string& path, const std::function<void(const std::string& tmp)>& write,
                       const std::string& what) {
  const std::string tmp = atomic_temp_name(path);
  try {
    write(tmp);
  } catch (const std::exception& e) {
    fail(path, what, tmp, exception_message(e));
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  commit(path, what, tmp);
}

}  // namespace ipbench
