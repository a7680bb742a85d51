// Joining shard run folders into one run folder (harness/merge.h).
#include "harness/merge.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "core/config.h"
#include "core/error.h"
#include "harness/records.h"
#include "harness/runner.h"
#include "harness/spec.h"

namespace ipbench {

namespace {

namespace fs = std::filesystem;

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  require(static_cast<bool>(in), path.string(), ": missing (is '", path.parent_path().string(),
          "' a shard folder of `ipbench run --shard i/n`?)");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct ShardFolder {
  fs::path dir;
  Shard shard;
  std::string resolved;
};

ShardFolder read_shard_folder(const fs::path& dir) {
  ShardFolder f;
  f.dir = dir;
  require(fs::is_directory(dir), dir.string(), ": not a folder");
  f.resolved = read_text(dir / "config.resolved.ini");
  std::string text = read_text(dir / "shard");
  text.erase(std::remove(text.begin(), text.end(), '\n'), text.end());
  try {
    f.shard = Shard::parse(text);
  } catch (const Error& e) {
    throw Error(str_cat((dir / "shard").string(), ": corrupt (", e.what(), ")"));
  }
  require(fs::is_regular_file(dir / "records.csv"), (dir / "records.csv").string(), ": missing");
  return f;
}

// Plan rank of each cell label: the runner's loop order (operators, solvers, designs).
std::map<std::string, size_t> cell_ranks(const Spec& spec) {
  std::map<std::string, size_t> rank;
  for (const auto& op : spec.operators)
    for (const auto& solver : spec.solvers)
      for (const auto& design : spec.designs) rank.emplace(op.label + "/" + solver.label + "/" + design.label, rank.size());
  return rank;
}

}  // namespace

MergeOutcome merge_runs(const std::vector<std::string>& shard_dirs, const std::string& out_dir, bool allow_partial) {
  require(!shard_dirs.empty(), "merge: no shard folders given");
  std::vector<ShardFolder> folders;
  for (const auto& d : shard_dirs) folders.push_back(read_shard_folder(d));

  const ShardFolder& first = folders.front();
  std::set<int64_t> seen;
  for (const ShardFolder& f : folders) {
    require(f.resolved == first.resolved, "merge: ", (f.dir / "config.resolved.ini").string(), " differs from ",
            (first.dir / "config.resolved.ini").string(), ": shards of one benchmark share their configuration");
    require(f.shard.count == first.shard.count, "merge: ", f.dir.string(), " is shard ", f.shard.str(), " but ",
            first.dir.string(), " is shard ", first.shard.str(), ": all shards must split the plan the same way");
    require(seen.insert(f.shard.index).second, "merge: shard ", f.shard.str(), " given twice (", f.dir.string(), ")");
  }
  const int64_t n = first.shard.count;
  if (!allow_partial) {
    std::string missing;
    for (int64_t i = 0; i < n; ++i)
      if (!seen.count(i)) missing += str_cat(missing.empty() ? "" : ", ", i, "/", n);
    require(missing.empty(), "merge: shard(s) ", missing, " missing; pass every shard folder (or --allow-partial)");
  }

  const Config config = Config::from_string(first.resolved, (first.dir / "config.resolved.ini").string());
  const Spec spec = parse_spec(config, false);
  const auto rank = cell_ranks(spec);

  MergeOutcome out;
  out.shards = static_cast<int64_t>(folders.size());
  out.shard_count = n;
  std::set<std::tuple<std::string, int64_t, int64_t, int64_t>> keys;
  for (const ShardFolder& f : folders)
    for (Record& r : read_records((f.dir / "records.csv").string())) {
      require(rank.count(r.cell), "merge: ", (f.dir / "records.csv").string(), " holds cell '", r.cell,
              "', which is not in the configuration");
      require(keys.insert({r.cell, r.item, r.group, r.member}).second, "merge: sample (cell ", r.cell, ", item ",
              r.item, ", group ", r.group, ", member ", r.member, ") appears twice (", f.dir.string(), ")");
      out.records.push_back(std::move(r));
    }
  std::stable_sort(out.records.begin(), out.records.end(), [&](const Record& a, const Record& b) {
    return std::make_tuple(rank.at(a.cell), a.item, a.group, a.member) <
           std::make_tuple(rank.at(b.cell), b.item, b.group, b.member);
  });
  if (!allow_partial) {
    const auto expected = static_cast<int64_t>(rank.size()) * spec.benchmark.items * spec.benchmark.samples_per_item;
    require(static_cast<int64_t>(out.records.size()) == expected, "merge: the shards hold ", out.records.size(),
            " samples, the plan has ", expected, ": a shard did not finish (complete it with `ipbench run --shard i/n ",
            "--resume`), or pass --allow-partial");
  }

  const fs::path dir(out_dir);
  require(!fs::exists(dir / "records.csv"), "merge: output folder '", dir.string(),
          "' already holds a run (records.csv); choose another --out");
  fs::create_directories(dir);
  write_text_atomic((dir / "config.resolved.ini").string(), first.resolved);
  {
    const std::string tmp = (dir / "records.csv.tmp").string();
    fs::remove(tmp);
    RecordWriter writer(tmp, spec.metrics);
    writer.append(out.records);
  }
  fs::rename(dir / "records.csv.tmp", dir / "records.csv");
  for (const ShardFolder& f : folders)
    if (fs::is_directory(f.dir / "reconstructions"))
      fs::copy(f.dir / "reconstructions", dir / "reconstructions",
               fs::copy_options::recursive | fs::copy_options::skip_existing);
  return out;
}

}  // namespace ipbench
