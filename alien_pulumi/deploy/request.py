"""Setup requests: what a release needs that only the customer's admin can do (DESIGN.md §1, step 4), as one
versioned document the vendor hands over and the admin reviews, then applies with ``alien-deploy up --request``.

A request names the release and the deployed record it was checked against, the exact permission delta of each
identity setup creates in the cloud's own terms (actions, resources, conditions; grants first), the frozen field
changes, the resources added, removed or changing hands, and the new stack with its digest: setup applies exactly
that stack, or nothing.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alien_pulumi.errors import AlienError, first_problem
from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.record import ReleaseRecord
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import Platform
from alien_pulumi.model.validation import parse_spec
from alien_pulumi.preflight.checks import PreflightReport
from alien_pulumi.preflight.findings import Code, Finding
from alien_pulumi.preflight.permdiff import entry_diff

REQUEST_KIND: Final = "alien-pulumi/setup-request"
REQUEST_VERSION: Final = 1

# What a resource finding means for the admin: (the change, the resource's state the row shows).
RESOURCE_CHANGES: dict[Code, str] = {
    Code.FROZEN_ADDED: "added",
    Code.LIVE_ADDED_NEEDS_PROVISION: "added",
    Code.LIVE_REMOVED_NEEDS_PROVISION: "removed",
    Code.LIFECYCLE_CHANGED: "lifecycle",
    Code.LIVE_CHANGE_NEEDS_SETUP: "setup-owned field",
}


class SetupRequestError(AlienError):
    """A setup request file that cannot be used: malformed, another version, or a stack that is not the one its
    digest names (exit 2)."""

    exit_code = 2


class PermissionChange(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    change: Literal["grant", "revoke"]
    action: str
    resource: str
    condition: str = ""


class IdentityDelta(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    layer: str = Field(description="management, or runtime:<profile>.")
    identity: str = Field(description="The identity's name in the cloud (role, service account, managed identity).")
    changes: list[PermissionChange] = Field(description="Grants (broadening) first, then revocations.")

    @property
    def broadening(self) -> bool:
        return any(c.change == "grant" for c in self.changes)


class FieldChange(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    resource: str
    field: str
    old: Any = None
    new: Any = None


class ResourceChange(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    resource: str
    type: str
    lifecycle: str
    change: str = Field(description="added, removed, lifecycle or setup-owned field.")
    detail: str


class DeployedRef(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    release: str
    digest: str
    frozen_digest: str


class SetupRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["alien-pulumi/setup-request"] = REQUEST_KIND
    request_version: Literal[1] = REQUEST_VERSION
    id: str
    deployment: str
    platform: Platform
    release: str
    created_at: str
    deployed: DeployedRef = Field(description="The record the release was checked against.")
    permissions: list[IdentityDelta] = Field(description="Identities that gain permissions first.")
    frozen_changes: list[FieldChange]
    resources: list[ResourceChange]
    reasons: list[str] = Field(description="The preflight findings that need setup, as messages.")
    stack: dict[str, Any] = Field(description="The new stack spec (JSON) setup applies.")
    digest: str = Field(description="SHA-256 of the stack's canonical JSON (StackSpec.digest).")

    def spec(self, where: str = "the setup request") -> StackSpec:
        """The stack inside, after checking it is the one the digest names."""
        try:
            spec = parse_spec(self.stack)
        except AlienError as exc:
            raise SetupRequestError(f"{where}: its stack is not a valid stack spec: {exc}") from None
        if spec.digest() != self.digest:
            raise SetupRequestError(f"{where}: the stack inside does not match its digest (stack {spec.digest()[:12]}, "
                                    f"request {self.digest[:12]}): it was changed after the vendor wrote it; "
                                    "nothing was applied")
        return spec

    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"

    def write(self, path: Path) -> None:
        path.write_text(self.to_json())


def read_request(path: Path) -> SetupRequest:
    """A setup request file, checked: its kind and version, its fields, and its stack against its digest."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SetupRequestError(f"{path}: not a setup request (cannot read JSON: {exc})") from None
    if not isinstance(data, dict) or data.get("kind") != REQUEST_KIND:
        raise SetupRequestError(f"{path}: not a setup request (kind {_kind(data)!r}, expected {REQUEST_KIND!r})")
    if data.get("request_version") != REQUEST_VERSION:
        raise SetupRequestError(f"{path}: setup request version {data.get('request_version')!r}; this alien-deploy "
                                f"reads version {REQUEST_VERSION}: ask the vendor for a request this version reads, or "
                                "upgrade alien-deploy")
    try:
        request = SetupRequest.model_validate(data)
    except ValidationError as exc:
        raise SetupRequestError(f"{path}: malformed setup request: {first_problem(exc)}") from None
    request.spec(str(path))
    return request


def _kind(data: Any) -> Any:
    return data.get("kind") if isinstance(data, dict) else type(data).__name__


def new_request_id() -> str:
    return f"sr-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def permission_deltas(report: PreflightReport, deployed: ReleaseRecord, context: DeploymentContext
                      ) -> list[IdentityDelta]:
    """The delta of each identity setup creates (management, one per runtime profile), in the cloud's terms;
    identities that gain permissions first."""
    platform = context.platform
    new = report.permissions[platform]
    old = deployed.permissions  # the record's platform's layers, as its setup rendered them
    layers = [("management", "management", old.get("management"), new["management"])]
    for profile in sorted(set(old.get("runtime", {})) | set(new["runtime"])):
        layers.append((f"runtime:{profile}", f"rt-{profile}", old.get("runtime", {}).get(profile),
                       new["runtime"].get(profile)))
    deltas = []
    for layer, role, before, after in layers:
        added, removed = entry_diff(platform, before, after)
        changes = [PermissionChange(change="grant", action=e.action, resource=e.resource, condition=e.condition)
                   for e in added]
        changes += [PermissionChange(change="revoke", action=e.action, resource=e.resource, condition=e.condition)
                    for e in removed]
        if changes:
            deltas.append(IdentityDelta(layer=layer, identity=context.identity(role), changes=changes))
    return sorted(deltas, key=lambda d: not d.broadening)  # stable: management before runtime profiles


def _resource_change(f: Finding, old: StackSpec, new: StackSpec) -> ResourceChange:
    res = next((r for spec in (new, old) for r in spec.resources if r.id == f.resource), None)
    return ResourceChange(resource=f.resource or "-", type=res.kind.value if res else "-",
                          lifecycle=res.lifecycle.value if res else "-", change=RESOURCE_CHANGES[f.code],
                          detail=f.message)


def build_request(report: PreflightReport, deployed: ReleaseRecord, spec: StackSpec, release: str,
                  context: DeploymentContext) -> SetupRequest:
    """The request of a release whose preflight awaits setup (``report.awaits_setup``)."""
    findings = report.findings
    return SetupRequest(
        id=new_request_id(), deployment=deployed.deployment, platform=context.platform, release=release,
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        deployed=DeployedRef(release=deployed.release, digest=deployed.digest, frozen_digest=deployed.frozen_digest),
        permissions=permission_deltas(report, deployed, context),
        frozen_changes=[FieldChange(resource=f.resource or "-", field=f.field or "-", old=f.old, new=f.new)
                        for f in findings if f.code is Code.FROZEN_CHANGED],
        resources=[_resource_change(f, deployed.spec, spec) for f in findings if f.code in RESOURCE_CHANGES],
        reasons=[f.message for f in findings if f.blocks],
        stack=spec.model_dump(mode="json"), digest=spec.digest(),
    )


def _cell(value: Any) -> str:
    return "absent" if value is None else json.dumps(value, sort_keys=True)


def review_rows(request: SetupRequest) -> list[tuple[str, str, str, str, str]]:
    """The security changes, one row each (sign, identity, action, resource, condition): grants first."""
    rows = [("+" if c.change == "grant" else "-", d.identity, c.action, c.resource, c.condition)
            for d in request.permissions for c in d.changes]
    return sorted(rows, key=lambda r: r[0] != "+")


def review_markdown(request: SetupRequest) -> str:
    """The request as a ticket: what changes, grants first, then frozen changes and resources."""
    grants = sum(1 for r in review_rows(request) if r[0] == "+")
    revokes = len(review_rows(request)) - grants
    lines = [
        f"## Setup request `{request.id}`: deployment `{request.deployment}` ({request.platform.value})",
        "",
        f"Release `{request.release}` (deployed: `{request.deployed.release}`) needs the customer's admin to run "
        "setup. Apply it with `alien-deploy up --request FILE --bundle BUNDLE`.",
        "",
        f"- stack digest: `{request.digest}`",
        f"- permissions: **{grants} granted**, {revokes} revoked",
        f"- frozen changes: {len(request.frozen_changes)} · resources: {len(request.resources)}",
        "",
        "### Permission changes",
        "",
    ]
    if request.permissions:
        lines += ["| | identity | action | resource | condition |", "|---|---|---|---|---|"]
        lines += [f"| {s} | `{i}` | `{a}` | `{r}` | {f'`{c}`' if c else ''} |" for s, i, a, r, c in
                  review_rows(request)]
    else:
        lines.append("None.")
    lines += ["", "### Frozen changes", ""]
    if request.frozen_changes:
        lines += ["| resource | field | old | new |", "|---|---|---|---|"]
        lines += [f"| `{c.resource}` | `{c.field}` | `{_cell(c.old)}` | `{_cell(c.new)}` |"
                  for c in request.frozen_changes]
    else:
        lines.append("None.")
    lines += ["", "### Resources", ""]
    if request.resources:
        lines += ["| resource | type | lifecycle | change |", "|---|---|---|---|"]
        lines += [f"| `{r.resource}` | {r.type} | {r.lifecycle} | {r.change} |" for r in request.resources]
    else:
        lines.append("None.")
    lines += ["", "### Why", "", *(f"- {reason}" for reason in request.reasons), ""]
    return "\n".join(lines)
