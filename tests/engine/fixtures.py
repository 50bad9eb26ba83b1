"""Fixtures of the engine tests: the real Pulumi engine (tools/engine/build.sh) and the fake provider plugins.
A missing engine build fails every test using them with the command that builds it; nothing skips.

The stack's state lives where a vendor's release can reach it (a record on local file:// state is refused):
an S3 bucket in moto (server mode, loopback), named by the backend URL the vendor registers the deployment
with, endpoint included, so the engine reaches it from a management run's scrubbed environment too."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.engine.fake_provider import FakeCloud
from tests.engine.harness import EngineMissing, engine_environment, install_plugins
from tests.gcp_token_server import TokenServer, token_server
from tests.moto_server import moto_server

BACKEND_ENV = "ALIEN_ENGINE_TEST_BACKEND"  # read by tests.engine.flows when registering a deployment


@dataclass
class Engine:
    home: Path
    clouds: dict[str, FakeCloud]
    moto: str


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The pinned engine on PATH, the fake plugins in a private PULUMI_HOME, the state bucket in moto, the
    admin's credentials set."""
    import boto3

    from tests.fake_cli.fixtures import ADMIN_ENV

    home = tmp_path / "pulumi-home"
    try:
        env = engine_environment(home)
    except EngineMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    states = install_plugins(home, tmp_path / "cloud")
    # AWS_PROFILE names a profile no config file holds: the engine's S3 client would refuse to start.
    for key, value in {**env, **{k: v for k, v in ADMIN_ENV.items() if k != "AWS_PROFILE"}}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with moto_server() as moto:
        # moto's backends are this process's: a bucket per test keeps each test's stacks apart.
        bucket = f"alien-engine-state-{uuid.uuid4().hex[:12]}"
        boto3.client("s3", region_name="us-east-1", endpoint_url=moto).create_bucket(Bucket=bucket)
        monkeypatch.setenv(BACKEND_ENV, f"s3://{bucket}?region=us-east-1&endpoint={moto}&use_path_style=true")
        monkeypatch.setenv("AWS_ENDPOINT_URL_IAM", moto)  # setup asks it whether the vendor's access is revoked
        yield Engine(home, {k: FakeCloud(v) for k, v in states.items()}, moto)


@pytest.fixture
def management(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TokenServer]:
    """What the vendor's release service has to become the management identity: AWS STS (moto's), the
    vendor's OIDC token for Azure, and for GCP the vendor's service-account key, whose token endpoint and the
    IAM Credentials API are Google's token endpoints on loopback."""
    from tests.engine.flows import VENDOR_ENV

    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", engine.moto)
    monkeypatch.setenv("ALIEN_AZURE_OIDC_TOKEN", "vendor-oidc-token")
    assert os.environ[BACKEND_ENV]
    with token_server() as google:
        key = google.key_file(tmp_path / "vendor-release-sa.json", "release@vendor-ops.iam.gserviceaccount.com")
        monkeypatch.setitem(VENDOR_ENV, "GOOGLE_APPLICATION_CREDENTIALS", str(key))
        monkeypatch.setenv("GOOGLE_IAM_CREDENTIALS_CUSTOM_ENDPOINT", f"{google.url}/v1/")
        yield google
