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
    assert set(data) == {"stack", "platform", "prefix", "resources", "targets", "permissions", "example_context"}
    assert data["example_context"] is True
    assert (data["stack"], data["platform"], data["prefix"]) == ("my-app", platform, "acme")
    by_id = {r["id"]: r for r in data["resources"]}
    assert {"data", "jobs", "cache", "secrets", "net", "api", "web", "foundation", "identities", "grants"} <= set(by_id)
    for res in data["resources"]:
        assert set(res) == {"id", "type", "lifecycle", "urn", "children"}
        assert res["urn"].startswith(f"urn:pulumi:acme::alien::alien:{platform}:")
        for child in res["children"]:
            assert set(child) == {"type", "name", "urn", "provision", "manage"}
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


def test_undeclared_platform() -> None:
    result = run("synth", str(ROOT / "examples" / "data_connector.py"), "-p", "azure")
    assert result.exit_code == 1 and "does not declare platform azure" in result.stderr
