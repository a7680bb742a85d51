#!/usr/bin/env bash
# Configures and builds ipbench (Release) in build/. Honors Torch_DIR (another LibTorch, e.g. CUDA)
# and IPBENCH_JOBS (parallel jobs, default: all cores).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${IPBENCH_JOBS:-$(nproc)}
args=(-S . -B build -DCMAKE_BUILD_TYPE=Release)
if [ -n "${Torch_DIR:-}" ]; then args+=("-DTorch_DIR=${Torch_DIR}"); fi
cmake "${args[@]}" >/dev/null
cmake --build build -j "$jobs" "$@"
