"""synth through the CLI: the stable JSON shape, and the human tree."""

from __future__ import annotations

import json

import pytest

from tests.cli.helpers import run
from tests.conftest import ROOT

QUICKSTART = str(ROOT / "examples" / "my_app.py")


@pytest.mark.parametrize("platform", ["aws", "gcp", "azure"])
def test_json_shape(platform: str) -> None:
    result = run("synth", QUICKSTART, "--platform", platform, "--prefix", "acme", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"stack", "platform", "prefix", "region", "providers", "resources", "targets", "permissions",
                         "example_context"}
    assert data["example_context"] is True
    assert (data["stack"], data["platform"], data["prefix"]) == ("my-app", platform, "acme")
    by_id = {r["id"]: r for r in data["resources"]}
    assert {"data", "jobs", "cache", "secrets", "net", "api", "web", "foundation", "identities", "grants"} <= set(by_id)
    for res in data["resources"]:
        assert set(res) == {"id", "type", "lifecycle", "urn", "children"}
        assert res["urn"].startswith(f"urn:pulumi:acme::alien::alien:{platform}:")
        for child in res["children"]:
            assert set(child) == {"type", "name", "urn", "provision", "manage", "inputs"}
            assert set(child["manage"]) == {"protect", "ignore_changes", "retain_on_delete"}
    frozen_child = by_id["data"]["children"][0]
    assert frozen_child["provision"] == {"protect": True, "ignore_changes": [], "retain_on_delete": True}
    assert frozen_child["manage"] == {"protect": True, "ignore_changes": ["*"], "retain_on_delete": True}
    live = {by_id["api"]["urn"], by_id["web"]["urn"]} | {c["urn"] for r in ("api", "web") for c in
                                                         by_id[r]["children"]}
    assert set(data["targets"]) == live
    assert set(data["permissions"]) == {"provisioning", "management", "runtime"}


def test_human_tree_marks_frozen_and_live() -> None:
    result = run("synth", QUICKSTART, "-p", "aws")
    assert result.exit_code == 0
    text = result.stdout
    assert "data alien:aws:Storage ❄ frozen" in text and "api alien:aws:Function ● live" in text
    assert "release protect,retain,ignore=*" in text
    assert "management targets" in text and "permission layers" in text
    assert "legend: ❄ frozen: created at setup" in text


def test_human_tree_wraps_at_the_terminal_width() -> None:
    from io import StringIO

    from rich.console import Console

    import alien_pulumi as alien
    from alien_pulumi.cli.synth_cmd import render_tree
    from alien_pulumi.synth import synth

    spec = alien.load_stack(ROOT / "examples" / "my_app.py")
    result = synth(spec, alien.DeploymentContext.example_context("aws", spec.name, prefix="acme"))
    buffer = StringIO()
    Console(file=buffer, width=60, color_system=None).print(render_tree(result), soft_wrap=False)
    lines = buffer.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 60
    joined = " ".join(line.strip(" │├└─") for line in lines)
    assert "release protect,retain,ignore=*" in joined.replace("  ", " ")


def test_synth_json_masks_secret_inputs() -> None:
    from pulumi.runtime import rpc

    from alien_pulumi.synth.synth import SECRET, masked

    secret = rpc.wrap_rpc_secret("hunter2")
    assert masked({"value": secret, "list": [secret, "plain"], "n": 1}) == {
        "value": SECRET, "list": [SECRET, "plain"], "n": 1}


def test_undeclared_platform() -> None:
    result = run("synth", str(ROOT / "examples" / "data_connector.py"), "-p", "azure")
    assert result.exit_code == 1 and "does not declare platform azure" in result.stderr
