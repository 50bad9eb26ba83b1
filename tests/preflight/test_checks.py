"""One case per finding code, with its exact message; nested field diffs; the allow flag."""

from __future__ import annotations

from typing import Any

import pytest

import alien_pulumi as alien
from alien_pulumi.model.types import Platform
from alien_pulumi.preflight import Code, from_spec, preflight
from alien_pulumi.preflight.fielddiff import field_changes
from tests.conftest import quickstart

ECR = "111122223333.dkr.ecr.us-east-1.amazonaws.com"  # AWS runs ECR images only (DESIGN.md §4b)


def deployed_data() -> dict[str, Any]:
    return quickstart().model_dump(mode="json")


def edited(rid: str | None = None, drop: str | None = None, add: dict[str, Any] | None = None,
           extend: dict[str, list[str]] | None = None, profiles: dict[str, Any] | None = None,
           **changes: Any) -> alien.StackSpec:
    data = deployed_data()
    if rid:
        next(r for r in data["resources"] if r["id"] == rid).update(changes)
    if drop:
        data["resources"] = [r for r in data["resources"] if r["id"] != drop]
        for res in data["resources"]:
            if "links" in res:
                res["links"] = [x for x in res["links"] if x != drop]
        data["permissions"]["management"]["extend"].pop(drop, None)
    if add:
        data["resources"].append(add)
    if extend is not None:
        data["permissions"]["management"]["extend"] = extend
    if profiles is not None:
        data["permissions"]["profiles"] = profiles
    return alien.parse_spec(data)


def messages(new: alien.StackSpec, code: Code, platform: str = "aws", base: alien.StackSpec | None = None,
             **kwargs: Any) -> list[str]:
    report = preflight(new, from_spec(base or quickstart()), Platform(platform), **kwargs)
    return [f.message for f in report.findings if f.code is code]


def test_identical_stacks_have_no_findings() -> None:
    report = preflight(quickstart(), from_spec(quickstart()))
    assert report.findings == () and not report.blocked


def test_frozen_changed_blocks_unless_allowed() -> None:
    new = edited("data", versioning=False)
    report = preflight(new, from_spec(quickstart()), Platform.AWS)
    (finding,) = report.findings
    assert finding.code is Code.FROZEN_CHANGED and finding.blocks and finding.needs_setup
    assert (finding.resource, finding.field, finding.old, finding.new) == ("data", "versioning", True, False)
    assert finding.message == ("data.versioning: True -> False: frozen resource changed (allow with "
                               "--allow-frozen-changes; the admin's next setup applies it)")
    allowed = preflight(new, from_spec(quickstart()), Platform.AWS, allow_frozen_changes=True)
    (pending,) = allowed.findings
    assert not allowed.blocked and allowed.pending_setup == [pending]
    assert pending.message == "data.versioning: True -> False: frozen resource changed; pending setup (the release " \
                              "will not apply it)"


def test_lifecycle_changed() -> None:
    assert messages(edited("jobs", lifecycle="live"), Code.LIFECYCLE_CHANGED) == [
        "jobs: lifecycle changed from frozen to live; only setup can change who owns a resource"]


def test_type_changed() -> None:
    new = edited("secrets", type="kv")
    assert messages(new, Code.TYPE_CHANGED) == [
        "secrets: type changed from vault to kv: a new resource under an old id needs setup"]


def test_frozen_added_and_removed() -> None:
    added = edited(add={"id": "logs", "type": "storage", "lifecycle": "frozen"})
    assert messages(added, Code.FROZEN_ADDED) == ["logs: frozen storage added; the admin's setup creates it"]
    removed = edited(drop="secrets")
    assert messages(removed, Code.FROZEN_REMOVED) == [
        "secrets: frozen vault removed; only setup removes it (it is retained, never deleted with data)"]


def test_live_added_needs_provision_or_extend() -> None:
    fn = {"id": "worker", "type": "function", "lifecycle": "live", "image": f"{ECR}/acme/worker:1"}
    assert messages(edited(add=fn), Code.LIVE_ADDED_NEEDS_PROVISION) == [
        "worker: live function added, but management.extend does not grant function/provision for it or '*': "
        "the admin's setup creates it"]
    base = edited(extend={"*": ["function/provision"]})
    new = edited(add=fn, extend={"*": ["function/provision"]})
    assert messages(new, Code.LIVE_ADDED, base=base) == [
        "worker: live function added; the release creates it (function/provision is in management.extend)"]
    assert messages(new, Code.LIVE_ADDED_NEEDS_PROVISION, base=base) == []


def test_live_removed_needs_provision_or_extend() -> None:
    assert messages(edited(drop="web"), Code.LIVE_REMOVED_NEEDS_PROVISION) == [
        "web: live container removed, but management.extend does not grant container/provision for it or '*': "
        "the admin's setup removes it"]
    # the quickstart extends api with function/provision
    assert messages(edited(drop="api"), Code.LIVE_REMOVED) == [
        "api: live function removed; the release deletes it (function/provision is in management.extend)"]


def test_live_changed_is_applied_by_the_release() -> None:
    assert messages(edited("api", memory_mb=1024), Code.LIVE_CHANGED) == [
        "api.memory_mb: 512 -> 1024: the release applies it (aws: updated in place (the same function ARN); new "
        "execution environments use the new configuration)"]
    assert not preflight(edited("api", memory_mb=1024), from_spec(quickstart())).blocked


def test_a_live_change_says_what_it_replaces_and_restarts_per_cloud() -> None:
    """An ECS container's image is a new task definition (a new ARN) and a rolling restart; a Lambda function's
    image is in place; a Cloud Run service's is a new revision. Preflight and its JSON say so."""
    report = preflight(edited("web", image=f"{ECR}/acme/web:9.9.9"), from_spec(quickstart()))
    (change,) = [f for f in report.findings if f.code is Code.LIVE_CHANGED and f.field == "image"]
    assert change.replaces == {"aws": "task definition"}
    assert change.effects["aws"].startswith("a new task definition revision (a new ARN")
    assert "rolling restart" in change.effects["aws"] and "a new revision" in change.effects["gcp"]
    assert change.to_json()["replaces"] == {"aws": "task definition"}
    report = preflight(edited("web", min_replicas=3), from_spec(quickstart()))
    (count,) = [f for f in report.findings if f.code is Code.LIVE_CHANGED]
    assert count.replaces == {} and "in place" in count.effects["aws"]
    report = preflight(edited("api", image=f"{ECR}/acme/api:9.9.9"), from_spec(quickstart()))
    (code,) = [f for f in report.findings if f.code is Code.LIVE_CHANGED and f.field == "image"]
    assert code.replaces == {} and code.effects["aws"].startswith("updated in place (the same function ARN)")


def test_every_updatable_field_says_what_a_change_does() -> None:
    """A set's effects name each of its updates fields exactly once (the loader refuses anything else)."""
    from alien_pulumi.errors import PermissionDataError
    from alien_pulumi.permissions.library import _effects

    with pytest.raises(PermissionDataError, match="exactly once"):
        _effects([{"fields": ["image"], "effect": "x"}], ["image", "cpu"], "test")
    with pytest.raises(PermissionDataError, match="says what each does"):
        _effects(None, ["image"], "test")
    for platform in Platform:
        from alien_pulumi.permissions.library import library

        for pset in library(platform).values():
            if pset.updates:
                assert sorted(f for e in pset.effects for f in e.fields) == sorted(pset.updates), pset.id


def test_management_permissions_changed_lists_added_and_removed_per_cloud() -> None:
    new = edited("jobs", lifecycle="live")  # a live queue brings queue/management
    report = preflight(new, from_spec(quickstart()), Platform.GCP)
    (finding,) = [f for f in report.findings if f.code is Code.MANAGEMENT_PERMISSIONS_CHANGED]
    assert finding.blocks and finding.needs_setup and finding.platform == "gcp"
    added = finding.added["gcp"]
    assert added and all(" on " in line for line in added)
    assert any("pubsub.topics.update" in line for line in added)
    assert finding.message == f"gcp: permissions of the management identity change (+{len(added)} -0); " \
                              "setup must grant them before this release"


def test_removed_permissions_are_pending_not_blocking() -> None:
    base = edited("jobs", lifecycle="live")
    report = preflight(quickstart(), from_spec(base), Platform.AWS)
    perm = [f for f in report.findings if f.code is Code.MANAGEMENT_PERMISSIONS_CHANGED]
    if perm:  # AWS queue management may add nothing beyond heartbeat
        assert not perm[0].blocks and perm[0].needs_setup and perm[0] in report.pending_setup


def test_profile_permissions_changed() -> None:
    new = edited(profiles={"app": {"data": ["storage/data-read"], "secrets": ["vault/data-read"]}})
    found = [f for f in preflight(new, from_spec(quickstart()), Platform.AWS).findings
             if f.code is Code.PROFILE_PERMISSIONS_CHANGED]
    (finding,) = found
    assert finding.resource == "app"
    assert any("secretsmanager:GetSecretValue" in a for a in finding.added["aws"])
    assert finding.blocks


@pytest.mark.parametrize("platform", ["gcp", "azure"])
def test_a_dropped_grant_resource_needs_setup(platform: str) -> None:
    """GCP bindings and Azure role assignments are resources of their own: one a release no longer declares would
    be deleted by a targeted run, which the engine refuses. Setup itself is not stopped by it."""
    report = preflight(edited("api", links=["data"]), from_spec(quickstart()), Platform(platform))
    dropped = [f for f in report.findings if f.code is Code.GRANT_REMOVED]
    assert dropped and all(f.blocks and f.needs_setup for f in dropped)
    assert any(f.resource == "jobs" and f.message.startswith(f"{platform}: jobs: the release drops the setup-owned ")
               and f.message.endswith("the customer's admin must run setup") for f in dropped), dropped
    assert report.blocked and not report.blocks_setup


def test_aws_permissions_dropped_inside_a_policy_document_stay_pending() -> None:
    report = preflight(edited("api", links=["data"]), from_spec(quickstart()), Platform.AWS)
    assert not [f for f in report.findings if f.code is Code.GRANT_REMOVED] and not report.blocked
    assert any(f.code is Code.PROFILE_PERMISSIONS_CHANGED for f in report.pending_setup)


def test_platform_removed() -> None:
    data = deployed_data()
    data["platforms"] = ["aws"]
    report = preflight(alien.parse_spec(data), from_spec(quickstart()))
    assert [f.message for f in report.findings if f.code is Code.PLATFORM_REMOVED] == [
        "stack no longer declares gcp, where it is deployed", "stack no longer declares azure, where it is deployed"]
    assert report.platforms == (Platform.AWS,)


def test_name_collision_after_cloud_naming_rules() -> None:
    # On Azure a storage account name drops hyphens: "a-b" and "ab" both become "<prefix>ab". Validation refuses such
    # a stack (on sample prefixes); preflight checks the deployment's own prefix, so it is built here unvalidated.
    base = alien.Stack("s").platforms("azure").add(alien.Storage("a-b"), "frozen").build()
    data = base.model_dump(mode="json")
    data["resources"].append({**data["resources"][0], "id": "ab"})
    spec = alien.StackSpec.model_validate(data)
    found = messages(spec, Code.NAME_COLLISION, "azure", base=base)
    assert found == ["ab: its storage account name 'sab' on azure is also a-b's (after the cloud's naming rules); "
                     "rename one"]


def test_vault_prefix_overlap() -> None:
    spec = alien.Stack("s").platforms("gcp").add(alien.Vault("a"), "frozen").add(alien.Vault("a-b"), "frozen").build()
    assert messages(spec, Code.PREFIX_OVERLAP, "gcp", base=spec) == [
        "a: vault name prefix 's-a' also covers a-b's secrets ('s-a-b') on gcp; rename one"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ({"environment": {"A": "1"}}, {"environment": {"A": "2", "B": "x"}},
         [("environment.A", "1", "2"), ("environment.B", None, "x")]),
        ({"triggers": [{"schedule": "0 * * * *", "queue": None}]}, {"triggers": [{"schedule": "5 * * * *",
                                                                                  "queue": None}]},
         [("triggers[0].schedule", "0 * * * *", "5 * * * *")]),
        ({"links": ["a", "b"]}, {"links": ["a"]}, [("links", ["a", "b"], ["a"])]),
        ({"x": 1}, {"x": 1}, []),
    ],
)
def test_nested_field_diff(old: dict[str, Any], new: dict[str, Any], expected: list[tuple[str, Any, Any]]) -> None:
    assert field_changes(old, new) == expected


def test_nested_frozen_change_names_the_nested_field() -> None:
    base = (alien.Stack("s").platforms("aws")
            .add(alien.Container("c", image=f"{ECR}/i", environment={"LOG": "info"}), "frozen").build())
    new = (alien.Stack("s").platforms("aws")
           .add(alien.Container("c", image=f"{ECR}/i", environment={"LOG": "debug"}), "frozen").build())
    assert messages(new, Code.FROZEN_CHANGED, base=base) == [
        "c.environment.LOG: 'info' -> 'debug': frozen resource changed (allow with --allow-frozen-changes; the "
        "admin's next setup applies it)"]


def test_live_change_the_management_set_cannot_apply_needs_setup() -> None:
    # AWS: a live queue's attributes are setup-owned (SetQueueAttributes could rewrite its policy).
    base = alien.Stack("s").platforms("aws").add(alien.Queue("q"), "live").build()
    new = alien.Stack("s").platforms("aws").add(alien.Queue("q", visibility_timeout_s=60), "live").build()
    assert messages(new, Code.LIVE_CHANGE_NEEDS_SETUP, base=base) == [
        "q.visibility_timeout_s: 30 -> 60: the management identity cannot apply this change on aws (setup-owned on "
        "that cloud)"]
    assert preflight(new, from_spec(base), Platform.AWS).blocked


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ({"triggers": [{"queue": "q", "batch_size": 5}]}, {"triggers": [{"queue": "q", "batch_size": 8}]},
         Code.LIVE_CHANGED),
        ({"triggers": [{"schedule": "0 * * * *"}]}, {"triggers": [{"schedule": "5 * * * *"}]},
         Code.LIVE_CHANGE_NEEDS_SETUP),
        ({"environment": {"A": "1"}}, {"environment": {"A": "2"}}, Code.LIVE_CHANGED),
        ({"public": False}, {"public": True}, Code.LIVE_CHANGE_NEEDS_SETUP),
    ],
)
def test_aws_function_updates_patterns(old: dict[str, Any], new: dict[str, Any], code: Code) -> None:
    def stack(fields: dict[str, Any]) -> alien.StackSpec:
        return (alien.Stack("s").platforms("aws").add(alien.Queue("q"), "frozen")
                .add(alien.Function("f", image=f"{ECR}/i", **fields), "live").build())

    report = preflight(stack(new), from_spec(stack(old)), Platform.AWS)
    assert {f.code for f in report.findings if f.resource == "f"} == {code}
