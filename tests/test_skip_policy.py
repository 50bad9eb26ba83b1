"""The skip policy of tests/conftest.py (DESIGN.md §7), run on a throwaway test file in a pytest subprocess: in
CI only a test that needs a real cloud may skip; any other skip fails the run, and locally it is listed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

SKIPPING = """
import pytest

def test_runs():
    assert 1 + 1 == 2

def test_skips():
    pytest.skip({reason!r})
"""


def run(tmp_path: Path, reason: str, ci: str | None) -> subprocess.CompletedProcess[str]:
    test = tmp_path / "test_throwaway.py"
    test.write_text(SKIPPING.format(reason=reason))
    env = {k: v for k, v in os.environ.items() if k != "CI"} | ({"CI": ci} if ci is not None else {})
    # -p loads the project's conftest as a plugin, as pytest does for files under tests/; ROOT is the cwd, so
    # `tests` is importable. -c /dev/null keeps the project's testpaths and addopts out of the inner run.
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "-c", os.devnull,
                           "--rootdir", str(tmp_path), "-p", "no:cacheprovider", str(test)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_in_ci_a_skip_for_a_missing_tool_fails_the_run(tmp_path: Path) -> None:
    result = run(tmp_path, "docker-registry is not installed", "1")
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout
    assert "skips that are not real-cloud tests" in result.stdout
    assert "test_skips: Skipped: docker-registry is not installed" in result.stdout
    assert "CI: these skips fail the run" in result.stdout


def test_in_ci_a_real_cloud_skip_keeps_the_run_green(tmp_path: Path) -> None:
    result = run(tmp_path, "creates real cloud resources: set ALIEN_PULUMI_REAL_CLOUD=1 to run", "true")
    assert result.returncode == pytest.ExitCode.OK, result.stdout
    assert "1 passed, 1 skipped" in result.stdout
    assert "skips that are not real-cloud tests" not in result.stdout


@pytest.mark.parametrize("ci", [None, "false"])
def test_outside_ci_other_skips_are_listed_without_failing(tmp_path: Path, ci: str | None) -> None:
    result = run(tmp_path, "the Pulumi engine is not built", ci)
    assert result.returncode == pytest.ExitCode.OK, result.stdout
    assert "test_skips: Skipped: the Pulumi engine is not built" in result.stdout
    assert "CI: these skips fail the run" not in result.stdout
