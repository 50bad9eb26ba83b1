"""Cloud limits as preflight findings (issue 12, Deliver 5): each limit checked on documents built here, not by
the renderer, and the renderer's packing keeping a 500-resource stack inside every one of them."""

from __future__ import annotations

from typing import Any

import pytest

import alien_pulumi as alien
from alien_pulumi.model.types import Platform
from alien_pulumi.permissions import derive_plan, render_all
from alien_pulumi.preflight import Code, from_spec, limits, preflight
from alien_pulumi.preflight.limits import limit_findings
from benchmarks.stacks import stack_of


def aws_layer(policies: int, statement_chars: int = 10, trust_chars: int = 10) -> dict[str, Any]:
    doc = {"Version": "2012-10-17", "Statement": [{"Sid": "x" * statement_chars}]}
    return {"policies": [doc] * policies, "trust_policy": {"Sid": "t" * trust_chars}}


def gcp_layer(roles: int = 1, permissions: int = 1, conditional: int = 0, members: int = 0) -> dict[str, Any]:
    binding = {"scope": "projects/p", "role": "projects/p/roles/r0", "member": "serviceAccount:m"}
    return {
        "roles": [{"id": f"r{i}", "permissions": [f"s.t.p{j}" for j in range(permissions)]} for i in range(roles)],
        "bindings": [{**binding, "condition": {"title": "t", "expression": f"resource.name == '{i}'"}}
                     for i in range(conditional)]
                    + [{**binding, "scope": "//run/s", "member": f"serviceAccount:m{i}", "condition": None}
                       for i in range(members)],
    }


def azure_layer(assignments: int, roles: int = 1) -> dict[str, Any]:
    return {"assignments": [{"scope": f"/s/{i}"} for i in range(assignments)],
            "role_definitions": [{"roleName": f"r{i}"} for i in range(roles)]}


def codes(platform: Platform, rendered: dict[str, Any]) -> list[tuple[Code, bool]]:
    return [(f.code, f.blocks) for f in limit_findings(platform, rendered)]


def test_aws_limits() -> None:
    ok = {"management": aws_layer(10), "runtime": {"app": aws_layer(1)}}
    assert codes(Platform.AWS, ok) == []
    assert codes(Platform.AWS, {"management": aws_layer(11), "runtime": {}}) == [
        (Code.LIMIT_AWS_MANAGED_POLICIES, True)]
    assert codes(Platform.AWS, {"management": aws_layer(1), "runtime": {"app": aws_layer(11)}}) == [
        (Code.LIMIT_AWS_MANAGED_POLICIES, True)]
    assert codes(Platform.AWS, {"management": aws_layer(1, statement_chars=6144), "runtime": {}}) == [
        (Code.LIMIT_AWS_POLICY_SIZE, True)]
    assert codes(Platform.AWS, {"management": aws_layer(1, trust_chars=2048), "runtime": {}}) == [
        (Code.LIMIT_AWS_TRUST_POLICY_SIZE, True)]


def test_gcp_limits() -> None:
    assert codes(Platform.GCP, {"management": gcp_layer(300, conditional=20, members=1499), "runtime": {}}) == []
    assert codes(Platform.GCP, {"management": gcp_layer(301), "runtime": {}}) == [(Code.LIMIT_GCP_CUSTOM_ROLES, True)]
    assert codes(Platform.GCP, {"management": gcp_layer(1, permissions=3001), "runtime": {}}) == [
        (Code.LIMIT_GCP_ROLE_PERMISSIONS, True)]
    assert codes(Platform.GCP, {"management": gcp_layer(conditional=21), "runtime": {}}) == [
        (Code.LIMIT_GCP_CONDITIONAL_BINDINGS, True)]
    assert codes(Platform.GCP, {"management": gcp_layer(), "runtime": {"a": gcp_layer(members=1501)}}) == [
        (Code.LIMIT_GCP_POLICY_MEMBERS, True)]


def test_azure_limits_count_every_layer_against_the_subscription() -> None:
    assert codes(Platform.AZURE, {"management": azure_layer(1000), "runtime": {"a": azure_layer(1000)}}) == []
    # more than half of the subscription's fixed 4,000: a warning; more than all of it: blocks
    assert codes(Platform.AZURE, {"management": azure_layer(1500), "runtime": {"a": azure_layer(501)}}) == [
        (Code.LIMIT_AZURE_ROLE_ASSIGNMENTS, False)]
    assert codes(Platform.AZURE, {"management": azure_layer(3000), "runtime": {"a": azure_layer(1001)}}) == [
        (Code.LIMIT_AZURE_ROLE_ASSIGNMENTS, True)]
    assert codes(Platform.AZURE, {"management": azure_layer(1, roles=5001), "runtime": {}}) == [
        (Code.LIMIT_AZURE_CUSTOM_ROLES, True)]


@pytest.mark.parametrize("platform", list(Platform))
@pytest.mark.parametrize("size", [10, 100, 300, 500])
def test_packing_keeps_big_stacks_inside_every_limit(platform: Platform, size: int) -> None:
    spec = stack_of(size)
    rendered = render_all(derive_plan(spec, alien.DeploymentContext.example_context(platform, spec.name)))
    assert limit_findings(platform, rendered) == []
    if platform is Platform.AZURE:  # well inside the shared subscription limit, not just under it
        total = len(rendered["management"]["assignments"]) + sum(
            len(layer["assignments"]) for layer in rendered["runtime"].values())
        assert total <= 0.3 * limits.AZURE_ASSIGNMENTS_PER_SUBSCRIPTION


def test_preflight_reports_a_crossed_limit_before_anything_is_created(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = stack_of(100, ("aws",))
    monkeypatch.setattr(limits, "AWS_MANAGED_POLICIES_PER_ROLE", 1)
    report = preflight(spec, from_spec(spec))
    found = [f for f in report.findings if f.code is Code.LIMIT_AWS_MANAGED_POLICIES]
    assert found and report.blocked and all(f.blocks and f.platform == "aws" for f in found)
    assert "managed policies" in found[0].message
