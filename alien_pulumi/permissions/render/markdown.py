"""The document a customer's security team reads before setup: every layer, who holds it, each set with
its description and exact policy, the trust relationship, and what the vendor can never do."""

from __future__ import annotations

import json
from typing import Any

from alien_pulumi.model.types import Lifecycle, Platform
from alien_pulumi.permissions.plan import Layer, PermissionPlan
from alien_pulumi.permissions.render import render_layer

_IDENTITY_KIND = {
    Platform.AWS: "IAM role",
    Platform.GCP: "service account",
    Platform.AZURE: "user-assigned managed identity",
}
_TRUST = {
    Platform.AWS: "The role trusts only the vendor's principal `{principal}`, and only with the external id "
                  "`{external}` (`sts:ExternalId`); sessions last at most one hour.",
    Platform.GCP: "Only the vendor's service account `{principal}` may impersonate it "
                  "(`roles/iam.serviceAccountTokenCreator` on this service account, nothing else).",
    Platform.AZURE: "A federated identity credential trusts tokens from the vendor's OIDC issuer `{issuer}` "
                    "for the subject `{principal}` only; no secret or certificate exists.",
}


def _json_block(data: Any) -> list[str]:
    return ["```json", json.dumps(data, indent=2), "```", ""]


def _layer_section(plan: PermissionPlan, layer: Layer, title: str, profile: str | None = None) -> list[str]:
    ctx = plan.context
    lines = [f"## {title}", "", f"- **Held by:** {layer.holder}"]
    if layer.name != "provisioning":
        lines.append(f"- **Identity:** {_IDENTITY_KIND[ctx.platform]} `{layer.identity}` (created at setup)")
    lines += ["", "| permission set | bound to | why | what it allows |", "|---|---|---|---|"]
    for use in layer.uses:
        bound = ", ".join(f"`{r}`" for r in use.resource_ids) or "the deployment"
        lines.append(f"| `{use.set.id}` | {bound} | {use.reason} | {use.set.description} |")
    lines += ["", "Each grant:", ""]
    for grant in layer.grants:
        actions = ", ".join(f"`{a}`" for a in (*grant.actions, *grant.data_actions))
        on = ", ".join(f"`{r}`" for r in grant.resources)
        lines.append(f"- *{grant.set_id}* ({grant.scope}): {grant.description} — {actions} on {on}")
    lines += ["", f"Exact policy ({ctx.platform.value}):", ""]
    lines += _json_block(render_layer(plan, layer.name, profile))
    return lines


def render_markdown(plan: PermissionPlan, layers: list[str] | None = None, profile: str | None = None) -> str:
    spec, ctx = plan.spec, plan.context
    wanted = layers or ["provisioning", "management", "runtime"]
    lines = [
        f"# Permissions of `{spec.name}` on {ctx.platform.value.upper()} (deployment `{ctx.prefix}`)",
        "",
        f"Stack digest `{spec.digest()[:16]}`, frozen digest `{spec.frozen_digest()[:16]}`.",
        "",
        "| resource | type | lifecycle | the vendor may |",
        "|---|---|---|---|",
    ]
    for res in spec.resources:
        may = "read its configuration (health checks)" if res.lifecycle is Lifecycle.FROZEN else \
            "read its configuration and update it (new code and configuration)"
        lines.append(f"| `{res.id}` | {res.kind.value} | {res.lifecycle.value} | {may} |")
    lines.append("")
    if "provisioning" in wanted:
        lines += _layer_section(plan, plan.provisioning, "1. Provisioning — your admin, at setup")
        lines += ["The vendor never holds these permissions; they are what your admin's setup run needs.", ""]
    if "management" in wanted:
        lines += _layer_section(plan, plan.management, "2. Management — the vendor's release service")
        lines += ["### Trust relationship", "",
                  _TRUST[ctx.platform].format(principal=ctx.principal, external=ctx.external,
                                              issuer=ctx.vendor_oidc_issuer), ""]
    if "runtime" in wanted:
        for name, layer in plan.runtime.items():
            if profile is None or profile == name:
                lines += _layer_section(plan, layer, f"3. Runtime profile `{name}` — the application", name)
    lines += [
        "## What the vendor can never do",
        "",
        "- Read or write your data: no object, message, item or secret-value permission is in the management "
        "layer, for frozen and live resources alike, and a stack cannot add one (`data-*` sets in "
        "`management.extend` are rejected).",
        "- Change a frozen resource: it holds only read permissions on it, and its management program ignores "
        "every change to it.",
        "- Create or delete resources, unless the stack lists a `provision` set in `management.extend` "
        "(shown in the table above when it does).",
        "- Change its own permissions: the management identity and its policies are created by your setup and "
        "are not in its own permissions; a release that needs more needs your admin to run setup again.",
        "- Act as anything but the stack's runtime identities when it updates live compute.",
        "",
    ]
    return "\n".join(lines)
