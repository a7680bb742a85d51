// The run folder: lock, validation, resume repair and every file of a run (harness/run_folder.h).
#include "harness/run_folder.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "core/config_diff.h"
#include "core/error.h"
#include "core/runtime.h"
#include "datasets/dataset.h"
#include "harness/records.h"

namespace ipbench {

namespace fs = std::filesystem;

RunFolderFaults& run_folder_faults() {
  static RunFolderFaults faults;
  return faults;
}

namespace {

constexpr const char* kRecords = "records.csv";
constexpr const char* kResolved = "config.resolved.ini";
constexpr const char* kShard = "shard";
constexpr const char* kStagePlan = "two_stage.csv";
constexpr const char* kLock = "lock";
constexpr const char* kReconstructions = "reconstructions";
constexpr const char* kRescore = "rescore.ini";
constexpr const char* kSetMetrics = "set_metrics";

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  require(static_cast<bool>(in), path.string(), ": cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

fs::path cell_dir(const std::string& run_dir, const std::string& op, const std::string& solver,
                  const std::string& design) {
  return fs::path(run_dir) / kReconstructions / op / solver / design;
}

fs::path batch_file(const std::string& run_dir, const Record& cell, int64_t item, int64_t first_sample) {
  return cell_dir(run_dir, cell.op, cell.solver, cell.design) / str_cat("item", item, "_s", first_sample, ".h5");
}

// Records with at least one record line.
bool holds_records(const fs::path& records) {
  if (!fs::is_regular_file(records)) return false;
  const RecordTable t = read_record_table(records.string());
  return !t.records.empty();
}

// "cannot --resume DIR: its config.resolved.ini differs ...: [solver.dps] zeta: 0.5 -> 0.4 ..."
void require_same_config(const std::string& dir, const std::string& old_text, const std::string& new_text) {
  if (old_text == new_text) return;
  const Config a = Config::from_string(old_text, dir + "/" + kResolved);
  const Config b = Config::from_string(new_text, "this configuration");
  std::string list;
  for (const std::string& d : describe_differences(config_differences(a, b), "the stored run", "this configuration"))
    list += "\n  " + d;
  throw Error(str_cat("cannot --resume '", dir, "': its config.resolved.ini differs from this configuration (stored",
                      " -> this):", list.empty() ? "\n  (formatting only)" : list,
                      "\nresume with the stored configuration, or choose another --out"));
}

// Every row's run id must be `id` (rows of a file without the column are not checked).
void require_run_ids(const RecordTable& t, const std::string& file, const std::string& id) {
  if (!t.has_run_id) return;
  for (size_t i = 0; i < t.run_ids.size(); ++i)
    require(t.run_ids[i] == id, file, " line ", t.line_numbers[i], ": run id ", t.run_ids[i].empty() ? "(empty)" : t.run_ids[i],
            " is not this run's ", id, " (the hash of its config.resolved.ini): a row appended by hand or from",
            " another run or configuration; records of other runs belong in their own folders (ipbench merge",
            " joins shards of one configuration)");
}

}  // namespace

RunFolder RunFolder::open(const std::string& dir) {
  RunFolder f(dir);
  run_file(dir, kResolved);
  run_file(dir, kRecords);
  return f;
}

RunFolder RunFolder::open_for_writing(const std::string& dir) {
  RunFolder f(dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  require(fs::is_directory(dir), "output folder '", dir, "' cannot be created",
          ec ? ": " + ec.message() : std::string(" (a file of that name?)"));
  const std::string lock = f.path(kLock);
  f.lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  require(f.lock_fd_ >= 0, "cannot open the lock file '", lock, "'");
  if (::flock(f.lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    std::string holder = trim(read_text(lock));
    ::close(f.lock_fd_);
    f.lock_fd_ = -1;
    throw Error(str_cat("run folder '", dir, "' is being written by another process (pid ",
                        holder.empty() ? "unknown" : holder, ", lock file ", lock,
                        "); wait for it to finish, or choose another --out"));
  }
  const std::string pid = str_cat(::getpid(), "\n");
  if (::ftruncate(f.lock_fd_, 0) != 0 || ::pwrite(f.lock_fd_, pid.data(), pid.size(), 0) < 0) {
    // the pid is informative only; the lock itself holds
  }
  return f;
}

RunFolder::RunFolder(RunFolder&& o) noexcept
    : dir_(std::move(o.dir_)), lock_fd_(o.lock_fd_), writer_(std::move(o.writer_)) {
  o.lock_fd_ = -1;
}

RunFolder& RunFolder::operator=(RunFolder&& o) noexcept {
  if (this != &o) {
    release();
    dir_ = std::move(o.dir_);
    lock_fd_ = o.lock_fd_;
    writer_ = std::move(o.writer_);
    o.lock_fd_ = -1;
  }
  return *this;
}

RunFolder::~RunFolder() { release(); }

void RunFolder::release() {
  writer_.reset();
  if (lock_fd_ >= 0) {
    ::flock(lock_fd_, LOCK_UN);
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
}

std::string RunFolder::path(const std::string& name) const { return (fs::path(dir_) / name).string(); }

std::vector<Record> RunFolder::start(const std::string& resolved_ini, const Shard& shard,
                                     const std::vector<std::string>& metrics, bool resume, bool stage_column) {
  require(lock_fd_ >= 0, "run folder '", dir_, "': start() needs open_for_writing()");
  const fs::path records = path(kRecords);
  std::vector<Record> kept;
  std::error_code ec;
  if (holds_records(records)) {
    require(resume, "output folder '", dir_, "' already holds a run (records.csv); pass --resume ",
            "to continue it, or choose another --out");
    require(fs::is_regular_file(path(kResolved)), "cannot --resume '", dir_, "': ", kResolved, " is missing");
    require_same_config(dir_, read_text(path(kResolved)), resolved_ini);
    const std::string old_shard = has_shard_file() ? shard_text() : "0/1";
    require(old_shard == shard.str(), "cannot --resume '", dir_, "': it holds shard ", old_shard, ", not ",
            shard.str());
    kept = repair(metrics);
    // Temporary batch files of an interrupted write are never committed: remove them.
    std::vector<fs::path> partial;
    if (has_reconstructions())
      for (const auto& f : fs::recursive_directory_iterator(path(kReconstructions)))
        if (f.path().extension() == ".partial") partial.push_back(f.path());
    for (const fs::path& p : partial) fs::remove(p, ec);
  } else {
    // No record yet (a new folder, or a run that failed before its first batch): nothing to keep.
    fs::remove(records, ec);
    remove_tree(path(kReconstructions));
    fs::remove(path(kShard), ec);
    fs::remove(path(kStagePlan), ec);
  }
  write_text_atomic(path(kResolved), resolved_ini);
  if (shard.count > 1) write_text_atomic(path(kShard), shard.str() + "\n");
  // A resumed records.csv keeps its columns (one written before records carried run ids or stages).
  bool legacy = false;
  if (fs::is_regular_file(records)) {
    const RecordTable t = read_record_table(records.string());
    if (!t.header.empty()) {
      legacy = !t.has_run_id;
      stage_column = t.has_stage;
    }
  }
  writer_ = std::make_unique<RecordWriter>(records.string(), metrics, legacy ? "" : run_id_of(resolved_ini),
                                           stage_column);
  return kept;
}

std::string RunFolder::shard_text() const {
  std::string text = read_text(path(kShard));
  return trim(text);
}

// Drops a partial last line and every incomplete coupled group; rewrites records.csv when it changed.
std::vector<Record> RunFolder::repair(const std::vector<std::string>& metrics) {
  const std::string records = path(kRecords);
  RecordTable t = read_record_table(records);
  require(t.metrics == metrics, "cannot --resume '", dir_, "': records.csv has other metric columns than this run",
          fs::is_regular_file(path(kRescore)) ? " (columns added by `ipbench rescore`, rescore.ini)" : "");
  require_run_ids(t, records, run_id());
  std::map<std::tuple<std::string, int64_t, int64_t>, int64_t> members;
  std::set<std::tuple<std::string, int64_t, int64_t, int64_t>> seen;
  for (size_t i = 0; i < t.records.size(); ++i) {
    const Record& r = t.records[i];
    require(seen.insert({r.cell, r.item, r.group, r.member}).second, "records file '", records, "': sample (cell ",
            r.cell, ", item ", r.item, ", group ", r.group, ", member ", r.member,
            ") appears twice; the folder was written by two runs at once");
    ++members[{r.cell, r.item, r.group}];
  }
  std::vector<Record> kept;
  std::string text = t.header + "\n";
  int64_t dropped = 0;
  for (size_t i = 0; i < t.records.size(); ++i) {
    const Record& r = t.records[i];
    if (members[{r.cell, r.item, r.group}] < r.group_size) {
      ++dropped;
      continue;
    }
    text += t.lines[i] + "\n";
    kept.push_back(t.records[i]);
  }
  if (t.torn_tail || dropped > 0) {
    std::string what = t.torn_tail ? str_cat("a partial last line (line ", t.torn_line, ")") : "";
    if (dropped > 0) what += str_cat(what.empty() ? "" : " and ", dropped, " record(s) of incomplete coupled groups");
    std::fprintf(stderr, "note: %s: dropped %s (an interrupted write); they are solved again\n", records.c_str(),
                 what.c_str());
    write_text_atomic(records, text);
  }
  return kept;
}

void RunFolder::append(const std::vector<Record>& batch) {
  require(writer_ != nullptr, "run folder '", dir_, "': append() before start()");
  const std::string text = writer_->format(batch);
  RunFolderFaults& faults = run_folder_faults();
  if (faults.records_bytes_left >= 0) {
    const auto n = static_cast<size_t>(faults.records_bytes_left);
    faults.records_bytes_left = -1;
    if (n < text.size()) {
      writer_->write_raw(text.substr(0, n));
      throw Error(str_cat("writing records to '", writer_->path(), "' failed (disk full?) [injected]"));
    }
  }
  writer_->write_raw(text);
}

void RunFolder::write_records(const std::vector<Record>& records, const std::vector<std::string>& metrics) {
  require(lock_fd_ >= 0, "run folder '", dir_, "': write_records() needs open_for_writing()");
  writer_.reset();
  const std::string tmp = path("records.csv.tmp");
  std::error_code ec;
  fs::remove(tmp, ec);
  {
    const bool staged = std::any_of(records.begin(), records.end(), [](const Record& r) { return r.stage != 0; });
    RecordWriter writer(tmp, metrics, run_id(), staged);
    writer.append(records);
  }
  fs::rename(tmp, path(kRecords));
}

std::string RunFolder::resolved_config_text() const { return read_text(run_file(dir_, kResolved)); }

Config RunFolder::resolved_config() const { return Config::from_file(run_file(dir_, kResolved)); }

void RunFolder::write_stage_plan(const std::string& csv) const { write_text_atomic(path(kStagePlan), csv); }

std::string RunFolder::stage_plan_text() const {
  return fs::is_regular_file(path(kStagePlan)) ? read_text(path(kStagePlan)) : std::string();
}

bool RunFolder::has_shard_file() const { return fs::is_regular_file(path(kShard)); }

Shard RunFolder::shard() const {
  if (!has_shard_file()) return {};
  try {
    return Shard::parse(shard_text());
  } catch (const Error& e) {
    throw Error(str_cat(path(kShard), ": corrupt (", e.what(), ")"));
  }
}

std::vector<Record> RunFolder::read_records() const {
  const std::string file = run_file(dir_, kRecords);
  RecordTable t = read_record_table(file);
  require(!t.header.empty(), "records file '", file, "' is empty");
  if (t.torn_tail)
    std::fprintf(stderr, "warning: %s:%ld: ignoring a truncated last line (interrupted run)\n", file.c_str(),
                 static_cast<long>(t.torn_line));
  require_run_ids(t, file, run_id());
  return std::move(t.records);
}

std::string RunFolder::run_id() const { return run_id_of(resolved_config_text()); }

bool RunFolder::has_reconstructions() const { return fs::is_directory(path(kReconstructions)); }

void RunFolder::write_reconstructions(const Record& cell, int64_t item, int64_t first_sample, const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  const fs::path file = batch_file(dir_, cell, item, first_sample);
  fs::create_directories(file.parent_path());
  Dataset batch;
  batch.images = torch::nan_to_num(x.detach().to(torch::kCPU, torch::kFloat), 0.0, 0.0, 0.0).clamp(-1.0, 1.0);
  batch.labels = torch::arange(first_sample, first_sample + x.size(0), torch::kLong);
  batch.attributes.source = cell.cell;
  batch.attributes.split = "reconstructions";
  // Written under a temporary name (write_dataset closes the HDF5 file before it returns), read back, and
  // only then renamed into place: a failed or short write never leaves a committed batch file.
  const fs::path tmp = fs::path(file.string() + ".partial");
  RunFolderFaults& faults = run_folder_faults();
  if (faults.fail_reconstruction) {
    faults.fail_reconstruction = false;
    std::ofstream(tmp, std::ios::binary) << "\x89HDF\r\n";  // a truncated file, as a full disk leaves
    throw Error(str_cat(file.string(), ": dataset cannot be written (disk full?) [injected]"));
  }
  write_dataset(tmp.string(), batch);
  try {
    const Dataset back = read_dataset(tmp.string());
    require(back.images.size(0) == x.size(0), tmp.string(), ": holds ", back.images.size(0), " samples, not ",
            x.size(0));
  } catch (const Error& e) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw Error(str_cat(file.string(), ": the written batch does not read back (disk full?): ", e.what()));
  }
  fs::rename(tmp, file);
}

bool RunFolder::reconstructions_ok(const Record& cell, int64_t item, int64_t first_sample, int64_t count) const {
  const fs::path file = batch_file(dir_, cell, item, first_sample);
  if (!fs::is_regular_file(file)) return false;
  try {
    const Dataset d = read_dataset(file.string());
    return d.images.size(0) == count && d.labels.defined() && d.labels.size(0) == count;
  } catch (const Error&) {
    return false;
  }
}

std::map<int64_t, std::map<int64_t, torch::Tensor>> RunFolder::read_cell_reconstructions(
    const std::string& op, const std::string& solver, const std::string& design) const {
  std::map<int64_t, std::map<int64_t, torch::Tensor>> items;
  const fs::path dir = cell_dir(dir_, op, solver, design);
  if (!fs::is_directory(dir)) return items;
  std::vector<int64_t> image_shape;
  for (const auto& file : fs::directory_iterator(dir)) {
    if (file.path().extension() != ".h5") continue;
    const std::string stem = file.path().stem().string();  // item<I>_s<first>
    long item = 0, first = 0;
    require(std::sscanf(stem.c_str(), "item%ld_s%ld", &item, &first) == 2, "reconstruction file '",
            file.path().string(), "': name is not item<I>_s<first>.h5");
    const Dataset batch = read_dataset(file.path().string());
    require(batch.labels.defined() && batch.labels.size(0) == batch.images.size(0), "reconstruction file '",
            file.path().string(), "' has no /labels (sample indices)");
    const std::vector<int64_t> shape(batch.images.sizes().begin() + 1, batch.images.sizes().end());
    if (image_shape.empty()) image_shape = shape;
    require(shape == image_shape, "reconstruction file '", file.path().string(), "': image shape differs from the",
            " other batches of cell ", op, "/", solver, "/", design);
    for (int64_t b = 0; b < batch.images.size(0); ++b) items[item][batch.labels[b].item<int64_t>()] = batch.images[b];
  }
  return items;
}

torch::Tensor RunFolder::first_reconstructions(const std::string& op, const std::string& solver,
                                               const std::string& design, int64_t item, int64_t n) const {
  const fs::path file = cell_dir(dir_, op, solver, design) / str_cat("item", item, "_s0.h5");
  if (!fs::is_regular_file(file)) return {};
  const Dataset batch = read_dataset(file.string());
  return batch.images.narrow(0, 0, std::min<int64_t>(n, batch.images.size(0)));
}

void RunFolder::import_reconstructions(const RunFolder& from) {
  if (!from.has_reconstructions()) return;
  fs::copy(from.path(kReconstructions), path(kReconstructions),
           fs::copy_options::recursive | fs::copy_options::skip_existing);
}

void RunFolder::write_rescored(const std::vector<Record>& records, const std::vector<std::string>& metrics,
                               const std::string& rescore_ini,
                               const std::map<std::string, std::string>& set_metrics_json) {
  require(lock_fd_ >= 0, "run folder '", dir_, "': write_rescored() needs open_for_writing()");
  write_records(records, metrics);
  write_text_atomic(path(kRescore), rescore_ini);
  if (set_metrics_json.empty()) return;
  fs::create_directories(path(kSetMetrics));
  for (const auto& [metric, json] : set_metrics_json)
    write_text_atomic((fs::path(path(kSetMetrics)) / (metric + ".json")).string(), json);
}

std::string RunFolder::rescore_ini_text() const {
  return fs::is_regular_file(path(kRescore)) ? read_text(path(kRescore)) : std::string();
}

std::vector<std::string> RunFolder::set_metrics_json() const {
  std::vector<std::string> out;
  if (!fs::is_directory(path(kSetMetrics))) return out;
  std::vector<fs::path> files;
  for (const auto& f : fs::directory_iterator(path(kSetMetrics)))
    if (f.path().extension() == ".json") files.push_back(f.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) out.push_back(trim(read_text(f)));
  return out;
}

void RunFolder::write_summary_files(const std::string& json, const std::string& markdown) const {
  write_text_atomic(path("summary.json"), json);
  write_text_atomic(path("summary.md"), markdown);
}

void RunFolder::write_correlations(const std::string& json) const { write_text_atomic(path("correlations.json"), json); }

}  // namespace ipbench
