"""Issue 24: `alien-pulumi deployments add` refuses a setup record on local state (file://), one whose stack is not
the one its digests name, and one of a newer record version, each with one line naming the file and the field; the
registry is left as it was."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from alien_pulumi.fleet.registry import Registry
from alien_pulumi.model.record import RECORD_VERSION
from tests.deploy.lifecycle import edited, register, set_up, vendor


def registry_state(state: Path) -> list[Any]:
    with Registry(state) as registry:
        return [(d, registry.setup_requests(d.name)) for d in registry.list_deployments()]


def set_up_record(state: Path, *store: str) -> Path:
    """acme registered and set up by its admin; the vendor has not imported the record yet."""
    result = set_up(state, register(state, "acme"), **({"store": list(store)} if store else {}))
    assert result.exit_code == 0, result.output
    return state / "records" / "acme.json"


def another_spec(data: dict[str, Any]) -> None:
    api = next(r for r in data["spec"]["resources"] if r["id"] == "api")
    api["memory_mb"] = api["memory_mb"] * 2  # the digests still name the stack setup applied


def newer_version(data: dict[str, Any]) -> None:
    data["record_version"] = 9


@pytest.mark.parametrize("change, field", [
    (another_spec, "digest"),
    (newer_version, "record_version"),
])
def test_a_changed_or_newer_record_is_refused_naming_file_and_field(tmp_path: Path,
                                                                    change: Callable[[dict[str, Any]], None],
                                                                    field: str) -> None:
    record = edited(set_up_record(tmp_path), change)
    before = registry_state(tmp_path)
    result = vendor("deployments", "add", str(record), "--state-dir", str(tmp_path))
    assert result.exit_code == 1, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {record}: {field} ") and "nothing was imported" in line
    assert "Traceback" not in result.output
    as_json = vendor("deployments", "add", str(record), "--state-dir", str(tmp_path), "--json")
    assert as_json.exit_code == 1
    error = json.loads(as_json.stdout)["error"]
    assert (error["code"], error["exit_code"]) == ("RecordError", 1) and f"{record}: {field} " in error["message"]
    assert registry_state(tmp_path) == before
    with Registry(tmp_path) as registry:
        assert registry.get_deployment("acme").record is None


def test_the_newer_version_is_named_even_with_fields_this_tool_does_not_know(tmp_path: Path) -> None:
    def newer_with_a_field(data: dict[str, Any]) -> None:
        data.update(record_version=RECORD_VERSION + 7, attestation={"kind": "future"})

    record = edited(set_up_record(tmp_path), newer_with_a_field)
    result = vendor("deployments", "add", str(record), "--state-dir", str(tmp_path))
    assert result.exit_code == 1
    assert f"record_version {RECORD_VERSION + 7} is newer than this alien-pulumi reads ({RECORD_VERSION})" in \
        result.stderr


def test_a_record_on_local_state_is_refused(tmp_path: Path) -> None:
    local = (tmp_path / "local").as_uri()
    record = set_up_record(tmp_path, "--backend", local)
    before = registry_state(tmp_path)
    result = vendor("deployments", "add", str(record), "--state-dir", str(tmp_path))
    assert result.exit_code == 1, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {record}: backend {local} is a local directory") and "nothing was imported" in line
    assert registry_state(tmp_path) == before


def test_the_untouched_record_is_imported(tmp_path: Path) -> None:
    record = set_up_record(tmp_path)
    result = vendor("deployments", "add", str(record), "--state-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    with Registry(tmp_path) as registry:
        imported = registry.get_deployment("acme").record
        assert imported is not None and imported.digest == imported.spec.digest()
