"""The deployment context: where one customer's deployment of a stack lives, and who the vendor is."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from alien_pulumi.errors import ContextError
from alien_pulumi.model.naming import deployment_names, identity_name
from alien_pulumi.model.types import Platform

PREFIX = re.compile(r"^[a-z]([a-z0-9-]{0,22}[a-z0-9])?$")

_DEFAULT_PRINCIPAL = {
    Platform.AWS: "arn:aws:iam::111122223333:role/alien-release",
    Platform.GCP: "alien-release@vendor-release.iam.gserviceaccount.com",
    Platform.AZURE: "system:serviceaccount:alien:release",
}


class DeploymentContext(BaseModel):
    """One deployment: platform, prefix, the account/project/subscription, and the vendor's principal.

    Defaults describe a demonstration deployment so that everything offline works without flags.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    platform: Platform
    prefix: str = Field(description="Prefix of every physical name, e.g. acme-myapp (1-24 chars).")
    stack: str = Field(description="Stack name (tags and labels carry it).")
    region: str = Field("us-east-1", description="AWS region.")
    account_id: str = Field("123456789012", pattern=r"^\d{12}$", description="AWS account id.")
    partition: str = Field("aws", pattern=r"^aws(-cn|-us-gov)?$")
    project: str = Field("acme-customer-prod", pattern=r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$",
                         description="GCP project id.")
    gcp_region: str = Field("us-central1", description="GCP region.")
    subscription_id: str = Field("00000000-0000-0000-0000-000000000000",
                                 pattern=r"^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$",
                                 description="Azure subscription id.")
    resource_group: str | None = Field(None, description="Azure resource group (default <prefix>-rg).")
    location: str = Field("eastus", description="Azure location.")
    vendor_principal: str | None = Field(
        None,
        description="The vendor's release identity: AWS role ARN, GCP service account email, or the Azure "
        "federated credential subject.",
    )
    vendor_oidc_issuer: str = Field("https://oidc.vendor.example.com", description="Azure: the vendor's OIDC issuer.")
    external_id: str | None = Field(None, min_length=2, max_length=1224, description="AWS sts:ExternalId.")

    @field_validator("prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not PREFIX.match(value):
            raise ValueError(f"{value!r} must match {PREFIX.pattern}")
        return value

    @classmethod
    def create(cls, platform: Platform | str, stack: str, **fields: Any) -> DeploymentContext:
        """Build a context, dropping ``None`` fields so defaults apply; errors become ``ContextError``."""
        values = {k: v for k, v in fields.items() if v is not None}
        # The default prefix is the stack name, cut to the prefix's 24 characters and its ending rule.
        values.setdefault("prefix", stack[:24].rstrip("-"))
        try:
            return cls(platform=Platform(platform), stack=stack, **values)
        except ValidationError as exc:
            details = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise ContextError(f"invalid deployment context: {details}") from None
        except ValueError as exc:
            raise ContextError(f"invalid deployment context: {exc}") from None

    @property
    def principal(self) -> str:
        return self.vendor_principal or _DEFAULT_PRINCIPAL[self.platform]

    @property
    def external(self) -> str:
        return self.external_id or f"alien-{self.prefix}"

    @property
    def rg(self) -> str:
        return self.resource_group or deployment_names(Platform.AZURE, self.prefix)["resource_group"]

    def identity(self, role: str) -> str:
        """Physical name of an identity (``management`` or ``rt-<profile>``); GCP: the SA email."""
        name = identity_name(self.platform, self.prefix, role)
        if self.platform is Platform.GCP:
            return f"{name}@{self.project}.iam.gserviceaccount.com"
        return name

    def template_values(self) -> dict[str, str]:
        """Placeholders every permission template may use (besides the per-resource names)."""
        return {
            **deployment_names(self.platform, self.prefix),
            "prefix": self.prefix,
            "stack": self.stack,
            "partition": self.partition,
            "region": self.gcp_region if self.platform is Platform.GCP else self.region,
            "account": self.account_id,
            "project": self.project,
            "subscription": self.subscription_id,
            "resource_group": self.rg,
            "location": self.location,
            "management_identity": self.identity("management"),
        }
