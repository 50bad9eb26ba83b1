from __future__ import annotations

import os
from pathlib import Path

import pytest

import alien_pulumi as alien

# The fake `pulumi` CLI fixtures (fake_cli, recording) for every test folder that runs the Automation API code.
pytest_plugins = ["tests.fake_cli.fixtures"]

ROOT = Path(__file__).resolve().parents[1]
# The one reason a test may skip (DESIGN.md §7): it needs a real cloud account. Its skip reason says so.
REAL_CLOUD = "real cloud"
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
CATALOGS = ROOT / "tests" / "data" / "catalogs"  # iam-dataset (MIT), kept in the repository: see its README


def quickstart() -> alien.StackSpec:
    """The stack of the README and of the foundation issue: examples/my_app.py, written with the public API."""
    return alien.load_stack(ROOT / "examples" / "my_app.py")


@pytest.fixture
def spec() -> alien.StackSpec:
    return quickstart()


def unexpected_skips(terminalreporter: pytest.TerminalReporter) -> list[str]:
    """Skips whose reason does not say the test needs a real cloud (a missing tool, catalog or service)."""
    out = []
    for report in terminalreporter.stats.get("skipped", []):
        reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if REAL_CLOUD not in reason:
            out.append(f"{report.nodeid}: {reason}")
    return out


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """In CI (``CI`` set, as CI services and .ci/run do) a skip for any other reason than a real cloud fails the
    run: a CI without the catalogs, parliament, moto or the Pulumi engine must not stay green. Locally such skips
    are listed and the run keeps its status, so a developer without the engine build can still run the suite.
    (This runs before the terminal summary, which shows the list.)"""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    skips = unexpected_skips(reporter)
    session.config.stash[_SKIPS] = skips
    if skips and in_ci() and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
                            ) -> None:
    skips = config.stash.get(_SKIPS, [])
    if skips:
        terminalreporter.section("skips that are not real-cloud tests")
        for line in skips:
            terminalreporter.write_line(line)
        if in_ci():
            terminalreporter.write_line("CI: these skips fail the run (only tests needing a real cloud may skip)")


_SKIPS = pytest.StashKey[list[str]]()
