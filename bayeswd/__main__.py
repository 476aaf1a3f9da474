"""``python -m bayeswd``: the same as the ``bayeswd`` command."""

from bayeswd.cli import console_main

console_main()
