"""What trust is in force for one deployment (``alien-deploy access``): the vendor's principal, whether an
external id is required, and the access window with how the cloud enforces it (or that it has no expiry).

From a setup record: what its setup created (the rendered management layer the record keeps). From a bundle:
what a setup with it will create, rendered from its context the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

from alien_pulumi.automation.credentials import management_role_arn
from alien_pulumi.deploy.bundle import SetupBundle
from alien_pulumi.model.context import DeploymentContext, access_deadline
from alien_pulumi.model.record import ReleaseRecord
from alien_pulumi.model.types import Platform
from alien_pulumi.permissions.render.aws import vendor_statements
from alien_pulumi.permissions.render.gcp import access_condition

# How each cloud holds the window; {until} is the date.
_ENFORCED = {
    Platform.AWS: "the trust policy: DateLessThan aws:CurrentTime {until} on every statement allowing the vendor's "
                  "principal (sessions issued before it last at most their hour)",
    Platform.GCP: "an IAM condition on the vendor's impersonation binding: request.time < timestamp(\"{until}\") "
                  "(tokens issued before it last at most their hour)",
    Platform.AZURE: "not by Azure: a federated identity credential has no time condition; your admin enforces the "
                    "date by revoking access then (alien-deploy revoke)",
}
_IDENTITY_KEY = {Platform.GCP: "service_account", Platform.AZURE: "client_id"}


@dataclass(frozen=True)
class AccessInForce:
    deployment: str
    platform: str
    source: str  # "record" (what setup created) or "bundle" (what setup will create)
    principal: str  # the vendor's: AWS role ARN, GCP service account, Azure OIDC subject
    issuer: str | None  # Azure: the vendor's OIDC issuer
    management_identity: str  # what the vendor acts as
    external_id: str  # "required", "not required" (AWS), "not used" (GCP, Azure)
    access_until: str | None  # None: no expiry
    enforced_by: str
    expired: bool
    revoked_at: str | None = None  # the admin revoked access then (alien-deploy revoke); None: not revoked

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _window(platform: Platform, management: dict[str, Any]) -> str | None:
    """The access window as the rendered management layer holds it (the document the cloud enforces)."""
    if platform is Platform.AWS:
        dates = {st.get("Condition", {}).get("DateLessThan", {}).get("aws:CurrentTime")
                 for st in management["trust_policy"]["Statement"]}
        # One date on every statement, or it is not a window (a statement without one allows forever).
        return dates.pop() if len(dates) == 1 else None
    if platform is Platform.GCP:
        condition = management["impersonation"]["condition"] or {}
        match = condition.get("expression", "").partition('timestamp("')[2].partition('")')[0]
        return match or None
    return None


def _external_id(platform: Platform, management: dict[str, Any]) -> str:
    if platform is not Platform.AWS:
        return "not used"
    required = any("sts:ExternalId" in st.get("Condition", {}).get("StringEquals", {})
                   for st in management["trust_policy"]["Statement"] if st["Action"] == "sts:AssumeRole")
    return "required" if required else "not required"


def _access(deployment: str, source: str, ctx: DeploymentContext, management: dict[str, Any], identity: str
            ) -> AccessInForce:
    platform = ctx.platform
    until = _window(platform, management) if platform is not Platform.AZURE else ctx.access_until
    deadline = access_deadline(until) if until else None
    return AccessInForce(
        deployment=deployment, platform=platform.value, source=source, principal=ctx.principal,
        issuer=ctx.vendor_oidc_issuer, management_identity=identity,
        external_id=_external_id(platform, management), access_until=until,
        enforced_by=_ENFORCED[platform].format(until=until) if until else "no expiry",
        expired=deadline is not None and deadline <= datetime.now(timezone.utc), revoked_at=ctx.revoked_at)


def _identity(ctx: DeploymentContext, outputs: Mapping[str, str]) -> str:
    """The management identity: setup's output when there is one, else its deterministic name (AWS: the ARN)."""
    if ctx.platform is Platform.AWS:
        return management_role_arn(ctx, outputs)
    return str(outputs.get(_IDENTITY_KEY[ctx.platform]) or ctx.identity("management"))


def from_record(record: ReleaseRecord) -> AccessInForce:
    ctx = record.context
    identity = _identity(ctx, record.outputs.get("management_identity") or {})
    return _access(record.deployment, "record", ctx, record.permissions["management"], identity)


def from_bundle(bundle: SetupBundle) -> AccessInForce:
    ctx = bundle.to_context(bundle.deployment, naming="field")
    # The parts of the management layer a setup with this bundle renders that hold the trust (Azure: none).
    rendered: dict[str, Any] = {}
    if ctx.platform is Platform.AWS:
        rendered = {"trust_policy": {"Statement": vendor_statements(ctx)}}
    elif ctx.platform is Platform.GCP:
        rendered = {"impersonation": {"condition": access_condition(ctx.access_until)}}
    return _access(bundle.deployment, "bundle", ctx, rendered, _identity(ctx, {}))
