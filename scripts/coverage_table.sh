#!/usr/bin/env bash
# Measured coverage of every interval through the harness (tests/test_coverage.cpp): runs the
# [coverage] tests of test_coverage and prints the Markdown table of docs/statistics.md section 12.
#   scripts/coverage_table.sh [build-dir]      (default build; ~2-3 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
table="$(mktemp)"
trap 'rm -f "$table"' EXIT
status=0
IPBENCH_COVERAGE_TABLE="$table" OMP_NUM_THREADS=1 "$build/tests/test_coverage" "[coverage]" >/dev/null || status=$?
echo "| interval | seeds covered | rate | band (alpha = 0.001) | |"
echo "|---|---|---|---|---|"
cat "$table"
exit "$status"
