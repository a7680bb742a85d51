"""The Python DPS of examples/python/my_dps.py gives the built-in dps's records: same measurements,
same coupled noise, same arithmetic (float32: 1e-6 relative; float64: exactly), iid and antithetic,
and the run's paired comparison my_dps - dps is 0."""
import pytest

import ipbench
from conftest import assert_same_records, records_by_key, tiny_config
from my_dps import MyDps

METRICS = ("l1", "psnr", "residual")


@pytest.mark.parametrize("dtype,rel", [("float32", 1e-6), ("float64", 0.0)])
def test_python_dps_equals_builtin_dps(tmp, dtype, rel):
    out = tmp / "run"
    result = ipbench.run(tiny_config(tmp, dtype=dtype), out=out, solvers=[MyDps], quiet=True)
    assert result.records == 2 * 2 * 2 * 4  # solvers x designs x items x samples
    assert assert_same_records(out, "my_dps", "dps", METRICS, rel=rel) == 2 * 2 * 4 * len(METRICS)
    recs = records_by_key(out)
    assert {r["nfe"] for r in recs.values()} == {6}
    # The noise really is coupled: the antithetic members of a pair differ.
    a = recs[("inpaint", "my_dps", "antithetic", 0, 0, 0)]["l1"]
    b = recs[("inpaint", "my_dps", "antithetic", 0, 0, 1)]["l1"]
    assert a != b

    # The paired comparison of the summary: the difference of the two implementations is 0.
    summary = result.summary()
    pairs = [c for c in summary["comparisons"] if {c["solver_a"], c["solver_b"]} == {"dps", "my_dps"}]
    assert len(pairs) == 2 * len(METRICS)  # per design and metric
    for c in pairs:
        if rel == 0.0:
            assert c["difference"] == 0.0, c
        else:
            assert abs(c["difference"]) <= 1e-5 * max(1.0, abs(c["mean_a"])), c

def test_python_solver_options_come_from_the_config(tmp):
    out = tmp / "run"
    cfg = tiny_config(tmp, solvers="my_dps", designs="iid", items=1, samples=2)
    ipbench.run(cfg, out=out, solvers=[MyDps], overrides={"solver.my_dps.steps": 3}, quiet=True)
    recs = ipbench.load_records(out, as_frame=False)
    assert {r["nfe"] for r in recs} == {3}
    resolved = (out / "config.resolved.ini").read_text()
    assert "[solver.my_dps]" in resolved and "steps = 3" in resolved and "zeta = 0.5" in resolved
