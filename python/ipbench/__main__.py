"""python3 -m ipbench: run benchmarks with Python solvers from the command line (docs/python.md).

  python3 -m ipbench run --config x.ini --solver mymodule:MyDps [--solver ...] [--set section.key=value ...]
                         [--out DIR] [--plugin P.so ...] [--resume] [--quiet]
  python3 -m ipbench summarize DIR
  python3 -m ipbench report RUN_DIR... [--out DIR] [--metric psnr]
  python3 -m ipbench compare BASELINE CANDIDATE [--margin metric=value ...]

Exit status: 0 success, 2 bad input (configuration, solver class), 3 `compare`: the gate failed.
"""
import argparse
import sys

import ipbench


def _set(text):
    if "=" not in text or "." not in text.split("=", 1)[0]:
        raise argparse.ArgumentTypeError(f"{text!r}: expected section.key=value")
    key, value = text.split("=", 1)
    return key.strip(), value.strip()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m ipbench", description="ipbench with Python solvers")
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a benchmark (built-in, Python and plugin solvers side by side)")
    r.add_argument("--config", "-c", required=True)
    r.add_argument("--solver", action="append", default=[], help="module:Class or file.py:Class (repeatable)")
    r.add_argument("--set", action="append", default=[], type=_set, help="section.key=value (repeatable)")
    r.add_argument("--out", "-o")
    r.add_argument("--plugin", action="append", default=[], help="C++ solver plugin .so (repeatable)")
    r.add_argument("--resume", action="store_true")
    r.add_argument("--quiet", "-q", action="store_true")
    s = sub.add_parser("summarize", help="recompute a run's summary from its records")
    s.add_argument("dir")
    p = sub.add_parser("report", help="leaderboard of run folders")
    p.add_argument("runs", nargs="+")
    p.add_argument("--out", "-o")
    p.add_argument("--metric", "-m", default="psnr")
    c = sub.add_parser("compare", help="regression gate: exit 3 when a metric got significantly worse")
    c.add_argument("baseline")
    c.add_argument("candidate")
    c.add_argument("--margin", action="append", default=[], help="metric=value (repeatable)")
    c.add_argument("--out")
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            ipbench.run(args.config, out=args.out, solvers=args.solver, overrides=dict(args.set),
                        plugins=args.plugin, resume=args.resume, progress=not args.quiet)
        elif args.command == "summarize":
            ipbench.summarize(args.dir, quiet=False)
        elif args.command == "report":
            for f in ipbench.report(args.runs, out=args.out, metric=args.metric):
                print("wrote", f)
        elif args.command == "compare":
            margins = {}
            for m in args.margin:
                key, _, value = m.partition("=")
                try:
                    margins[key.strip()] = float(value)
                except ValueError:
                    raise ipbench.Error(f"--margin {m}: expected metric=value, e.g. --margin psnr=0.1") from None
            result = ipbench.compare(args.baseline, args.candidate, margins=margins, out=args.out, quiet=False)
            return 0 if result["passed"] else 3
    except ipbench.Error as e:
        print(f"ipbench: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
