#include "harness/records.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <vector>
#include <sstream>

#include "core/atomic_file.h"
#include "core/config.h"
#include "core/error.h"
#include "core/rng.h"

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

std::string run_id_of(const std::string& resolved_ini) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(hash_string(resolved_ini)));
  return buf;
}

RecordWriter::RecordWriter(const std::string& path, std::vector<std::string> metrics, std::string run_id,
                           bool stage_column)
    : path_(path), metrics_(std::move(metrics)), run_id_(csv_field(run_id)), stage_column_(stage_column) {
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
    if (stage_column_) header += ",stage";
    if (!run_id_.empty()) header += ",run_id";
    out_ << header << "\n";
    out_.flush();
  }
}

std::string RecordWriter::format(const std::vector<Record>& batch) const {
  std::ostringstream os;
  for (const auto& r : batch) {
    os << csv_field(r.cell) << ',' << csv_field(r.op) << ',' << csv_field(r.solver) << ',' << csv_field(r.design)
       << ',' << r.group_size << ',' << r.item << ',' << r.group << ',' << r.member;
    for (const auto& m : metrics_) {
      auto it = r.metrics.find(m);
      os << ',' << format_number(it == r.metrics.end() ? NAN : it->second);
    }
    os << ',' << r.nfe << ',' << format_number(r.seconds) << ',' << csv_field(r.status);
    if (stage_column_) {
      require(r.stage == 1 || r.stage == 2, "records for '", path_, "': sample (cell ", r.cell, ", item ", r.item,
              ", group ", r.group, ") has stage ", r.stage, "; a two-stage run's records are stage 1 or 2");
      os << ',' << r.stage;
    }
    if (!run_id_.empty()) os << ',' << run_id_;
    os << '\n';
  }
  return os.str();
}

void RecordWriter::write_raw(const std::string& text) {
  out_ << text;
  out_.flush();
  require(static_cast<bool>(out_), "writing records to '", path_, "' failed (disk full?)");
}

void RecordWriter::append(const std::vector<Record>& batch) { write_raw(format(batch)); }

RecordTable read_record_table(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  require(static_cast<bool>(in), "records file '", path, "' cannot be opened");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  RecordTable t;
  size_t pos = text.find('\n');
  if (pos == std::string::npos) return t;  // not even a whole header
  t.header = trim(text.substr(0, pos));
  const auto header = split_csv(t.header);
  const size_t fixed = std::size(kFixedColumns);
  t.has_run_id = !header.empty() && header.back() == "run_id";
  t.has_stage = header.size() > (t.has_run_id ? 1u : 0u) && header[header.size() - (t.has_run_id ? 2 : 1)] == "stage";
  const size_t trailing = std::size(kTrailingColumns) + (t.has_stage ? 1 : 0) + (t.has_run_id ? 1 : 0);
  require(header.size() >= fixed + trailing && header[0] == "cell" &&
              header[header.size() - trailing + 2] == "status",
          "records file '", path, "': line 1 is not a records header (cell,...,status[,stage][,run_id])");
  // Every fixed and trailing column by name: a file of another layout (an old baseline, a hand-edited
  // header) is refused, never read with shifted columns.
  std::vector<std::string> expected(std::begin(kFixedColumns), std::end(kFixedColumns));
  std::vector<size_t> where;
  for (size_t i = 0; i < fixed; ++i) where.push_back(i);
  for (size_t i = 0; i < std::size(kTrailingColumns); ++i) {
    expected.push_back(kTrailingColumns[i]);
    where.push_back(header.size() - trailing + i);
  }
  for (size_t i = 0; i < expected.size(); ++i)
    require(header[where[i]] == expected[i], "records file '", path, "': line 1, column ", where[i] + 1, " is '",
            header[where[i]], "' where this version of ipbench writes '", expected[i],
            "' (layout cell,operator,solver,design,group_size,item,group,member,<metrics>,nfe,seconds,status[,stage][,run_id]): "
            "a records file of another ipbench version or an edited header; re-record it (a CI baseline: "
            "scripts/ci-gate.sh --record)");
  t.metrics.assign(header.begin() + fixed, header.end() - trailing);
  int64_t lineno = 1;
  for (size_t start = pos + 1; start < text.size(); start = pos + 1) {
    ++lineno;
    pos = text.find('\n', start);
    if (pos == std::string::npos) {  // no final newline: the write was cut short
      t.torn_tail = true;
      t.torn_line = lineno;
      break;
    }
    const std::string line = text.substr(start, pos - start);
    if (trim(line).empty()) continue;
    const auto f = split_csv(trim(line));
    require(f.size() == header.size(), "records file '", path, "' line ", lineno, ": ", f.size(),
            " fields, expected ", header.size());
    try {
      Record r;
      r.cell = f[0]; r.op = f[1]; r.solver = f[2]; r.design = f[3];
      r.group_size = std::stoll(f[4]); r.item = std::stoll(f[5]); r.group = std::stoll(f[6]);
      r.member = std::stoll(f[7]);
      for (size_t m = 0; m < t.metrics.size(); ++m) r.metrics[t.metrics[m]] = std::stod(f[fixed + m]);
      r.nfe = std::stoll(f[fixed + t.metrics.size()]);
      r.seconds = std::stod(f[fixed + t.metrics.size() + 1]);
      r.status = f[fixed + t.metrics.size() + 2];
      if (t.has_stage) {
        const std::string& stage = f[fixed + t.metrics.size() + 3];
        require(stage == "1" || stage == "2", "records file '", path, "' line ", lineno, ": stage '", stage,
                "'; the stage column holds 1 (pilot) or 2 (planned groups)");
        r.stage = stage == "1" ? 1 : 2;
      }
      t.records.push_back(std::move(r));
      t.lines.push_back(line);
      t.line_numbers.push_back(lineno);
      t.run_ids.push_back(t.has_run_id ? f.back() : std::string());
    } catch (const Error&) {
      throw;
    } catch (const std::exception&) {
      throw Error(str_cat("records file '", path, "' line ", lineno, ": a number does not parse"));
    }
  }
  return t;
}

std::vector<Record> read_records(const std::string& path) {
  RecordTable t = read_record_table(path);
  require(!t.header.empty(), "records file '", path, "' is empty");
  if (t.torn_tail)
    std::fprintf(stderr, "warning: %s:%ld: ignoring a truncated last line (interrupted run)\n", path.c_str(),
                 static_cast<long>(t.torn_line));
  return std::move(t.records);
}

void write_text_atomic(const std::string& path, const std::string& text) { write_file_atomic(path, text); }

std::string run_file(const std::string& dir, const std::string& name) {
  const std::filesystem::path path = std::filesystem::path(dir) / name;
  require(std::filesystem::is_regular_file(path), path.string(), ": missing (is '", dir,
          "' a run folder written by `ipbench run`?)");
  return path.string();
}

}  // namespace ipbench
