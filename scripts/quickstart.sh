#!/usr/bin/env bash
# One command from a fresh Debian machine to a benchmark: installs the dependencies, builds
# (Release) and runs configs/quickstart.ini. Extra arguments go to `ipbench run`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh --target ipbench
exec build/cli/ipbench run --config configs/quickstart.ini "$@"
