// Joining shard run folders into one run folder (harness/merge.h).
#include "harness/merge.h"

#include <filesystem>
#include <set>
#include <tuple>

#include "core/config.h"
#include "core/config_diff.h"
#include "core/error.h"
#include "harness/plan.h"
#include "harness/run_folder.h"
#include "harness/spec.h"

namespace ipbench {

namespace {

namespace fs = std::filesystem;

struct ShardFolder {
  RunFolder folder;
  Shard shard;
  std::string resolved;
};

ShardFolder read_shard_folder(const std::string& dir) {
  require(fs::is_directory(dir), dir, ": not a folder");
  RunFolder folder = RunFolder::open(dir);
  require(folder.has_shard_file(), folder.path("shard"), ": missing (is '", dir,
          "' a shard folder of `ipbench run --shard i/n`?)");
  const Shard shard = folder.shard();
  std::string resolved = folder.resolved_config_text();
  return {std::move(folder), shard, std::move(resolved)};
}

// "merge: DIR/config.resolved.ini differs from FIRST/config.resolved.ini: ... [solver.dps] zeta: 0.5 -> 0.4"
void require_same_config(const ShardFolder& first, const ShardFolder& f) {
  if (f.resolved == first.resolved) return;
  const std::string a = first.folder.path("config.resolved.ini"), b = f.folder.path("config.resolved.ini");
  std::string list;
  for (const std::string& d : describe_differences(
           config_differences(Config::from_string(first.resolved, a), Config::from_string(f.resolved, b)), a, b))
    list += "\n  " + d;
  throw Error(str_cat("merge: ", b, " differs from ", a, ": shards of one benchmark share their configuration (",
                      a, " -> ", b, "):", list.empty() ? "\n  (formatting only)" : list));
}

}  // namespace

MergeOutcome merge_runs(const std::vector<std::string>& shard_dirs, const std::string& out_dir, bool allow_partial) {
  require(!shard_dirs.empty(), "merge: no shard folders given");
  std::vector<ShardFolder> folders;
  for (const auto& d : shard_dirs) folders.push_back(read_shard_folder(d));

  const ShardFolder& first = folders.front();
  std::set<int64_t> seen;
  for (const ShardFolder& f : folders) {
    require_same_config(first, f);
    require(f.shard.count == first.shard.count, "merge: ", f.folder.dir(), " is shard ", f.shard.str(), " but ",
            first.folder.dir(), " is shard ", first.shard.str(), ": all shards must split the plan the same way");
    require(seen.insert(f.shard.index).second, "merge: shard ", f.shard.str(), " given twice (", f.folder.dir(), ")");
  }
  const int64_t n = first.shard.count;
  if (!allow_partial) {
    std::string missing;
    for (int64_t i = 0; i < n; ++i)
      if (!seen.count(i)) missing += str_cat(missing.empty() ? "" : ", ", i, "/", n);
    require(missing.empty(), "merge: shard(s) ", missing, " missing; pass every shard folder (or --allow-partial)");
  }

  const Config config = Config::from_string(first.resolved, first.folder.path("config.resolved.ini"));
  const Spec spec = parse_spec(config, false);
  const Plan plan(spec);

  MergeOutcome out;
  out.shards = static_cast<int64_t>(folders.size());
  out.shard_count = n;
  std::set<SampleKey> keys;
  for (const ShardFolder& f : folders)
    for (Record& r : f.folder.read_records()) {
      require(plan.has_cell(r.cell), "merge: ", f.folder.path("records.csv"), " holds cell '", r.cell,
              "', which is not in the configuration");
      require(keys.insert({r.cell, r.item, r.group, r.member}).second, "merge: sample (cell ", r.cell, ", item ",
              r.item, ", group ", r.group, ", member ", r.member, ") appears twice (", f.folder.dir(), ")");
      out.records.push_back(std::move(r));
    }
  plan.sort(out.records);
  if (!allow_partial)
    require(static_cast<int64_t>(out.records.size()) == plan.total_samples(), "merge: the shards hold ",
            out.records.size(), " samples, the plan has ", plan.total_samples(),
            ": a shard did not finish (complete it with `ipbench run --shard i/n --resume`), or pass --allow-partial");

  require(!fs::exists(fs::path(out_dir) / "records.csv"), "merge: output folder '", out_dir,
          "' already holds a run (records.csv); choose another --out");
  RunFolder merged = RunFolder::open_for_writing(out_dir);
  merged.start(first.resolved, Shard{}, spec.metrics, false);
  merged.write_records(out.records, spec.metrics);
  for (const ShardFolder& f : folders) merged.import_reconstructions(f.folder);
  return out;
}

}  // namespace ipbench
