"""The registry's setup requests on SQLite and PostgreSQL: one open request per deployment (a newer one supersedes
it, the same one asked again is kept), the history an admin's record completes (reviewed, applied), runs planned
or found awaiting setup, and a registry of revision 0004 upgraded to 0005 with its data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.runtime.environment import EnvironmentContext

import alien_pulumi as alien
from alien_pulumi.automation.run import RunKind
from alien_pulumi.deploy.request import DeployedRef, SetupRequest, build_request
from alien_pulumi.fleet import schema
from alien_pulumi.fleet.registry import (
    ALEMBIC,
    SCHEMA_VERSION,
    SCRIPT,
    DeploymentState,
    Registry,
    RegistryError,
    RunState,
    SetupRequestStatus,
    database_url,
    rollout_run_id,
)
from alien_pulumi.model.record import ReleaseRecord, RequestAnswer
from alien_pulumi.permissions import derive_plan, render_all
from alien_pulumi.preflight import from_record, preflight
from tests.fleet.test_registry import ECR, record, small_spec


@pytest.fixture
def reg(tmp_path: Path, database: str | None) -> Iterator[Registry]:
    with Registry(tmp_path, url=database) as opened:
        yield opened


def setup_record(name: str) -> ReleaseRecord:
    """A setup record whose permissions are those its setup rendered (preflight compares against them)."""
    plain = record(name)
    return plain.model_copy(update={"permissions": render_all(derive_plan(plain.spec, plain.context))})


def with_worker() -> alien.StackSpec:
    return (alien.Stack("s").platforms("aws", "gcp").add(alien.Function("f", image=f"{ECR}/i"), "live")
            .add(alien.Function("worker", image=f"{ECR}/w"), "live").build())


def request_for(reg: Registry, name: str, release: str, spec: alien.StackSpec) -> SetupRequest:
    deployed = reg.get_deployment(name).record
    assert deployed is not None
    report = preflight(spec, from_record(deployed), deployed.context.platform)
    assert report.awaits_setup, [f.code for f in report.findings if f.blocks]
    reg.record_release(release, spec)
    return build_request(report, deployed, reg.setup_record(name), spec, release)


def test_a_newer_request_supersedes_the_open_one_and_the_same_one_is_kept(reg: Registry) -> None:
    reg.add_deployment(setup_record("acme"))
    first = reg.record_setup_request(request_for(reg, "acme", "r2", with_worker()))
    assert reg.get_deployment("acme").open_request == first.id
    assert reg.get_deployment("acme").state is DeploymentState.AWAITING_SETUP
    same = reg.record_setup_request(request_for(reg, "acme", "r2", with_worker()))
    assert same.id == first.id and len(reg.setup_requests("acme")) == 1
    newer_spec = alien.Stack("s").platforms("aws", "gcp").add(alien.Function("f", image=f"{ECR}/i"), "live") \
        .add(alien.Function("worker", image=f"{ECR}/w", memory_mb=1024), "live").build()
    newer = reg.record_setup_request(request_for(reg, "acme", "r3", newer_spec))
    old, new = reg.setup_requests("acme")
    assert (old.id, old.status, old.superseded_by) == (first.id, SetupRequestStatus.SUPERSEDED, newer.id)
    assert (new.id, new.status) == (newer.id, SetupRequestStatus.OPEN)
    assert reg.open_setup_request("acme").id == newer.id


def test_the_record_answering_a_request_applies_it_with_the_review(reg: Registry) -> None:
    reg.add_deployment(setup_record("acme"))
    request = reg.record_setup_request(request_for(reg, "acme", "r2", with_worker()))
    spec = with_worker()
    answer = RequestAnswer(id=request.id, digest=spec.digest(), reviewed_at="2026-12-02T10:00:00+00:00")
    applied = record("acme", release="setup-2").model_copy(update={
        "spec": spec, "digest": spec.digest(), "frozen_digest": spec.frozen_digest(), "setup_request": answer})
    reg.add_deployment(applied)
    [entry] = reg.setup_requests("acme")
    assert entry.status is SetupRequestStatus.APPLIED
    assert entry.reviewed_at == "2026-12-02T10:00:00+00:00" and entry.applied_at
    assert entry.record == applied
    assert reg.get_deployment("acme").state is DeploymentState.DEPLOYED


def test_a_record_naming_a_request_but_another_stack_does_not_apply_it(reg: Registry) -> None:
    reg.add_deployment(setup_record("acme"))
    request = reg.record_setup_request(request_for(reg, "acme", "r2", with_worker()))
    lying = record("acme", release="setup-2").model_copy(update={
        "setup_request": RequestAnswer(id=request.id, digest=request.digest)})  # the old stack, not the request's
    reg.add_deployment(lying)
    [entry] = reg.setup_requests("acme")
    assert entry.status is SetupRequestStatus.SUPERSEDED and entry.record is None


def test_runs_planned_awaiting_setup_are_final_and_never_claimed(reg: Registry) -> None:
    for name in ("acme", "beta"):
        reg.add_deployment(record(name))
    reg.record_release("v1", small_spec())
    reg.create_rollout("ro", "v1", {"waves": "100%"}, [["acme", "beta"]], awaiting={"beta": "awaiting setup: sr-1"})
    beta = reg.get_run(rollout_run_id("ro", "beta"))
    assert (beta.status, beta.error, beta.attempt, beta.started_at) == (
        RunState.AWAITING_SETUP, "awaiting setup: sr-1", 0, None)
    assert beta.finished_at is not None
    assert reg.get_run(rollout_run_id("ro", "acme")).status is RunState.PENDING
    with pytest.raises(RegistryError, match="already awaiting-setup"):
        reg.start_run(rollout_run_id("ro", "beta"))
    reg.add_run("acme", RunKind.RELEASE, "one")
    reg.await_setup("one", "awaiting setup: sr-2")
    assert reg.get_run("one").status is RunState.AWAITING_SETUP


def at_revision(revision: str, url: sa.URL) -> sa.Engine:
    """A database brought to ``revision`` only, as an older alien-pulumi left it."""
    engine = sa.create_engine(url)
    with engine.begin() as conn, EnvironmentContext(
            ALEMBIC, SCRIPT, destination_rev=revision, fn=lambda rev, _ctx: SCRIPT._upgrade_revs(revision, rev)) as env:
        env.configure(connection=conn, target_metadata=schema.metadata, transactional_ddl=True)
        env.run_migrations()
    return engine


def test_a_registry_at_revision_4_upgrades_with_its_data(tmp_path: Path, database: str | None) -> None:
    engine = at_revision("0004", database_url(tmp_path, database))
    old = setup_record("acme")
    with engine.begin() as conn:
        assert not sa.inspect(conn).has_table("setup_requests")
        conn.execute(schema.deployments.insert().values(
            name="acme", platform="aws", context=old.context.model_dump_json(), management='{"role_arn": "arn:r"}',
            record=old.model_dump_json(), updated_at="t0", target=old.context.target))
        conn.execute(schema.releases.insert().values(id="v1", stack="s", digest=small_spec().digest(),
                                                     frozen_digest=small_spec().frozen_digest(),
                                                     spec=small_spec().to_json(), created_at="t0"))
        conn.execute(schema.rollouts.insert().values(id="ro", release_id="v1", plan='{"sizes": [1]}',
                                                     status="completed", created_at="t0", finished_at="t1"))
        conn.execute(schema.runs.insert().values(id="ro:acme", rollout_id="ro", deployment="acme", kind="release",
                                                 wave=1, attempt=1, status="succeeded", finished_at="t1"))
    engine.dispose()

    with Registry(tmp_path, url=database) as reg:
        assert reg.schema_version == SCHEMA_VERSION
        acme = reg.get_deployment("acme")
        assert (acme.record, acme.management, acme.open_request, acme.state) == (
            old, {"role_arn": "arn:r"}, None, DeploymentState.DEPLOYED)
        assert reg.setup_record("acme") == old
        assert reg.get_release("v1").spec == small_spec()
        assert reg.get_run("ro:acme").status is RunState.SUCCEEDED
        assert reg.setup_requests("acme") == []
        # And the new table is usable at once.
        entry = reg.record_setup_request(request_for(reg, "acme", "r2", with_worker()))
        assert reg.open_setup_request("acme").id == entry.id


def manage_record(name: str, release: str) -> ReleaseRecord:
    """What a release writes: the deployed record after it (permissions and context stay setup's)."""
    return setup_record(name).model_copy(update={"release": release, "program": "manage"})


def test_a_release_replaces_the_deployed_record_but_a_request_builds_on_the_setup_record(reg: Registry) -> None:
    setup = setup_record("acme")
    reg.add_deployment(setup)
    released = manage_record("acme", "r1")
    reg.set_deployed_record(released)
    assert reg.get_deployment("acme").record == released
    assert reg.setup_record("acme") == setup
    request = request_for(reg, "acme", "r2", with_worker())
    assert (request.deployed.release, request.setup.release) == ("r1", "setup-1")
    assert (request.setup.digest, request.setup.frozen_digest) == (setup.digest, setup.frozen_digest)
    # The admin's next setup, imported, is the base from then on.
    again = setup_record("acme").model_copy(update={"release": "setup-2"})
    reg.add_deployment(again)
    assert reg.setup_record("acme") == again == reg.get_deployment("acme").record


def test_a_deployment_without_a_setup_record_is_named(reg: Registry) -> None:
    with pytest.raises(RegistryError, match="no deployment named 'nope'"):
        reg.setup_record("nope")


def version_1(deployed: ReleaseRecord, request_id: str) -> str:
    """A request as version 1 stored it: built against the deployed record, which it names, and no ``setup``."""
    spec = with_worker()
    report = preflight(spec, from_record(deployed), deployed.context.platform)
    data = json.loads(build_request(report, deployed, deployed, spec, "v1").to_json())
    del data["setup"]
    return json.dumps({**data, "id": request_id, "request_version": 1})


def test_a_registry_at_revision_5_keeps_the_setup_record_of_each_deployment(tmp_path: Path,
                                                                           database: str | None) -> None:
    """acme runs its setup record and has a request open on it; beta runs a release after the setup that applied
    its last request (whose record the request's history kept); gamma runs a release after a setup the registry no
    longer holds, and has a request open on that release's record."""
    engine = at_revision("0005", database_url(tmp_path, database))
    records = {"acme": setup_record("acme"), "beta": manage_record("beta", "r1"), "gamma": manage_record("gamma", "r1")}
    applied = setup_record("beta").model_copy(update={"release": "setup-2"})
    with engine.begin() as conn:
        for name, deployed in records.items():
            conn.execute(schema.deployments.insert().values(
                name=name, platform="aws", context=deployed.context.model_dump_json(), management="{}",
                record=deployed.model_dump_json(), updated_at="t0", target=deployed.context.target))
        conn.execute(schema.releases.insert().values(id="v1", stack="s", digest=small_spec().digest(),
                                                     frozen_digest=small_spec().frozen_digest(),
                                                     spec=small_spec().to_json(), created_at="t0"))
        rows = [("sr-1", "beta", "applied", "t1", version_1(setup_record("beta"), "sr-1"), setup_record("beta")),
                ("sr-2", "beta", "applied", "t2", version_1(setup_record("beta"), "sr-2"), applied),
                ("sr-3", "acme", "open", "t3", version_1(records["acme"], "sr-3"), None),
                ("sr-4", "gamma", "open", "t4", version_1(records["gamma"], "sr-4"), None)]
        for rid, name, status, at, request, answer in rows:
            conn.execute(schema.setup_requests.insert().values(
                id=rid, deployment=name, release_id="v1", digest=with_worker().digest(), request=request,
                status=status, requested_at=at, applied_at=at if answer else None,
                record=answer.model_dump_json() if answer else None))
    engine.dispose()

    with Registry(tmp_path, url=database) as reg:
        assert reg.schema_version == SCHEMA_VERSION
        assert reg.setup_record("acme") == records["acme"]
        assert reg.setup_record("beta") == applied, "the latest applied request's record"
        assert reg.get_deployment("beta").record == records["beta"], "the deployed record is kept"
        with pytest.raises(RegistryError, match=r"'gamma' has no setup record.*alien-pulumi deployments add"):
            reg.setup_record("gamma")
        # Version 1 requests read as version 2, on the base they were built against.
        [acme] = reg.setup_requests("acme")
        assert (acme.status, acme.request.request_version) == (SetupRequestStatus.OPEN, 2)
        assert acme.request.setup == acme.request.deployed == DeployedRef.of(records["acme"])
        assert [(r.id, r.status, r.request.setup.release) for r in reg.setup_requests("beta")] == [
            ("sr-1", SetupRequestStatus.APPLIED, "setup-1"), ("sr-2", SetupRequestStatus.APPLIED, "setup-1")]
        # One open on a release's record would be refused by the admin's tool: superseded, the next release asks.
        [gamma] = reg.setup_requests("gamma")
        assert gamma.status is SetupRequestStatus.SUPERSEDED and "version 2" in (gamma.superseded_by or "")
        assert reg.get_deployment("gamma").open_request is None
        # Importing the admin's setup record again gives gamma one.
        again = setup_record("gamma")
        reg.add_deployment(again)
        assert reg.setup_record("gamma") == again


@pytest.mark.parametrize(("platform", "runtime_identity", "granted"), [
    ("aws", "acme-rt-app", "s3:PutObject"),
    ("gcp", "acme-rt-app@acme-customer-prod.iam.gserviceaccount.com", "storage.objects.create"),
    ("azure", "acme-rt-app", "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write"),
])
def test_a_request_names_each_identity_in_its_cloud_and_puts_broadening_first(platform: str, runtime_identity: str,
                                                                              granted: str) -> None:
    """The management identity only loses what a removed function needed; the runtime profile gains a write:
    that identity comes first, although management is listed first otherwise."""
    def stack(*extra: alien.Function, grants: list[str]) -> alien.StackSpec:
        built = alien.Stack("s").platforms("aws", "gcp", "azure").add(alien.Storage("data"), "frozen") \
            .add(alien.Function("f", image=f"{ECR}/i", permissions="app"), "live")
        for function in extra:
            built = built.add(function, "live")
        return built.permissions(profiles={"app": {"data": grants}}).build()

    old = stack(alien.Function("g", image=f"{ECR}/i"), grants=["storage/data-read"])
    new = stack(grants=["storage/data-read", "storage/data-write"])
    plain = record("acme", platform)
    deployed = plain.model_copy(update={"spec": old, "digest": old.digest(), "frozen_digest": old.frozen_digest(),
                                        "permissions": render_all(derive_plan(old, plain.context))})
    report = preflight(new, from_record(deployed), deployed.context.platform)
    assert report.awaits_setup
    request = build_request(report, deployed, deployed, new, "r2")
    first, *rest = request.permissions
    assert (first.layer, first.identity) == ("runtime:app", runtime_identity)
    assert {c.change for c in first.changes} == {"grant"} and granted in {c.action for c in first.changes}
    management = next(d for d in rest if d.layer == "management")
    assert management.changes and {c.change for c in management.changes} == {"revoke"}
    assert [(r.resource, r.change) for r in request.resources] == [("g", "removed")]
    assert request.digest == new.digest() and request.spec() == new
