"""Real Pulumi CLI runs of `alien-deploy` as a subprocess, with a file:// backend: `preview` on the engine built by
tools/engine/build.sh against the fake provider plugins (never skipped), and `up` against a real cloud with the
real provider plugin, only with ALIEN_PULUMI_REAL_CLOUD=1 (it creates real resources)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.artifacts import artifact
from tests.conftest import ROOT
from tests.engine.fixtures import Engine, engine
from tests.engine.flows import CONTEXT
from tests.engine.harness import EngineMissing, engine_bin

__all__ = ["engine"]
pytestmark = pytest.mark.engine
PLATFORM = os.environ.get("ALIEN_PULUMI_REAL_PLATFORM", "aws")
# Without a vendor's bundle, the admin gives the context as flags; AWS needs the external id the vendor generated.
FLAGS = [*CONTEXT[PLATFORM], *(["--external-id", "e" * 40] if PLATFORM == "aws" else [])]
STACK = ROOT / "examples" / "event_pipeline.py"


def alien_deploy(*args: str, state: Path) -> subprocess.CompletedProcess[str]:
    backend = (state / "backend").as_uri()
    (state / "backend").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PULUMI_CONFIG_PASSPHRASE": "alien-real-cli-test"}
    return subprocess.run([sys.executable, "-m", "alien_pulumi.cli.deploy", *args, str(artifact(STACK)), "-p", PLATFORM,
                           "--prefix", "alien-cli-test", "--backend", backend, "--state-dir", str(state),
                           *FLAGS],
                          capture_output=True, text=True, env=env, timeout=1800)


def test_preview_with_a_file_backend(engine: Engine, tmp_path: Path) -> None:
    result = alien_deploy("preview", state=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "preview:" in result.stdout
    assert (tmp_path / "workspaces" / "alien-cli-test" / "provision" / "Pulumi.yaml").exists()
    assert any((tmp_path / "backend").rglob("*.json*")), "the DIY backend holds the stack"
    assert {c["method"] for c in engine.clouds[PLATFORM].calls()} >= {"Configure", "Check", "Create"}


@pytest.mark.skipif(os.environ.get("ALIEN_PULUMI_REAL_CLOUD") != "1",
                    reason="creates real cloud resources: set ALIEN_PULUMI_REAL_CLOUD=1 to run")
def test_up_then_preview_shows_no_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        monkeypatch.setenv("PATH", f"{engine_bin()}{os.pathsep}{os.environ['PATH']}")
    except EngineMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    result = alien_deploy("up", "--yes", state=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "records" / "alien-cli-test.json").exists()
    again = alien_deploy("preview", state=tmp_path)
    summary = again.stdout.split("preview:")[-1]
    assert again.returncode == 0 and not any(op in summary for op in ("create", "update", "replace", "delete"))
