#pragma once
// `ipbench run --devices cuda:0,cuda:1,...` (issue 17, docs/scaling.md): one shard per GPU in one
// command. Shard i of n runs as a child `ipbench run ... --shard i/n --out OUT-s<i>` with
// CUDA_VISIBLE_DEVICES set to the i-th device, so its `device = cuda` (or auto) is that GPU and every
// shard's resolved configuration is the same; when all children succeeded, the shards are merged into
// OUT (merge_runs), the records those of a run on one device.
#include <string>
#include <vector>

namespace ipbench {

/// Parses a --devices list "cuda:0,cuda:1": CUDA device indices, distinct, in order. Error naming the
/// list and the rule for another name (cpu, cuda without an index, a typo), an index given twice, a
/// machine or build without CUDA, or an index >= the number of CUDA devices present.
std::vector<int> parse_cuda_devices(const std::string& list);

/// Error unless a config's `[benchmark] device` lets the children pick their GPU: auto or cuda (a fixed
/// cuda:N or cpu would put every shard on one device).
void require_device_per_child(const std::string& config_device);

/// Runs `exe run <run_args> --shard i/n --out <out_dir>-s<i>` for each device (CUDA_VISIBLE_DEVICES = its
/// index) side by side, waits for all, then merges the shard folders into out_dir. A child that fails
/// makes this throw Error naming its shard, device and exit status (its folder can be resumed).
void run_on_devices(const std::string& exe, const std::vector<std::string>& run_args, const std::vector<int>& devices,
                    const std::string& out_dir);

}  // namespace ipbench
