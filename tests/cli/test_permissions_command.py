"""The permissions command: parsed JSON per cloud and layer, markdown, and usage errors."""

from __future__ import annotations

import json

import pytest

from tests.cli.helpers import run
from tests.conftest import ROOT

QUICKSTART = str(ROOT / "examples" / "my_app.py")
CONNECTOR = str(ROOT / "examples" / "data_connector.py")
EXT = "xyz-42-0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    ("platform", "keys"),
    [("aws", {"policies", "trust_policy"}), ("gcp", {"roles", "bindings"}),
     ("azure", {"role_definitions", "assignments"})],
)
@pytest.mark.parametrize("layer", ["provisioning", "management", "runtime"])
def test_json_per_cloud_and_layer(platform: str, keys: set[str], layer: str) -> None:
    result = run("permissions", QUICKSTART, "--platform", platform, "--layer", layer)
    assert result.exit_code == 0, result.output
    assert keys <= set(json.loads(result.stdout))


def test_context_flags_reach_the_policy() -> None:
    result = run("permissions", QUICKSTART, "-p", "aws", "-l", "management", "--prefix", "acme-myapp",
                 "--region", "eu-central-1", "--account-id", "210987654321",
                 "--vendor-principal", "arn:aws:iam::999988887777:role/release", "--external-id", EXT)
    out = json.loads(result.stdout)
    text = json.dumps(out)
    assert "arn:aws:s3:::acme-myapp-data" in text and "eu-central-1:210987654321" in text
    assert out["trust_policy"]["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"] == EXT
    assert out["example_context"] is False


def test_markdown_document() -> None:
    result = run("permissions", QUICKSTART, "-p", "gcp", "--format", "markdown")
    assert result.exit_code == 0
    banner, title = result.stdout.splitlines()[0], result.stdout.splitlines()[2]
    assert banner.startswith("> **example context:")
    assert title.startswith("# Permissions of `my-app` on GCP")
    assert "## What the vendor can never do" in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["-p", "aws"], 2, "--layer is required with --format json"),
        (["-p", "aws", "-l", "runtime", "--profile", "nope"], 2, "has no runtime profile 'nope' (profiles: app)"),
        (["-p", "mars", "-l", "management"], 2, "Invalid value for '--platform'"),
        (["-p", "aws", "-l", "management", "--account-id", "12"], 2,
         "--account-id: '12' is not a 12-digit AWS account id"),
    ],
)
def test_usage_errors(args: list[str], code: int, message: str) -> None:
    result = run("permissions", QUICKSTART, *args)
    assert result.exit_code == code
    assert message in result.stderr


def test_platform_not_declared_is_an_invalid_stack() -> None:
    result = run("permissions", CONNECTOR, "-p", "azure", "-l", "management")
    assert result.exit_code == 1
    assert "does not declare platform azure (declared: aws, gcp)" in result.stderr
