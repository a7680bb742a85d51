#!/usr/bin/env bash
# End-to-end GPU runs of `ipbench run` (issue 17), called by scripts/gpu-check.sh after the bench: on the
# guided-diffusion UNet that make_guided_unet.py wrote, DPS inpainting of ITEMS items x 16 antithetic
# samples at each size, solved
#   item     per item (batches of 16 samples, the default)
#   across   across items, max_batch = ITEMS x 16 (one batch per cell)
#   budget   across items within memory_budget_mib = BUDGET (the probe's peak sizes the batches)
#   bf16 / fp16   `across` with [benchmark] precision = bf16 / fp16
#   devices  `item` through `ipbench run --devices cuda:0` (one child process, then the merge)
# and prints samples/s of each, the memory lines, what each changes in the records against `item`
# (scripts/records_diff.py: batch-invariance on this backend) and `ipbench compare`'s verdict for the
# reduced precisions. No assertion: the figures go to docs/performance.md.
#
#   scripts/gpu-e2e.sh IPBENCH MODELS_DIR OUT_DIR "64 128" [cuda|cpu]
#
# cpu: the same runs on the CPU at tiny sizes to test this script (budget and devices are then refused
# with exit 2, which is printed). Environment: ITEMS (8), STEPS (20), BUDGET (20000), PYTHON.
set -uo pipefail
cd "$(dirname "$0")/.."
ipbench=$1 models=$2 out=$3 sizes=$4 device=${5:-cuda}
ITEMS=${ITEMS:-8}; STEPS=${STEPS:-20}; BUDGET=${BUDGET:-20000}; PYTHON=${PYTHON:-python3}
mkdir -p "$out"
t0=$(date +%s)
stamp() { echo "[gpu-e2e +$(( $(date +%s) - t0 ))s] $*"; }

# Runs `ipbench run` with the config and extra arguments; prints its solved line, samples/s of the
# solving and the wall time of the whole process (with loading the model, and for --devices the child
# and the merge).
run() {
  local label=$1 size=$2; shift 2
  local dir="$out/e2e$size/$label"
  rm -rf "$dir"; mkdir -p "$out/e2e$size"
  stamp "${size}px $label: ipbench run $*"
  local start end
  start=$(date +%s.%N)
  "$ipbench" run --config "$out/e2e$size.ini" --out "$dir" --quiet "$@" > "$dir.log" 2>&1
  local rc=$?
  end=$(date +%s.%N)
  grep -E "^note: .*peaked|^memory |ran out of memory|error" "$dir.log" | head -8
  local line
  line=$(grep -E "^solved [0-9]+ samples in" "$dir.log" | tail -1)
  if [ $rc -ne 0 ]; then
    echo "  $label: exit $rc"; tail -3 "$dir.log"; return
  fi
  echo "$label|$line|$start|$end" | awk -F'|' '{ split($2, w, " ");
    rate = (w[2] != "" && w[5] > 0) ? sprintf(" (%.2f samples/s)", w[2] / w[5]) : "";
    printf "  %s: %s%s; process wall %.1f s\n", $1, ($2 == "" ? "(no solved line)" : $2), rate, $4 - $3 }'
}

for size in $sizes; do
  stamp "dataset ${size}px: $ITEMS images"
  $PYTHON scripts/make_bench_images.py --size "$size" --count "$ITEMS" --out "$out/png$size" > /dev/null &&
    "$ipbench" dataset import png --dir "$out/png$size" --channels 3 --out "$out/data$size.h5" || exit 1
  cat > "$out/e2e$size.ini" <<EOF
[benchmark]
name = e2e$size
items = $ITEMS
samples_per_item = 16
operators = inpaint
solvers = dps
designs = antithetic
metrics = l1, psnr
device = $device
threads = 0
[dataset]
source = $out/data$size.h5
pad_to = 0
[prior]
type = torchscript
path = $models/unet$size.pt
[operator.inpaint]
[solver.dps]
steps = $STEPS
EOF
  all=$(( ITEMS * 16 ))
  run item "$size"
  run across "$size" --set benchmark.max_batch=$all
  run budget "$size" --set benchmark.memory_budget_mib=$BUDGET
  run bf16 "$size" --set benchmark.max_batch=$all --set benchmark.precision=bf16
  run fp16 "$size" --set benchmark.max_batch=$all --set benchmark.precision=fp16
  run devices "$size" --devices cuda:0 --set benchmark.device=auto
  for other in across budget devices bf16 fp16; do
    [ -f "$out/e2e$size/$other/records.csv" ] && $PYTHON scripts/records_diff.py "$out/e2e$size/item" "$out/e2e$size/$other"
  done
  for p in bf16 fp16; do
    if [ -f "$out/e2e$size/$p/records.csv" ]; then
      "$ipbench" compare "$out/e2e$size/across" "$out/e2e$size/$p" > "$out/e2e$size/compare_$p.txt" 2>&1
      echo "  compare across -> $p: exit $? (0 passed, 3 a regression, 2 incomparable)"
      tail -4 "$out/e2e$size/compare_$p.txt"
    fi
  done
done
stamp "done"
