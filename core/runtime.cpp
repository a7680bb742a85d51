#include "core/runtime.h"

#include <ftw.h>
#include <sys/stat.h>

#include <cstdio>
#include <thread>

#include "core/error.h"

#ifdef IPBENCH_GIT_REVISION_HEADER
#include IPBENCH_GIT_REVISION_HEADER  // IPBENCH_GIT_REVISION, written at build time (core/CMakeLists.txt)
#endif
#ifndef IPBENCH_GIT_REVISION
#define IPBENCH_GIT_REVISION "unknown"
#endif
#ifndef IPBENCH_BUILD_TYPE
#define IPBENCH_BUILD_TYPE "unknown"
#endif
#ifndef IPBENCH_VERSION
#define IPBENCH_VERSION "0.0.0"
#endif

namespace ipbench {

int configure_threads(int threads) { return configure_threads(threads, true); }

int configure_threads(int threads, bool deterministic_kernels) {
  require(threads >= 0, "threads = ", threads, ". Violated: threads >= 0 (0 = all cores)");
  int n = threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency());
  if (n < 1) n = 1;
  at::set_num_threads(n);
  set_deterministic_kernels(deterministic_kernels);
  return at::get_num_threads();
}

void set_deterministic_kernels(bool deterministic) {
  if (deterministic) {
    use_deterministic_kernels();
  } else {  // LibTorch's defaults
    at::globalContext().setUserEnabledMkldnn(true);
    at::globalContext().setDeterministicCuDNN(false);
  }
}

void use_deterministic_kernels() {
  at::globalContext().setUserEnabledMkldnn(false);  // CPU: native convolutions (see runtime.h)
  at::globalContext().setDeterministicCuDNN(true);  // CUDA: no atomics-based cuDNN algorithms ...
  at::globalContext().setBenchmarkCuDNN(false);     // ... and no timing-dependent algorithm choice
}

std::string deterministic_kernels_note(torch::Device device) {
  if (device.is_cpu())
    return "CPU: records independent of the thread count and batch size (TorchScript priors: not guaranteed, see "
           "docs/ARCHITECTURE.md)";
  return "CUDA: records repeat only on the same GPU model, batch size and LibTorch/CUDA versions, and even "
         "then may differ in the last bits (deterministic cuDNN, but atomic-add kernels such as upsampling "
         "backward); they are never bitwise equal to CPU records";
}

torch::Device resolve_device(const std::string& name) {
  if (name == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  if (name == "cpu") return torch::Device(torch::kCPU);
  if (name.rfind("cuda", 0) == 0) {
    require(torch::cuda::is_available(), "device = ", name,
            ": CUDA is not available (no GPU, or LibTorch was built without CUDA); use device = cpu or auto");
    try {
      torch::Device d(name);
      require(d.index() < static_cast<int>(torch::cuda::device_count()), "device = ", name, ": only ",
              torch::cuda::device_count(), " CUDA device(s) present");
      return d;
    } catch (const c10::Error&) {
      throw Error(str_cat("device = ", name, ": not a device name (use auto, cpu, cuda or cuda:N)"));
    }
  }
  throw Error(str_cat("device = ", name, ": not a device name (use auto, cpu, cuda or cuda:N)"));
}

bool optimized_build() {
  const std::string t = IPBENCH_BUILD_TYPE;
  return t == "Release" || t == "RelWithDebInfo" || t == "MinSizeRel";
}

std::string context_line() {
  return str_cat("ipbench ", IPBENCH_VERSION, " (git ", IPBENCH_GIT_REVISION, ", ", IPBENCH_BUILD_TYPE,
                 " build) | LibTorch ", TORCH_VERSION, " | threads ", at::get_num_threads(), " | ",
                 at::globalContext().userEnabledMkldnn() ? "oneDNN on: CPU records may change with the thread count"
                                                         : deterministic_kernels_note(torch::kCPU),
                 " | CUDA ", torch::cuda::is_available() ? "available (CUDA records are not bitwise reproducible)"
                                                         : "not available");
}

namespace {
int remove_entry(const char* path, const struct stat*, int, struct FTW*) { return std::remove(path) == 0 ? 0 : -1; }
}  // namespace

bool remove_tree(const std::string& path) noexcept {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return true;  // nothing there
  // Depth first (children before their folder), without following symbolic links.
  return ::nftw(path.c_str(), remove_entry, 32, FTW_DEPTH | FTW_PHYS) == 0;
}

}  // namespace ipbench
