"""Cloud limits of the rendered identities, checked before anything is created (DESIGN.md §5).

A setup that crosses one fails half-applied in the customer's account (the tenth policy attaches, the eleventh
does not), so each is a blocking finding with a stable code; approaching a shared, fixed limit (Azure's role
assignments per subscription) is a warning, because other workloads of the subscription need their share.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from alien_pulumi.model.types import Platform
from alien_pulumi.preflight.findings import Code, Finding, Severity

AWS_MANAGED_POLICIES_PER_ROLE = 10  # default quota (adjustable to 20)
AWS_MANAGED_POLICY_CHARS = 6_144  # without whitespace
AWS_TRUST_POLICY_CHARS = 2_048  # default quota (adjustable to 4,096)
GCP_CUSTOM_ROLES_PER_PROJECT = 300
GCP_PERMISSIONS_PER_ROLE = 3_000
GCP_CONDITIONAL_BINDINGS_PER_ROLE_MEMBER = 20  # same role and member, different conditions, in one policy
GCP_MEMBERS_PER_POLICY = 1_500
AZURE_ASSIGNMENTS_PER_SUBSCRIPTION = 4_000  # fixed
AZURE_ASSIGNMENTS_SHARE = 0.5  # warn above half of it: the subscription holds other workloads' assignments too
AZURE_CUSTOM_ROLES_PER_TENANT = 5_000


def _size(doc: Any) -> int:
    return len(json.dumps(doc, separators=(",", ":")))


def _finding(code: Code, platform: Platform, message: str, blocks: bool = True) -> Finding:
    return Finding(code, Severity.ERROR if blocks else Severity.WARNING, blocks, False, message,
                   field="permissions", platform=platform.value)


def _layers(rendered: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(who, rendered layer) of every identity setup creates: management and each runtime profile."""
    return [("management identity", rendered["management"]),
            *((f"runtime profile {p!r}", layer) for p, layer in sorted(rendered["runtime"].items()))]


def _aws(rendered: dict[str, Any]) -> list[Finding]:
    out = []
    for who, layer in _layers(rendered):
        count = len(layer["policies"])
        if count > AWS_MANAGED_POLICIES_PER_ROLE:
            out.append(_finding(Code.LIMIT_AWS_MANAGED_POLICIES, Platform.AWS,
                                f"aws: the {who}'s role needs {count} managed policies; IAM attaches "
                                f"{AWS_MANAGED_POLICIES_PER_ROLE} per role by default (ask the customer to raise the "
                                "quota to 20, or split the stack)"))
        for number, doc in enumerate(layer["policies"], start=1):
            if _size(doc) > AWS_MANAGED_POLICY_CHARS:
                out.append(_finding(Code.LIMIT_AWS_POLICY_SIZE, Platform.AWS,
                                    f"aws: policy {number} of the {who} is {_size(doc)} characters; a managed policy "
                                    f"holds {AWS_MANAGED_POLICY_CHARS}"))
        trust = layer.get("trust_policy")
        if trust is not None and _size(trust) > AWS_TRUST_POLICY_CHARS:
            out.append(_finding(Code.LIMIT_AWS_TRUST_POLICY_SIZE, Platform.AWS,
                                f"aws: the {who}'s trust policy is {_size(trust)} characters; IAM allows "
                                f"{AWS_TRUST_POLICY_CHARS} by default"))
    return out


def _gcp(rendered: dict[str, Any]) -> list[Finding]:
    out = []
    roles: dict[str, list[str]] = {}
    for _, layer in _layers(rendered):
        roles.update({r["id"]: r["permissions"] for r in layer["roles"] if r["permissions"]})
    impersonation = rendered["management"].get("impersonation", {}).get("custom_role")
    if impersonation:
        roles[impersonation["id"]] = impersonation["permissions"]
    if len(roles) > GCP_CUSTOM_ROLES_PER_PROJECT:
        out.append(_finding(Code.LIMIT_GCP_CUSTOM_ROLES, Platform.GCP,
                            f"gcp: the deployment needs {len(roles)} custom roles; a project holds "
                            f"{GCP_CUSTOM_ROLES_PER_PROJECT} (with the customer's own)"))
    for rid, permissions in sorted(roles.items()):
        if len(permissions) > GCP_PERMISSIONS_PER_ROLE:
            out.append(_finding(Code.LIMIT_GCP_ROLE_PERMISSIONS, Platform.GCP,
                                f"gcp: custom role {rid} holds {len(permissions)} permissions; the limit is "
                                f"{GCP_PERMISSIONS_PER_ROLE}"))
    members: Counter[str] = Counter()
    conditional: Counter[tuple[str, str, str]] = Counter()
    for _, layer in _layers(rendered):
        for b in layer["bindings"]:
            members[b["scope"]] += 1
            if b["condition"]:
                conditional[(b["scope"], b["role"], b["member"])] += 1
    for (scope, role, member), count in sorted(conditional.items()):
        if count > GCP_CONDITIONAL_BINDINGS_PER_ROLE_MEMBER:
            out.append(_finding(Code.LIMIT_GCP_CONDITIONAL_BINDINGS, Platform.GCP,
                                f"gcp: {count} bindings of {role} to {member} on {scope} differ only by condition; "
                                f"an IAM policy holds {GCP_CONDITIONAL_BINDINGS_PER_ROLE_MEMBER}"))
    for scope, count in sorted(members.items()):
        if count > GCP_MEMBERS_PER_POLICY:
            out.append(_finding(Code.LIMIT_GCP_POLICY_MEMBERS, Platform.GCP,
                                f"gcp: {count} bindings on {scope}; an IAM policy holds {GCP_MEMBERS_PER_POLICY} "
                                "principals (with the customer's own)"))
    return out


def _azure(rendered: dict[str, Any]) -> list[Finding]:
    out = []
    assignments = sum(len(layer["assignments"]) for _, layer in _layers(rendered))
    share = assignments / AZURE_ASSIGNMENTS_PER_SUBSCRIPTION
    if share > AZURE_ASSIGNMENTS_SHARE:
        out.append(_finding(Code.LIMIT_AZURE_ROLE_ASSIGNMENTS, Platform.AZURE,
                            f"azure: the deployment creates {assignments} role assignments, {share:.0%} of the "
                            f"{AZURE_ASSIGNMENTS_PER_SUBSCRIPTION} a subscription holds (fixed, shared with every "
                            "other workload of the subscription)", blocks=share > 1))
    roles = {d["roleName"] for _, layer in _layers(rendered) for d in layer["role_definitions"]}
    if len(roles) > AZURE_CUSTOM_ROLES_PER_TENANT:
        out.append(_finding(Code.LIMIT_AZURE_CUSTOM_ROLES, Platform.AZURE,
                            f"azure: the deployment defines {len(roles)} custom roles; a tenant holds "
                            f"{AZURE_CUSTOM_ROLES_PER_TENANT}"))
    return out


_CHECKS = {Platform.AWS: _aws, Platform.GCP: _gcp, Platform.AZURE: _azure}


def limit_findings(platform: Platform, rendered: dict[str, Any]) -> list[Finding]:
    """Every cloud limit the rendered layers of one deployment (``render_all``) cross or approach."""
    return _CHECKS[platform](rendered)
