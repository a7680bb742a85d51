"""The Python API around a run: python -m ipbench, load_records, summarize, report, compare, noise draws."""
import json
import os
import subprocess
import sys

import pytest
import torch

import ipbench
from conftest import SOURCE_DIR, tiny_config


def test_module_cli_runs_a_python_solver_beside_dps(tmp):
    cfg = tiny_config(tmp, solvers="dps", designs="antithetic", items=1, samples=2)
    solver = os.path.join(SOURCE_DIR, "examples", "python", "my_dps.py")
    p = subprocess.run([sys.executable, "-m", "ipbench", "run", "--config", cfg, "--solver", f"{solver}:MyDps",
                        "--set", "benchmark.items=2", "--out", str(tmp / "run"), "--quiet"],
                       capture_output=True, text=True, cwd=str(tmp))
    assert p.returncode == 0, p.stderr
    recs = ipbench.load_records(tmp / "run", as_frame=False)
    assert sorted({r["solver"] for r in recs}) == ["dps", "my_dps"]  # appended to [benchmark] solvers
    assert {r["item"] for r in recs} == {0, 1}
    assert "my_dps" in p.stdout and "dps" in p.stdout  # the summary table


def test_results_api(tmp):
    cfg = tiny_config(tmp, solvers="dps", designs="iid, antithetic", items=2, samples=4)
    a = ipbench.run(cfg, out=tmp / "a", quiet=True)
    b = ipbench.run(cfg, out=tmp / "b", overrides={"solver.dps": {"zeta": 0.4}}, quiet=True)
    recs = ipbench.load_records(a.out, as_frame=False)
    assert len(recs) == a.records == 16
    assert a.failed_batches == a.oom_splits == 0
    assert a.batch_memory == {}  # only with [benchmark] memory_budget_mib (CUDA)
    assert set(recs[0]) >= {"cell", "operator", "solver", "design", "item", "group", "member", "l1", "psnr",
                            "residual", "nfe", "seconds", "status"}
    try:
        import pandas  # noqa: F401
        assert len(ipbench.load_records(a.out)) == 16
    except ImportError:
        assert isinstance(ipbench.load_records(a.out), list)

    os.remove(os.path.join(a.out, "summary.json"))
    s = ipbench.summarize(a.out)
    assert [c["cell"] for c in s["cells"]] == ["inpaint/dps/iid", "inpaint/dps/antithetic"]

    files = ipbench.report([a.out, b.out], out=tmp / "board", images=0)
    assert any(f.endswith("leaderboard.md") for f in files) and all(os.path.exists(f) for f in files)

    same = ipbench.compare(a.out, a.out)
    assert same["passed"] is True and same["gate"].startswith("gate: passed")
    c = ipbench.compare(a.out, b.out, out=tmp / "compare.json")
    assert "passed" in c and json.load(open(tmp / "compare.json"))


def test_uniform_draws_are_coupled(tmp):
    seen = {}

    class Draws(ipbench.Solver):
        name = "draws"

        def nfe_per_sample(self):
            return 0

        def solve(self, problem, noise):
            z = noise.gaussian([3])
            u = noise.uniform([5])
            seen.setdefault(noise.group_size, []).append((z, u, noise.draws))
            return ipbench.SolveResult(x=torch.zeros([noise.batch_size] + list(problem.prior.image_shape),
                                                     dtype=problem.y.dtype))

    cfg = tiny_config(tmp, solvers="draws", designs="iid, antithetic", items=1, samples=4)
    try:
        ipbench.run(cfg, out=tmp / "run", solvers=[Draws], quiet=True)
    except ipbench.Error as e:
        if "no uniform draws" in str(e):
            pytest.skip(str(e))
        raise
    z, u, draws = seen[2][0]
    assert draws == 2 and z.shape == (4, 3) and u.shape == (4, 5)
    assert torch.equal(z[0], -z[1]) and torch.equal(u[0] + u[1], torch.ones(5))  # antithetic: (u, 1 - u)
    assert bool(((u > 0) & (u < 1)).all())
    zi, ui, _ = seen[1][0]
    assert not torch.equal(ui[0] + ui[1], torch.ones(5))


def test_overrides_must_name_a_section():
    with pytest.raises(ipbench.Error, match="section.key"):
        ipbench.run("nonexistent.ini", overrides={"items": 2}, quiet=True)


def test_requirements_item_batch_lets_a_batch_span_items(tmp):
    """A Python solver declaring Requirements(item_batch=True) gets one batch of both items' samples
    under [benchmark] max_batch, y per sample; without it every call holds one item's y."""
    for flag in (False, True):
        sizes = []

        class YSize(ipbench.Solver):
            name = "y_size"
            requirements = ipbench.Requirements(item_batch=flag)

            def nfe_per_sample(self):
                return 0

            def solve(self, problem, noise):
                sizes.append((problem.y.shape[0], noise.batch_size))
                return ipbench.SolveResult(x=torch.zeros([noise.batch_size] + list(problem.prior.image_shape),
                                                         dtype=problem.y.dtype))

        cfg = tiny_config(tmp, solvers="y_size", designs="iid", items=2, samples=2, my_dps_section=False)
        ipbench.run(cfg, out=tmp / f"run_{flag}", solvers=[YSize], overrides={"benchmark": {"max_batch": 4}},
                    quiet=True)
        assert sizes == ([(4, 4)] if flag else [(1, 2), (1, 2)])
