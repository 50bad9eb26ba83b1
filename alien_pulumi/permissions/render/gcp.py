"""GCP: one custom role per permission set, bound on each resource it applies to."""

from __future__ import annotations

import re
from typing import Any

from alien_pulumi.permissions.plan import Layer, PermissionPlan

TOKEN_CREATOR = "roles/iam.serviceAccountTokenCreator"


def role_id(prefix: str, set_id: str) -> str:
    """Custom role ids allow [a-zA-Z0-9_.], 3 to 64 characters."""
    return re.sub(r"[^a-zA-Z0-9_.]", "_", f"alien_{prefix}_{set_id}")[:64]


def member(plan: PermissionPlan, layer: Layer) -> str | None:
    # The admin's principal is the customer's own choice: the provisioning layer names no member.
    return None if layer.name == "provisioning" else f"serviceAccount:{layer.identity}"


def render(plan: PermissionPlan, layer: Layer) -> dict[str, Any]:
    ctx = plan.context
    who = member(plan, layer)
    roles = [
        {
            "id": role_id(ctx.prefix, use.set.id),
            "name": f"projects/{ctx.project}/roles/{role_id(ctx.prefix, use.set.id)}",
            "title": f"alien {ctx.prefix} {use.set.id}",
            "description": use.set.description,
            "permissions": sorted(use.set.actions()),
        }
        for use in layer.uses
    ]
    role_names = {use.set.id: role["name"] for use, role in zip(layer.uses, roles, strict=True)}
    bindings: list[dict[str, Any]] = []
    for grant in layer.grants:
        for scope in grant.resources:
            binding = {"role": role_names[grant.set_id], "member": who, "scope": scope, "condition": grant.condition}
            if binding not in bindings:
                bindings.append(binding)
    out: dict[str, Any] = {
        "permissions": sorted(layer.actions()),
        "bindings": bindings,
        "roles": roles,
    }
    if layer.name == "management":
        out["impersonation"] = {
            "role": TOKEN_CREATOR,
            "member": f"serviceAccount:{ctx.principal}",
            "scope": f"projects/{ctx.project}/serviceAccounts/{layer.identity}",
            "condition": None,
        }
    return out
