from __future__ import annotations

from pathlib import Path

import pytest

import alien_pulumi as alien

# The fake `pulumi` CLI fixtures (fake_cli, recording) for every test folder that runs the Automation API code.
pytest_plugins = ["tests.fake_cli.fixtures"]

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
CATALOGS = ROOT.parent / "shared" / "catalogs"


def quickstart() -> alien.StackSpec:
    """The stack of the README and of the foundation issue: examples/my_app.py, written with the public API."""
    return alien.load_stack(ROOT / "examples" / "my_app.py")


@pytest.fixture
def spec() -> alien.StackSpec:
    return quickstart()
