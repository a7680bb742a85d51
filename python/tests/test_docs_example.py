"""docs/python.md's DPS example is examples/python/my_dps.py verbatim, and runs as written."""
import os
import re
import subprocess
import sys

from conftest import SOURCE_DIR

import ipbench


def test_docs_show_the_example_in_full():
    doc = open(os.path.join(SOURCE_DIR, "docs", "python.md")).read()
    blocks = re.findall(r"```python\n(.*?)```", doc, flags=re.S)
    example = open(os.path.join(SOURCE_DIR, "examples", "python", "my_dps.py")).read()
    assert example in blocks, "docs/python.md must show examples/python/my_dps.py in full, unchanged"


def test_example_runs_as_written(tmp_path):
    # A fresh folder with the repository's configs/ and models/: the example's relative paths resolve,
    # and its runs/ folder is new.
    for d in ("configs", "models"):
        os.symlink(os.path.join(SOURCE_DIR, d), tmp_path / d)
    script = os.path.join(SOURCE_DIR, "examples", "python", "my_dps.py")
    env = dict(os.environ, PYTHONPATH=os.environ.get("PYTHONPATH", ""))
    p = subprocess.run([sys.executable, script], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "16 records; 16 ok" in p.stdout
    summary = ipbench.summarize(tmp_path / "runs" / "python-dps")
    pairs = [c for c in summary["comparisons"] if {c["solver_a"], c["solver_b"]} == {"dps", "my_dps"}]
    assert pairs and all(abs(c["difference"]) <= 1e-5 * max(1.0, abs(c["mean_a"])) for c in pairs)
