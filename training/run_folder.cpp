#include "training/run_folder.h"

#include <fstream>
#include <sstream>

#include "core/atomic_file.h"
#include "core/rng.h"

namespace ipbench {

void save_archive_atomic(torch::serialize::OutputArchive& archive, const std::string& path, const std::string& what) {
  write_file_atomic(path, [&](const std::string& tmp) { archive.save_to(tmp); }, what);
}

std::string run_brief(const char* status, int64_t start_step, int64_t last_step, double loss_ema, double seconds,
                      double total_seconds, const std::string& device, int threads) {
  std::ostringstream os;
  os.precision(4);
  os << status << ": steps " << start_step << " -> " << last_step << ", loss (EMA) " << loss_ema << ", " << seconds
     << " s this run (" << total_seconds << " s in total), " << device << ", " << threads << " thread(s)";
  return os.str();
}

namespace fs = std::filesystem;

double elapsed_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string duration_str(double seconds) {
  const auto s = static_cast<int64_t>(seconds + 0.5);
  if (s >= 3600) return str_cat(s / 3600, "h", (s % 3600) / 60, "m");
  if (s >= 60) return str_cat(s / 60, "m", s % 60, "s");
  return str_cat(s, "s");
}

void check_fresh_folder(const fs::path& dir, const std::string& what) {
  for (const char* name : {"train_state.pt", "model.ini"})
    require(!fs::exists(dir / name), "'", dir.string(), "' already holds a ", what, " run (", name,
            "): pass --resume to continue it, or choose another output folder");
}

void prepare_log(const fs::path& path, const std::string& header, int64_t keep_up_to, bool resume) {
  std::vector<std::string> rows;
  std::ifstream in(path);
  std::string line;
  bool first = true;
  while (resume && std::getline(in, line)) {
    if (first) {
      first = false;
      continue;
    }
    try {
      if (!line.empty() && std::stoll(line.substr(0, line.find(','))) <= keep_up_to) rows.push_back(line);
    } catch (const std::exception&) {  // a torn last line of a killed run: dropped
    }
  }
  in.close();
  std::string text = header + "\n";
  for (const auto& r : rows) text += r + "\n";
  write_file_atomic(path.string(), text, "log");
}

torch::Tensor keyed_ints(uint64_t key, int64_t n, int64_t lo, int64_t hi, torch::Device device) {
  KeyedGenerator g(key);
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (auto& x : v) x = g.uniform_int(lo, hi);
  return torch::tensor(v, torch::kLong).to(device);
}

std::string precision_label(const std::string& device, const std::string& precision, int64_t skipped_steps) {
  std::string label = device;
  if (precision != "fp32") label += ", " + precision;
  if (skipped_steps > 0) label += str_cat(", ", skipped_steps, " step", skipped_steps == 1 ? "" : "s", " skipped");
  return label;
}

}  // namespace ipbench
