"""Fixtures of the engine tests: the real Pulumi engine (tools/engine/build.sh) and the fake provider plugins.
A missing engine build fails every test using them with the command that builds it; nothing skips."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.engine.fake_provider import FakeCloud
from tests.engine.harness import EngineMissing, engine_environment, install_plugins


@dataclass
class Engine:
    home: Path
    clouds: dict[str, FakeCloud]


@pytest.fixture
def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """The pinned engine on PATH, the fake plugins in a private PULUMI_HOME, the admin's credentials set."""
    from tests.fake_cli.fixtures import ADMIN_ENV

    home = tmp_path / "pulumi-home"
    try:
        env = engine_environment(home)
    except EngineMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    states = install_plugins(home, tmp_path / "cloud")
    for key, value in {**env, **ADMIN_ENV}.items():
        monkeypatch.setenv(key, value)
    return Engine(home, {k: FakeCloud(v) for k, v in states.items()})


@pytest.fixture
def management(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """What the vendor's release service has to become the management identity: AWS STS (moto's, on
    loopback), the vendor's OIDC token for Azure; GCP impersonates with the base credentials already set."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("ALIEN_AZURE_OIDC_TOKEN", "vendor-oidc-token")
    try:
        yield
    finally:
        server.stop()
