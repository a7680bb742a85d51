"""Running benchmarks and reading their results from Python (docs/python.md).

Thin wrappers over the C++ library: the run, the statistics and every file come from it, so a run
started here writes the same run folder as `ipbench run`.
"""
import dataclasses
import importlib
import importlib.util
import json
import os
import sys
from typing import Dict, Iterable, List, Optional, Sequence, Union

from . import _ipbench
from ._ipbench import Error
from ._solver import check_solver_class, description, option_specs

PathLike = Union[str, "os.PathLike[str]"]


@dataclasses.dataclass
class RunResult:
    """What run() returns; the run folder holds everything (records.csv, summary.json, ...)."""

    out: str             #: the run folder
    seconds: float       #: wall time of this invocation
    solved_samples: int  #: samples solved now (a resumed run skips finished ones)
    records: int         #: records in the run folder
    table: str           #: the console summary table (with the count of each status other than ok)
    failed_batches: int = 0  #: batches whose solver raised (recorded with status error:<message>)
    oom_splits: int = 0      #: batches that ran out of memory and were halved and retried
    #: with [benchmark] memory_budget_mib, per cell label: probe_samples, probe_peak_bytes,
    #: samples_per_batch, largest_batch_samples, largest_peak_bytes (docs/performance.md)
    batch_memory: dict = dataclasses.field(default_factory=dict)

    def summary(self) -> dict:
        """summary.json as a dict."""
        with open(os.path.join(self.out, "summary.json")) as f:
            return json.load(f)

    def load_records(self, as_frame: Optional[bool] = None):
        return load_records(self.out, as_frame=as_frame)


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _assignments(overrides: Optional[Dict]) -> List[str]:
    """{"benchmark.items": 2} or {"benchmark": {"items": 2}} -> ["benchmark.items=2"]."""
    out = []
    for key, value in (overrides or {}).items():
        if isinstance(value, dict):
            out += [f"{key}.{k}={_text(v)}" for k, v in value.items()]
        else:
            if "." not in key:
                raise Error(f"overrides: key {key!r} (rule: 'section.key', e.g. 'benchmark.items', "
                            "or a dict per section)")
            out.append(f"{key}={_text(value)}")
    return out


def _resolve_class(spec):
    """A class, or "module:Class" / "path/to/file.py:Class"."""
    if not isinstance(spec, str):
        return spec
    if ":" not in spec:
        raise Error(f"solver {spec!r}: expected module:Class (e.g. my_solvers:MyDps)")
    module, _, attr = spec.rpartition(":")
    try:
        if module.endswith(".py"):
            spec_ = importlib.util.spec_from_file_location(os.path.basename(module)[:-3], module)
            mod = importlib.util.module_from_spec(spec_)
            spec_.loader.exec_module(mod)
        else:
            if "" not in sys.path and os.getcwd() not in sys.path:
                sys.path.insert(0, os.getcwd())
            mod = importlib.import_module(module)
    except (ImportError, OSError) as e:
        raise Error(f"solver {spec!r}: cannot import {module}: {e}") from e
    try:
        return getattr(mod, attr)
    except AttributeError:
        raise Error(f"solver {spec!r}: module {module} has no {attr}") from None


def load_plugin(path: PathLike) -> dict:
    """Loads a C++ solver plugin (.so built with find_package(ipbench)); returns its name, versions, solvers."""
    return _ipbench.load_plugin(os.fspath(path))


def run(config: PathLike, out: Optional[PathLike] = None, solvers: Sequence = (),
        overrides: Optional[Dict] = None, plugins: Iterable[PathLike] = (), resume: bool = False,
        progress: bool = True, quiet: bool = False) -> RunResult:
    """Runs the benchmark of `config` (an .ini file) into `out` (default runs/<benchmark name>).

    solvers:   Python solver classes (or "module:Class" strings), registered for this run beside the
               built-in solvers and appended to [benchmark] solvers when the config does not list them;
               [solver.<name>] sets their __init__ options.
    overrides: {"section.key": value} or {"section": {"key": value}}, as `--set section.key=value`.
    plugins:   C++ solver plugins (.so) to load first.
    Raises ipbench.Error for configuration errors (naming the file, section, key and rule).
    """
    for p in plugins:
        load_plugin(p)
    names = []
    try:
        for s in solvers:
            cls = _resolve_class(s)
            name = check_solver_class(cls)
            specs = option_specs(cls)
            req = getattr(cls, "requirements")
            _ipbench.register_python_solver(name, description(cls), cls, specs, bool(req.linear_operator),
                                            bool(req.item_batch))
            names.append(name)
        r = _ipbench.run(os.fspath(config), _assignments(overrides), None if out is None else os.fspath(out),
                         resume, progress and not quiet, names)
    finally:
        for n in names:
            _ipbench.unregister_python_solver(n)
    result = RunResult(out=r["out"], seconds=r["seconds"], solved_samples=r["solved_samples"],
                       records=r["records"], table=r["table"], failed_batches=r["failed_batches"],
                       oom_splits=r["oom_splits"], batch_memory=dict(r["batch_memory"]))
    if not quiet:
        print(result.table)
        if result.failed_batches:
            print(f"{result.failed_batches} batch(es) failed in the solver: recorded with status error:<message>")
        if result.oom_splits:
            print(f"{result.oom_splits} batch(es) ran out of memory and were halved and retried")
        print(f"solved {result.solved_samples} samples in {result.seconds:.3g} s; wrote {result.out}/records.csv, "
              "summary.json, summary.md")
    return result


def summarize(run: PathLike, quiet: bool = True) -> dict:
    """Recomputes summary.json / summary.md of a run folder from its records; returns summary.json."""
    table = _ipbench.summarize(os.fspath(run))
    if not quiet:
        print(table)
    with open(os.path.join(os.fspath(run), "summary.json")) as f:
        return json.load(f)


def report(runs: Union[PathLike, Sequence[PathLike]], out: Optional[PathLike] = None, metric: str = "psnr",
           images: int = 7, title: str = "ipbench leaderboard", designs: Sequence[str] = ()) -> List[str]:
    """Leaderboard of one or more run folders (leaderboard.md/.csv/.json/.html); returns the files."""
    runs = [os.fspath(runs)] if isinstance(runs, (str, os.PathLike)) else [os.fspath(r) for r in runs]
    if out is None:
        if len(runs) != 1:
            raise Error(f"report: out is required with {len(runs)} run folders (with one, the leaderboard goes into it)")
        out = runs[0]
    if images < 0:
        raise Error(f"report: images = {images} (rule: images >= 0)")
    return _ipbench.report(runs, os.fspath(out), metric, images, title, list(designs))


def compare(baseline: PathLike, candidate: PathLike, margins: Optional[Dict[str, float]] = None,
            metrics: Sequence[str] = (), confidence: float = 0.95, out: Optional[PathLike] = None,
            quiet: bool = True) -> dict:
    """The regression gate (docs/compare.md): compare.json as a dict, with "passed" and "gate" added."""
    r = _ipbench.compare(os.fspath(baseline), os.fspath(candidate), dict(margins or {}), list(metrics), confidence)
    if out is not None:
        with open(os.fspath(out), "w") as f:
            f.write(r["json"])
    if not quiet:
        print(r["markdown"])
    result = json.loads(r["json"])
    result["passed"] = r["passed"]
    result["gate"] = r["gate"]
    return result


def load_records(run: PathLike, as_frame: Optional[bool] = None):
    """records.csv of a run folder: a pandas DataFrame when pandas is importable (or as_frame=True),
    else a list of dicts (one per sample: cell, operator, solver, design, group_size, item, group,
    member, one key per metric, nfe, seconds, status)."""
    rows = _ipbench.read_records(os.fspath(run))
    if as_frame is False:
        return rows
    try:
        import pandas
    except ImportError:
        if as_frame:
            raise
        return rows
    return pandas.DataFrame(rows)
