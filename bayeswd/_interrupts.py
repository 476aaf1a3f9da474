"""Every signal that stops a run ends it the same way, from the first line of the CLI on.

Light on purpose (no NumPy, no JAX): the CLI raises the flag before its heavy imports, so
Ctrl-C during them is one line too, not a traceback.
"""

from __future__ import annotations

import contextlib
import sys

from bayeswd.exceptions import Interrupted


class InterruptFlag:
    """Remember Ctrl-C even when a library swallows it: PyMC's find_MAP and pm.sample catch
    KeyboardInterrupt and return early, and an interrupt inside an import can be swallowed too,
    which would let a half-computed report be written. ``check()`` is called after each
    analysis and before writing."""

    SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")   # Ctrl-C, and what timeout, systemd, docker stop and CI send

    def __init__(self):
        self.seen = False
        self.signum = None
        self._deferring = False

    @contextlib.contextmanager
    def deferred(self):
        """Only record a signal inside this block, and raise it on leaving: an exception raised inside a
        compiled extension's import (jaxlib registering its types with nanobind) aborts the process
        (SIGABRT, 'Critical nanobind error') instead of ending the run with one line."""
        previous, self._deferring = self._deferring, True
        try:
            yield
        finally:
            self._deferring = previous
        self.check()

    def check(self) -> None:
        if self.seen:
            raise Interrupted(self.signum)

    def _handler(self, signum, frame):
        self.seen = True
        self.signum = signum
        if not self._deferring:
            raise Interrupted(signum)

    def _unraisable(self, info):
        # Ctrl-C landing in a callback Python cannot raise from (JAX's gc hook, say) is already
        # recorded in the flag; other unraisable errors are reported as usual.
        if not isinstance(info.exc_value, KeyboardInterrupt):
            self._previous_hook(info)

    def __enter__(self):
        import signal
        import threading

        self._previous = {}
        if threading.current_thread() is threading.main_thread():
            for name in self.SIGNALS:
                if hasattr(signal, name):
                    number = getattr(signal, name)
                    self._previous[number] = signal.signal(number, self._handler)
        self._previous_hook, sys.unraisablehook = sys.unraisablehook, self._unraisable
        return self

    def __exit__(self, exc_type, exc, tb):
        import signal

        sys.unraisablehook = self._previous_hook
        for number, previous in self._previous.items():
            signal.signal(number, previous)
        if self.seen and not isinstance(exc, Interrupted):
            # A failure after a signal (an import it cut short, a library's own KeyboardInterrupt) is the
            # interruption's doing, and says which signal it was.
            raise Interrupted(self.signum) from exc
        return False
