#include "harness/records.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <sstream>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"

namespace ipbench {

namespace {

const char* const kFixedColumns[] = {"cell", "operator", "solver", "design", "group_size", "item", "group", "member"};
const char* const kTrailingColumns[] = {"nfe", "seconds", "status"};

std::string format_number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// Labels and statuses are written verbatim; commas and quotes would break the format.
std::string csv_field(const std::string& s) {
  std::string out = s;
  for (char& c : out)
    if (c == ',' || c == '\n' || c == '"') c = ';';
  return out;
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream is(line);
  while (std::getline(is, field, ',')) out.push_back(field);
  if (!line.empty() && line.back() == ',') out.push_back("");
  return out;
}

}  // namespace

RecordWriter::RecordWriter(const std::string& path, std::vector<std::string> metrics)
    : path_(path), metrics_(std::move(metrics)) {
  bool fresh = true;
  {
    std::ifstream probe(path, std::ios::binary);
    fresh = !probe || probe.peek() == std::ifstream::traits_type::eof();
    if (!fresh) {
      // A run killed mid-write leaves a partial last line: cut it before appending.
      const std::string text((std::istreambuf_iterator<char>(probe)), std::istreambuf_iterator<char>());
      if (!text.empty() && text.back() != '\n') {
        probe.close();
        const size_t keep = text.find_last_of('\n') + 1;  // 0 when not even the header is complete
        std::filesystem::resize_file(path, keep);
        fresh = keep == 0;
      }
    }
  }
  out_.open(path, std::ios::app);
  require(static_cast<bool>(out_), "cannot open '", path, "' for writing");
  if (fresh) {
    std::string header;
    for (const char* c : kFixedColumns) header += std::string(header.empty() ? "" : ",") + c;
    for (const auto& m : metrics_) header += "," + m;
    for (const char* c : kTrailingColumns) header += std::string(",") + c;
    out_ << header << "\n";
    out_.flush();
  }
}

void RecordWriter::append(const std::vector<Record>& batch) {
  std::ostringstream os;
  for (const auto& r : batch) {
    os << csv_field(r.cell) << ',' << csv_field(r.op) << ',' << csv_field(r.solver) << ',' << csv_field(r.design)
       << ',' << r.group_size << ',' << r.item << ',' << r.group << ',' << r.member;
    for (const auto& m : metrics_) {
      auto it = r.metrics.find(m);
      os << ',' << format_number(it == r.metrics.end() ? NAN : it->second);
    }
    os << ',' << r.nfe << ',' << format_number(r.seconds) << ',' << csv_field(r.status) << '\n';
  }
  out_ << os.str();
  out_.flush();
  require(static_cast<bool>(out_), "writing records to '", path_, "' failed (disk full?)");
}

std::vector<Record> read_records(const std::string& path) {
  std::ifstream in(path);
  require(static_cast<bool>(in), "records file '", path, "' cannot be opened");
  std::string line;
  require(static_cast<bool>(std::getline(in, line)), "records file '", path, "' is empty");
  const auto header = split_csv(trim(line));
  const size_t fixed = std::size(kFixedColumns), trailing = std::size(kTrailingColumns);
  require(header.size() >= fixed + trailing && header[0] == "cell" && header[header.size() - 1] == "status",
          "records file '", path, "': line 1 is not a records header (cell,...,status)");
  const std::vector<std::string> metrics(header.begin() + fixed, header.end() - trailing);

  std::vector<Record> records;
  int lineno = 1;
  while (std::getline(in, line)) {
    ++lineno;
    if (trim(line).empty()) continue;
    const auto f = split_csv(trim(line));
    if (f.size() != header.size()) {
      if (in.peek() == std::ifstream::traits_type::eof()) {
        std::fprintf(stderr, "warning: %s:%d: ignoring a truncated last line (interrupted run)\n", path.c_str(),
                     lineno);
        break;
      }
      throw Error(str_cat("records file '", path, "' line ", lineno, ": ", f.size(), " fields, expected ",
                          header.size()));
    }
    try {
      Record r;
      r.cell = f[0]; r.op = f[1]; r.solver = f[2]; r.design = f[3];
      r.group_size = std::stoll(f[4]); r.item = std::stoll(f[5]); r.group = std::stoll(f[6]);
      r.member = std::stoll(f[7]);
      for (size_t m = 0; m < metrics.size(); ++m) r.metrics[metrics[m]] = std::stod(f[fixed + m]);
      r.nfe = std::stoll(f[fixed + metrics.size()]);
      r.seconds = std::stod(f[fixed + metrics.size() + 1]);
      r.status = f[fixed + metrics.size() + 2];
      records.push_back(std::move(r));
    } catch (const std::exception&) {
      throw Error(str_cat("records file '", path, "' line ", lineno, ": a number does not parse"));
    }
  }
  return records;
}

void write_text_atomic(const std::string& path, const std::string& text) { write_file_atomic(path, text); }

std::string run_file(const std::string& dir, const std::string& name) {
  const std::filesystem::path path = std::filesystem::path(dir) / name;
  require(std::filesystem::is_regular_file(path), path.string(), ": missing (is '", dir,
          "' a run folder written by `ipbench run`?)");
  return path.string();
}

}  // namespace ipbench
