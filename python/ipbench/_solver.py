"""The Python solver interface (the contract of solvers/solver.h) and its checks."""
import dataclasses
import inspect
import re
import typing
from typing import Any, List, Optional, Tuple

import torch

from ._ipbench import Error


@dataclasses.dataclass(frozen=True)
class Requirements:
    """What a solver needs from the operator; the benchmark refuses an incompatible pair before running."""

    linear_operator: bool = False  #: needs A linear with a true adjoint (problem.op.adjoint)
    #: may be solved in one batch spanning several items ([benchmark] max_batch): problem.y is then
    #: [B, m...] per sample and problem.op applies each item's operator to its samples; declare it only
    #: when solve() uses y and op per sample (no scalar derived from y across the batch)
    item_batch: bool = False


@dataclasses.dataclass
class SolveResult:
    """What solve() returns."""

    x: torch.Tensor            #: [G*K, C, H, W] reconstructions, the run's dtype (noise.batch_size rows)
    nfe: Optional[int] = None  #: network evaluations per sample (default: nfe_per_sample())
    used: str = ""             #: what was used (steps, variance, ...), for reports


class Solver:
    """Base class of Python solvers.

    Subclasses set `name` (the registry name, lower_snake_case; default: the class name in snake case)
    and optionally `requirements`; take their options as keyword arguments of __init__ (typed by
    annotation or default: bool, int, float, str, list[str], list[float], list[int]; the config section
    [solver.<name>] sets them, unknown keys are errors); and define nfe_per_sample() and
    solve(problem, noise) -> SolveResult. Every random number must come from `noise`.
    """

    name: Optional[str] = None
    requirements: Requirements = Requirements()

    def nfe_per_sample(self) -> int:
        """Network evaluations per sample, known before running."""
        raise NotImplementedError

    def solve(self, problem, noise) -> SolveResult:
        """Reconstruct noise.batch_size samples of one item: problem.prior, problem.op, problem.y."""
        raise NotImplementedError

    def describe(self) -> str:
        """One line: the solver and its options (default: name and the __init__ options' attributes)."""
        opts = []
        for p in _init_parameters(type(self)):
            if hasattr(self, p.name):
                opts.append(f"{p.name}={getattr(self, p.name)!r}")
        return f"{solver_name(type(self))} ({_qualname(type(self))})" + (": " + ", ".join(opts) if opts else "")


_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_KINDS = {bool: "bool", int: "int", float: "float", str: "str"}
_LIST_KINDS = {str: "list[str]", float: "list[float]", int: "list[int]"}


def _qualname(cls) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def solver_name(cls) -> str:
    name = getattr(cls, "name", None)
    if name is None:
        name = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()
    return name


def _init_parameters(cls) -> List[inspect.Parameter]:
    init = cls.__init__
    if init is object.__init__:
        return []
    params = list(inspect.signature(init).parameters.values())[1:]  # drop self
    return params


def _kind(cls, p: inspect.Parameter, hints: dict) -> str:
    where = f"python solver class {_qualname(cls)}: option '{p.name}' of __init__"
    ann = hints.get(p.name, inspect.Parameter.empty)
    if ann is inspect.Parameter.empty:
        if p.default is inspect.Parameter.empty or p.default is None:
            raise Error(f"{where} has neither a type annotation nor a default "
                        "(rule: options are typed: annotate bool, int, float, str or list[...])")
        ann = type(p.default)
        if ann is list:
            items = {type(v) for v in p.default}
            if len(items) == 1:
                ann = List[items.pop()]
    if ann in _KINDS:
        return _KINDS[ann]
    origin = typing.get_origin(ann)
    args = typing.get_args(ann)
    if origin in (list, List) and len(args) == 1 and args[0] in _LIST_KINDS:
        return _LIST_KINDS[args[0]]
    raise Error(f"{where} has type {ann!r} (rule: options are bool, int, float, str, list[str], list[float] "
                "or list[int]; they come from the config section as text)")


def option_specs(cls) -> List[Tuple[str, str, bool, Any]]:
    """(name, kind, has_default, default) of every __init__ keyword option."""
    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:  # unresolvable string annotations: fall back to the raw ones
        hints = getattr(cls.__init__, "__annotations__", {})
    out = []
    for p in _init_parameters(cls):
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY):
            raise Error(f"python solver class {_qualname(cls)}: __init__ parameter '{p.name}' is "
                        f"{p.kind.description} (rule: options are named keyword arguments, one per config key)")
        has_default = p.default is not inspect.Parameter.empty
        out.append((p.name, _kind(cls, p, hints), has_default, p.default if has_default else None))
    return out


def check_solver_class(cls) -> str:
    """Checks a Python solver class against the interface; returns its name. Error naming the rule."""
    if not inspect.isclass(cls):
        raise Error(f"python solver {cls!r} is not a class (rule: pass the ipbench.Solver subclass itself)")
    where = f"python solver class {_qualname(cls)}"
    for method, sig in (("solve", "solve(self, problem, noise)"), ("nfe_per_sample", "nfe_per_sample(self)")):
        fn = getattr(cls, method, None)
        if not callable(fn) or fn is getattr(Solver, method):
            raise Error(f"{where} has no {sig} method (rule: a solver defines {sig}; see docs/python.md)")
    name = solver_name(cls)
    if not isinstance(name, str) or not _NAME.match(name):
        raise Error(f"{where}: name = {name!r} (rule: a lower_snake_case string, e.g. name = \"my_dps\")")
    req = getattr(cls, "requirements", Requirements())
    if not isinstance(req, Requirements):
        raise Error(f"{where}: requirements = {req!r} "
                    "(rule: an ipbench.Requirements(linear_operator=..., item_batch=...))")
    if not callable(getattr(cls, "describe", None)):
        raise Error(f"{where} has no describe(self) method (rule: subclass ipbench.Solver, which provides one)")
    return name


def description(cls) -> str:
    doc = inspect.getdoc(cls) if cls.__doc__ else ""
    first = doc.strip().splitlines()[0] if doc and doc.strip() else ""
    return f"python solver {_qualname(cls)}" + (f": {first}" if first else "")
