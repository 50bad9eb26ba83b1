"""The vendor's release service through the CLI, with the simulated engine in worker processes: the
registry of deployments, release with preflight, frozen changes kept pending, rollouts, heartbeats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alien_pulumi.fleet.registry import Registry
from tests.automation.registry_server import local_registry
from tests.cli.helpers import run
from tests.conftest import ROOT
from tests.deploy.lifecycle import deployed

QUICKSTART = ROOT / "examples" / "my_app.py"
FAST = "simulated:5"
# Releases here run offline: the example's vendor ECR is not reachable, so tags are deployed as written
# (digest resolution has its own tests against a real registry, tests/automation/test_digests.py).
OFFLINE = ("--engine", FAST, "--no-resolve")


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    """Three AWS deployments set up by their admins and registered with the vendor."""
    for prefix in ("acme", "beta", "gamma"):
        deployed(tmp_path, prefix, engine=FAST)
    return tmp_path


def changed(tmp_path: Path, old: str, new: str) -> str:
    path = tmp_path / f"stack-{abs(hash(new))}.py"
    path.write_text(QUICKSTART.read_text().replace(old, new))
    return str(path)


def test_deployments_list(fleet: Path) -> None:
    rows = json.loads(run("deployments", "list", "--state-dir", str(fleet), "--json").stdout)
    assert [(r["name"], r["platform"], r["prefix"]) for r in rows] == [
        ("acme", "aws", "acme"), ("beta", "aws", "beta"), ("gamma", "aws", "gamma")]


def test_release_runs_the_management_program_and_records(fleet: Path) -> None:
    before = Registry(fleet).get_deployment("acme").record
    assert before is not None
    stack = changed(fleet, "memory_mb=512", "memory_mb=1024")
    result = run("release", stack, "-d", "acme", "--release-id", "r2", *OFFLINE, "--state-dir", str(fleet),
                 "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["deployments"]["acme"]["status"] == "succeeded"
    record = Registry(fleet).get_deployment("acme").record
    assert record is not None and record.release == "r2" and record.program == "manage"
    assert record.spec.resource("api").memory_mb == 1024  # type: ignore[attr-defined]
    assert record.targets and all(t.startswith("urn:pulumi:acme::alien::alien:aws:") for t in record.targets)
    assert record.backend and (record.backend, record.secrets_provider) == (
        before.backend, before.secrets_provider), "the next release runs on the state setup created"


def test_blocked_release_runs_nothing(fleet: Path) -> None:
    stack = changed(fleet, "versioning=True", "versioning=False")
    result = run("release", stack, "-d", "beta", *OFFLINE, "--state-dir", str(fleet))
    assert result.exit_code == 3
    assert "beta: FROZEN_CHANGED data.versioning: True -> False" in result.stderr
    as_json = run("release", stack, "-d", "beta", *OFFLINE, "--state-dir", str(fleet), "--json")
    assert as_json.exit_code == 3
    error = json.loads(as_json.stdout)["error"]
    assert error["code"] == "PreflightBlockedError" and error["exit_code"] == 3
    assert "FROZEN_CHANGED data.versioning" in error["message"]
    assert Registry(fleet).runs(deployment="beta") == []


def test_allowed_frozen_change_stays_pending_setup(fleet: Path) -> None:
    stack = changed(fleet, "versioning=True", "versioning=False")
    result = run("release", stack, "-d", "gamma", "--allow-frozen-changes", *OFFLINE, "--state-dir",
                 str(fleet))
    assert result.exit_code == 0, result.output
    record = Registry(fleet).get_deployment("gamma").record
    assert record is not None
    assert record.spec.resource("data").versioning is True  # type: ignore[attr-defined]  # not applied
    assert any("data.versioning" in p for p in record.pending_setup)
    again = run("release", stack, "-d", "gamma", *OFFLINE, "--state-dir", str(fleet))
    assert again.exit_code == 3, "the frozen change is still reported until setup applies it"


def test_rollout_waves_and_halting(fleet: Path) -> None:
    stack = changed(fleet, "memory_mb=512", "memory_mb=768")
    ok = run("rollout", stack, "--all", "--yes", "--waves", "1,100%", "--parallel", "2", *OFFLINE,
             "--state-dir", str(fleet), "--json")
    assert ok.exit_code == 0, ok.output
    out = json.loads(ok.stdout)
    assert out["status"] == "completed"
    assert {n: d["wave"] for n, d in out["deployments"].items()} == {"acme": 1, "beta": 2, "gamma": 2}
    names = fleet / "names.txt"
    names.write_text("acme\nbeta\ngamma\n")
    halted = run("rollout", stack, "--deployments", str(names), "--parallel", "1", "--halt-after-failures", "1",
                 "--engine", "simulated:5;fail=acme", "--no-resolve", "--state-dir", str(fleet), "--json")
    assert halted.exit_code == 4
    result = json.loads(halted.stdout)
    assert result["status"] == "halted"
    assert result["deployments"]["acme"]["status"] == "failed"
    assert {result["deployments"][n]["status"] for n in ("beta", "gamma")} == {"skipped"}


def test_heartbeat_records_health(fleet: Path) -> None:
    result = run("heartbeat", "--all", "--engine", FAST, "--state-dir", str(fleet), "--json")
    assert result.exit_code == 0, result.output
    health = json.loads(result.stdout)
    assert set(health) == {"acme", "beta", "gamma"}
    assert health["acme"]["resources"]["api"] == {"state": "present", "fields": []}
    beat = Registry(fleet).latest_heartbeat("acme")
    assert beat is not None and beat.health["resources"]["jobs"]["state"] == "present"
    assert run("heartbeat", "--state-dir", str(fleet)).exit_code == 2


def test_preview_json(fleet: Path) -> None:
    result = run("preview", str(QUICKSTART), "-d", "acme", *OFFLINE, "--state-dir", str(fleet), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["preflight"]["may_roll_out"] is True and data["preview"]["kind"] == "preview"


def test_unknown_deployment_is_a_clear_error(fleet: Path) -> None:
    result = run("release", str(QUICKSTART), "-d", "nobody", *OFFLINE, "--state-dir", str(fleet))
    assert result.exit_code != 0 and "nobody" in result.stderr and "Traceback" not in result.stderr


def test_a_release_id_that_cannot_name_its_sessions_is_refused(fleet: Path) -> None:
    # The release id is the sts:SourceIdentity of its sessions: refused before anything is recorded or run.
    before = Registry(fleet).get_deployment("acme").record
    stack = changed(fleet, "memory_mb=512", "memory_mb=1024")
    result = run("release", stack, "-d", "acme", "--release-id", "v1.2/3", *OFFLINE, "--state-dir", str(fleet),
                 "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "ReleaseIdError" and "release id 'v1.2/3' must be 2-54 characters" in error["message"]
    assert not Registry(fleet).has_release("v1.2/3")
    assert Registry(fleet).get_deployment("acme").record == before


FROZEN_WORKER = '''import alien_pulumi as alien

stack = (alien.Stack("pinned", images=alien.Registry("{host}/acme")).platforms("azure")
         .add(alien.Container("web", image="web:1"), "live")
         .add(alien.Container("worker", image="worker:1"), "frozen").build())
'''


def test_release_pins_frozen_compute_and_a_moved_tag_is_a_frozen_change(tmp_path_factory: pytest.TempPathFactory,
                                                                        tmp_path: Path) -> None:
    """The admin set the worker up from an artifact with its tag resolved; a release resolves the tag again: the same
    digest rolls out, a re-pushed tag blocks as a frozen change (DESIGN.md §1a) and, allowed, waits for setup."""
    with local_registry(tmp_path_factory.mktemp("registry")) as images:
        images.push("acme/web", "1", b"web-one")
        setup_digest = images.push("acme/worker", "1", b"worker-one")
        stack = tmp_path / "stack.py"
        stack.write_text(FROZEN_WORKER.format(host=images.host))
        artifact = tmp_path / "stack.spec.json"
        built = run("build", str(stack), "--out", str(artifact))
        assert built.exit_code == 0, built.output
        deployed(tmp_path, "cust", "azure", stack=artifact)
        args = (str(stack), "-d", "cust", "--engine", FAST, "--state-dir", str(tmp_path))

        same = run("release", *args, "--release-id", "r-same")
        assert same.exit_code == 0, same.output
        assert f"image worker.image (frozen): worker:1 -> {setup_digest}" in same.stderr
        assert "FROZEN_CHANGED" not in same.stderr

        moved = images.push("acme/worker", "1", b"worker-rebuilt")
        blocked = run("release", *args, "--release-id", "r-moved")
        assert blocked.exit_code == 3
        assert (f"cust: FROZEN_CHANGED worker.image: 'worker:1@{setup_digest}' -> 'worker:1@{moved}': frozen "
                "resource changed (allow with --allow-frozen-changes") in blocked.stderr
        assert not Registry(tmp_path).has_release("r-moved")

        allowed = run("release", *args, "--release-id", "r-allowed", "--allow-frozen-changes")
        assert allowed.exit_code == 0, allowed.output
    record = Registry(tmp_path).get_deployment("cust").record
    assert record is not None and record.release == "r-allowed"
    assert record.spec.resource("worker").image == f"worker:1@{setup_digest}"  # type: ignore[attr-defined]
    assert [p for p in record.pending_setup if p.startswith("worker.image:")], record.pending_setup
