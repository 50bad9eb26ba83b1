"""The lifecycle of one deployment per cloud through the real Pulumi engine and the fake provider plugins:
setup, a targeted live release as the management identity, a frozen change let through and applied by the
next setup, heartbeats after drift and deletion, a frozen resource removed from the stack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from alien_pulumi.automation.pulumi_engine import PulumiEngine, environment
from alien_pulumi.automation.run import RunKind, RunStatus
from alien_pulumi.automation.workspace import open_stack, pulumi_command
from alien_pulumi.errors import AutomationError
from alien_pulumi.fleet.registry import Registry
from alien_pulumi.fleet.service import run_input
from alien_pulumi.model.loader import load_stack
from tests.artifacts import digest_of
from tests.engine.fixtures import Engine
from tests.engine.flows import SMALL, VENDOR_ENV, changed, registered, setup, stack_state, vendor, vendor_side
from tests.fake_cli.fixtures import ADMIN_ENV
from tests.gcp_token_server import TokenServer, management_token

CLOUDS = ["aws", "gcp", "azure"]
FROZEN, LIVE = ("jobs", "cache"), ("api",)
# What only the admin's environment holds, and what the management environment of each cloud must carry.
MANAGEMENT = {"aws": ("AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN"), "gcp": ("GOOGLE_OAUTH_ACCESS_TOKEN",),
              "azure": ("ARM_USE_OIDC", "ARM_OIDC_TOKEN", "ARM_CLIENT_ID", "AZURE_CLIENT_ID", "AZURE_TENANT_ID",
                        "AZURE_FEDERATED_TOKEN_FILE")}
ADMIN_MARK = {"aws": ("AWS_ACCESS_KEY_ID", "AKIAADMIN"),
              "gcp": ("GOOGLE_APPLICATION_CREDENTIALS", "/home/admin/gcp.json"),
              "azure": ("ARM_CLIENT_SECRET", "admin-azure-secret")}
WRITES = {"Create", "Update", "Delete"}


def component_urns(state: dict[str, Any], names: tuple[str, ...]) -> set[str]:
    return {r["urn"] for r in state["resources"] if r["urn"].rsplit("::", 1)[-1] in names and not r.get("custom")}


def descendants(state: dict[str, Any], names: tuple[str, ...]) -> set[str]:
    """Custom resources under the named resource components, at any depth."""
    parents = {r["urn"]: r.get("parent") for r in state["resources"]}
    roots = component_urns(state, names)
    found = set()
    for r in state["resources"]:
        parent = r.get("parent")
        while parent and parent not in roots:
            parent = parents.get(parent)
        if parent and r.get("custom"):
            found.add(r["urn"])
    return found


def release(state: Path, stack: Path, *extra: str) -> dict[str, Any]:
    result = vendor("release", stack, "-d", "acme", "--state-dir", state, "--json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def heartbeat(state: Path) -> dict[str, Any]:
    result = vendor("heartbeat", "-d", "acme", "--state-dir", state, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["acme"]["resources"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("cloud", CLOUDS)
def test_setup_release_frozen_change_heartbeat(cloud: str, engine: Engine, management: TokenServer,
                                               tmp_path: Path) -> None:
    fake, state = engine.clouds[cloud], tmp_path / "state"

    # Setup: every resource created by the admin; the engine's state protects the frozen children only.
    up = setup(SMALL, cloud, state)
    assert up.exit_code == 0, up.output
    engine_state = stack_state(state)
    frozen, live = descendants(engine_state, FROZEN), descendants(engine_state, LIVE)
    assert frozen and live
    protected = {r["urn"] for r in engine_state["resources"] if r.get("protect")}
    assert frozen <= protected and not live & protected
    created = {c["urn"] for c in fake.calls() if c["method"] == "Create"}
    assert frozen | live <= created
    key, value = ADMIN_MARK[cloud]
    assert all(c["credentials"].get(key) == value for c in fake.calls()), "setup runs with the admin's credentials"
    # No registration's Python stack in the customer's state: it named paths of the machine that ran the program
    # (the SDK sends it unless build() turns it off) and was most of the state's bytes.
    assert not [r["urn"] for r in engine_state["resources"] if r.get("stackTrace") or r.get("sourcePosition")]

    # A live release: the engine takes every URN synth computed, updates only live resources, never calls the
    # provider about a frozen one, and the plugin sees only the management identity's credentials.
    registered(state)
    fake.clear_calls()
    assert release(state, changed(tmp_path, "memory_mb=512", "memory_mb=1024"), "--release-id", "r2")[
        "deployments"]["acme"]["status"] == "succeeded"
    record = Registry(state).get_deployment("acme").record
    assert record is not None and record.release == "r2"
    all_urns = {r["urn"] for r in stack_state(state)["resources"]}
    assert set(record.targets) <= all_urns, "synth's target URNs are the engine's URNs"
    calls = fake.calls()
    updated = {c["urn"] for c in calls if c["method"] == "Update"}
    assert updated and updated <= live
    assert not {c.get("urn") for c in calls} & frozen, "no provider call about a frozen resource"
    assert not {c["method"] for c in calls} & {"Create", "Delete"}
    for call in calls:
        seen = call["credentials"]
        assert not {k for k, v in seen.items() if ADMIN_ENV.get(k) == v or VENDOR_ENV.get(k) == v}, \
            f"only management credentials: {call}"
        assert all(k in seen for k in MANAGEMENT[cloud]), call
    if cloud == "gcp":  # the vendor's key file stays behind: the run holds the impersonated token alone
        (account,) = set(management.impersonated)
        assert account.endswith("-mgmt@acme-prod.iam.gserviceaccount.com")
        assert {c["credentials"]["GOOGLE_OAUTH_ACCESS_TOKEN"] for c in calls} == {management_token(account)[:64]}

    # A frozen change let through: not applied (ignore_changes), recorded pending setup; setup applies it.
    slower = changed(tmp_path, "visibility_timeout_s=30", "visibility_timeout_s=90")
    before = {r["urn"]: r["inputs"] for r in fake.resources()}
    fake.clear_calls()
    release(state, slower, "--allow-frozen-changes", "--release-id", "r3")
    assert not [c for c in fake.calls() if c["method"] in WRITES and c["urn"] in frozen]
    assert {r["urn"]: r["inputs"] for r in fake.resources() if r["urn"] in frozen} == \
        {u: i for u, i in before.items() if u in frozen}
    record = Registry(state).get_deployment("acme").record
    assert record is not None and any("jobs.visibility_timeout_s" in p for p in record.pending_setup)
    fake.clear_calls()
    again = setup(slower, cloud, state, "--allow-frozen-changes")
    assert again.exit_code == 0, again.output
    applied = {c["urn"] for c in fake.calls() if c["method"] == "Update"}
    assert applied and applied <= frozen, "the admin's setup applies the frozen change"

    # Heartbeat: drift on a frozen resource is reported with its fields and not repaired; deletion is missing.
    queue = next(r for r in fake.resources() if r["urn"] in frozen and r["urn"] in applied)
    field = next(k for k in queue["inputs"] if isinstance(queue["inputs"][k], int | str) and k not in ("name",))
    fake.drift("::" + queue["urn"].rsplit("::", 1)[-1], **{field: "changed-in-console"})
    fake.clear_calls()
    health = heartbeat(state)
    assert health["jobs"]["state"] == "drifted" and any(field in f for f in health["jobs"]["fields"]), health
    assert health["cache"]["state"] == health["api"]["state"] == "present"
    assert not [c for c in fake.calls() if c["method"] in WRITES], "a heartbeat repairs nothing"
    assert fake.find("::" + queue["urn"].rsplit("::", 1)[-1])["inputs"][field] == "changed-in-console"
    table = next(u for u in frozen if "::cache-" in u)
    fake.delete("::" + table.rsplit("::", 1)[-1])
    assert heartbeat(state)["cache"]["state"] == "missing"


@pytest.mark.parametrize("cloud", CLOUDS)
def test_frozen_resource_removed(cloud: str, engine: Engine, management: TokenServer, tmp_path: Path) -> None:
    fake, state = engine.clouds[cloud], tmp_path / "state"
    assert setup(SMALL, cloud, state).exit_code == 0
    frozen = descendants(stack_state(state), ("cache",))
    removed = frozen | component_urns(stack_state(state), ("cache",))
    registered(state)
    without = changed(tmp_path, ".add(cache, \"frozen\")", "", changed(tmp_path, "links=[jobs, cache]", "links=[jobs]"))
    blocked = vendor("release", without, "-d", "acme", "--state-dir", state, "--allow-frozen-changes")
    assert blocked.exit_code == 3 and "FROZEN_REMOVED cache" in blocked.output, blocked.output

    # Past preflight, a targeted management run aimed at the removed resources too deletes nothing. The real
    # engine carries a targeted resource that left the program over unchanged ('same'), or refuses the whole
    # run when an untargeted resource (here GCP's and Azure's setup-owned grants on the table) would go too.
    run = run_input(load_stack(without), Registry(state).get_deployment("acme"), RunKind.RELEASE, "r-bad", state)
    fake.clear_calls()
    with vendor_side():
        try:
            result = PulumiEngine().execute(run.model_copy(update={"targets": [*run.targets, *sorted(removed)]}))
        except AutomationError as exc:
            assert cloud != "aws" and "was not specified in --target list" in str(exc), exc
        else:
            assert result.status is RunStatus.SUCCEEDED and {result.operations[u] for u in removed} == {"same"}
        # ...and an untargeted one, which would delete them, is stopped by protect.
        with environment(PulumiEngine().run_environment(run, tmp_path)):
            stack = open_stack(run, {}, pulumi_command())
            # The CLI reads the config open_stack wrote into the stack's settings file (not through the CLI).
            config = {key: value.value for key, value in stack.get_all_config().items()}
            assert config["alien:platform"] == cloud and config["alien:stack"].endswith("/manage/spec.json")
            assert config["alien:prefix"] == "acme", config
            with pytest.raises(auto.errors.CommandError, match="protect"):
                stack.up(color="never")
    assert not [c for c in fake.calls() if c["method"] == "Delete" and c["urn"] in frozen]
    assert frozen <= {r["urn"] for r in fake.resources()}

    # The admin's setup without it stops before the engine and names the resource; nothing is deleted.
    removal = setup(without, cloud, state, "--allow-frozen-changes")
    assert removal.exit_code == 3 and "FROZEN_REMOVED cache" in removal.output, removal.output
    assert frozen <= {r["urn"] for r in fake.resources()}, "every frozen resource is kept"


@pytest.mark.parametrize("cloud", CLOUDS)
def test_frozen_compute_is_deployed_by_its_digest(cloud: str, engine: Engine, tmp_path: Path) -> None:
    """A tag is pulled again for every new replica: what setup hands the cloud for frozen compute is the digest."""
    fake, state = engine.clouds[cloud], tmp_path / "state"
    worker = 'alien.Container("worker", image="worker:2.0.0", cpu=0.25, memory_mb=512, port=8080, permissions="app")'
    stack = changed(tmp_path, 'cache = alien.Kv("cache")', f'cache = alien.Kv("cache")\nworker = {worker}')
    stack = changed(tmp_path, '.add(cache, "frozen")', '.add(cache, "frozen").add(worker, "frozen")', stack)
    up = setup(stack, cloud, state)  # the artifact pins worker:2.0.0 to a digest, as `alien-pulumi build` does
    assert up.exit_code == 0, up.output
    digest = digest_of("worker:2.0.0")
    sent = json.dumps([c["inputs"] for c in fake.resources() if "::worker-" in c["urn"]])
    assert f"/acme/worker@{digest}" in sent, "the cloud received the image by its digest"
    assert "worker:2.0.0" not in sent, "never the tag"
