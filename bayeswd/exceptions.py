"""The errors and warnings bayeswd raises on purpose, each naming what to change."""

from __future__ import annotations

__all__ = ["ConvergenceWarning", "TrainingDiverged", "BudgetError", "UsageError", "Interrupted"]


class ConvergenceWarning(UserWarning):
    """An iterative solver stopped at its iteration limit before its own stopping test held.

    Like scikit-learn's warning of the same name, the message names the setting to
    change and its current value. The result is returned, but it is not the optimum.
    """


class TrainingDiverged(FloatingPointError):
    """Gradient descent blew up: the objective overflowed or grew far past its start.

    The message names the epoch, the step, the learning rate and the stability bound.
    """


class BudgetError(ValueError):
    """A request would take more time or memory than bayeswd allows itself; the message names the budget."""


class UsageError(ValueError):
    """A problem with what the user asked for on the command line; printed as one line, exit status 2."""


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal; ``signum`` names it (SIGINT for Ctrl-C).

    Parameters
    ----------
    signum : int, optional
        The signal (default SIGINT).
    """

    def __init__(self, signum=None):
        import signal

        super().__init__()
        self.signum = signal.SIGINT if signum is None else signum
