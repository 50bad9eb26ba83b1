from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from tests.moto_server import moto_server

HERE = Path(__file__).parent
ADMIN_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIAADMIN",
    "AWS_SECRET_ACCESS_KEY": "admin-secret",
    "AWS_PROFILE": "customer-admin",
    "GOOGLE_APPLICATION_CREDENTIALS": "/home/admin/gcp.json",
    "ARM_CLIENT_SECRET": "admin-azure-secret",
}


@dataclass
class FakeCli:
    bin_dir: Path
    log: Path

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def call(self, verb: str) -> dict[str, Any]:
        matching = [c for c in self.calls() if verb in c["args"]]
        assert matching, f"no `pulumi {verb}` call in {[c['args'] for c in self.calls()]}"
        return matching[-1]


@pytest.fixture
def fake_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCli]:
    """A stand-in `pulumi` on PATH that records every call; the admin's credentials in the environment, and an
    IAM and S3 (moto's) where setup asks whether the vendor's access is revoked and keeps its record's copy."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "pulumi"
    script.write_text(f"#!{sys.executable}\n" + (HERE / "fake_pulumi.py").read_text())
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "pulumi-calls.jsonl"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_PULUMI_LOG", str(log))
    monkeypatch.setenv("FAKE_PULUMI_EVENTS", str(HERE / "data" / "release-events.jsonl"))
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    for key, value in ADMIN_ENV.items():
        monkeypatch.setenv(key, value)
    config = tmp_path / "aws-config"
    config.write_text(f"[profile {ADMIN_ENV['AWS_PROFILE']}]\nregion = us-east-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    from moto.s3.models import s3_backends

    with moto_server(reset=(s3_backends,)) as moto:
        monkeypatch.setenv("AWS_ENDPOINT_URL_IAM", moto)
        monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto)  # where setup keeps its record's copy
        yield FakeCli(bin_dir, log)


class RecordingPulumiCommand(auto.PulumiCommand):
    """The real PulumiCommand (argument handling, environment merge, subprocess) against the fake CLI,
    keeping each call's final arguments and environment."""

    calls: list[tuple[list[str], dict[str, str]]] = []

    def run(self, args: list[str], cwd: str, additional_env: Any, on_output: Any = None,
            on_error: Any = None) -> auto.CommandResult:
        try:
            return super().run(args, cwd, additional_env, on_output, on_error)
        finally:
            RecordingPulumiCommand.calls.append((list(args), {**os.environ, **additional_env}))


@pytest.fixture
def recording() -> type[RecordingPulumiCommand]:
    RecordingPulumiCommand.calls = []
    return RecordingPulumiCommand
