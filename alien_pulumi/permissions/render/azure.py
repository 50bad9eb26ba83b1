"""Azure: the layer's role definition (everything it allows), one custom role per grant, and an assignment
of that role on each scope the grant names."""

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
        # What the identity may do at the deployment's resource group. The state store's dataActions (DESIGN.md
        # §4a) are not part of it: they are roles of their own on the state container and key (role_definitions).
        "role_definition": _definition(
            f"alien {ctx.prefix} {layer.name}", f"Everything the {layer.name} identity may do ({layer.holder}).",
            layer.actions(), {a for g in layer.grants if g.set_id != STATE_SET for a in g.data_actions}, scope,
        ),
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
