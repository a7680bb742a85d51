// One shard per CUDA device as child processes, then merge (harness/devices.h).
#include "harness/devices.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <set>

#include <torch/torch.h>

#include "core/config.h"
#include "core/error.h"
#include "harness/merge.h"

extern char** environ;

namespace ipbench {

std::vector<int> parse_cuda_devices(const std::string& list) {
  std::vector<int> out;
  std::set<int> seen;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string name = trim(list.substr(start, comma - start));
    const bool digits = name.size() > 5 && name.find_first_not_of("0123456789", 5) == std::string::npos;
    require(name.rfind("cuda:", 0) == 0 && digits, "--devices ", list, ": '", name,
            "' is not a CUDA device. Violated: a comma-separated list of cuda:N (e.g. cuda:0,cuda:1)");
    const int index = std::atoi(name.c_str() + 5);
    require(seen.insert(index).second, "--devices ", list, ": ", name, " is given twice. Violated: one shard per device");
    out.push_back(index);
    start = comma + 1;
  }
  require(torch::cuda::is_available(), "--devices ", list,
          ": CUDA is not available (no GPU, or LibTorch was built without CUDA); run without --devices, or shards "
          "by hand with --shard i/n (docs/scaling.md)");
  const int present = static_cast<int>(torch::cuda::device_count());
  for (int d : out)
    require(d < present, "--devices ", list, ": cuda:", d, " is absent: ", present, " CUDA device(s) present (cuda:0..cuda:",
            present - 1, ")");
  return out;
}

void require_device_per_child(const std::string& config_device) {
  require(config_device == "auto" || config_device == "cuda", "--devices: [benchmark] device = ", config_device,
          " would put every shard on one device. Violated: device = auto or cuda with --devices (each shard sees "
          "its own GPU as cuda)");
}

void run_on_devices(const std::string& exe, const std::vector<std::string>& run_args, const std::vector<int>& devices,
                    const std::string& out_dir) {
  const int n = static_cast<int>(devices.size());
  std::vector<pid_t> pids;
  std::vector<std::string> folders;
  for (int i = 0; i < n; ++i) {
    folders.push_back(str_cat(out_dir, "-s", i));
    std::vector<std::string> args{exe, "run"};
    args.insert(args.end(), run_args.begin(), run_args.end());
    for (const std::string& a : {std::string("--shard"), str_cat(i, "/", n), std::string("--out"), folders.back()})
      args.push_back(a);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // The child's environment: this one with CUDA_VISIBLE_DEVICES replaced.
    std::vector<std::string> env{str_cat("CUDA_VISIBLE_DEVICES=", devices[i])};
    for (char** e = environ; *e != nullptr; ++e)
      if (std::strncmp(*e, "CUDA_VISIBLE_DEVICES=", 21) != 0) env.emplace_back(*e);
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, exe.c_str(), nullptr, nullptr, argv.data(), envp.data());
    require(rc == 0, "--devices: cannot start '", exe, "' for shard ", i, "/", n, ": ", std::strerror(rc));
    pids.push_back(pid);
  }
  std::string failures;
  for (int i = 0; i < n; ++i) {
    int status = 0;
    waitpid(pids[i], &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      failures += str_cat("\n  shard ", i, "/", n, " on cuda:", devices[i], " (", folders[i], "): ",
                          WIFEXITED(status) ? str_cat("exit status ", WEXITSTATUS(status))
                                            : str_cat("signal ", WTERMSIG(status)));
  }
  require(failures.empty(), "--devices: shards failed, nothing merged:", failures,
          "\nfix the cause, then rerun the same command with --resume (each shard continues its folder)");
  merge_runs(folders, out_dir);
}

}  // namespace ipbench
