"""The CLI flows the engine tests drive: the admin's setup, the vendor's registry, release and heartbeat."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from alien_pulumi.cli.deploy import app as deploy_app
from alien_pulumi.cli.main import app as vendor_app
from tests.fake_cli.fixtures import ADMIN_ENV

HERE = Path(__file__).parent
SMALL = HERE / "stacks" / "small.py"
# The deployment context of each cloud's test deployment (fake account, project, subscription).
CONTEXT = {
    "aws": ["--region", "us-east-1", "--account-id", "123456789012",
            "--vendor-principal", "arn:aws:iam::999999999999:role/vendor-release"],
    "gcp": ["--project", "acme-prod", "--region", "us-central1",
            "--vendor-principal", "release@vendor-ops.iam.gserviceaccount.com"],
    "azure": ["--subscription-id", "11111111-2222-3333-4444-555555555555", "--resource-group", "acme-rg",
              "--region", "eastus", "--vendor-principal", "repo:vendor/release:ref:refs/heads/main",
              "--vendor-oidc-issuer", "https://token.actions.githubusercontent.com"],
}
VENDOR_ENV = {"AWS_ACCESS_KEY_ID": "AKIAVENDOR", "AWS_SECRET_ACCESS_KEY": "vendor-secret",
              "GOOGLE_APPLICATION_CREDENTIALS": "/vendor/release-sa.json"}
runner = CliRunner()


def invoke(app: Any, *args: str) -> Any:
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def register(cloud: str, state: Path) -> Path:
    """The vendor registers deployment ``acme`` and writes the bundle its admin sets up from."""
    bundle = state / "acme.bundle.json"
    if not bundle.exists():
        with vendor_side():
            new = invoke(vendor_app, "deployments", "new", "acme", "-p", cloud, *CONTEXT[cloud], "--out", bundle,
                         "--state-dir", state)
        assert new.exit_code == 0, new.output
    return bundle


def setup(stack: Path, cloud: str, state: Path, *extra: str) -> Any:
    """The admin's setup from the vendor's bundle (registering the deployment first if needed)."""
    return invoke(deploy_app, "up", stack, "--bundle", register(cloud, state), "--yes", "--state-dir", state,
                  *local_backend(state), *extra)


def local_backend(state: Path) -> list[str]:
    """The engine's state in a local directory: these tests have no cloud to bootstrap a state store in."""
    backend = state / "backend"
    backend.mkdir(parents=True, exist_ok=True)
    return ["--backend", backend.as_uri()]


@contextlib.contextmanager
def vendor_side() -> Iterator[None]:
    """The vendor's release service's machine: the vendor's own base credentials, none of the admin's (the
    management identity's credentials are obtained from them)."""
    saved = dict(os.environ)
    for key in ADMIN_ENV:
        os.environ.pop(key, None)
    os.environ.update(VENDOR_ENV)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def vendor(*args: str) -> Any:
    """A command of the vendor's release service."""
    with vendor_side():
        return invoke(vendor_app, *args)


def stack_state(state: Path, stack: str = "acme") -> dict[str, Any]:
    """The engine's checkpoint of a stack in the file:// backend."""
    file = state / "backend" / ".pulumi" / "stacks" / "alien" / f"{stack}.json"
    return json.loads(file.read_text())["checkpoint"]["latest"]


def changed(tmp: Path, old: str, new: str, source: Path = SMALL) -> Path:
    text = source.read_text()
    assert old in text, old
    path = tmp / f"stack-{abs(hash((old, new)))}.py"
    path.write_text(text.replace(old, new))
    return path
