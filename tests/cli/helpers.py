"""Run the CLIs in-process (CliRunner) and as installed console scripts."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner, Result

from alien_pulumi.cli.main import app

runner = CliRunner()


def run(*args: str) -> Result:
    return runner.invoke(app, list(args), catch_exceptions=False)


def run_json(*args: str) -> Any:
    result = run(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)
