"""Setup requests: what a release needs that only the customer's admin can do (DESIGN.md §1, step 4), as one
versioned document the vendor hands over and the admin reviews, then applies with ``alien-deploy up --request``.

A request names the release, the vendor's record it was checked against, the admin's setup record it builds on,
the exact permission delta of each identity setup creates in the cloud's own terms (actions, resources, conditions;
grants first), the frozen field changes, the resources added, removed or changing hands, and the new stack with its
digest: setup applies exactly that stack, or nothing.

The vendor is the party the admin's tool plans against (DESIGN.md §1a): what a request states is never shown as
the change. ``verify_request`` computes the review from the request's stack and the admin's own last setup record,
with the computation ``build_request`` made it with (``setup_review``), refuses the request if it states anything
else, and returns the computed review; the vendor's reasons are shown as its explanation only.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alien_pulumi.errors import AlienError, first_problem
from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.deployment_name import DeploymentName
from alien_pulumi.model.record import ReleaseRecord
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import Platform
from alien_pulumi.model.validation import parse_spec
from alien_pulumi.preflight import from_record, preflight
from alien_pulumi.preflight.checks import PreflightReport
from alien_pulumi.preflight.findings import Code, Finding
from alien_pulumi.preflight.permdiff import entry_diff

REQUEST_KIND: Final = "alien-pulumi/setup-request"
REQUEST_VERSION: Final = 2  # 2: the setup record the request builds on (``setup``), which the admin's tool checks
# How many differences a refusal names per kind of change (the rest are counted).
SHOWN_DIFFERENCES: Final = 3

# What a resource finding means for the admin: (the change, the resource's state the row shows).
RESOURCE_CHANGES: dict[Code, str] = {
    Code.FROZEN_ADDED: "added",
    Code.LIVE_ADDED_NEEDS_PROVISION: "added",
    Code.LIVE_REMOVED_NEEDS_PROVISION: "removed",
    Code.LIFECYCLE_CHANGED: "lifecycle",
    Code.LIVE_CHANGE_NEEDS_SETUP: "setup-owned field",
}


class SetupRequestError(AlienError):
    """A setup request that cannot be used: malformed, another version, a stack that is not the one its digest
    names, or one the admin's own setup record refutes (another deployment, already applied, built on another
    setup, stating other changes than its stack makes) (exit 2)."""

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
    """Which record: its release id, and the digests of its whole stack and of its frozen resources."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    release: str
    digest: str
    frozen_digest: str

    @classmethod
    def of(cls, record: ReleaseRecord) -> DeployedRef:
        return cls(release=record.release, digest=record.digest, frozen_digest=record.frozen_digest)

    def differences(self, yours: DeployedRef) -> list[str]:
        """``field this, yours that`` for each field that differs from ``yours`` (digests shortened)."""
        found = []
        for name in ("release", "digest", "frozen_digest"):
            this, that = getattr(self, name), getattr(yours, name)
            if this != that:
                cut = None if name == "release" else 12
                found.append(f"{name} {this[:cut]}, yours {that[:cut]}")
        return found


class SetupReview(BaseModel):
    """What a setup changes, as the admin reviews it: the permission delta of each identity setup creates
    (identities that gain permissions first), the frozen field changes, the resources added, removed or changing
    hands."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    permissions: list[IdentityDelta]
    frozen_changes: list[FieldChange]
    resources: list[ResourceChange]


class SetupRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["alien-pulumi/setup-request"] = REQUEST_KIND
    request_version: Literal[2] = REQUEST_VERSION
    id: str
    deployment: DeploymentName
    platform: Platform
    release: str
    created_at: str
    deployed: DeployedRef = Field(description="The vendor's record the release was checked against (its latest).")
    setup: DeployedRef = Field(description="The admin's setup record the request builds on (the last one the vendor "
                                           "imported): its review is computed against it, and the admin's tool "
                                           "refuses the request over any other.")
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

    def stated(self) -> SetupReview:
        """What the request says setup changes: the vendor's word, to compare with ``setup_review``."""
        return SetupReview(permissions=self.permissions, frozen_changes=self.frozen_changes, resources=self.resources)

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


def setup_review(spec: StackSpec, setup: ReleaseRecord, where: str) -> SetupReview:
    """What applying ``spec`` over the setup record ``setup`` changes, in ``setup``'s context: the one computation
    of a request's review, made by the vendor when it writes the request and by the admin's tool when it checks it.
    Frozen changes are listed, not refused: applying them is what the admin's review decides. What setup itself
    refuses (a frozen resource removed, a type changed under an old id, a platform dropped, a limit exceeded) is a
    SetupRequestError naming its findings, as what setup applies could not be shown in full."""
    report = preflight(spec, from_record(setup), setup.context.platform, allow_frozen_changes=True)
    stopping = report.blocks_setup
    if stopping:
        raise SetupRequestError(f"{where}: setup cannot apply its stack over setup {setup.release} of "
                                f"{setup.deployment}: " + "; ".join(f"{f.code.value} {f.message}" for f in stopping))
    return SetupReview(
        permissions=permission_deltas(report, setup, setup.context),
        frozen_changes=[FieldChange(resource=f.resource or "-", field=f.field or "-", old=f.old, new=f.new)
                        for f in report.findings if f.code is Code.FROZEN_CHANGED],
        resources=[_resource_change(f, setup.spec, spec) for f in report.findings if f.code in RESOURCE_CHANGES],
    )


def build_request(report: PreflightReport, deployed: ReleaseRecord, setup: ReleaseRecord, spec: StackSpec,
                  release: str) -> SetupRequest:
    """The request of a release whose preflight against the deployed record awaits setup (``report.awaits_setup``).
    ``setup``: the deployment's last setup record the vendor imported (``deployed`` itself, unless a release ran
    since): the request builds on it and its review is computed against it (``setup_review``), as the admin's tool
    computes it; the report's blocking findings are the vendor's reasons."""
    request_id = new_request_id()
    review = setup_review(spec, setup, f"setup request {request_id} of release {release}")
    return SetupRequest(
        id=request_id, deployment=setup.deployment, platform=setup.context.platform, release=release,
        created_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        deployed=DeployedRef.of(deployed), setup=DeployedRef.of(setup),
        permissions=review.permissions, frozen_changes=review.frozen_changes, resources=review.resources,
        reasons=[f.message for f in report.findings if f.blocks],
        stack=spec.model_dump(mode="json"), digest=spec.digest(),
    )


@dataclass(frozen=True)
class VerifiedRequest:
    """A setup request the admin's own last setup record does not refute (``verify_request``): ``review`` is what
    applying ``spec`` over ``setup`` changes, computed by the admin's tool; the request stated the same."""

    request: SetupRequest
    spec: StackSpec
    setup: ReleaseRecord
    review: SetupReview


def read_setup_record(path: Path) -> ReleaseRecord:
    """The admin's own last setup record (what ``alien-deploy up`` wrote to ``<state dir>/records/<deployment>.json``),
    to verify a request against (``verify_request``); a clear SetupRequestError if there is none or it is no
    record."""
    if not path.is_file():
        raise SetupRequestError(f"no setup record at {path}: a setup request can only be reviewed against your own "
                                "last setup record (the one alien-deploy up wrote: give it, or the state directory "
                                "that holds records/<deployment>.json)")
    try:
        return ReleaseRecord.model_validate_json(path.read_bytes())
    except (OSError, ValidationError) as exc:
        problem = first_problem(exc) if isinstance(exc, ValidationError) else str(exc)
        raise SetupRequestError(f"{path}: not a setup record: {problem}") from None


def verify_request(request: SetupRequest, setup: ReleaseRecord) -> VerifiedRequest:
    """Check a vendor's setup request against ``setup``, the admin's own last setup record (kept where the
    management identity cannot write), and compute its review there (DESIGN.md §1a). Refused with a
    SetupRequestError naming the request and what differs, before anything is applied: ``setup`` not a setup
    record (program provision); a request for another deployment or platform; one ``setup`` already applied
    (replayed); one built on another setup record than ``setup`` (a stale base); a stack that does not match its
    digest, or that setup cannot apply; and one whose stated permission changes, frozen changes or resources are
    not those computed (the wording of a resource's detail and the order aside). Show the returned review, never
    the request's own lists."""
    where = f"setup request {request.id}"
    if setup.program != "provision":
        raise SetupRequestError(f"{where}: your record {setup.release} of {setup.deployment} is a {setup.program} "
                                "record, not a setup record: a setup request can only be reviewed against your own "
                                "last setup record")
    platform = setup.context.platform
    if (request.deployment, request.platform) != (setup.deployment, platform):
        raise SetupRequestError(f"{where} is for deployment {request.deployment} ({request.platform.value}), not "
                                f"{setup.deployment} ({platform.value}) of your setup record {setup.release}: "
                                "nothing was applied")
    if setup.setup_request is not None and setup.setup_request.id == request.id:
        raise SetupRequestError(f"{where} was already applied by your setup {setup.release}: a request is applied "
                                "once; nothing was applied")
    stale = request.setup.differences(DeployedRef.of(setup))
    if stale:
        raise SetupRequestError(f"{where} was built against another setup record than your last setup "
                                f"{setup.release} ({'; '.join(stale)}): ask the vendor for a request against your "
                                "last setup (it must import that record: alien-pulumi deployments add); nothing was "
                                "applied")
    spec = request.spec(where)
    review = setup_review(spec, setup, where)
    differences = _differences(request.stated(), review)
    if differences:
        raise SetupRequestError(f"{where} does not state what its stack changes over your setup {setup.release} "
                                "(computed by alien-deploy from the stack and your record); nothing was applied: ask "
                                "the vendor for a new request\n" + "\n".join(f"  - {d}" for d in differences))
    return VerifiedRequest(request, spec, setup, review)


def _permission_lines(review: SetupReview) -> list[str]:
    return [f"{'+' if c.change == 'grant' else '-'} {d.identity} ({d.layer}) {c.action} on {c.resource}"
            + (f" if {c.condition}" if c.condition else "") for d in review.permissions for c in d.changes]


def _frozen_lines(review: SetupReview) -> list[str]:
    return [f"{c.resource}.{c.field}: {_cell(c.old)} -> {_cell(c.new)}" for c in review.frozen_changes]


def _resource_lines(review: SetupReview) -> list[str]:
    return [f"{r.resource} ({r.type}, {r.lifecycle}) {r.change}" for r in review.resources]


COMPARED: tuple[tuple[str, Callable[[SetupReview], list[str]]], ...] = (
    ("permission changes", _permission_lines), ("frozen changes", _frozen_lines), ("resource changes", _resource_lines))


def _differences(stated: SetupReview, computed: SetupReview) -> list[str]:
    """Per kind of change where the request's statement and the computation differ: the first differences."""
    found = []
    for what, lines in COMPARED:
        theirs, mine = Counter(lines(stated)), Counter(lines(computed))
        unstated, untrue = list((mine - theirs).elements()), list((theirs - mine).elements())
        if not theirs and unstated:
            found.append(f"the request states no {what}; computed: {_first(unstated)}")
            continue
        if unstated:
            found.append(f"{what} the request does not state; computed: {_first(unstated)}")
        if untrue:
            found.append(f"{what} the request states, not computed: {_first(untrue)}")
    return found


def _first(lines: list[str]) -> str:
    more = len(lines) - SHOWN_DIFFERENCES
    return "; ".join(lines[:SHOWN_DIFFERENCES]) + (f" (and {more} more)" if more > 0 else "")


def _cell(value: Any) -> str:
    return "absent" if value is None else json.dumps(value, sort_keys=True)


def review_rows(review: SetupReview) -> list[tuple[str, str, str, str, str]]:
    """The security changes, one row each (sign, identity, action, resource, condition): grants first."""
    rows = [("+" if c.change == "grant" else "-", d.identity, c.action, c.resource, c.condition)
            for d in review.permissions for c in d.changes]
    return sorted(rows, key=lambda r: r[0] != "+")


def review_json(verified: VerifiedRequest) -> dict[str, Any]:
    """The computed review as JSON: the request's facts, what alien-deploy computed against which setup record, and
    the vendor's explanation apart."""
    request = verified.request
    return {
        **request.model_dump(mode="json", include={"kind", "request_version", "id", "deployment", "platform",
                                                   "release", "created_at", "digest"}),
        "setup": DeployedRef.of(verified.setup).model_dump(mode="json"),
        **verified.review.model_dump(mode="json"),
        "vendor_explanation": {"deployed": request.deployed.model_dump(mode="json"), "reasons": request.reasons},
    }


def review_markdown(verified: VerifiedRequest) -> str:
    """The computed review as a ticket: what changes, grants first, then frozen changes and resources; the vendor's
    explanation last, marked as its word."""
    request, review, setup = verified.request, verified.review, verified.setup
    rows = review_rows(review)
    grants = sum(1 for r in rows if r[0] == "+")
    lines = [
        f"## Setup request `{request.id}`: deployment `{request.deployment}` ({request.platform.value})",
        "",
        f"Release `{request.release}` needs the customer's admin to run setup. Apply it with "
        "`alien-deploy up --request FILE --bundle BUNDLE`.",
        "",
        f"What it changes is computed by alien-deploy from the request's stack and your last setup record "
        f"`{setup.release}` (digest `{setup.digest}`), not taken from the request (which states the same).",
        "",
        f"- stack digest: `{request.digest}`",
        f"- permissions: **{grants} granted**, {len(rows) - grants} revoked",
        f"- frozen changes: {len(review.frozen_changes)} · resources: {len(review.resources)}",
        "",
        "### Permission changes",
        "",
    ]
    if rows:
        lines += ["| | identity | action | resource | condition |", "|---|---|---|---|---|"]
        lines += [f"| {s} | `{i}` | `{a}` | `{r}` | {f'`{c}`' if c else ''} |" for s, i, a, r, c in rows]
    else:
        lines.append("None.")
    lines += ["", "### Frozen changes", ""]
    if review.frozen_changes:
        lines += ["| resource | field | old | new |", "|---|---|---|---|"]
        lines += [f"| `{c.resource}` | `{c.field}` | `{_cell(c.old)}` | `{_cell(c.new)}` |"
                  for c in review.frozen_changes]
    else:
        lines.append("None.")
    lines += ["", "### Resources", ""]
    if review.resources:
        lines += ["| resource | type | lifecycle | change |", "|---|---|---|---|"]
        lines += [f"| `{r.resource}` | {r.type} | {r.lifecycle} | {r.change} |" for r in review.resources]
    else:
        lines.append("None.")
    lines += ["", "### The vendor's explanation (not checked)", "",
              f"The vendor checked the release against its record `{request.deployed.release}`:", "",
              *(f"- {reason}" for reason in request.reasons), ""]
    return "\n".join(lines)
