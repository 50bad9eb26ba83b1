"""The console scripts. Nothing is imported before the guard, so Ctrl-C during the start (the CLI's imports take a
moment) exits 130 like anywhere else, never with a traceback."""

from __future__ import annotations

import importlib
import sys

EXIT_INTERRUPTED = 130


def vendor() -> None:
    """``alien-pulumi``."""
    _start("alien_pulumi.cli.main")


def admin() -> None:
    """``alien-deploy``."""
    _start("alien_pulumi.cli.deploy")


def _start(module: str) -> None:
    try:
        app = importlib.import_module(module).app
        from alien_pulumi.cli.common import run
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(run(app))
