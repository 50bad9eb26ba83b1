"""The CLI flows the engine tests drive: the admin's setup, the vendor's registry, release and heartbeat."""

from __future__ import annotations

import contextlib
import json
import os
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from alien_pulumi.cli.deploy import app as deploy_app
from alien_pulumi.cli.main import app as vendor_app
from alien_pulumi.fleet.registry import Registry
from alien_pulumi.model.record import ReleaseRecord
from tests.artifacts import artifact
from tests.engine.fixtures import BACKEND_ENV
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


def backend(cloud: str, state: Path) -> str:
    """AWS: the state bucket in moto. GCP and Azure: local state, for want of a GCS or Blob emulator here."""
    return os.environ[BACKEND_ENV] if cloud == "aws" else (state / "backend").as_uri()


def register(cloud: str, state: Path) -> Path:
    """The vendor registers deployment ``acme`` and writes the bundle its admin sets up from."""
    bundle = state / "acme.bundle.json"
    (state / "backend").mkdir(parents=True, exist_ok=True)
    if not bundle.exists():
        with vendor_side():
            new = invoke(vendor_app, "deployments", "new", "acme", "-p", cloud, *CONTEXT[cloud], "--out", bundle,
                         "--backend", backend(cloud, state), "--state-dir", state)
        assert new.exit_code == 0, new.output
    return bundle


def setup(stack: Path, cloud: str, state: Path, *extra: str) -> Any:
    """The admin's setup from the vendor's bundle (registering the deployment first if needed)."""
    spec = artifact(stack) if stack.suffix == ".py" else stack  # the vendor's build, for the admin's side
    return invoke(deploy_app, "up", spec, "--bundle", register(cloud, state), "--secrets-provider", "passphrase",
                  "--yes", "--state-dir", state, "--allow-external-backend", *extra)


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
    """The engine's checkpoint of a stack, from the backend the deployment was registered with."""
    import boto3

    key = f".pulumi/stacks/alien/{stack}.json"
    local = state / "backend" / key
    if local.exists():
        return json.loads(local.read_text())["checkpoint"]["latest"]  # type: ignore[no-any-return]
    url = urllib.parse.urlparse(os.environ[BACKEND_ENV])
    query = dict(urllib.parse.parse_qsl(url.query))
    s3 = boto3.client("s3", region_name=query["region"], endpoint_url=query["endpoint"])
    body = s3.get_object(Bucket=url.netloc, Key=key)["Body"].read()
    return json.loads(body)["checkpoint"]["latest"]  # type: ignore[no-any-return]


def registered(state: Path) -> None:
    """The vendor imports the admin's setup record. Local state (GCP and Azure here) is refused by the import, so
    those records go through the registry's own API."""
    record = state / "records" / "acme.json"
    parsed = ReleaseRecord.model_validate_json(record.read_text())
    if parsed.backend and parsed.backend.startswith("file:"):
        Registry(state).add_deployment(parsed, registered=True)
        return
    added = vendor("deployments", "add", record, "--state-dir", state)
    assert added.exit_code == 0, added.output


def changed(tmp: Path, old: str, new: str, source: Path = SMALL) -> Path:
    text = source.read_text()
    assert old in text, old
    path = tmp / f"stack-{abs(hash((old, new)))}.py"
    path.write_text(text.replace(old, new))
    return path
