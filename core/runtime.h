#pragma once
// Process-wide execution context: threads, device, and the context line every run prints first.
#include <torch/torch.h>

#include <string>

namespace ipbench {

/// Sets LibTorch's intra-op threads: `threads` > 0 as given, 0 = all hardware threads (Debian's
/// LibTorch otherwise defaults to one), and the kernels: use_deterministic_kernels() (a benchmark's
/// records must not depend on the thread count), or LibTorch's fastest choice (oneDNN on, cuDNN free to
/// pick any algorithm) with `deterministic_kernels` = false (training, whose weights need not be bitwise
/// equal across thread counts: docs/training.md). Returns the number of threads in effect.
int configure_threads(int threads, bool deterministic_kernels);
/// configure_threads(threads, true).
int configure_threads(int threads);

/// Makes convolutions independent of the thread count (and the batch size) on CPU, and asks cuDNN for
/// its deterministic algorithms on CUDA. (The UNet's GroupNorm gradient and its Linear layers, the other
/// thread-count and batch-size dependent kernels found, are models/fixed_order.h's; with both, records
/// on the shipped UNet are identical for any thread count and batch size, gradient solvers included.) LibTorch 1.13 runs a CPU float convolution through oneDNN
/// (mkldnn) or its native im2col + GEMM path, chosen per call from the batch size and the thread
/// count (a 1x1 kernel on fewer than 16 images goes to oneDNN only with more than one thread; a small
/// input only with more than one image), and the two round differently: the shipped UNet's records
/// moved by up to 0.3% between 1 and 2 threads. With oneDNN off every convolution takes the native
/// path, which computes each image in one thread in a fixed order. It costs speed: a UNet forward +
/// backward pass on one CPU thread took 1.05x (batch 4) and 1.84x (batch 16) as long as with oneDNN
/// (bench/bench_fixed_order.cpp, docs/performance.md). Process-wide and idempotent. What stays different
/// on CUDA: deterministic_kernels_note().
void use_deterministic_kernels();
/// use_deterministic_kernels() when `deterministic`, else LibTorch's fastest choice (oneDNN on, cuDNN
/// free to pick any algorithm): a benchmark's `[benchmark] kernels = deterministic | fast`.
void set_deterministic_kernels(bool deterministic);

/// What is and is not bitwise identical on `device`, for the run context and the docs.
std::string deterministic_kernels_note(torch::Device device);

/// "auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N". Throws Error for an unknown
/// name or for CUDA on a machine (or LibTorch build) without it.
torch::Device resolve_device(const std::string& name);

/// One line of context: ipbench version and git revision, LibTorch version, build type, threads, what
/// is bitwise reproducible (deterministic_kernels_note), CUDA.
std::string context_line();

/// True for a Release/RelWithDebInfo build (the CLI warns on Debug builds).
bool optimized_build();

/// Removes `path` and everything under it (symbolic links themselves, not their targets); true when
/// nothing is left. Uses POSIX nftw, not std::filesystem::remove_all: PyTorch's pip LibTorch exports the
/// std::filesystem functions of its own statically linked libstdc++ (pytorch/pytorch#133437), and
/// remove_all resolved there crashes programs built against it.
bool remove_tree(const std::string& path) noexcept;

}  // namespace ipbench
