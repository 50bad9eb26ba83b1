"""Properties of the derivation over random valid stacks, on every cloud."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings

import alien_pulumi as alien
from alien_pulumi.model.types import Platform
from alien_pulumi.permissions import derive_plan
from alien_pulumi.permissions.library import library
from tests.strategies import stack_data

SETTINGS = settings(max_examples=40, deadline=None)


def data_only_actions(platform: Platform) -> set[str]:
    """Actions that appear in data sets and in no control-plane set: the data permissions."""
    sets = library(platform).values()
    data = {a for s in sets if s.is_data for a in s.actions()}
    control = {a for s in sets if not s.is_data for a in s.actions()}
    return data - control


def plan_of(data: dict[str, Any], platform: Platform) -> alien.permissions.PermissionPlan:
    data = {**data, "platforms": [platform.value]}
    spec = alien.parse_spec(data)
    return derive_plan(spec, alien.DeploymentContext.example_context(platform, spec.name))


@pytest.mark.parametrize("platform", list(Platform))
@SETTINGS
@given(data=stack_data())
def test_management_never_holds_data_permissions(platform: Platform, data: dict[str, Any]) -> None:
    plan = plan_of(data, platform)
    assert not plan.management.data_actions()
    assert not plan.management.actions() & data_only_actions(platform)
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
