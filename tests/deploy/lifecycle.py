"""One deployment's lifecycle through the CLIs, for tests: the vendor registers it, the admin sets it up
from the bundle (simulated engine unless told), the vendor imports the setup record."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from alien_pulumi.cli.deploy import app as deploy_app
from alien_pulumi.cli.main import app as vendor_app
from tests.artifacts import artifact
from tests.conftest import ROOT

QUICKSTART = ROOT / "examples" / "my_app.py"
VENDOR_ROLE = "arn:aws:iam::111122223333:role/alien-release"
VENDOR_SA = "alien-release@vendor-release.iam.gserviceaccount.com"
VENDOR_ISSUER = "https://token.actions.githubusercontent.com"
VENDOR_SUBJECT = "repo:vendor/release:environment:prod"
# The customer's facts per cloud, as flags.
CUSTOMER = {
    "aws": ["--account-id", "210987654321", "--region", "eu-west-1", "--vendor-principal", VENDOR_ROLE],
    "gcp": ["--project", "acme-prod-4711", "--region", "europe-west4", "--vendor-principal", VENDOR_SA],
    "azure": ["--subscription-id", "3f2a1c9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b", "--region", "westeurope",
              "--vendor-oidc-issuer", VENDOR_ISSUER, "--vendor-principal", VENDOR_SUBJECT],
}
runner = CliRunner()


def vendor(*args: str, stdin: str | None = None) -> Result:
    return runner.invoke(vendor_app, list(args), input=stdin, catch_exceptions=False)


def admin(*args: str, stdin: str | None = None) -> Result:
    return runner.invoke(deploy_app, list(args), input=stdin, catch_exceptions=False)


def register(state: Path, name: str, platform: str = "aws", *extra: str) -> Path:
    bundle = state / f"{name}.bundle.json"
    result = vendor("deployments", "new", name, "-p", platform, *CUSTOMER[platform], *extra, "--out", str(bundle),
                    "--state-dir", str(state))
    assert result.exit_code == 0, result.output
    return bundle


# A backend both parties reach (the simulated engine never opens it); the real store is bootstrapped in
# tests/deploy/test_lifecycle_moto.py.
SHARED_STATE = ["--backend", "s3://acme-state-test?region=eu-west-1",
                "--secrets-provider", "awskms://alias/acme-pulumi-state?region=eu-west-1", "--allow-external-backend"]


def set_up(state: Path, bundle: Path, *extra: str, stack: Path = QUICKSTART, engine: str = "simulated:1",
           store: list[str] = SHARED_STATE) -> Result:
    spec = artifact(stack) if stack.suffix == ".py" else stack  # the vendor's build, for the admin's side
    return admin("up", str(spec), "--bundle", str(bundle), "--yes", "--engine", engine, "--state-dir", str(state),
                 *store, *extra)


def deployed(state: Path, name: str, platform: str = "aws", **kwargs: Any) -> None:
    """Register, set up and import one deployment."""
    bundle = register(state, name, platform)
    result = set_up(state, bundle, **kwargs)
    assert result.exit_code == 0, result.output
    added = vendor("deployments", "add", str(state / "records" / f"{name}.json"), "--state-dir", str(state))
    assert added.exit_code == 0, added.output


def edited(path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of the JSON file ``path`` (``edited.json`` beside it) with ``change`` applied: what the vendor's side
    hands over, tampered with."""
    data = json.loads(path.read_text())
    change(data)
    out = path.with_name("edited.json")
    out.write_text(json.dumps(data, indent=2))
    return out
