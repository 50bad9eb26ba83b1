"""Azure: one custom role per packed grant and an assignment of that role on each scope the grant names, which is
exactly what setup creates (components/azure/grants.py)."""

from __future__ import annotations

import re
from typing import Any

from alien_pulumi.permissions.library import STATE
from alien_pulumi.permissions.plan import Layer, PermissionPlan
from alien_pulumi.permissions.render.roles import distinct_roles, grant_roles

STATE_SET = f"{STATE}/state"
TOKEN_AUDIENCE = "api://AzureADTokenExchange"


def rg_scope(plan: PermissionPlan) -> str:
    ctx = plan.context
    return f"/subscriptions/{ctx.scope_id}/resourceGroups/{ctx.rg}"


def role_name(prefix: str, key: str, subscription: str) -> str:
    """Custom role names are unique per tenant: the subscription keeps two deployments of one prefix apart."""
    return f"alien {prefix} {key} {subscription}"


def _group_of(scope: str) -> str:
    """The resource group an ARM scope is in (``/subscriptions/<id>/resourceGroups/<name>``), else the scope."""
    match = re.match(r"/subscriptions/[^/]+/resourceGroups/[^/]+", scope)
    return match.group(0) if match else scope


def _definition(name: str, description: str, actions: set[str], data_actions: set[str], scope: str) -> dict[str, Any]:
    return {
        "roleName": name,
        "description": description,
        "actions": sorted(actions),
        "notActions": [],
        "dataActions": sorted(data_actions),
        "notDataActions": [],
        "assignableScopes": [scope],
    }


def render(plan: PermissionPlan, layer: Layer) -> dict[str, Any]:
    ctx = plan.context
    scope = rg_scope(plan)
    principal = None if layer.name == "provisioning" else layer.identity
    pairs = grant_roles(layer)
    # A role assigned outside the resource group must be assignable there: at the subscription (operation
    # polling), or at the other resource group its scope is in (the state store's, DESIGN.md §4a).
    assignable = {role.key: _group_of(grant.resources[0]) for grant, role in pairs
                  if grant.resources and not grant.resources[0].startswith(scope)}
    assignments: list[dict[str, Any]] = []
    for grant, role in pairs:
        for target in grant.resources:
            # "resource": the stack resource at that scope (None: deployment-wide), for the program's ordering.
            entry = {"role": role_name(ctx.prefix, role.key, ctx.scope_id), "principal": principal,
                     "scope": target, "condition": grant.condition, "resource": grant.resource_id}
            if entry not in assignments:
                assignments.append(entry)
    out: dict[str, Any] = {
        # Exactly what setup creates: one custom role per packed grant, assignable where it is assigned, and the
        # assignments. (No aggregate role of the whole layer: setup creates none, and it would show actions that
        # are assignable only at the subscription as if held at the resource group.)
        "role_definitions": [
            _definition(role_name(ctx.prefix, role.key, ctx.scope_id), role.description, set(role.actions),
                        set(role.data_actions), assignable.get(role.key, scope))
            for role in distinct_roles(pairs)
        ],
        "assignments": assignments,
    }
    if layer.name == "management":
        out["federated_credential"] = {
            "issuer": ctx.vendor_oidc_issuer,
            "subject": ctx.principal,
            "audiences": [TOKEN_AUDIENCE],
        }
    return out
