"""Azure: the layer's role definition (everything it allows), one role per set, assignments per scope."""

from __future__ import annotations

from typing import Any

from alien_pulumi.permissions.plan import Layer, PermissionPlan

TOKEN_AUDIENCE = "api://AzureADTokenExchange"


def rg_scope(plan: PermissionPlan) -> str:
    ctx = plan.context
    return f"/subscriptions/{ctx.subscription_id}/resourceGroups/{ctx.rg}"


def set_role_name(prefix: str, set_id: str) -> str:
    return f"alien {prefix} {set_id}"


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
    assignments: list[dict[str, Any]] = []
    for grant in layer.grants:
        for target in grant.resources:
            entry = {"role": set_role_name(ctx.prefix, grant.set_id), "principal": principal, "scope": target,
                     "condition": grant.condition}
            if entry not in assignments:
                assignments.append(entry)
    out: dict[str, Any] = {
        "role_definition": _definition(
            f"alien {ctx.prefix} {layer.name}", f"Everything the {layer.name} identity may do ({layer.holder}).",
            layer.actions(), layer.data_actions(), scope,
        ),
        "role_definitions": [
            _definition(set_role_name(ctx.prefix, u.set.id), u.set.description, u.set.actions(),
                        u.set.data_actions(), scope)
            for u in layer.uses
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
