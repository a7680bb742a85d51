#pragma once
// Process-wide execution context: threads, device, and the context line every run prints first.
#include <torch/torch.h>

#include <string>

namespace ipbench {

/// Sets LibTorch's intra-op threads: `threads` > 0 as given, 0 = all hardware threads (Debian's
/// LibTorch otherwise defaults to one). Returns the number in effect.
int configure_threads(int threads);

/// "auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N". Throws Error for an unknown
/// name or for CUDA on a machine (or LibTorch build) without it.
torch::Device resolve_device(const std::string& name);

/// One line of context: ipbench version and git revision, LibTorch version, build type, threads.
std::string context_line();

/// True for a Release/RelWithDebInfo build (the CLI warns on Debug builds).
bool optimized_build();

/// Removes `path` and everything under it (symbolic links themselves, not their targets); true when
/// nothing is left. Uses POSIX nftw, not std::filesystem::remove_all: PyTorch's pip LibTorch exports the
/// std::filesystem functions of its own statically linked libstdc++ (pytorch/pytorch#133437), and
/// remove_all resolved there crashes programs built against it.
bool remove_tree(const std::string& path) noexcept;

}  // namespace ipbench
