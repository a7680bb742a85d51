"""ipbench: benchmark diffusion inverse-problem solvers with variance-reduced confidence intervals.

Write a solver in PyTorch against a small interface and run it beside ipbench's built-in solvers,
with the same measurements and the same coupled noise (docs/python.md):

    import ipbench

    class MyDps(ipbench.Solver):
        name = "my_dps"
        def __init__(self, zeta: float = 0.3, steps: int = 100): ...
        def nfe_per_sample(self): return self.steps
        def solve(self, problem, noise): ...   # returns ipbench.SolveResult(x=..., nfe=...)

    ipbench.run("configs/python-dps.ini", out="runs/mine", solvers=[MyDps])
"""
import torch  # noqa: F401  (loads LibTorch and torch's Python bindings before the extension)

from . import _ipbench
from ._ipbench import DdpmChain, Error, NoiseStream, Operator, Prior, Problem
from ._api import RunResult, compare, load_plugin, load_records, report, run, summarize
from ._solver import Requirements, SolveResult, Solver

__version__ = _ipbench.version
#: The LibTorch version the extension was built against.
torch_version = _ipbench.torch_version

__all__ = [
    "DdpmChain", "Error", "NoiseStream", "Operator", "Prior", "Problem", "Requirements", "RunResult",
    "SolveResult", "Solver", "compare", "load_plugin", "load_records", "report", "run", "summarize",
]
