"""The ``bayeswd`` command: ``report``, ``run`` and ``list``.

Bad input ends with one line on stderr naming the fix and exit status 2, before any
computing where it can be known then; Ctrl-C ends with status 130 and leaves the
previous report in place.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings

from bayeswd import __version__
from bayeswd.exceptions import TrainingDiverged


class _Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line naming the fix, like every other bayeswd error."""

    def error(self, message):
        print(f"bayeswd: error: {message}; see `{self.prog} --help`", file=sys.stderr)
        sys.exit(2)


def _common_options(command: argparse.ArgumentParser, out_help: str) -> None:
    command.add_argument("--out", help=out_help)
    command.add_argument("--config", help="TOML file with analysis settings")
    command.add_argument("--quick", action="store_true", help="small sizes, for smoke tests")
    command.add_argument("--seed", type=int, default=None, help="seed for every random step, 0 to 2**32-1 "
                                                                 "(default: 0)")
    command.add_argument("--data", help="a .npz or .csv data file to use instead of the d2l data")
    command.add_argument("--no-cache", action="store_true", help="recompute everything, read and write no cache")
    command.add_argument("--cache-dir", help="cache folder (default: the user cache folder)")
    command.add_argument("--quiet", action="store_true", help="no progress display")
    command.add_argument("--scheduler", metavar="ADDRESS", help="run the large sweeps on a Dask cluster: a "
                         "scheduler address (tcp://host:8786) or 'local' for a cluster of this machine's cores "
                         "(needs the 'distributed' extra)")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="bayeswd", description="Weight decay as a prior: ridge, gradient descent, MAP and "
                                                 "posterior samples side by side.")
    parser.add_argument("--version", action="version", version=f"bayeswd {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    report = sub.add_parser("report", help="run every analysis and write the report")
    _common_options(report, "output folder: missing, empty, or a report bayeswd wrote (default: bayeswd-report)")
    report.set_defaults(out="bayeswd-report")
    run = sub.add_parser("run", help="run one analysis and print its section")
    run.add_argument("analysis", help="analysis name (see `bayeswd list`)")
    _common_options(run, "also write the one-section report to this folder (missing, empty, or a bayeswd report)")
    sub.add_parser("list", help="list the analyses and the question each answers")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit status (2 for bad input, 130 after Ctrl-C)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if args.command == "list":
            return _list()
        if args.out:  # refuse a bad --out before the heavy imports, let alone any computing
            from bayeswd.report.output import check_output

            check_output(args.out)
        from bayeswd.commands import run_command  # heavy imports only when needed

        from bayeswd.report.cache import CacheWarning

        with warnings.catch_warnings():
            # The command's own warnings are shown, as one line each, whatever the caller's filters say.
            warnings.simplefilter("always", CacheWarning)
            warnings.showwarning = _one_line_warning
            return run_command(args)
    except (ValueError, TrainingDiverged) as err:  # UsageError, OutputError and every checked input
        print(f"bayeswd: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"bayeswd: error: {_one_line(err)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bayeswd: interrupted; the previous report was left as it was", file=sys.stderr)
        return 130


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    print(f"bayeswd: warning: {_one_line(message) if isinstance(message, Warning) else message}", file=sys.stderr)


def console_main() -> None:
    """The console script. After Ctrl-C it exits at once: a compiled computation still running in a
    worker thread would otherwise hold the interpreter's shutdown until it finished."""
    status = main()
    if status == 130:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    sys.exit(status)


def _list() -> int:
    from bayeswd import analyses

    questions = analyses.questions()
    width = max(map(len, questions))
    for name, question in questions.items():
        print(f"{name:<{width}}  {question}")
    return 0


if __name__ == "__main__":
    console_main()
