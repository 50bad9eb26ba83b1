"""AWS: IAM policy documents (split under the managed-policy size limit) and the trust policy."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.permissions.plan import Layer, PermissionPlan

POLICY_LIMIT = 6144  # characters of a managed policy, whitespace not counted
MANAGED_POLICIES_PER_ROLE = 10  # IAM's default quota of managed policies attached to one role
VERSION = "2012-10-17"
RUNTIME_SERVICES = ["ecs-tasks.amazonaws.com", "lambda.amazonaws.com"]


def _size(doc: Any) -> int:
    return len(json.dumps(doc, separators=(",", ":")))


def _sid(set_id: str, index: int) -> str:
    words = set_id.replace("/", "-").split("-")
    return "".join(w.capitalize() for w in words) + str(index)


def statements(layer: Layer, pack: bool = False) -> list[dict[str, Any]]:
    """One statement per grant of a set, resources merged over the resources the set is bound to. ``pack``: a
    grant whose set the layer holds on every resource of its type names the deployment's name prefix
    (``<prefix>-*``) instead of one ARN per resource - what keeps a 500-resource role inside IAM's limits."""
    merged: dict[tuple[str, str, tuple[str, ...], str], dict[str, Any]] = {}
    counters: dict[str, int] = {}
    for grant in layer.grants:
        if pack and grant.stack_wide:
            grant = dataclasses.replace(grant, resources=grant.stack_wide)
        key = (grant.set_id, grant.description, tuple(sorted(grant.actions)), json.dumps(grant.condition))
        if key not in merged:
            counters[grant.set_id] = counters.get(grant.set_id, -1) + 1
            stmt: dict[str, Any] = {
                "Sid": _sid(grant.set_id, counters[grant.set_id]),
                "Effect": "Allow",
                "Action": sorted(grant.actions),
                "Resource": [],
            }
            if grant.condition:
                stmt["Condition"] = grant.condition
            merged[key] = stmt
        resources = merged[key]["Resource"]
        resources.extend(r for r in grant.resources if r not in resources)
    for stmt in merged.values():
        if "*" in stmt["Resource"]:
            stmt["Resource"] = ["*"]
    return list(merged.values())


def _chunks(stmt: dict[str, Any]) -> list[dict[str, Any]]:
    """Split a statement whose resource list alone would overflow a policy."""
    if _size({"Version": VERSION, "Statement": [stmt]}) <= POLICY_LIMIT or len(stmt["Resource"]) == 1:
        return [stmt]
    half = len(stmt["Resource"]) // 2
    first = {**stmt, "Sid": stmt["Sid"] + "a", "Resource": stmt["Resource"][:half]}
    second = {**stmt, "Sid": stmt["Sid"] + "b", "Resource": stmt["Resource"][half:]}
    return _chunks(first) + _chunks(second)


def split_documents(stmts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for stmt in (c for s in stmts for c in _chunks(s)):
        if docs and _size({**docs[-1], "Statement": [*docs[-1]["Statement"], stmt]}) <= POLICY_LIMIT:
            docs[-1]["Statement"].append(stmt)
        else:
            docs.append({"Version": VERSION, "Statement": [stmt]})
    return docs


# Session tags every management session carries (automation/credentials.py sets them, the trust requires them).
SESSION_TAGS = ("alien:release", "alien:deployment")


def vendor_statements(ctx: DeploymentContext) -> list[dict[str, Any]]:
    """The vendor's AssumeRole, with a source identity and session tags, is authorised as three actions:
    sts:AssumeRole, sts:SetSourceIdentity and sts:TagSession, each against this document and each seeing only
    its own condition keys (sts:ExternalId exists for AssumeRole alone, so a condition on it would deny the other
    two): one statement per action. The last two are evaluated only when a call sets a source identity or tags,
    so they cannot require them; AssumeRole also sees sts:SourceIdentity and the request tags, and requiring
    them there is what denies a call without them (checked with a policy simulator, tests/aws_simulator)."""
    source_identity: dict[str, Any] = {"StringLike": {"sts:SourceIdentity": "?*"}}
    tags: dict[str, Any] = {"ForAllValues:StringEquals": {"aws:TagKeys": list(SESSION_TAGS)},
            "Null": {f"aws:RequestTag/{tag}": "false" for tag in SESSION_TAGS}}
    # The access window, in the cloud itself: every statement stops allowing at the date.
    until = {"DateLessThan": {"aws:CurrentTime": ctx.access_until}} if ctx.access_until else {}
    statements: list[tuple[str, str, dict[str, Any]]] = [
        ("VendorReleaseService", "sts:AssumeRole",
         {"StringEquals": {"sts:ExternalId": ctx.external}, **source_identity, **tags}),
        ("VendorSourceIdentity", "sts:SetSourceIdentity", source_identity),
        ("VendorSessionTags", "sts:TagSession", tags),
    ]
    return [{"Sid": sid, "Effect": "Allow", "Principal": {"AWS": ctx.principal}, "Action": action,
             "Condition": {**condition, **until}} for sid, action, condition in statements]


def trust_policy(plan: PermissionPlan, layer_name: str) -> dict[str, Any] | None:
    ctx = plan.context
    if layer_name == "management":
        return {"Version": VERSION, "Statement": vendor_statements(ctx)}
    if layer_name == "runtime":
        return {
            "Version": VERSION,
            "Statement": [{
                "Sid": "ApplicationCompute",
                "Effect": "Allow",
                "Principal": {"Service": RUNTIME_SERVICES},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
            }],
        }
    return None


def policies(layer: Layer) -> list[dict[str, Any]]:
    """Exact ARNs while they fit a role's managed-policy quota; packed on the name prefix when they do not. The
    provisioning layer is a document for the admin (attached to no role here): always exact."""
    docs = split_documents(statements(layer))
    if len(docs) <= MANAGED_POLICIES_PER_ROLE or layer.name == "provisioning":
        return docs
    return split_documents(statements(layer, pack=True))


def render(plan: PermissionPlan, layer: Layer) -> dict[str, Any]:
    return {"policies": policies(layer), "trust_policy": trust_policy(plan, layer.name)}
