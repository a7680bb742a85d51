#!/usr/bin/env bash
# The regression gate of this repository's CI (docs/ci.md). Runs configs/ci-smoke.ini with the built
# ipbench and compares it with the committed baseline baselines/ci-smoke: exit 3 when a metric got
# significantly worse (beyond the margins below), a cell gained failed samples or disappeared.
#   scripts/ci-gate.sh            gate (needs a build: scripts/build.sh)
#   scripts/ci-gate.sh --record   re-record the baseline on purpose, then commit baselines/ci-smoke
set -euo pipefail
cd "$(dirname "$0")/.."
ipbench=build/cli/ipbench
[ -x "$ipbench" ] || { echo "ci-gate: $ipbench is missing: run scripts/build.sh first" >&2; exit 2; }
out=runs/ci-smoke
rm -rf "$out"
"$ipbench" run --quiet --config configs/ci-smoke.ini --out "$out"
if [ "${1:-}" = "--record" ]; then
  mkdir -p baselines/ci-smoke
  cp "$out/records.csv" "$out/config.resolved.ini" baselines/ci-smoke/
  echo "ci-gate: baseline re-recorded in baselines/ci-smoke (commit it with the change that moved it)"
  exit 0
fi
exec "$ipbench" compare baselines/ci-smoke "$out" --margin psnr=0.05 --margin ssim=0.002 --margin l1=0.001 \
  --margin residual=0.001 --out "$out/compare.json"
