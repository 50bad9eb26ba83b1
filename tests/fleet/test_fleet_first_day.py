"""Issue 24, a first day as a user: a deployment still awaiting its first setup never fails a fleet command (it is
counted and listed apart as not set up, the others go on, locally and on Temporal); a failed preview, heartbeat or
release exits 4 (revoked 6) with one JSON document; the same stack released again keeps the setup request already
handed to the admin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from alien_pulumi.fleet.registry import Registry, RunState, SetupRequestStatus
from tests.artifacts import artifact
from tests.cli.helpers import run
from tests.conftest import ROOT
from tests.deploy.lifecycle import deployed, register
from tests.fleet.conftest import FleetMaker, Workers
from tests.fleet.test_setup_request_registry import request_for, setup_record, with_worker
from tests.fleet.test_setup_requests import stack_with_worker

QUICKSTART = ROOT / "examples" / "my_app.py"
FAST = "simulated:5"
OFFLINE = ("--no-resolve",)


def state(where: Path) -> tuple[str, str]:
    return ("--state-dir", str(where))


def fleet_with_one_not_set_up(where: Path) -> Path:
    """acme and beta set up and imported; gamma registered only: its admin has not run the setup yet."""
    deployed(where, "acme", engine=FAST)
    deployed(where, "beta", engine=FAST)
    register(where, "gamma")
    return where


def one_document(stdout: str) -> Any:
    """The whole of stdout is one JSON document (json.loads refuses anything after it)."""
    return json.loads(stdout)


# 1. One deployment does not block the fleet ---------------------------------------------------------------------


def test_heartbeat_all_lists_a_deployment_not_set_up_apart_and_checks_the_others(tmp_path: Path) -> None:
    fleet = fleet_with_one_not_set_up(tmp_path)
    as_json = run("heartbeat", "--all", "--engine", FAST, *state(fleet), "--json")
    assert as_json.exit_code == 0, as_json.output
    beats = one_document(as_json.stdout)
    assert {name: beat["status"] for name, beat in beats.items()} == {
        "acme": "succeeded", "beta": "succeeded", "gamma": "not-set-up"}
    assert beats["acme"]["resources"] and beats["gamma"]["resources"] == {}
    assert "alien-pulumi deployments add" in beats["gamma"]["error"]
    with Registry(fleet) as registry:
        assert set(registry.latest_heartbeats()) == {"acme", "beta"}, "only the deployments set up were checked"

    table = run("heartbeat", "--all", "--engine", FAST, *state(fleet))
    assert table.exit_code == 0, table.output
    assert "1 not set up (no setup record imported yet; not checked): gamma" in table.stdout
    assert "acme" in table.stdout and "present" in table.stdout


def test_heartbeat_of_one_named_deployment_not_set_up_is_one_clear_error(tmp_path: Path) -> None:
    fleet = fleet_with_one_not_set_up(tmp_path)
    result = run("heartbeat", "-d", "gamma", "--engine", FAST, *state(fleet))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "error: deployment gamma has no release record: register the admin's setup record with `alien-pulumi "
        "deployments add RECORD`"]


def test_rollout_all_releases_the_others_and_counts_the_one_not_set_up_apart(tmp_path: Path) -> None:
    fleet = fleet_with_one_not_set_up(tmp_path)
    # Listed first, in a canary wave of one, with the health gate: it is planned last, and never heartbeaten.
    names = fleet / "names.txt"
    names.write_text("gamma\nacme\nbeta\n")
    rolled = run("rollout", str(QUICKSTART), "--deployments", str(names), "--waves", "1,100%", "--health-gate",
                 "--release-id", "r2", "--engine", FAST, *OFFLINE, *state(fleet), "--json")
    assert rolled.exit_code == 0, rolled.output
    result = one_document(rolled.stdout)
    assert (result["status"], result["outcome"]) == ("completed", "completed")
    assert (result["counts"]["succeeded"], result["counts"]["not-set-up"], result["counts"]["failed"]) == (2, 1, 0)
    assert list(result["deployments"]) == ["acme", "beta", "gamma"]
    gamma = result["deployments"]["gamma"]
    assert (gamma["status"], gamma["attempts"], gamma["wave"]) == ("not-set-up", 0, 2)
    assert gamma["error"].startswith("not set up: no setup record of gamma imported yet")
    with Registry(fleet) as registry:
        assert registry.get_deployment("gamma").record is None
        deployed_records = {n: registry.get_deployment(n).record for n in ("acme", "beta")}
        assert all(r is not None and r.release == "r2" for r in deployed_records.values())
        assert registry.runs(deployment="gamma")[0].status is RunState.NOT_SET_UP

    table = run("rollout", str(QUICKSTART), "--all", "--yes", "--release-id", "r3", "--engine", FAST, *OFFLINE,
                *state(fleet))
    assert table.exit_code == 0, table.output
    assert "not set up" in table.stdout and "completed: 2 succeeded, 1 not-set-up" in table.stdout


def test_a_failure_beside_a_deployment_not_set_up_still_fails_the_rollout(tmp_path: Path) -> None:
    fleet = fleet_with_one_not_set_up(tmp_path)
    rolled = run("rollout", str(QUICKSTART), "--all", "--yes", "--release-id", "r2", "--engine", f"{FAST};fail=beta",
                 *OFFLINE, *state(fleet), "--json")
    assert rolled.exit_code == 4, rolled.output
    result = one_document(rolled.stdout)
    assert (result["outcome"], result["counts"]["failed"], result["counts"]["not-set-up"]) == ("failed", 1, 1)


def test_a_rollout_whose_every_deployment_is_not_set_up_lists_them_and_runs_nothing(tmp_path: Path) -> None:
    register(tmp_path, "gamma")
    register(tmp_path, "delta")
    rolled = run("rollout", str(QUICKSTART), "--all", "--yes", "--release-id", "r1", "--engine", FAST, *OFFLINE,
                 *state(tmp_path), "--json")
    assert rolled.exit_code == 0, rolled.output
    result = one_document(rolled.stdout)
    assert (result["counts"]["not-set-up"], result["counts"]["succeeded"]) == (2, 0)
    with Registry(tmp_path) as registry:
        assert registry.get_release("r1").stack == "my-app"
        assert all(r.attempt == 0 for r in registry.runs(rollout_id=result["rollout"]))


def test_release_to_one_deployment_not_set_up_records_nothing(tmp_path: Path) -> None:
    fleet = fleet_with_one_not_set_up(tmp_path)
    result = run("release", str(QUICKSTART), "-d", "gamma", "--engine", FAST, *OFFLINE, *state(fleet), "--json")
    assert result.exit_code == 2
    assert one_document(result.stdout)["error"]["code"] == "NotDeployedError"
    with Registry(fleet) as registry:
        assert registry.runs(deployment="gamma") == [] and registry.rollouts() == []


def test_on_temporal_the_fleet_goes_on_without_a_deployment_not_set_up(workers: Workers, make_fleet: FleetMaker
                                                                       ) -> None:
    names = make_fleet(workers.state, 2)
    register(workers.state, "zeta")
    workers.start(1, parallel=2)
    on_temporal = ("--temporal", workers.server.address, "--task-queue", workers.task_queue)
    rolled = run("rollout", str(QUICKSTART), "--all", "--yes", "--waves", "1,100%", "--health-gate", "--release-id",
                 "r2", "--engine", FAST, *OFFLINE, *state(workers.state), "--json", *on_temporal)
    assert rolled.exit_code == 0, rolled.output
    result = one_document(rolled.stdout)
    assert result["status"] == "completed", "the health gate did not halt on the deployment not set up"
    assert {n: o["status"] for n, o in result["deployments"].items()} == {
        **{n: "succeeded" for n in names}, "zeta": "not-set-up"}

    beats = run("heartbeat", "--all", "--engine", FAST, *state(workers.state), "--json", *on_temporal)
    assert beats.exit_code == 0, beats.output
    assert {n: b["status"] for n, b in one_document(beats.stdout).items()} == {
        **{n: "succeeded" for n in names}, "zeta": "not-set-up"}

    failing = run("heartbeat", "--all", "--engine", f"{FAST};fail={names[0]}", *state(workers.state), "--json",
                  *on_temporal)
    assert failing.exit_code == 4, failing.output
    statuses = {n: b["status"] for n, b in one_document(failing.stdout).items()}
    assert statuses == {names[0]: "failed", names[1]: "succeeded", "zeta": "not-set-up"}


# 2. Failures exit non-zero ----------------------------------------------------------------------------------------


def test_a_failed_preview_exits_4_and_a_revoked_one_6(tmp_path: Path) -> None:
    deployed(tmp_path, "acme", engine=FAST)
    failing = run("preview", str(QUICKSTART), "-d", "acme", "--engine", f"{FAST};fail=acme", *OFFLINE,
                  *state(tmp_path), "--json")
    assert failing.exit_code == 4, failing.output
    assert one_document(failing.stdout)["preview"]["status"] == "failed"
    human = run("preview", str(QUICKSTART), "-d", "acme", "--engine", f"{FAST};fail=acme", *OFFLINE, *state(tmp_path))
    assert human.exit_code == 4 and "preview of acme: failed" in human.stdout
    revoked = run("preview", str(QUICKSTART), "-d", "acme", "--engine", f"{FAST};revoked=acme", *OFFLINE,
                  *state(tmp_path), "--json")
    assert revoked.exit_code == 6, revoked.output
    assert one_document(revoked.stdout)["preview"]["status"] == "revoked"
    fine = run("preview", str(QUICKSTART), "-d", "acme", "--engine", FAST, *OFFLINE, *state(tmp_path), "--json")
    assert fine.exit_code == 0, fine.output


def test_a_failed_heartbeat_exits_4_whether_one_or_every_deployment_failed(tmp_path: Path) -> None:
    deployed(tmp_path, "acme", engine=FAST)
    deployed(tmp_path, "beta", engine=FAST)
    every = run("heartbeat", "--all", "--engine", f"{FAST};fail=acme,beta", *state(tmp_path), "--json")
    assert every.exit_code == 4, every.output
    assert {n: b["status"] for n, b in one_document(every.stdout).items()} == {"acme": "failed", "beta": "failed"}
    one = run("heartbeat", "--all", "--engine", f"{FAST};fail=beta", *state(tmp_path))
    assert one.exit_code == 4
    assert "heartbeat failed for 1 of 2 deployment(s): beta" in one.stderr
    assert "beta" in one.stdout and "failed" in one.stdout, "the failure is in the table, though it has no message"
    single = run("heartbeat", "-d", "acme", "--engine", f"{FAST};fail=acme", *state(tmp_path), "--json")
    assert single.exit_code == 4 and one_document(single.stdout)["acme"]["status"] == "failed"


def test_a_revoked_heartbeat_exits_6_for_one_deployment_and_is_listed_for_the_fleet(tmp_path: Path) -> None:
    deployed(tmp_path, "acme", engine=FAST)
    deployed(tmp_path, "beta", engine=FAST)
    revoking = f"{FAST};revoked=acme"
    single = run("heartbeat", "-d", "acme", "--engine", revoking, *state(tmp_path), "--json")
    assert single.exit_code == 6, single.output
    assert one_document(single.stdout)["acme"]["status"] == "revoked"
    fleet = run("heartbeat", "--all", "--engine", revoking, *state(tmp_path), "--json")
    assert fleet.exit_code == 0, fleet.output
    assert {n: b["status"] for n, b in one_document(fleet.stdout).items()} == {"acme": "revoked", "beta": "succeeded"}


def test_a_release_whose_run_failed_says_failed_not_completed(tmp_path: Path) -> None:
    deployed(tmp_path, "acme", engine=FAST)
    human = run("release", str(QUICKSTART), "-d", "acme", "--release-id", "r2", "--engine", f"{FAST};fail=acme",
                *OFFLINE, *state(tmp_path))
    assert human.exit_code == 4
    assert ": completed" not in human.stdout and "completed:" not in human.stdout
    assert "of r2: failed" in human.stdout and "failed: 1 failed" in human.stdout
    as_json = run("release", str(QUICKSTART), "-d", "acme", "--release-id", "r3", "--engine", f"{FAST};fail=acme",
                  *OFFLINE, *state(tmp_path), "--json")
    assert as_json.exit_code == 4
    result = one_document(as_json.stdout)
    assert (result["outcome"], result["deployments"]["acme"]["status"]) == ("failed", "failed")


# 4. The same stack again keeps the setup request handed to the admin ------------------------------------------------


def test_the_same_stack_released_again_keeps_the_open_setup_request(tmp_path: Path) -> None:
    deployed(tmp_path, "acme", engine=FAST)
    stack = str(artifact(stack_with_worker(tmp_path)))
    first = run("release", stack, "-d", "acme", "--release-id", "r2", "--engine", FAST, *OFFLINE, *state(tmp_path))
    assert first.exit_code == 3, first.output
    with Registry(tmp_path) as registry:
        [handed] = registry.setup_requests("acme")
    # Again under another release id (the default one is a new timestamp each time), and as a rollout.
    again = run("release", stack, "-d", "acme", "--release-id", "r3", "--engine", FAST, *OFFLINE, *state(tmp_path))
    assert again.exit_code == 3, again.output
    assert handed.id in again.stdout.replace("\n", "")
    rolled = run("rollout", stack, "--all", "--yes", "--release-id", "r4", "--engine", FAST, *OFFLINE,
                 *state(tmp_path), "--json")
    assert rolled.exit_code == 0, rolled.output
    assert handed.id in one_document(rolled.stdout)["deployments"]["acme"]["error"]
    with Registry(tmp_path) as registry:
        requests = registry.setup_requests("acme")
        assert [(r.id, r.status) for r in requests] == [(handed.id, SetupRequestStatus.OPEN)]
        assert registry.get_deployment("acme").open_request == handed.id

    # Another stack is another request: it supersedes the open one.
    other = tmp_path / "other.py"
    other.write_text(stack_with_worker(tmp_path).read_text().replace('"worker", image="api:1.4.2"',
                                                                       '"worker", image="api:1.4.2", memory_mb=1024'))
    assert other.read_text() != stack_with_worker(tmp_path).read_text()
    changed = run("release", str(artifact(other)), "-d", "acme", "--release-id", "r5", "--engine", FAST, *OFFLINE,
                  *state(tmp_path))
    assert changed.exit_code == 3, changed.output
    with Registry(tmp_path) as registry:
        old, new = registry.setup_requests("acme")
        assert (old.id, old.status, old.superseded_by) == (handed.id, SetupRequestStatus.SUPERSEDED, new.id)
        assert new.status is SetupRequestStatus.OPEN


def test_the_registry_keeps_the_open_request_for_the_same_stack_under_another_release(tmp_path: Path,
                                                                                      database: str | None) -> None:
    with Registry(tmp_path, url=database) as registry:
        registry.add_deployment(setup_record("acme"))
        handed = registry.record_setup_request(request_for(registry, "acme", "r2", with_worker()))
        again = registry.record_setup_request(request_for(registry, "acme", "r3", with_worker()))
        assert again.id == handed.id and again.release_id == "r2"
        assert [(r.id, r.status) for r in registry.setup_requests("acme")] == [(handed.id, SetupRequestStatus.OPEN)]
