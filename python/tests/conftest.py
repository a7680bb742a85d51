"""Shared helpers of the Python tests (run by ctest with the interpreter the bindings were built for)."""
import math
import os
import sys

import pytest

SOURCE_DIR = os.environ.get("IPBENCH_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
sys.path.insert(0, os.path.join(SOURCE_DIR, "examples", "python"))
# Subprocesses (python3 -m ipbench) run in other folders: make PYTHONPATH absolute.
os.environ["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p)

import ipbench  # noqa: E402


def tiny_config(path, solvers="dps, my_dps", designs="iid, antithetic", dtype="float32", items=2, samples=4,
                extra="", my_dps_section=True, operators="inpaint"):
    """A seconds-long benchmark: Gaussian prior (closed-form denoiser) on 32x32 Fashion-MNIST, 6 DPS steps."""
    text = f"""[benchmark]
name = tiny
seed = 3
items = {items}
samples_per_item = {samples}
operators = {operators}
solvers = {solvers}
designs = {designs}
metrics = l1, psnr, residual
device = cpu
dtype = {dtype}
threads = 1

[dataset]
source = fashion-mnist:test
pad_to = 32

[prior]
type = gaussian
mean = 0
variance = 0.3

[operator.inpaint]
mode = random

[solver.dps]
steps = 6
zeta = 0.5

{"[solver.my_dps]" if my_dps_section else ""}
{"steps = 6" if my_dps_section else ""}
{"zeta = 0.5" if my_dps_section else ""}
{extra}"""
    p = os.path.join(str(path), "tiny.ini")
    with open(p, "w") as f:
        f.write(text)
    return p


def records_by_key(run_dir):
    """{(operator, solver, design, item, group, member): record} of a run folder."""
    return {(r["operator"], r["solver"], r["design"], r["item"], r["group"], r["member"]): r
            for r in ipbench.load_records(run_dir, as_frame=False)}


def assert_same_records(run_dir, solver, reference, metrics, rel, abs_tol=1e-12):
    """Every record of `solver` in a run equals `reference`'s on the same (operator, design, item, group,
    member): both ok, the same NFE, each metric finite and equal (rel = 0) or within rel (and abs_tol).
    Returns the number of values compared."""
    recs = records_by_key(run_dir)
    compared = 0
    for (op, s, design, item, group, member), r in recs.items():
        if s != solver:
            continue
        ref = recs[(op, reference, design, item, group, member)]
        assert r["status"] == ref["status"] == "ok"
        assert r["nfe"] == ref["nfe"]
        for m in metrics:
            where = (op, design, item, group, member, m)
            assert math.isfinite(ref[m]), where
            if rel == 0.0:
                assert r[m] == ref[m], where
            else:
                assert r[m] == pytest.approx(ref[m], rel=rel, abs=abs_tol), where
            compared += 1
    return compared


@pytest.fixture
def tmp(tmp_path):
    return tmp_path
