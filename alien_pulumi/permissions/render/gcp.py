"""GCP: one custom role per packed grant, bound on each resource (or the project, with a condition) it names:
exactly what setup creates (components/gcp/identities.py, grants.py)."""

from __future__ import annotations

import re
from typing import Any

from alien_pulumi.permissions.plan import Layer, PermissionPlan
from alien_pulumi.permissions.render.roles import TITLE_LIMIT, distinct_roles, grant_roles

# A release needs an access token of the management account, nothing else: not roles/iam.serviceAccountTokenCreator,
# which also signs blobs and JWTs, mints OIDC identity tokens and allows delegation chains.
IMPERSONATION_PERMISSIONS = ("iam.serviceAccounts.getAccessToken",)
IMPERSONATION_KEY = "impersonation"


# The management account's description while revoked starts so, the time after it.
REVOKED_DESCRIPTION = "Access of the vendor's release service revoked by the customer's admin at "


def management_description(revoked_at: str | None) -> str:
    """The management account's description; while revoked it says since when (read back by a later setup)."""
    if revoked_at:
        return f"{REVOKED_DESCRIPTION}{revoked_at} (alien-deploy revoke; alien-deploy restore gives it back)."
    return "The vendor's release service impersonates it (alien-pulumi)."


def access_condition(until: str | None) -> dict[str, str] | None:
    """The access window as an IAM condition on the impersonation binding: GCP stops issuing the vendor tokens
    at the date (None: no expiry). ``until`` is already ``YYYY-MM-DDTHH:MM:SSZ``, the form CEL's timestamp()
    reads."""
    if until is None:
        return None
    return {"title": f"alien access until {until}",
            "description": "The vendor's access ends at this date (alien-pulumi access until); the customer's admin "
                           "sets a new date by running setup again.",
            "expression": f'request.time < timestamp("{until}")'}


def role_id(prefix: str, key: str) -> str:
    """Custom role ids allow [a-zA-Z0-9_.], 3 to 64 characters; the key's hash stays at the end."""
    body = re.sub(r"[^a-zA-Z0-9_.]", "_", f"alien_{prefix}_{key}")
    return body if len(body) <= 64 else body[:57] + body[-7:]


def member(plan: PermissionPlan, layer: Layer) -> str | None:
    # The admin's principal is the customer's own choice: the provisioning layer names no member.
    return None if layer.name == "provisioning" else f"serviceAccount:{layer.identity}"


def render(plan: PermissionPlan, layer: Layer) -> dict[str, Any]:
    ctx = plan.context
    who = member(plan, layer)
    pairs = grant_roles(layer, join_conditions=True)
    roles = [
        {
            "id": role_id(ctx.prefix, role.key),
            "name": f"projects/{ctx.project}/roles/{role_id(ctx.prefix, role.key)}",
            "title": f"alien {ctx.prefix} {role.key}"[:TITLE_LIMIT],
            "description": role.description,
            "permissions": list(role.actions),
        }
        for role in distinct_roles(pairs)
    ]
    bindings: list[dict[str, Any]] = []
    for grant, role in pairs:
        for scope in grant.resources:
            # "resource": the stack resource the binding is placed on (None: project or stack-wide), so a
            # program can make it wait for that resource alone.
            binding = {"role": f"projects/{ctx.project}/roles/{role_id(ctx.prefix, role.key)}", "member": who,
                       "scope": scope, "condition": grant.condition, "resource": grant.resource_id}
            if binding not in bindings:
                bindings.append(binding)
    # Exactly what setup creates: the custom roles and their bindings (no union of the layer's permissions, which
    # setup creates nowhere and which would show them without the scope each is bound at).
    out: dict[str, Any] = {
        "bindings": bindings,
        "roles": roles,
    }
    if layer.name == "management":
        rid = role_id(ctx.prefix, IMPERSONATION_KEY)
        out["impersonation"] = {
            "role": f"projects/{ctx.project}/roles/{rid}",
            "custom_role": {
                "id": rid,
                "name": f"projects/{ctx.project}/roles/{rid}",
                "title": f"alien {ctx.prefix} impersonation",
                "description": "The vendor's release service obtains access tokens of the management account.",
                "permissions": list(IMPERSONATION_PERMISSIONS),
            },
            "member": f"serviceAccount:{ctx.principal}",
            "scope": f"projects/{ctx.project}/serviceAccounts/{layer.identity}",
            "condition": access_condition(ctx.access_until),
        }
    return out
