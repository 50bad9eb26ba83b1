"""The document a customer's security team reads before setup: every layer, who holds it, each set with
its description and exact policy, the trust relationship, and what the vendor can never do."""

from __future__ import annotations

import json
from typing import Any

from alien_pulumi.model.types import COMPUTE_TYPES, Lifecycle, Platform, ResourceType
from alien_pulumi.permissions.claims import HAND_OVER_ACTION, HAND_OVER_LIMIT, claims, hand_over
from alien_pulumi.permissions.plan import Layer, PermissionPlan, profile_of
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
                  "(a custom role holding only `iam.serviceAccounts.getAccessToken`, bound on this service account "
                  "alone: no signBlob, signJwt, OIDC identity tokens or delegation).",
    Platform.AZURE: "A federated identity credential trusts tokens from the vendor's OIDC issuer `{issuer}` "
                    "for the subject `{principal}` only; no secret or certificate exists.",
}
# The access window, as each cloud holds it ({until}: the date).
_UNTIL = {
    Platform.AWS: "**Access until {until}.** Every statement of the trust policy allows only before that instant "
                  "(`DateLessThan` on `aws:CurrentTime`): from then on AWS refuses the vendor a session; one issued "
                  "before lasts at most its hour.",
    Platform.GCP: "**Access until {until}.** The impersonation binding carries the IAM condition "
                  "`request.time < timestamp(\"{until}\")`: from then on GCP issues the vendor no token; one issued "
                  "before lasts at most its hour.",
    Platform.AZURE: "**Access until {until}, enforced by your admin, not by Azure.** A federated identity credential "
                    "has no time condition: Azure keeps accepting the vendor's tokens after that date. Revoke the "
                    "access at the date yourself: `alien-deploy revoke` deletes the federated identity credential "
                    "of the management identity and its role assignments.",
}
# What each cloud does with credentials issued before the revocation (the admin's output says it).
ISSUED = {
    Platform.AWS: "sessions issued before it are denied every action (aws:TokenIssueTime); new ones are refused by "
                  "the trust",
    Platform.GCP: "the disabled account's tokens already issued are rejected, and no new ones are issued; restoring "
                  "re-enables the account, which makes its unexpired tokens (at most an hour old) valid again",
    Platform.AZURE: "Entra ID cannot revoke tokens already issued (they live up to their hour), but without the "
                    "management role assignments they may do nothing; Azure applies removed assignments within "
                    "minutes",
}
_REVOKE = ("**Revoking at once.** `alien-deploy revoke` (with the setup record or bundle) ends the vendor's management "
           "access with your credentials, without a setup: {issued}. Every later setup keeps it revoked until "
           "`alien-deploy restore`. Revoking changes trust only: code already running in your compute keeps its "
           "runtime profile's access. `alien-deploy revoke --stop` also stops every live compute with your "
           "credentials (ECS services to zero tasks, Lambda functions to zero reserved concurrency, Cloud Run "
           "services to zero instances by manual scaling, Container Apps stopped and their jobs suspended), and "
           "`alien-deploy restore` starts again those it stopped.")
_NO_EXPIRY = ("**No expiry.** The vendor's access lasts until your admin revokes it; a setup with `--access-until "
              "DATE` limits it.")
# What the customer's own audit logs show of a release, and what of it the vendor's run record keeps.
_AUDIT = {
    Platform.AWS: "Every session sets `sts:SourceIdentity` to the release id and carries the session tags "
                  "`alien:release` and `alien:deployment`; the trust policy refuses a session without them. In "
                  "CloudTrail, every event of a release names it in `userIdentity.sessionContext.sourceIdentity` "
                  "(which the session cannot change), and the `AssumeRole` event holds both tags. The session name is "
                  "`alien-<release>-<deployment>`.",
    Platform.GCP: "Cloud Audit Logs name the management service account as `authenticationInfo.principalEmail` and "
                  "the vendor's account `{principal}` in `serviceAccountDelegationInfo` (its first-party principal); "
                  "the token requests are in the IAM Credentials data-access logs, if you enable them. A log entry "
                  "does not name the release: the vendor's run record keeps the principal and the run's start and "
                  "finish, which find a release's entries.",
    Platform.AZURE: "The activity log names the management identity as the caller (`claims.appid` is its client id), "
                    "one correlation id per operation; its sign-ins with the vendor's token (subject `{principal}`) "
                    "are in Entra ID's managed-identity sign-in logs. A log entry does not name the release: the "
                    "vendor's run record keeps the principal and the run's start and finish, which find a release's "
                    "entries.",
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
        # a runtime grant says where it came from: the profile's own sets, a link, a trigger or the compute itself
        origin = f" (from: {'; '.join(grant.origins)})" if layer.name == "runtime" else ""
        lines.append(f"- *{grant.set_id}* ({grant.scope}): {grant.description} — {actions} on {on}{origin}")
    lines += ["", f"Exact policy ({ctx.platform.value}):", ""]
    lines += _json_block(render_layer(plan, layer.name, profile))
    return lines


def _justified_section(layer: Layer) -> list[str]:
    """Every action of the layer outside its cloud's read-only metadata classification, with the set file's
    reason (the set tests fail on any such action without one)."""
    reasons: dict[tuple[str, str], str] = {}
    for use in layer.uses:
        held = use.set.actions() | use.set.data_actions()
        for action, why in use.set.justifications.items():
            if action in held:
                reasons.setdefault((action, use.set.type), why)
    lines = ["### Beyond read-only metadata", "",
             "Every other action of this layer is a read the cloud's own metadata-only classification lists (AWS: "
             "SecurityAudit / ViewOnlyAccess; GCP: viewer and metadata-viewer roles without their content "
             "permissions; Azure: control-plane `*/read`). These are not, and why each is here:", ""]
    lines += [f"- `{action}` ({kind}): {why}" for (action, kind), why in sorted(reasons.items())] or ["- none"]
    return [*lines, ""]


def _account_wide_section(layer: Layer) -> list[str]:
    """Grants the cloud offers only account- or project-wide, with what they let the holder see beyond the stack."""
    wide = [g for g in layer.grants if g.scope == "account"]
    lines = ["### Account-wide", "",
             "These actions have no resource-level permission in the cloud, so they reach beyond this stack:", ""]
    seen: set[tuple[str, ...]] = set()
    for grant in wide:
        key = (grant.set_id, *grant.actions)
        if key in seen:
            continue
        seen.add(key)
        actions = ", ".join(f"`{a}`" for a in grant.actions)
        lines.append(f"- {actions} (*{grant.set_id}*): {grant.description} **Exposes:** "
                     f"{grant.exposes or 'see the grant description'}")
    if not wide:
        lines.append("- none")
    return [*lines, ""]


def _reach_section(plan: PermissionPlan) -> list[str]:
    """The vendor's code runs in every compute, live or frozen, with that compute's runtime profile: its effective
    reach is the union of those profiles (DESIGN.md §2). A frozen compute's code is fixed, not absent."""
    compute = [r for r in plan.spec.resources if r.kind in COMPUTE_TYPES]
    lines = ["### What the vendor can reach through code it deploys", "",
             "The vendor's code runs in each compute resource, live or frozen, with that resource's runtime "
             "profile. Everything those profiles may do, the vendor's code may do:", ""]
    if not compute:
        return [*lines, "- nothing: the stack has no compute, so no vendor code runs in your account.", ""]
    lines += ["| compute | lifecycle | its code | runs as profile | identity |", "|---|---|---|---|---|"]
    for res in compute:
        profile = profile_of(res)
        lines.append(f"| `{res.id}` | {res.lifecycle.value} | {_CODE[res.lifecycle]} | `{profile}` | "
                     f"`{plan.runtime[profile].identity}` |")
    lines += ["", "The union of those profiles:", ""]
    for profile in sorted({profile_of(r) for r in compute}):
        for grant in plan.runtime[profile].grants:
            actions = ", ".join(f"`{a}`" for a in (*grant.actions, *grant.data_actions))
            on = ", ".join(f"`{r}`" for r in grant.resources)
            origin = "; ".join(grant.origins)
            lines.append(f"- profile `{profile}`, *{grant.set_id}*: {actions} on {on} (from: {origin})")
    lines.append("")
    if any(r.lifecycle is Lifecycle.LIVE for r in compute):  # frozen compute gets its identity at setup only
        lines += _hand_over_section(plan) + _placement_section(plan)
    return lines


def _hand_over_section(plan: PermissionPlan) -> list[str]:
    """Which identities a release may give each live compute (claims.hand_over, evaluated by the suite)."""
    platform = plan.context.platform
    reach = hand_over(plan)
    lines = ["#### Identity hand-over", "",
             f"A release gives a live compute the identity it runs as (`{HAND_OVER_ACTION[platform]}`). "
             "These are all the identities the management identity may give each one:", "",
             "| live compute | runs as | a release may give it |", "|---|---|---|"]
    for rid, identities in reach.items():
        res = next(r for r in plan.spec.resources if r.id == rid)
        # the identity's own name is the last segment of the ARN, service-account or identity id the policy names
        given = ", ".join(f"`{i.rsplit('/', 1)[-1]}`" for i in identities)
        lines.append(f"| `{rid}` | `{plan.runtime[profile_of(res)].identity}` | {given} |")
    lines += ["", HAND_OVER_LIMIT[platform]]
    if any(len(v) > 1 for v in reach.values()):
        lines += ["", "So a release can run a live compute as another live compute's profile: the vendor's code "
                  "already runs with each of those profiles, so this widens nothing it can reach, but it can put, "
                  "say, a worker's data access behind a public endpoint. Put computes that must never share access "
                  "in different stacks, or keep one of them frozen."]
    return [*lines, "", _DRIFT, ""]


def _placement_section(plan: PermissionPlan) -> list[str]:
    kinds = {r.kind for r in plan.spec.resources if r.kind in COMPUTE_TYPES and r.lifecycle is Lifecycle.LIVE}
    texts = [text for on, text in _PLACEMENT[plan.context.platform] if on & kinds]
    return ["#### Network placement and ingress of live compute", "", *[t for text in texts for t in (text, "")]]


_DRIFT = ("Every heartbeat compares each live compute's identity, network placement and ingress with what the stack "
          "and this deployment say, not with the Pulumi state (which the vendor can write), and reports a difference "
          "as drift: a change a release did not make shows up to you.")

# What a release may change in a live compute's network placement and ingress, by cloud and type, and what the
# cloud cannot constrain (with the cloud's reason): (the compute types a text is about, the text).
_PLACEMENT: dict[Platform, list[tuple[frozenset[ResourceType], str]]] = {
    Platform.AWS: [
        (frozenset({ResourceType.CONTAINER}),
         "A release may update a live ECS service only with its own task definition family, in the subnets setup "
         "placed it in, with the public IP setup gave it, and never with ECS Exec: `ecs:UpdateService` carries "
         "these conditions (`ecs:task-definition`, `ecs:subnet`, `ecs:auto-assign-public-ip`, "
         "`ecs:enable-execute-command`). EC2 names subnets only when setup creates them, so the policy above shows "
         "`alien:subnets/<network>/<public|private>` where the policy setup attaches holds those subnets' ids. "
         "ECS has no condition key for security groups: a release can attach any "
         "security group of the service's VPC to its tasks, and they then reach what that group is allowed to "
         "reach (a database that admits the group, say)."),
        (frozenset({ResourceType.FUNCTION}),
         "A release cannot move a live Lambda function into a VPC: Lambda refuses a VPC configuration unless the "
         "function's execution role may create network interfaces (`ec2:CreateNetworkInterface`), which no runtime "
         "profile holds. Its function URL and its resource policy (who may invoke it) are setup's."),
    ],
    Platform.GCP: [
        (COMPUTE_TYPES,
         "A release replaces the whole Cloud Run service (`run.services.update`), and GCP has no IAM condition on "
         "its fields: a release can open its ingress to all traffic, and attach Direct VPC egress to any network of "
         "the project (Cloud Run authorises that on its service agent, `roles/run.serviceAgent`, not on the caller). "
         "Who may invoke it is setup's: the invoker binding needs `run.services.setIamPolicy`, which only setup "
         "holds; but the same update can set the service's `invokerIamDisabled`, which skips the invoker check "
         "altogether. To forbid these whatever IAM allows, your organisation policies can: `run.allowedIngress`, "
         "`run.allowedVPCEgress`, `run.managed.requireInvokerIam`."),
    ],
    Platform.AZURE: [
        (COMPUTE_TYPES,
         "A release writes the whole Container App (`Microsoft.App/containerApps/write`), and Azure RBAC has no "
         "condition on its properties: a release can turn on external ingress, which makes the app reachable from "
         "the internet without authentication unless the app checks callers itself. The app stays in the stack's "
         "environment (`managedEnvironments/join/action` is held on that environment only). To forbid external "
         "ingress whatever RBAC allows, an Azure Policy with the deny effect on the resource group can."),
    ],
}


# Who changes the code a compute runs, by lifecycle.
_CODE = {
    Lifecycle.LIVE: "the vendor changes it at each release",
    Lifecycle.FROZEN: "the image digest pinned at setup; only your admin's next setup changes it",
}



_STATE = {
    Platform.AWS: "the state bucket `{state_bucket}` and the KMS key `{state_key}` (tagged `alien-state` = "
                  "`{prefix}`), in your account, in `{region}`.",
    Platform.GCP: "the Cloud Storage bucket `{state_bucket}` and the Cloud KMS key `{state_key}` of key ring "
                  "`{state_key_ring}`, in your project, in `{region}`; both bindings are on that bucket and that key, "
                  "never on the project.",
    Platform.AZURE: "the blob container `{state_container}` of storage account `{state_account}` and the Key Vault "
                    "key `{state_key}` of vault `{state_vault}`, in resource group `{state_resource_group}`, in "
                    "`{region}`. "
                    "Azure grants blob and key use only as *dataActions*, so the management identity's roles at the "
                    "deployment's resource group keep none: the state access is in roles of its own (dataActions "
                    "only, assignable in `{state_resource_group}` alone), assigned on exactly that container and that "
                    "key. Remove those two assignments to revoke it.",
}

# Where setup keeps its record's copy, outside every management grant (deploy/setup_copy.py).
_SETUP_COPY = {
    Platform.AWS: "`{setup_record}` in the state bucket (every management grant there is under `.pulumi/`)",
    Platform.GCP: "`{setup_record}` in the bucket `{setup_bucket}`, where the management identity has no binding",
    Platform.AZURE: "`{setup_record}` in the container `{setup_container}` of `{state_account}`, outside the "
                    "management identity's assignment on the state container",
}


def _state_section(plan: PermissionPlan, external_backend: str | None = None) -> list[str]:
    """The one data the management identity touches: the deployment's own Pulumi state (DESIGN.md §4a); or, when
    setup is to keep it elsewhere, where it is and who can read it there."""
    if external_backend:
        return ["### The deployment's Pulumi state", "",
                f"**The state is kept outside your cloud**, at `{external_backend}` (the backend the vendor's setup "
                "bundle names). Whoever can read that backend (its operator, and anyone it grants access) can read "
                "the stack's state: every resource id, input and output; secrets in it are encrypted by the stack's "
                "secrets provider. Setup uses it only with your explicit opt-in (`--allow-external-backend`); "
                "without it, setup bootstraps a state store in your own cloud instead.", ""]
    if not any(use.set.id == "state/state" for use in plan.management.uses):
        return []
    ctx = plan.context
    where = _STATE[ctx.platform].format(prefix=ctx.prefix, region=ctx.region, **ctx.state_names())
    return ["### The deployment's Pulumi state", "",
            "Both your admin's setup and the vendor's releases run on the same Pulumi state, and it stays in your "
            f"cloud: {where} The management identity may read and write that state and encrypt and decrypt with "
            "that key (`state/state`), nothing else of the store; revoking it ends the vendor's ability to release. "
            "The setup bootstrap creates the store, never deletes it, and no `pulumi destroy` removes it.", "",
            "Since the vendor can write the state, your admin's runs never trust it: every setup keeps its record at "
            f"{_SETUP_COPY[ctx.platform].format(**ctx.state_names())}, which the vendor cannot write, and the next "
            "setup (from any machine) checks the state against it before the engine starts and refuses any resource "
            "setup does not own or the stack does not declare live, and any setup-owned resource whose id, type, "
            "provider or inputs changed.", ""]


def render_markdown(plan: PermissionPlan, layers: list[str] | None = None, profile: str | None = None, *,
                    external_backend: str | None = None) -> str:
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
        lines += _justified_section(plan.management)
        lines += _account_wide_section(plan.management)
        lines += _state_section(plan, external_backend)
        lines += _reach_section(plan)
        lines += ["### Trust relationship", "",
                  _TRUST[ctx.platform].format(principal=ctx.principal, external=ctx.external,
                                              issuer=ctx.vendor_oidc_issuer), "",
                  _UNTIL[ctx.platform].format(until=ctx.access_until) if ctx.access_until else _NO_EXPIRY, "",
                  _REVOKE.format(issued=ISSUED[ctx.platform]) + (
                      f" **Revoked since {ctx.revoked_at}.**" if ctx.revoked_at else ""), "",
                  "### What your audit logs show of a release", "",
                  _AUDIT[ctx.platform].format(principal=ctx.principal), ""]
    if "runtime" in wanted:
        for name, layer in plan.runtime.items():
            if profile is None or profile == name:
                lines += _layer_section(plan, layer, f"3. Runtime profile `{name}` — the application", name)
    lines += ["## What the vendor can never do", "", *[f"- {claim.text}" for claim in claims(plan)], ""]
    return "\n".join(lines)
