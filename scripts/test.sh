#!/usr/bin/env bash
# One command from a fresh Debian machine to a tested build: installs the dependencies, builds
# everything (Release) and runs every test through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
cd build
ctest --output-on-failure -j "${IPBENCH_JOBS:-$(nproc)}"
