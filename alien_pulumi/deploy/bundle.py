"""The setup bundle: what the vendor registered for one deployment, handed to the customer's admin.

Versioned JSON. It holds the deployment's facts (platform, account/project/subscription, region, prefix),
the vendor's trust (principal, Azure issuer, the AWS external id generated here, the end of the vendor's access
when the vendor limits it) and the state backend the
vendor chose (none: the state store bootstrapped in the customer's cloud, DESIGN.md §4a).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alien_pulumi.deploy.vendor import VENDOR_KEYS, sources, vendor_facts
from alien_pulumi.errors import ContextError, Problem, first_problem
from alien_pulumi.model.context import FIELDS, DeploymentContext, Naming, context_problems, refuse_past_access
from alien_pulumi.model.deployment_name import DeploymentName, check_deployment_name
from alien_pulumi.model.files import read_json
from alien_pulumi.model.types import Platform

# 2: the context may carry access_until (an older alien-deploy would refuse the field; it says "upgrade" instead).
BUNDLE_VERSION = 2
EXTERNAL_ID_BYTES = 32  # token_urlsafe: 43 characters, 256 bits


class SetupBundle(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    bundle_version: int = BUNDLE_VERSION
    deployment: DeploymentName = Field(description="The deployment's name in the vendor's registry (a bundle naming "
                                       "a path is refused).")
    platform: Platform
    context: dict[str, str] = Field(description="Context facts: prefix, region, account/project/subscription, "
                                    "vendor principal, issuer, external id, access until.")
    backend: str | None = Field(default=None, description="A backend the vendor chose (e.g. Pulumi Cloud); none: the "
                                "state store in the customer's cloud.")
    created_at: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))

    def to_context(self, stack: str, overrides: Mapping[str, str | None] | None = None,
                   naming: Naming = "flag") -> DeploymentContext:
        """The real context of setup: the bundle's facts, flags overriding them."""
        given = {k: v for k, v in (overrides or {}).items() if v is not None}
        return DeploymentContext.from_fields(self.platform, stack, {**self.context, **given}, naming=naming)

    def overridden(self, overrides: Mapping[str, str | None], ctx: DeploymentContext) -> dict[str, tuple[str, str]]:
        """Fields a flag changes: field -> (bundle value, the value setup uses); shown in the setup plan. Compared
        as the context holds them (a date given in another form of the same instant changes nothing)."""
        facts = ctx.facts()
        return {k: (self.context.get(k, "-"), facts[k]) for k, v in overrides.items()
                if v is not None and k in facts and self.context.get(k) != facts[k]}

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=2) + "\n")

    @classmethod
    def read(cls, path: Path) -> SetupBundle:
        data = read_json(path)
        if isinstance(data, dict) and isinstance(data.get("bundle_version"), int) \
                and data["bundle_version"] > BUNDLE_VERSION:
            raise ContextError(f"{path}: bundle version {data['bundle_version']} is newer than this alien-pulumi "
                               f"understands ({BUNDLE_VERSION}): upgrade alien-pulumi")
        try:
            bundle = cls.model_validate(data)
        except ValidationError as exc:
            raise ContextError(f"{path}: not a setup bundle: {first_problem(exc)}") from None
        problems = context_problems(bundle.platform, bundle.context, "field")
        if "revoked_at" in bundle.context:  # only the customer's admin revokes (alien-deploy revoke)
            problems.append(Problem("context", "revoked_at", "a bundle cannot revoke access: remove it (the "
                                    "customer's admin runs alien-deploy revoke)", "NOT_USED"))
        if problems:
            raise ContextError([Problem(p.where, f"{path.name}: context.{p.field}", p.message, p.code)
                                for p in problems])
        return bundle


def new_bundle(name: str, platform: Platform, flags: Mapping[str, str | None], *, backend: str | None = None,
               environ: Mapping[str, str] | None = None, where: str = "the NAME argument"
               ) -> tuple[SetupBundle, DeploymentContext]:
    """Register-time facts: flags, then the vendor's config for its own trust, a fresh external id on AWS.
    Every missing or malformed field is reported at once (flags named as typed). ``name`` must be a deployment name
    (``where`` says where it came from), checked before anything else: it names the bundle's file."""
    check_deployment_name(name, where)
    values = {k: v for k, v in flags.items() if v is not None}
    values.setdefault("prefix", name)
    for key, value in vendor_facts(platform, environ).items():
        values.setdefault(key, value)
    if platform is Platform.AWS:
        values.setdefault("external_id", secrets.token_urlsafe(EXTERNAL_ID_BYTES))
    try:
        ctx = DeploymentContext.from_fields(platform, name, values, naming="flag")
    except ContextError as exc:
        vendor = {FIELDS[k][0]: k for k in VENDOR_KEYS[platform]}
        raise ContextError([
            Problem(p.where, f"{p.field} (or {sources(platform, vendor[p.field], environ)})", p.message, p.code)
            if p.field in vendor and p.code == "MISSING" else p
            for p in exc.problems]) from None
    refuse_past_access(ctx, "flag")  # a bundle whose window is over could set nothing up
    return SetupBundle(deployment=name, platform=platform, context=ctx.facts(), backend=backend), ctx

