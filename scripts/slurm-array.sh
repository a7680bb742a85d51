#!/usr/bin/env bash
# A benchmark as a Slurm job array: one shard per array task, then `ipbench merge` in a job that starts
# when every task has succeeded (docs/scaling.md "Slurm").
#
#   scripts/slurm-array.sh CONFIG SHARDS OUT [ipbench run options ...]
#
# submits (from the repository root, with sbatch on the PATH):
#   1. an array of SHARDS tasks; task i runs
#        build/cli/ipbench run --config CONFIG --shard i/SHARDS --out OUT-s<i> --resume --quiet [options]
#      (--resume: a requeued or resubmitted task continues its shard, keeping what it has);
#   2. a merge job, --dependency=afterok on the array:
#        build/cli/ipbench merge --out OUT OUT-s0 ... OUT-s<SHARDS-1>
#      which also writes OUT's summary.json and summary.md;
# and prints the two job ids. Each task and the merge write their log to OUT-logs/.
#
# Cluster options go through the environment, split as words:
#   SBATCH_TASK_OPTS   options of every array task, e.g. "--gres=gpu:1 --time=24:00:00 --partition=gpu"
#   SBATCH_MERGE_OPTS  options of the merge job (default: "--time=01:00:00")
#   IPBENCH            the ipbench executable (default: build/cli/ipbench, made absolute)
# Example: 8 GPU tasks, batches across items of up to 64 samples each:
#   SBATCH_TASK_OPTS="--gres=gpu:1 --time=12:00:00" scripts/slurm-array.sh my.ini 8 runs/my --set benchmark.max_batch=64
#
# Inside a task (SLURM_ARRAY_TASK_ID set, the script run by sbatch with --task) it runs its shard;
# with --merge it merges. Those two modes are for sbatch only.
set -euo pipefail

usage() {
  sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

ipbench=${IPBENCH:-build/cli/ipbench}
case "${1:-}" in
  --task)
    shift
    config=$1 shards=$2 out=$3
    shift 3
    : "${SLURM_ARRAY_TASK_ID:?--task runs inside a Slurm array task}"
    exec "$ipbench" run --config "$config" --shard "${SLURM_ARRAY_TASK_ID}/${shards}" \
      --out "${out}-s${SLURM_ARRAY_TASK_ID}" --resume --quiet "$@"
    ;;
  --merge)
    shift
    shards=$1 out=$2
    folders=()
    for ((i = 0; i < shards; ++i)); do folders+=("${out}-s${i}"); done
    exec "$ipbench" merge --out "$out" "${folders[@]}"
    ;;
  -h | --help | "") usage ;;
esac

[ $# -ge 3 ] || usage
config=$1 shards=$2 out=$3
shift 3
[[ "$shards" =~ ^[1-9][0-9]*$ ]] || { echo "slurm-array: SHARDS must be a positive integer, got '$shards'" >&2; exit 2; }
[ -f "$config" ] || { echo "slurm-array: config '$config' not found" >&2; exit 2; }
command -v sbatch >/dev/null || { echo "slurm-array: sbatch not found: run this on a Slurm login node" >&2; exit 2; }
[ -x "$ipbench" ] || { echo "slurm-array: $ipbench is missing: run scripts/build.sh first (or set IPBENCH)" >&2; exit 2; }
[ -e "$out" ] && { echo "slurm-array: '$out' exists: the merge needs a fresh folder (choose another OUT)" >&2; exit 2; }

abs() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s/%s\n' "$PWD" "$1" ;; esac; }
script=$(abs "$0")
export IPBENCH
IPBENCH=$(abs "$ipbench")
config=$(abs "$config")
out=$(abs "$out")
mkdir -p "${out}-logs"

# shellcheck disable=SC2086  # the option variables are word lists on purpose
array_id=$(sbatch --parsable --job-name=ipbench-shards --array="0-$((shards - 1))" \
  --output="${out}-logs/shard-%a.log" --export=ALL ${SBATCH_TASK_OPTS:-} \
  "$script" --task "$config" "$shards" "$out" "$@")
array_id=${array_id%%;*}
# shellcheck disable=SC2086
merge_id=$(sbatch --parsable --job-name=ipbench-merge --dependency="afterok:${array_id}" \
  --output="${out}-logs/merge.log" --export=ALL ${SBATCH_MERGE_OPTS:---time=01:00:00} \
  "$script" --merge "$shards" "$out")
merge_id=${merge_id%%;*}
echo "submitted array job ${array_id} (${shards} shards -> ${out}-s0 .. ${out}-s$((shards - 1)))"
echo "submitted merge job ${merge_id} (after the array succeeds -> ${out}); logs in ${out}-logs/"
