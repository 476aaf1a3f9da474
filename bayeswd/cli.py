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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to 64")
    return value


def _common_options(command: argparse.ArgumentParser, out_help: str) -> None:
    command.add_argument("--out", help=out_help)
    command.add_argument("--config", help="TOML file with analysis settings")
    command.add_argument("--quick", action="store_true", help="small sizes, for smoke tests")
    command.add_argument("--seed", type=int, default=None, help="seed for every random step, 0 to 2**32-1 "
                                                                 "(default: 0)")
    command.add_argument("--data", help="a .npz or .csv data file to use instead of the d2l data; the target is its "
                                        "last column unless --target says otherwise")
    command.add_argument("--target", metavar="NAME|INDEX", help="the target column of a --data .csv: a column name or a "
                                                               "0-based index (default: the last column)")
    command.add_argument("--no-cache", action="store_true", help="recompute everything, read and write no cache")
    command.add_argument("--cache-dir", help="cache folder (default: the user cache folder)")
    command.add_argument("--quiet", action="store_true", help="no progress display")
    command.add_argument("--jobs", type=_positive_int, metavar="N", help="sections computed at once, each in its own "
                                                                        "process (default: one per core, at most 4; "
                                                                        "1 computes them one after another)")
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
    _prior_parser(sub)
    return parser


def _prior_parser(sub) -> None:
    prior = sub.add_parser("prior", help="the prior a framework's training settings imply (or, with --prior-sd, "
                                         "the settings for a prior)",
                           description="What prior does a training setting imply? Prints the canonical λ, the "
                                       "prior sd and every framework's equivalent knob.")
    prior.add_argument("--framework", default="pytorch", help="pytorch (torch), optax (jax), keras (tensorflow), "
                                                               "mxnet, d2l-scratch, sklearn or glmnet")
    prior.add_argument("--optimizer", default=None, help="sgd, adam (decay in the gradient) or adamw "
                                                         "(decoupled); closed-form for sklearn and glmnet")
    prior.add_argument("--weight-decay", type=float, help="the framework's knob (weight_decay, l2(wd), alpha, lambda)")
    prior.add_argument("--n", type=int, help="training rows (default: those of --data)")
    prior.add_argument("--lr", type=float, help="learning rate")
    prior.add_argument("--batch-size", type=int, help="rows per step (default: all)")
    prior.add_argument("--epochs", type=int, help="epochs of the run")
    prior.add_argument("--steps", type=int, help="steps of the run (instead of --epochs)")
    prior.add_argument("--loss", help="mse, half_mse, sse, half_sse, nll or sum_nll (default: the framework's)")
    prior.add_argument("--penalty", default="l2", help="l2 (Gaussian prior) or l1 (Laplace prior)")
    prior.add_argument("--decay", help="coupled or decoupled (default: by optimizer)")
    bias = prior.add_mutually_exclusive_group()
    bias.add_argument("--decay-bias", dest="decay_bias", action="store_true", default=None,
                      help="the decay reaches the bias")
    bias.add_argument("--no-decay-bias", dest="decay_bias", action="store_false", help="the bias is not decayed")
    prior.add_argument("--noise-sd", type=float, help="noise sd σ of a squared-error loss")
    prior.add_argument("--data", help="a .npz or .csv file to estimate σ from (its training rows)")
    prior.add_argument("--momentum", type=float, default=0.0, help="heavy-ball momentum")
    prior.add_argument("--init-sd", type=float, help="the init's sd (for the null-space part a run leaves)")
    prior.add_argument("--outputs", type=int, default=1, help="targets a mean loss averages over")
    prior.add_argument("--prior-sd", type=float, help="the inverse: the weight_decay for this prior sd (or "
                                                      "Laplace scale with --penalty l1)")
    prior.add_argument("--json", action="store_true", help="print JSON instead of the table")


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns the exit status (2 for bad input, 130 after Ctrl-C)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    from bayeswd._interrupts import InterruptFlag

    try:
        # Raised before the heavy imports: a signal during them ends the run like one during computing.
        with InterruptFlag() as interrupt:
            return _dispatch(args, interrupt)
    except (ValueError, TrainingDiverged) as err:  # UsageError, OutputError and every checked input
        print(f"bayeswd: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"bayeswd: error: {_one_line(err)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as err:
        import signal

        signum = int(getattr(err, "signum", signal.SIGINT))
        print(f"bayeswd: interrupted ({signal.Signals(signum).name}); the previous report was left as it was",
              file=sys.stderr)
        return 128 + signum


def _dispatch(args, interrupt) -> int:
    if args.command == "list":
        return _list()
    if args.command == "prior":
        return _prior(args)
    _expand_paths(args)
    if getattr(args, "out", None) is not None and not str(args.out).strip():
        raise ValueError("--out is empty; name the folder the report goes to (for example --out bayeswd-report)")
    if args.out:  # refuse a bad --out before the heavy imports, let alone any computing
        from bayeswd.output import check_output

        check_output(args.out)
    from bayeswd.commands import run_command  # heavy imports only when needed
    from bayeswd.protocol.cache import CacheWarning

    with warnings.catch_warnings():
        # The command's own warnings are shown, as one line each, whatever the caller's filters say.
        warnings.simplefilter("always", CacheWarning)
        warnings.showwarning = _one_line_warning
        return run_command(args, interrupt)


def _expand_paths(args) -> None:
    """``~`` in a path option means the home folder, as in a shell (``--cache-dir=~/x`` is not expanded by it)."""
    import os

    for name in ("out", "cache_dir", "config", "data"):
        value = getattr(args, name, None)
        if isinstance(value, str) and value.startswith("~"):
            setattr(args, name, os.path.expanduser(value))


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    print(f"bayeswd: warning: {_one_line(message) if isinstance(message, Warning) else message}", file=sys.stderr)


def console_main() -> None:
    """The console script. After Ctrl-C it exits at once: a compiled computation still running in a
    worker thread would otherwise hold the interpreter's shutdown until it finished. After a command
    that loaded JAX it also leaves without the interpreter's teardown (the exit handlers still run)."""
    status = main()
    if status > 128 or "jax" in sys.modules:   # a signal: 130 after Ctrl-C, 143 after SIGTERM, 129 after SIGHUP
        if status <= 128:
            # Done, everything written: run the exit handlers but skip tearing down the interpreter's
            # thousands of modules and XLA's runtime (≈ 1 s of a report's wall time, to no one's benefit).
            import atexit

            atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)


def _prior(args) -> int:
    import json

    from bayeswd import implied

    if args.prior_sd is not None:
        if args.weight_decay is not None:
            raise ValueError("give --weight-decay (what prior does it imply?) or --prior-sd (which weight_decay "
                             "gives it?), not both")
        if args.n is None:
            raise ValueError("give --n, the number of training rows")
        result = implied.settings_for_prior(args.prior_sd, args.noise_sd, args.n, args.framework,
                                            optimizer=args.optimizer or _default_optimizer(args.framework),
                                            prior="laplace" if args.penalty == "l1" else "gaussian",
                                            loss=args.loss, batch_size=args.batch_size, n_outputs=args.outputs,
                                            lr=args.lr)
        if args.json:
            print(json.dumps({k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(result).items()},
                             indent=2))
        else:
            print(f"{result.framework} {result.optimizer}: {result.knob} with wd = {result.weight_decay:.6g} "
                  f"(canonical λ = {result.lam:.6g}, loss {result.loss})"
                  + (f"; lr = {result.lr:.6g} follows the same path" if result.lr is not None else ""))
            for note in result.notes:
                print(f"note: {note}")
        return 0
    if args.weight_decay is None:
        raise ValueError("give --weight-decay (the framework's knob) or --prior-sd")
    data = None
    if args.data:
        from bayeswd.data import load

        data = load(args.data)
    n = args.n if args.n is not None else (data.n_train if data is not None else None)
    if n is None:
        raise ValueError("give --n, the number of training rows (or --data to read it from)")
    result = implied.implied_prior(args.framework, args.optimizer or _default_optimizer(args.framework),
                                   args.weight_decay, n=n, lr=args.lr, batch_size=args.batch_size,
                                   epochs=args.epochs, steps=args.steps, loss=args.loss, penalty=args.penalty,
                                   decay=args.decay, decay_bias=args.decay_bias, noise_sd=args.noise_sd,
                                   data=data, momentum=args.momentum, init_sd=args.init_sd, n_outputs=args.outputs)
    print(result.to_json() if args.json else result)
    return 0


def _default_optimizer(framework: str) -> str:
    return "closed-form" if str(framework).lower() in ("sklearn", "scikit-learn", "glmnet") else "sgd"


def _list() -> int:
    from bayeswd import analyses

    questions = analyses.questions()
    width = max(map(len, questions))
    for name, question in questions.items():
        print(f"{name:<{width}}  {question}")
    return 0


if __name__ == "__main__":
    console_main()
