#!/usr/bin/env python3
"""How far two runs' records.csv are apart, sample by sample (standard library only).

Rows are matched on (cell, item, group, member); `seconds` and `run_id` are ignored. Prints the number
of matched rows, how many are equal as text, and the largest absolute difference of each metric, e.g.

  records A=runs/x B=runs/y: 128 rows matched, 128 equal as text; max |diff|: l1 0, psnr 0

Used by scripts/gpu-e2e.sh to say what a batch size or a precision changes on a backend whose kernels
are not batch-invariant (docs/performance.md). Exit 2 when a file is missing or the rows differ in keys.

  python3 scripts/records_diff.py RUN_A RUN_B
"""
import csv
import math
import os
import sys

KEY = ("cell", "item", "group", "member")
NOT_METRICS = set(KEY) | {"operator", "solver", "design", "group_size", "sample", "nfe", "seconds", "status",
                          "stage", "run_id"}


def load(run):
    path = os.path.join(run, "records.csv")
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        sys.exit(f"records_diff: {path}: {e.strerror}")
    return path, {tuple(r[k] for k in KEY): r for r in rows}


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1].strip())
    pa, a = load(sys.argv[1])
    pb, b = load(sys.argv[2])
    if set(a) != set(b):
        print(f"records_diff: {pa} and {pb} hold different samples ({len(a)} and {len(b)} rows, "
              f"{len(set(a) ^ set(b))} keys in only one)")
        sys.exit(2)
    first = next(iter(a.values()), {})
    metrics = [c for c in first if c not in NOT_METRICS]
    equal = 0
    worst = {m: 0.0 for m in metrics}
    for k, ra in a.items():
        rb = b[k]
        equal += all(ra[c] == rb[c] for c in metrics + ["status"])
        for m in metrics:
            try:
                x, y = float(ra[m]), float(rb[m])
            except ValueError:
                continue
            if math.isnan(x) and math.isnan(y):
                continue
            worst[m] = max(worst[m], abs(x - y)) if not (math.isnan(x) or math.isnan(y)) else math.inf
    diffs = ", ".join(f"{m} {worst[m]:.3g}" for m in metrics)
    print(f"records A={sys.argv[1]} B={sys.argv[2]}: {len(a)} rows matched, {equal} equal as text; max |diff|: {diffs}")


if __name__ == "__main__":
    main()
