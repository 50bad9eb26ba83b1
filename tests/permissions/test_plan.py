"""Derivation of the three layers (DESIGN.md §2), on every cloud."""

from __future__ import annotations

import pytest

import alien_pulumi as alien
from alien_pulumi.model.types import SET_NAMES, Platform, ResourceType
from alien_pulumi.permissions import derive_plan
from alien_pulumi.permissions.library import library
from tests.conftest import quickstart

ECR = "111122223333.dkr.ecr.us-east-1.amazonaws.com"  # AWS runs ECR images only (DESIGN.md §4b)

PLATFORMS = list(Platform)


def ctx(platform: Platform, spec: alien.StackSpec) -> alien.DeploymentContext:
    return alien.DeploymentContext.example_context(platform, spec.name, prefix="acme-myapp")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_library_defines_exactly_the_vocabulary(platform: Platform) -> None:
    sets = library(platform)
    for kind in ResourceType:
        assert {s.name for s in sets.values() if s.type == kind.value} == SET_NAMES[kind]
    # identities are setup's; the one exception is AWS's self-check of the management role (preflight --live)
    own = {"aws": {"provision", "heartbeat"}}.get(platform.value, {"provision"})
    assert {s.name for s in sets.values() if s.type == "identity"} == own
    for pset in sets.values():
        assert pset.description and all(g.description for g in pset.grants)
    # management includes heartbeat, provision includes management
    for kind in ResourceType:
        heartbeat, management, provision = (sets[f"{kind.value}/{n}"] for n in ("heartbeat", "management", "provision"))
        assert all(g in management.grants for g in heartbeat.grants)
        assert all(g in provision.grants for g in management.grants if not g.setup_only)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_management_follows_lifecycle(platform: Platform) -> None:
    spec = quickstart()
    plan = derive_plan(spec, ctx(platform, spec))
    uses = {u.set.id: u.resource_ids for u in plan.management.uses}
    for res in spec.resources:
        kind = res.kind.value
        assert res.id in uses[f"{kind}/heartbeat"]
        if res.lifecycle is alien.Lifecycle.LIVE:
            assert res.id in uses[f"{kind}/management"]
        else:
            assert res.id not in uses.get(f"{kind}/management", ())
    # provision only through extend: the quickstart extends api with function/provision
    assert uses["function/provision"] == ("api",)
    assert "container/provision" not in uses
    # data: only the state set's (Azure: blob and key dataActions on the state container and key, DESIGN.md §4a)
    assert {g.set_id for g in plan.management.grants if g.data_actions} <= {"state/state"}
    assert not any(u.set.is_data for u in plan.management.uses)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_frozen_resource_adds_only_heartbeat(platform: Platform) -> None:
    base = alien.Stack("s").platforms(platform.value).add(alien.Kv("k"), "live").build()
    more = (alien.Stack("s").platforms(platform.value).add(alien.Kv("k"), "live")
            .add(alien.Storage("b"), "frozen").build())
    added = derive_plan(more, ctx(platform, more)).management
    before = derive_plan(base, ctx(platform, base)).management
    new_grants = [g for g in added.grants if g not in before.grants]
    assert new_grants and {g.set_id for g in new_grants} == {"storage/heartbeat"}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_extend_star_applies_to_every_resource_of_the_type(platform: Platform) -> None:
    spec = (
        alien.Stack("s").platforms(platform.value)
        .add(alien.Function("a", image=f"{ECR}/i"), "live").add(alien.Function("b", image=f"{ECR}/i"), "frozen")
        .add(alien.Queue("q"), "frozen")
        .permissions(management={"extend": {"*": ["function/provision"]}})
        .build()
    )
    plan = derive_plan(spec, ctx(platform, spec))
    uses = {u.set.id: u.resource_ids for u in plan.management.uses}
    assert uses["function/provision"] == ("a", "b")
    assert "queue/provision" not in uses


@pytest.mark.parametrize("platform", PLATFORMS)
def test_provisioning_covers_every_resource_and_the_identities(platform: Platform) -> None:
    spec = quickstart()
    plan = derive_plan(spec, ctx(platform, spec))
    uses = {u.set.id: u.resource_ids for u in plan.provisioning.uses}
    for res in spec.resources:
        assert res.id in uses[f"{res.kind.value}/provision"]
    assert "identity/provision" in uses
    assert plan.management.actions() - plan.provisioning.actions() <= set(), "the admin can do what the vendor can"


@pytest.mark.parametrize("platform", PLATFORMS)
def test_runtime_profiles_links_and_star(platform: Platform) -> None:
    spec = quickstart()
    plan = derive_plan(spec, ctx(platform, spec))
    assert set(plan.runtime) == {"app"}
    app = plan.runtime["app"]
    uses = {u.set.id: set(u.resource_ids) for u in app.uses}
    assert uses["storage/data-read"] == {"data"} and uses["storage/data-write"] == {"data"}
    assert uses["queue/data-write"] == {"jobs"}  # "*" = every queue
    assert uses["queue/data-read"] == {"jobs"}  # api links jobs
    assert uses["kv/data-read"] == {"cache"}  # web links cache
    assert uses["function/runtime"] == {"api"} and uses["container/runtime"] == {"web"}
    assert "vault/data-read" not in uses  # nothing links the vault
    assert app.identity == plan.context.identity("rt-app")


def test_default_profile_for_compute_without_one() -> None:
    spec = (
        alien.Stack("s").platforms("aws")
        .add(alien.Vault("v"), "frozen").add(alien.Function("f", image=f"{ECR}/i", links=["v"]), "live")
        .build()
    )
    plan = derive_plan(spec, alien.DeploymentContext.example_context("aws", "s"))
    assert set(plan.runtime) == {"default"}
    uses = {u.set.id: u.resource_ids for u in plan.runtime["default"].uses}
    assert uses["vault/data-read"] == ("v",) and "vault/data-write" not in uses


def test_setup_only_grants_never_reach_management() -> None:
    spec = (
        alien.Stack("s").platforms("aws").add(alien.Storage("b"), "live")
        .permissions(management={"extend": {"*": ["storage/provision"]}}).build()
    )
    plan = derive_plan(spec, alien.DeploymentContext.example_context("aws", "s"))
    setup_only = [g for g in library(Platform.AWS)["storage/provision"].grants if g.setup_only]
    assert setup_only, "AWS storage/provision has the admin's HeadBucket grant"
    only_setup = {a for g in setup_only for a in g.actions}
    assert only_setup <= plan.provisioning.actions()
    # s3:ListBucket reaches management on the state bucket only (the state set), never on a stack's bucket
    assert not only_setup & {a for g in plan.management.grants if g.set_id != "state/state" for a in g.actions}
    assert {r for g in plan.management.grants if "s3:ListBucket" in g.actions for r in g.resources} == {
        f"arn:aws:s3:::{plan.context.state_names()['state_bucket']}"}


def test_templates_are_filled_with_the_context() -> None:
    spec = quickstart()
    context = alien.DeploymentContext.example_context("aws", spec.name, prefix="acme-myapp", region="eu-west-1",
                                              account_id="210987654321")
    plan = derive_plan(spec, context)
    resources = {r for g in plan.management.grants for r in g.resources}
    assert "arn:aws:s3:::acme-myapp-data" in resources
    assert all("{" not in r for r in resources)
    assert any(":eu-west-1:210987654321:" in r for r in resources)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_management_updates_name_real_spec_fields(platform: Platform) -> None:
    from alien_pulumi.model.resources import SPEC_BY_TYPE

    for kind in ResourceType:
        updates = library(platform)[f"{kind.value}/management"].updates
        if updates is None:
            continue
        fields = set(SPEC_BY_TYPE[kind].model_fields) - {"id", "lifecycle", "type"}
        for pattern in updates:
            assert pattern.split(".")[0].split("[")[0] in fields, (platform.value, kind.value, pattern)
