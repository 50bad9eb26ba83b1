"""Real Pulumi CLI runs: `alien-deploy preview` and `up` with a file:// backend. They run where `pulumi` is on
PATH (with the provider plugin and cloud credentials for the chosen platform); elsewhere they are skipped
with the reason. `up` creates real resources, so it also needs ALIEN_PULUMI_REAL_CLOUD=1."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("pulumi") is None, reason="the Pulumi CLI is not on PATH")
PLATFORM = os.environ.get("ALIEN_PULUMI_REAL_PLATFORM", "aws")
STACK = ROOT / "examples" / "event_pipeline.py"


def alien_deploy(*args: str, state: Path) -> subprocess.CompletedProcess[str]:
    backend = (state / "backend").as_uri()
    (state / "backend").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PULUMI_CONFIG_PASSPHRASE": "alien-real-cli-test"}
    return subprocess.run([sys.executable, "-m", "alien_pulumi.cli.deploy", *args, str(STACK), "-p", PLATFORM,
                           "--prefix", "alien-cli-test", "--backend", backend, "--state-dir", str(state)],
                          capture_output=True, text=True, env=env, timeout=1800)


def test_preview_with_a_file_backend(tmp_path: Path) -> None:
    result = alien_deploy("preview", state=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "preview:" in result.stdout
    assert (tmp_path / "workspaces" / "alien-cli-test" / "provision" / "Pulumi.yaml").exists()
    assert any((tmp_path / "backend").rglob("*.json*")), "the DIY backend holds the stack"


@pytest.mark.skipif(os.environ.get("ALIEN_PULUMI_REAL_CLOUD") != "1",
                    reason="creates real cloud resources: set ALIEN_PULUMI_REAL_CLOUD=1 to run")
def test_up_then_preview_shows_no_changes(tmp_path: Path) -> None:
    result = alien_deploy("up", "--yes", state=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "records" / "alien-cli-test.json").exists()
    again = alien_deploy("preview", state=tmp_path)
    summary = again.stdout.split("preview:")[-1]
    assert again.returncode == 0 and not any(op in summary for op in ("create", "update", "replace", "delete"))
