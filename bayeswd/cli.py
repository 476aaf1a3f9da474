"""The ``bayeswd`` command: ``report``, ``run`` and ``list``.

Bad input ends with one line on stderr naming the fix and exit status 2.
"""

from __future__ import annotations

import argparse
import sys

from bayeswd import __version__


class UsageError(Exception):
    """A problem with what the user asked for; printed as one line, exit status 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bayeswd",
        description="Weight decay as a prior: ridge, gradient descent, MAP and posterior samples side by side.",
    )
    parser.add_argument("--version", action="version", version=f"bayeswd {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    report = sub.add_parser("report", help="run every analysis and write the report")
    report.add_argument("--out", default="bayeswd-report", help="output folder (default: %(default)s)")
    report.add_argument("--config", help="TOML file with analysis settings")
    report.add_argument("--quick", action="store_true", help="small sizes, for smoke tests")
    report.add_argument("--seed", type=int, default=None, help="seed for every random step (default: 0)")
    report.add_argument("--data", help="a .npz or .csv data file to use instead of the d2l data")
    report.add_argument("--no-cache", action="store_true", help="recompute everything")

    run = sub.add_parser("run", help="run one analysis and print its section")
    run.add_argument("analysis", help="analysis name (see `bayeswd list`)")
    run.add_argument("--out", help="also write the one-section report to this folder")
    run.add_argument("--config", help="TOML file with analysis settings")
    run.add_argument("--quick", action="store_true")
    run.add_argument("--seed", type=int, default=None)
    run.add_argument("--data")

    sub.add_parser("list", help="list the analyses and the question each answers")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if args.command == "list":
            return _list()
        from bayeswd.commands import run_command  # heavy imports only when needed

        return run_command(args)
    except (UsageError, ValueError) as err:
        print(f"bayeswd: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bayeswd: interrupted; the previous report was left as it was", file=sys.stderr)
        return 130


def _list() -> int:
    import analyses

    questions = analyses.questions()
    width = max(map(len, questions))
    for name, question in questions.items():
        print(f"{name:<{width}}  {question}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
