"""Bad Python solvers: setup errors name the solver and the rule before anything runs; failures while
solving are recorded per batch (status error:...) while the other cells complete."""
import subprocess
import sys

import pytest
import torch

import ipbench
from conftest import SOURCE_DIR, tiny_config
from my_dps import MyDps


class WrongBatch(MyDps):
    name = "wrong_batch"

    def solve(self, problem, noise):
        x = noise.gaussian(problem.prior.image_shape).to(problem.y)
        return ipbench.SolveResult(x=x[:-1])  # one sample short


class WrongNoiseShape(MyDps):
    name = "wrong_noise"

    def solve(self, problem, noise):
        z = noise.gaussian([noise.batch_size] + list(problem.prior.image_shape))  # batch dim drawn twice
        return ipbench.SolveResult(x=z.to(problem.y))


class Raises(MyDps):
    name = "raises"

    def solve(self, problem, noise):
        raise RuntimeError("boom in solve")


class ReturnsNan(MyDps):
    name = "returns_nan"

    def solve(self, problem, noise):
        x = noise.gaussian(problem.prior.image_shape).to(problem.y)
        x[0] = float("nan")
        return ipbench.SolveResult(x=x, nfe=0)


def run_with_failing_solver(tmp, cls):
    """Runs dps and `cls`; returns the records. The failing cells must not stop the dps cells."""
    out = tmp / "run"
    cfg = tiny_config(tmp, solvers=f"dps, {cls.name}", items=2, samples=4, extra=f"[solver.{cls.name}]\nsteps = 2\n")
    result = ipbench.run(cfg, out=out, solvers=[cls], quiet=True)
    assert f"status error:python solver '{cls.name}'" in result.table  # the status count the run prints
    return ipbench.load_records(out, as_frame=False)


@pytest.mark.parametrize("cls,needle", [
    (WrongBatch, "for a batch of 4 samples. Rule: one reconstruction per sample"),
    (WrongNoiseShape, "returned x of shape [4; 4; 1; 32; 32]"),  # commas become ; in records.csv
    (Raises, "solve() raised RuntimeError: boom in solve"),
])
def test_failures_while_solving_are_recorded_per_batch(tmp, cls, needle):
    recs = run_with_failing_solver(tmp, cls)
    bad = [r for r in recs if r["solver"] == cls.name]
    good = [r for r in recs if r["solver"] == "dps"]
    assert len(bad) == len(good) == 2 * 2 * 4  # every sample has its record
    assert all(r["status"] == "ok" for r in good)
    assert all(r["status"].startswith("error:") and needle in r["status"] for r in bad), bad[0]["status"]


def test_non_finite_output_is_recorded_per_sample_and_named(tmp, capfd):
    out = tmp / "run"
    cfg = tiny_config(tmp, solvers="returns_nan", designs="iid", items=1, samples=4)
    ipbench.run(cfg, out=out, solvers=[ReturnsNan], quiet=True)
    recs = ipbench.load_records(out, as_frame=False)
    assert [r["status"] for r in recs] == ["non_finite", "ok", "ok", "ok"]
    err = capfd.readouterr().err
    assert "python solver 'returns_nan' returned non-finite values in 1 of 4 samples" in err
    assert "rule: every reconstruction value must be finite" in err


class NoSolve(ipbench.Solver):
    name = "no_solve"

    def nfe_per_sample(self):
        return 1


class Untyped(MyDps):
    name = "untyped"

    def __init__(self, steps: int = 2, scale=None):
        super().__init__(steps=steps)


def expect_setup_error(tmp, cls, *needles, extra="", my_dps_section=True):
    out = tmp / "run"
    cfg = tiny_config(tmp, solvers=f"dps, {getattr(cls, 'name', 'x')}", items=1, samples=2, extra=extra,
                      my_dps_section=my_dps_section)
    with pytest.raises(ipbench.Error) as e:
        ipbench.run(cfg, out=out, solvers=[cls], quiet=True)
    for n in needles:
        assert n in str(e.value)
    assert not (out / "records.csv").exists()  # refused before anything ran
    # Nothing stays registered after a failed run: the name can be registered again.
    if cls.name != "dps":
        with pytest.raises(ipbench.Error, match="not part of this run|unknown solver"):
            ipbench.run(cfg, out=out, quiet=True)


def test_class_without_solve_is_refused(tmp):
    expect_setup_error(tmp, NoSolve, "python solver class test_errors.NoSolve has no solve(self, problem, noise)",
                       "rule: a solver defines solve")


def test_option_missing_from_the_signature_is_refused(tmp):
    expect_setup_error(tmp, MyDps, "config [solver.my_dps]", "python solver 'my_dps'", "unknown option 'zeta_max'",
                       "its __init__ accepts: zeta, steps", extra="zeta_max = 3\n")


def test_option_of_the_wrong_type_is_refused(tmp):
    expect_setup_error(tmp, MyDps, "[solver.my_dps]", "steps", "many", extra="[solver.my_dps]\nsteps = many\n",
                       my_dps_section=False)


def test_untyped_option_is_refused(tmp):
    expect_setup_error(tmp, Untyped, "option 'scale'", "rule: options are typed")


def test_name_of_a_builtin_solver_is_refused(tmp):
    class Dps(MyDps):
        name = "dps"

    expect_setup_error(tmp, Dps, "name 'dps' is taken")


def test_views_expire_after_solve(tmp):
    kept = {}

    class Keeps(MyDps):
        name = "keeps"

        def solve(self, problem, noise):
            kept["noise"], kept["op"] = noise, problem.op
            return ipbench.SolveResult(x=noise.gaussian(problem.prior.image_shape).to(problem.y))

    cfg = tiny_config(tmp, solvers="keeps", designs="iid", items=1, samples=2)
    ipbench.run(cfg, out=tmp / "run", solvers=[Keeps], quiet=True)
    with pytest.raises(ipbench.Error, match="used after solve"):
        kept["noise"].gaussian([1])
    with pytest.raises(ipbench.Error, match="used after solve"):
        kept["op"].forward(torch.zeros(1, 1, 32, 32))


def test_module_cli_exits_2_on_a_bad_solver_class(tmp):
    cfg = tiny_config(tmp, solvers="dps", items=1, samples=2)
    bad = tmp / "bad_solvers.py"
    bad.write_text("import ipbench\nclass Nope(ipbench.Solver):\n    name = 'nope'\n")
    p = subprocess.run([sys.executable, "-m", "ipbench", "run", "--config", cfg, "--solver", f"{bad}:Nope",
                        "--out", str(tmp / "run"), "--quiet"], capture_output=True, text=True, cwd=SOURCE_DIR)
    assert p.returncode == 2, p.stderr
    assert "has no solve(self, problem, noise)" in p.stderr
