"""Properties of the derivation over random valid stacks, on every cloud."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings

import alien_pulumi as alien
from alien_pulumi.model.types import Platform
from alien_pulumi.permissions import derive_plan
from tests.permissions.classification import NEVER, REASON, classify, contents
from tests.strategies import stack_data

SETTINGS = settings(max_examples=40, deadline=None)


def unclassified(plan: alien.permissions.PermissionPlan) -> set[str]:
    """Management actions that an independent source does not call metadata and no set of the layer justifies,
    and every action that is never allowed (contents, keys) - the allow-list of DESIGN.md §7, not
    ``data - control`` (which lets a data action added to a control set remove itself from the check)."""
    cloud = plan.context.platform.value
    sets = {use.set.id: use.set for use in plan.management.uses}
    out = set()
    for grant in plan.management.grants:
        pset = sets[grant.set_id]
        for action in (*grant.actions, *grant.data_actions):
            if pset.name == "provision":
                # only by the stack's explicit extend: its writes are the opt-in, contents never
                if contents(cloud, action):
                    out.add(action)
                continue
            verdict = classify(cloud, action, pset.name)
            if verdict == NEVER or (verdict == REASON and action not in pset.justifications):
                out.add(action)
    return out


def plan_of(data: dict[str, Any], platform: Platform) -> alien.permissions.PermissionPlan:
    data = {**data, "platforms": [platform.value]}
    spec = alien.parse_spec(data)
    return derive_plan(spec, alien.DeploymentContext.example_context(platform, spec.name))


@pytest.mark.parametrize("platform", list(Platform))
@SETTINGS
@given(data=stack_data())
def test_management_never_holds_data_permissions(platform: Platform, data: dict[str, Any]) -> None:
    plan = plan_of(data, platform)
    # the one data access is the deployment's own state (DESIGN.md §4a), on the state store's scopes alone
    state = [g for g in plan.management.grants if g.set_id == "state/state"]
    assert not {a for g in plan.management.grants if g.set_id != "state/state" for a in g.data_actions}
    names = plan.context.state_names()
    assert all(any(n in r for n in names.values()) for g in state if g.data_actions for r in g.resources)
    assert not unclassified(plan)
    assert not any(use.set.is_data for use in plan.management.uses)


@pytest.mark.parametrize("platform", list(Platform))
@SETTINGS
@given(data=stack_data())
def test_frozen_resources_get_only_heartbeat_and_provision_only_through_extend(
    platform: Platform, data: dict[str, Any]
) -> None:
    plan = plan_of(data, platform)
    extended = {
        (set_id, rid)
        for scope, set_ids in plan.spec.permissions.management.extend.items()
        for set_id in set_ids
        for rid in ([r.id for r in plan.spec.resources if r.kind.value == set_id.split("/")[0]]
                    if scope == "*" else [scope])
    }
    for use in plan.management.uses:
        for rid in use.resource_ids:
            res = plan.spec.resource(rid)
            if (use.set.id, rid) in extended:
                continue
            assert use.set.type == res.kind.value
            if res.lifecycle is alien.Lifecycle.FROZEN:
                assert use.set.name == "heartbeat", (use.set.id, rid)
            else:
                assert use.set.name in {"heartbeat", "management"}, (use.set.id, rid)
            assert use.set.name != "provision"
