"""AWS: IAM policy documents (split under the managed-policy size limit) and the trust policy."""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import timedelta
from typing import Any

from alien_pulumi.model.context import ACCESS_FORMAT, DeploymentContext, access_deadline
from alien_pulumi.permissions.placement import sentinel_growth
from alien_pulumi.permissions.plan import Layer, PermissionPlan

POLICY_LIMIT = 6144  # characters of a managed policy, whitespace not counted
MANAGED_POLICIES_PER_ROLE = 10  # IAM's default quota of managed policies attached to one role
VERSION = "2012-10-17"
RUNTIME_SERVICES = ["ecs-tasks.amazonaws.com", "lambda.amazonaws.com"]


def _size(doc: Any) -> int:
    """Characters IAM counts (no whitespace), with each subnet sentinel counted at the size of the ids setup puts in
    its place (permissions/placement.py): the attached document must fit too."""
    text = json.dumps(doc, separators=(",", ":"))
    return len(text) + sentinel_growth(text)


def _sid(set_id: str, index: int) -> str:
    words = set_id.replace("/", "-").split("-")
    return "".join(w.capitalize() for w in words) + str(index)


# Condition keys whose value names the bound resource's own (a container's task definition family, in its
# UpdateService). Packing merges the statements of one grant that differ only there, as it merges resources: the
# values are joined, so each resource of the merged statement may take any of its values (a widening like
# ``<prefix>-*``, kept to resources sharing the rest of the condition - their network placement - and to one
# statement's worth of them: a merged statement stays inside one managed policy).
PACKED_KEYS = frozenset({"ecs:task-definition"})


def _condition_key(condition: Any, pack: bool) -> tuple[str, dict[tuple[str, str], Any]]:
    """What statements must share to merge, and (when packing) the values of PACKED_KEYS they may differ in."""
    if not pack or not isinstance(condition, dict):
        return json.dumps(condition), {}
    packed = {(op, key): value for op, pairs in condition.items() for key, value in pairs.items() if key in PACKED_KEYS}
    rest = {op: {key: value for key, value in pairs.items() if (op, key) not in packed}
            for op, pairs in condition.items()}
    return json.dumps([rest, sorted(packed)]), packed


def _joined(stmt: dict[str, Any], packed: dict[tuple[str, str], Any], resources: tuple[str, ...]) -> dict[str, Any]:
    """``stmt`` with more resources and their PACKED_KEYS values."""
    joined = copy.deepcopy(stmt)
    joined["Resource"].extend(r for r in resources if r not in joined["Resource"])
    for (op, name), value in packed.items():
        pairs = joined["Condition"][op]
        values = pairs[name] if isinstance(pairs[name], list) else [pairs[name]]
        values.extend(v for v in (value if isinstance(value, list) else [value]) if v not in values)
        pairs[name] = values if len(values) > 1 else values[0]
    return joined


def statements(layer: Layer, pack: bool = False) -> list[dict[str, Any]]:
    """One statement per grant of a set, resources merged over the resources the set is bound to. ``pack``: a
    grant whose set the layer holds on every resource of its type names the deployment's name prefix
    (``<prefix>-*``) instead of one ARN per resource, and statements differing only in a PACKED_KEYS value are
    merged - what keeps a 500-resource role inside IAM's limits."""
    merged: list[dict[str, Any]] = []
    current: dict[tuple[str, str, tuple[str, ...], str], dict[str, Any]] = {}  # the statement each key fills
    counters: dict[str, int] = {}
    for grant in layer.grants:
        if pack and grant.stack_wide:
            grant = dataclasses.replace(grant, resources=grant.stack_wide)
        condition, packed = _condition_key(grant.condition, pack)
        key = (grant.set_id, grant.description, tuple(sorted(grant.actions)), condition)
        stmt = current.get(key)
        if stmt is not None and packed:
            joined = _joined(stmt, packed, grant.resources)
            if _size({"Version": VERSION, "Statement": [joined]}) <= POLICY_LIMIT:
                stmt.update(joined)
                continue
            stmt = None  # full: the next resources of this grant start a statement of their own
        if stmt is None:
            counters[grant.set_id] = counters.get(grant.set_id, -1) + 1
            stmt = {
                "Sid": _sid(grant.set_id, counters[grant.set_id]),
                "Effect": "Allow",
                "Action": sorted(grant.actions),
                "Resource": [],
            }
            if grant.condition:
                stmt["Condition"] = copy.deepcopy(grant.condition)
            current[key] = stmt
            merged.append(stmt)
        resources = stmt["Resource"]
        resources.extend(r for r in grant.resources if r not in resources)
    for stmt in merged:
        if "*" in stmt["Resource"]:
            stmt["Resource"] = ["*"]
    return merged


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


# The actions an AssumeRole with a source identity and session tags is authorised as (see vendor_statements).
VENDOR_ACTIONS = ("sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession")
REVOKED_SID = "VendorAccessRevoked"
REVOKED_SESSIONS_POLICY = "alien-revoked-sessions"  # the management role's one inline policy, while revoked
# IAM is eventually consistent: for a few seconds after the trust changes, a region may still issue a session
# by the old one. The deny on older sessions also covers those issued up to this long after the revocation.
REVOCATION_MARGIN = timedelta(minutes=5)


def revoked_sessions_policy(ctx: DeploymentContext) -> dict[str, Any] | None:
    """While access is revoked: deny everything to management sessions issued before the revocation (plus the
    margin), as IAM's "revoke active sessions" does; sessions issued since need the trust, which denies them."""
    revoked = access_deadline(ctx.revoked_at) if ctx.revoked_at else None
    if revoked is None:
        return None
    until = (revoked + REVOCATION_MARGIN).strftime(ACCESS_FORMAT)
    return {"Version": VERSION, "Statement": [{
        "Sid": "RevokeOlderSessions", "Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {"DateLessThan": {"aws:TokenIssueTime": until}}}]}


def vendor_statements(ctx: DeploymentContext) -> list[dict[str, Any]]:
    """While access is revoked: one statement denying the vendor's principal every action of an AssumeRole.
    Otherwise: the vendor's AssumeRole, with a source identity and session tags, is authorised as three actions:
    sts:AssumeRole, sts:SetSourceIdentity and sts:TagSession, each against this document and each seeing only
    its own condition keys (sts:ExternalId exists for AssumeRole alone, so a condition on it would deny the other
    two): one statement per action. The last two are evaluated only when a call sets a source identity or tags,
    so they cannot require them; AssumeRole also sees sts:SourceIdentity and the request tags, and requiring
    them there is what denies a call without them (checked with a policy simulator, tests/aws_simulator)."""
    if ctx.revoked_at:
        return [{"Sid": REVOKED_SID, "Effect": "Deny", "Principal": {"AWS": ctx.principal},
                 "Action": list(VENDOR_ACTIONS)}]
    source_identity: dict[str, Any] = {"StringLike": {"sts:SourceIdentity": "?*"}}
    tags: dict[str, Any] = {"ForAllValues:StringEquals": {"aws:TagKeys": list(SESSION_TAGS)},
            "Null": {f"aws:RequestTag/{tag}": "false" for tag in SESSION_TAGS}}
    # The access window, in the cloud itself: every statement stops allowing at the date.
    until = {"DateLessThan": {"aws:CurrentTime": ctx.access_until}} if ctx.access_until else {}
    conditions = ({"StringEquals": {"sts:ExternalId": ctx.external}, **source_identity, **tags}, source_identity, tags)
    sids = ("VendorReleaseService", "VendorSourceIdentity", "VendorSessionTags")
    return [{"Sid": sid, "Effect": "Allow", "Principal": {"AWS": ctx.principal}, "Action": action,
             "Condition": {**condition, **until}}
            for sid, action, condition in zip(sids, VENDOR_ACTIONS, conditions, strict=True)]


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
    out = {"policies": policies(layer), "trust_policy": trust_policy(plan, layer.name)}
    if layer.name == "management" and (revoked := revoked_sessions_policy(plan.context)) is not None:
        out["revoked_sessions"] = revoked
    return out
