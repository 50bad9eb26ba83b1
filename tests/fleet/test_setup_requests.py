"""Setup requests: a release adding a live function without ``function/provision`` in ``management.extend`` is
recorded as a request, its deployment awaits setup and rollouts count it apart; the vendor writes the request,
the admin reviews it (golden human and markdown output) and applies exactly its stack; the record closes it and
the release goes on. Bad requests are refused naming what is wrong, with nothing changed."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from alien_pulumi.fleet.registry import DeploymentState, Registry, RunState, SetupRequestStatus
from alien_pulumi.model.loader import load_stack
from tests.artifacts import artifact
from tests.deploy.lifecycle import QUICKSTART, SHARED_STATE, admin, deployed, vendor
from tests.fleet.conftest import Workers

FAST = "simulated:5"
OFFLINE = ("--engine", FAST, "--no-resolve")
GOLDEN = Path(__file__).parent / "golden"
# A live function the deployed stack does not have, without function/provision for it in management.extend.
WORKER = '.add(web, "live").add(alien.Function("worker", image="api:1.4.2", links=[jobs], permissions="app"), "live")'


def stack_with_worker(where: Path) -> Path:
    path = where / "with_worker.py"
    path.write_text(QUICKSTART.read_text().replace('.add(web, "live")', WORKER))
    return path


def golden(name: str, text: str) -> None:
    """Compare with tests/fleet/golden/NAME (UPDATE_GOLDEN=1 rewrites it, to review in the diff)."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{name} changed (UPDATE_GOLDEN=1 rewrites it; review the diff)"


def state_of(state: Path) -> dict[str, Any]:
    """Everything a bad request must leave as it is: the registry's deployments and requests, the records."""
    with Registry(state) as registry:
        return {
            "deployments": [(d.name, d.record, d.open_request) for d in registry.list_deployments()],
            "requests": {d.name: [(r.id, r.status, r.applied_at) for r in registry.setup_requests(d.name)]
                         for d in registry.list_deployments()},
            "records": {p.name: p.read_bytes() for p in sorted((state / "records").glob("*.json"))},
        }


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    """acme set up with the quickstart; gamma set up with the worker already (its admin ran that stack)."""
    deployed(tmp_path, "acme", engine=FAST)
    deployed(tmp_path, "gamma", engine=FAST, stack=stack_with_worker(tmp_path))
    return tmp_path


def test_round_trip_from_the_release_to_the_admin_and_back(fleet: Path) -> None:
    stack = stack_with_worker(fleet)
    state = ("--state-dir", str(fleet))

    # The rollout: gamma runs the release, acme waits for its admin, counted apart from failures.
    rolled = vendor("rollout", str(artifact(stack)), "--all", "--yes", "--release-id", "r2", *OFFLINE, *state, "--json")
    assert rolled.exit_code == 0, rolled.output
    result = json.loads(rolled.stdout)
    assert result["status"] == "completed"
    assert (result["counts"]["succeeded"], result["counts"]["awaiting-setup"], result["counts"]["failed"]) == (1, 1, 0)
    assert result["deployments"]["gamma"]["status"] == "succeeded"
    acme = result["deployments"]["acme"]
    assert acme["status"] == "awaiting-setup" and acme["attempts"] == 0, "never started"
    with Registry(fleet) as registry:
        deployment = registry.get_deployment("acme")
        assert deployment.state is DeploymentState.AWAITING_SETUP
        [requested] = registry.setup_requests("acme")
        assert (requested.id, requested.status, requested.release_id) == (
            deployment.open_request, SetupRequestStatus.OPEN, "r2")
        assert requested.id in acme["error"]
        assert registry.get_deployment("gamma").state is DeploymentState.DEPLOYED

    # The one-deployment release says so with the blocked exit code; the same release asks nothing new.
    again = vendor("release", str(artifact(stack)), "-d", "acme", "--release-id", "r2", *OFFLINE, *state)
    assert again.exit_code == 3, again.output
    assert "awaiting setup" in again.stdout and "awaiting-setup" in again.stdout
    with Registry(fleet) as registry:
        assert [r.id for r in registry.setup_requests("acme")] == [requested.id]

    # The vendor writes it for the admin.
    request_file = fleet / "acme.request.json"
    written = vendor("setup-request", "-d", "acme", "--out", str(request_file), *state)
    assert written.exit_code == 0, written.output
    data = json.loads(request_file.read_text())
    assert (data["kind"], data["request_version"], data["release"], data["deployment"]) == (
        "alien-pulumi/setup-request", 2, "r2", "acme")
    assert data["digest"] == load_stack(artifact(stack)).digest()
    # It builds on the admin's setup record, the one the vendor imported.
    setup = json.loads((fleet / "records" / "acme.json").read_text())
    assert data["setup"] == data["deployed"] == {k: setup[k] for k in ("release", "digest", "frozen_digest")}
    assert [(r["resource"], r["type"], r["lifecycle"], r["change"]) for r in data["resources"]] == [
        ("worker", "function", "live", "added")]
    management = data["permissions"][0]
    assert management["identity"] == "acme-management"
    assert {"change": "grant", "action": "lambda:UpdateFunctionCode",
            "resource": "arn:aws:lambda:eu-west-1:210987654321:function:acme-worker", "condition": ""} in \
        management["changes"]
    assert all(c["change"] == "grant" for d in data["permissions"] for c in d["changes"])

    # The admin reviews it against their own last setup record: the times and ids of this run aside (the setup
    # record's release id too, in a copy of it), the output is the golden one.
    fixed = {**data, "id": "sr-golden", "created_at": "2026-01-01T00:00:00+00:00",
             "deployed": {**data["deployed"], "release": "setup-golden"},
             "setup": {**data["setup"], "release": "setup-golden"}}
    review_file = fleet / "review.json"
    review_file.write_text(json.dumps(fixed, indent=2))
    golden_record = fleet / "setup-golden.json"
    golden_record.write_text(json.dumps({**setup, "release": "setup-golden"}))
    human = admin("review", str(review_file), "--record", str(golden_record))
    assert human.exit_code == 0, human.output
    golden("setup_request_review.txt", human.stdout)
    markdown = admin("review", str(review_file), "--record", str(golden_record), "--markdown")
    assert markdown.exit_code == 0, markdown.output
    golden("setup_request_review.md", markdown.stdout)
    # By default, the record alien-deploy keeps in its state directory; the computed review equals the statement.
    as_json = admin("review", str(request_file), "--state-dir", str(fleet), "--json")
    assert as_json.exit_code == 0, as_json.output
    reviewed = json.loads(as_json.stdout)
    assert reviewed["permissions"] == data["permissions"] and reviewed["resources"] == data["resources"]
    assert reviewed["setup"] == data["setup"]
    assert reviewed["vendor_explanation"] == {"deployed": data["deployed"], "reasons": data["reasons"]}

    # The admin applies exactly that stack, confirming after the review.
    applied = admin("up", "--request", str(request_file), "--bundle", str(fleet / "acme.bundle.json"),
                    "--engine", FAST, *state, *SHARED_STATE, stdin="y\n")
    assert applied.exit_code == 0, applied.output
    assert "lambda:UpdateFunctionCode" in applied.stdout, "the review is shown before the confirmation"
    record = json.loads((fleet / "records" / "acme.json").read_text())
    assert record["digest"] == data["digest"]
    assert record["setup_request"]["id"] == requested.id and record["setup_request"]["reviewed_at"]
    assert "worker" in {r["id"] for r in record["spec"]["resources"]}

    # Applied once: the same request again (replayed) is refused by review and by setup, the record unchanged.
    kept = (fleet / "records" / "acme.json").read_bytes()
    for replayed in (admin("review", str(request_file), "--state-dir", str(fleet)), apply(fleet, request_file)):
        assert replayed.exit_code == 2, replayed.output
        assert f"setup request {requested.id} was already applied by your setup {record['release']}" in \
            replayed.stderr
    assert (fleet / "records" / "acme.json").read_bytes() == kept

    # The vendor imports the record: the request is applied with it, and the release goes on.
    imported = vendor("deployments", "add", str(fleet / "records" / "acme.json"), *state)
    assert imported.exit_code == 0, imported.output
    assert f"setup request {requested.id} applied" in imported.stdout
    with Registry(fleet) as registry:
        [done] = registry.setup_requests("acme")
        assert done.status is SetupRequestStatus.APPLIED and done.applied_at and done.reviewed_at
        assert done.record is not None and done.record.digest == data["digest"]
        assert registry.get_deployment("acme").state is DeploymentState.DEPLOYED
    goes_on = vendor("release", str(artifact(stack)), "-d", "acme", "--release-id", "r2", *OFFLINE, *state, "--json")
    assert goes_on.exit_code == 0, goes_on.output
    assert json.loads(goes_on.stdout)["deployments"]["acme"]["status"] == "succeeded"
    with Registry(fleet) as registry:
        deployed_record = registry.get_deployment("acme").record
        assert deployed_record is not None and deployed_record.release == "r2"


def test_a_release_the_stack_must_fix_is_still_blocked_and_requests_nothing(fleet: Path) -> None:
    removed = fleet / "removed.py"
    removed.write_text(QUICKSTART.read_text().replace('.add(secrets, "frozen")', ""))
    blocked = vendor("release", str(artifact(removed)), "-d", "acme", *OFFLINE, "--state-dir", str(fleet))
    assert blocked.exit_code == 3 and "FROZEN_REMOVED" in blocked.stderr
    with Registry(fleet) as registry:
        assert registry.setup_requests("acme") == []
        assert registry.get_deployment("acme").state is DeploymentState.DEPLOYED


@pytest.fixture
def request_file(fleet: Path) -> Path:
    release = vendor("release", str(artifact(stack_with_worker(fleet))), "-d", "acme", "--release-id", "r2", *OFFLINE,
                     "--state-dir", str(fleet))
    assert release.exit_code == 3, release.output
    path = fleet / "acme.request.json"
    assert vendor("setup-request", "-d", "acme", "--out", str(path), "--state-dir", str(fleet)).exit_code == 0
    return path


def apply(fleet: Path, request: Path) -> Any:
    return admin("up", "--request", str(request), "--bundle", str(fleet / "acme.bundle.json"), "--yes", "--engine",
                 FAST, "--state-dir", str(fleet), *SHARED_STATE)


def test_a_request_whose_stack_does_not_match_its_digest_is_refused(fleet: Path, request_file: Path) -> None:
    data = json.loads(request_file.read_text())
    next(r for r in data["stack"]["resources"] if r["id"] == "worker")["memory_mb"] = 4096
    tampered = fleet / "tampered.json"
    tampered.write_text(json.dumps(data))
    before = state_of(fleet)
    for result in (apply(fleet, tampered), admin("review", str(tampered), "--state-dir", str(fleet))):
        assert result.exit_code == 2, result.output
        assert str(tampered) in result.stderr and "does not match its digest" in result.stderr
        assert "Traceback" not in result.output
    assert state_of(fleet) == before


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "cannot read JSON"),
    ('{"kind": "alien-pulumi/record"}', "not a setup request (kind 'alien-pulumi/record'"),
    ('{"kind": "alien-pulumi/setup-request", "request_version": 1}', "setup request version 1"),
    ('{"kind": "alien-pulumi/setup-request", "request_version": 2, "id": "x"}', "malformed setup request: deployment"),
])
def test_a_malformed_or_other_version_request_is_refused(fleet: Path, content: str, message: str) -> None:
    bad = fleet / "bad.json"
    bad.write_text(content)
    before = state_of(fleet)
    for result in (apply(fleet, bad), admin("review", str(bad), "--state-dir", str(fleet), "--json")):
        assert result.exit_code == 2, result.output
        assert str(bad) in result.stderr and message in result.stderr
    assert state_of(fleet) == before


def test_a_request_for_another_deployment_is_refused_before_anything_is_created(fleet: Path,
                                                                                request_file: Path) -> None:
    before = state_of(fleet)
    other = admin("up", "--request", str(request_file), "--bundle", str(fleet / "gamma.bundle.json"), "--yes",
                  "--engine", FAST, "--state-dir", str(fleet), *SHARED_STATE)
    assert other.exit_code == 2, other.output
    assert "is for deployment acme (aws), not gamma" in other.stderr
    assert "state:" not in other.stdout, "the state store is not even looked at"
    assert state_of(fleet) == before


def test_up_takes_a_stack_or_a_request_not_both(fleet: Path, request_file: Path) -> None:
    both = admin("up", str(QUICKSTART), "--request", str(request_file), "--bundle", str(fleet / "acme.bundle.json"))
    assert both.exit_code == 2 and "or --request FILE" in both.stderr


def test_setup_request_of_an_unknown_deployment_or_one_without_a_request(fleet: Path) -> None:
    before = state_of(fleet)
    unknown = vendor("setup-request", "-d", "nope", "--state-dir", str(fleet))
    assert unknown.exit_code == 2 and "no deployment named 'nope'" in unknown.stderr
    none = vendor("setup-request", "-d", "acme", "--out", str(fleet / "x.json"), "--state-dir", str(fleet))
    assert none.exit_code == 2 and "deployment 'acme' has no open setup request" in none.stderr
    assert not (fleet / "x.json").exists()
    assert state_of(fleet) == before


def test_the_request_goes_to_stdout_without_out(fleet: Path, request_file: Path) -> None:
    printed = vendor("setup-request", "-d", "acme", "--state-dir", str(fleet))
    assert printed.exit_code == 0
    assert json.loads(printed.stdout) == json.loads(request_file.read_text())


def test_a_setup_record_not_answering_the_request_supersedes_it(fleet: Path, request_file: Path) -> None:
    """The admin ran plain setup again (no --request): the request is closed, the next release asks anew."""
    again = admin("up", str(artifact(QUICKSTART)), "--bundle", str(fleet / "acme.bundle.json"), "--yes",
                  "--engine", FAST, "--state-dir", str(fleet), *SHARED_STATE)
    assert again.exit_code == 0, again.output
    assert vendor("deployments", "add", str(fleet / "records" / "acme.json"), "--state-dir", str(fleet)).exit_code == 0
    with Registry(fleet) as registry:
        [closed] = registry.setup_requests("acme")
        assert closed.status is SetupRequestStatus.SUPERSEDED and closed.applied_at is None
        assert closed.superseded_by and closed.superseded_by.startswith("setup record setup-")
        assert registry.get_deployment("acme").state is DeploymentState.DEPLOYED
    runs = [r.status for r in Registry(fleet).runs(deployment="acme")]
    assert runs == [RunState.AWAITING_SETUP]


def test_a_worker_that_finds_setup_needed_records_the_request_and_awaits(fleet: Path) -> None:
    """The distributed path: a Temporal worker takes the preflight again (no check of the release service
    stands) and finds the release needs setup: the run awaits setup, it is not a failure."""
    from alien_pulumi.fleet.temporal.activities import Activities
    from alien_pulumi.fleet.temporal.types import VERSION, RunTask

    spec = load_stack(stack_with_worker(fleet))
    with Registry(fleet) as registry:
        registry.record_release("r2", spec)
        registry.create_rollout("ro", "r2", {"waves": "100%", "sizes": [1]}, [["acme"]])
    activities = Activities(fleet, 1, "in-process")
    try:
        outcome = activities._run(RunTask("ro", "r2", "acme", FAST, None, False, VERSION, 3, 1.0), 1)
    finally:
        activities.threads.shutdown()
        activities.registry.close()
    assert outcome.status == RunState.AWAITING_SETUP.value and "setup request sr-" in (outcome.error or "")
    with Registry(fleet) as registry:
        run = registry.get_run("ro:acme")
        assert (run.status, run.attempt) == (RunState.AWAITING_SETUP, 0)
        assert registry.open_setup_request("acme").release_id == "r2"


def test_progress_and_results_count_awaiting_setup_apart(fleet: Path) -> None:
    import io

    from rich.console import Console

    from alien_pulumi.fleet import service
    from alien_pulumi.fleet.executor import InProcessExecutor
    from alien_pulumi.fleet.progress import RolloutProgress, render_result

    console = Console(file=io.StringIO(), width=160, force_terminal=False)
    with Registry(fleet) as registry, RolloutProgress(console) as progress:
        result = service.release(registry, load_stack(stack_with_worker(fleet)), ["acme", "gamma"], "r2", fleet,
                                 engine=FAST, executor=InProcessExecutor(), on_progress=progress)
    assert result.ok and result.counts["awaiting-setup"] == 1 and result.counts["failed"] == 0
    assert progress.awaiting == {1: 1} and progress.failed == {}
    render_result(result, console)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "1 awaiting setup" in text  # the bar
    assert "┃ failed ┃ awaiting setup ┃ revoked ┃ not set up ┃ skipped ┃" in text  # the waves table
    assert "completed: 1 succeeded, 1 awaiting-setup" in text


def test_a_rollout_on_temporal_workers_counts_awaiting_setup_apart(fleet: Path, workers: Workers) -> None:
    workers.start(1, parallel=2)
    rolled = vendor("rollout", str(artifact(stack_with_worker(fleet))), "--all", "--yes", "--release-id", "r2",
                    *OFFLINE, "--state-dir", str(fleet), "--temporal", workers.server.address, "--task-queue",
                    workers.task_queue, "--json")
    assert rolled.exit_code == 0, rolled.output
    result = json.loads(rolled.stdout)
    assert (result["counts"]["succeeded"], result["counts"]["awaiting-setup"], result["counts"]["failed"]) == (1, 1, 0)
    assert result["deployments"]["acme"]["status"] == "awaiting-setup"
    with Registry(fleet) as registry:
        assert registry.open_setup_request("acme").release_id == "r2"


def test_frozen_changes_the_release_allowed_travel_in_the_request_and_setup_applies_them(fleet: Path) -> None:
    stack = fleet / "worker_and_versioning.py"
    stack.write_text(stack_with_worker(fleet).read_text().replace("versioning=True", "versioning=False"))
    release = vendor("release", str(artifact(stack)), "-d", "acme", "--release-id", "r3", "--allow-frozen-changes",
                     *OFFLINE, "--state-dir", str(fleet))
    assert release.exit_code == 3, release.output
    request = fleet / "r3.json"
    assert vendor("setup-request", "-d", "acme", "--out", str(request), "--state-dir", str(fleet)).exit_code == 0
    data = json.loads(request.read_text())
    assert data["frozen_changes"] == [{"resource": "data", "field": "versioning", "old": True, "new": False}]
    review = admin("review", str(request), "--state-dir", str(fleet), "--markdown")
    assert review.exit_code == 0, review.output
    assert "| `data` | `versioning` | `true` | `false` |" in review.stdout
    applied = apply(fleet, request)
    assert applied.exit_code == 0, applied.output
    record = json.loads((fleet / "records" / "acme.json").read_text())
    assert next(r for r in record["spec"]["resources"] if r["id"] == "data")["versioning"] is False


def test_a_request_built_on_an_older_setup_is_refused_by_review_and_setup(fleet: Path, request_file: Path) -> None:
    """The admin's last setup is not the one the vendor built the request on: review and setup refuse it (what it
    changes over the admin's setup was never reviewed), and nothing changes."""
    changed = fleet / "changed.py"
    changed.write_text(QUICKSTART.read_text().replace("versioning=True", "versioning=False"))
    # The admin's own local record now says versioning=False (a setup the vendor's registry never imported).
    assert admin("up", str(artifact(changed)), "--bundle", str(fleet / "acme.bundle.json"), "--yes",
                 "--allow-frozen-changes", "--engine", FAST, "--state-dir", str(fleet), *SHARED_STATE).exit_code == 0
    before = state_of(fleet)
    for stopped in (admin("review", str(request_file), "--state-dir", str(fleet)), apply(fleet, request_file)):
        assert stopped.exit_code == 2, stopped.output
        assert "was built against another setup record than your last setup" in stopped.stderr
    assert state_of(fleet) == before
