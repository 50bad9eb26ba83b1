"""The deployment context: where one customer's deployment of a stack lives, and who the vendor is.

A real context is complete and well formed, checked per cloud (``DeploymentContext.create``): a missing or
malformed field is a ``ContextError`` that names every such field by the flag, config key or bundle key the
user types. Example values exist only for offline commands (``DeploymentContext.example``); a context built
with them says so (``example``), and nothing that touches a cloud accepts it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from alien_pulumi.errors import ContextError, Problem
from alien_pulumi.model.naming import deployment_names, identity_name
from alien_pulumi.model.regions import KNOWN_REGIONS, unknown_region
from alien_pulumi.model.types import Platform

PREFIX = re.compile(r"^[a-z]([a-z0-9-]{0,22}[a-z0-9])?$")
Naming = Literal["flag", "config", "field"]

# Field -> (CLI flag, Pulumi config key of the root program). Errors name what the user typed.
FIELDS: dict[str, tuple[str, str]] = {
    "prefix": ("--prefix", "alien:prefix"),
    "region": ("--region", "alien:region"),
    "account_id": ("--account-id", "alien:accountId"),
    "partition": ("--partition", "alien:partition"),
    "project": ("--project", "alien:project"),
    "subscription_id": ("--subscription-id", "alien:subscriptionId"),
    "resource_group": ("--resource-group", "alien:resourceGroup"),
    "vendor_principal": ("--vendor-principal", "alien:vendorPrincipal"),
    "vendor_oidc_issuer": ("--vendor-oidc-issuer", "alien:vendorOidcIssuer"),
    "external_id": ("--external-id", "alien:externalId"),
    "access_until": ("--access-until", "alien:accessUntil"),
    # Set by the admin's `alien-deploy revoke` (never a flag, never in a bundle): the program then renders the
    # vendor's trust revoked, so a setup run while revoked keeps it so (deploy/revocation.py).
    "revoked_at": ("alien-deploy revoke", "alien:revokedAt"),
}

# What each cloud needs, and what it means (the text of a "missing" error).
REQUIRED: dict[Platform, dict[str, str]] = {
    Platform.AWS: {
        "account_id": "the customer's 12-digit AWS account id",
        "region": "the AWS region every resource and permission uses",
        "vendor_principal": "the vendor's IAM role ARN that may assume the management role",
        "external_id": "the sts:ExternalId the vendor generated for this deployment (at least 32 characters)",
    },
    Platform.GCP: {
        "project": "the customer's GCP project id",
        "region": "the GCP region every resource and permission uses",
        "vendor_principal": "the vendor's service-account email that may impersonate the management identity",
    },
    Platform.AZURE: {
        "subscription_id": "the customer's Azure subscription id (a GUID)",
        "region": "the Azure location every resource uses",
        "vendor_oidc_issuer": "the vendor's OIDC issuer URL (https) the federated credential trusts",
        "vendor_principal": "the subject of the vendor's OIDC tokens the federated credential trusts",
    },
}
# Fields a cloud uses besides the required ones (anything else given for that cloud is refused).
OPTIONAL: dict[Platform, tuple[str, ...]] = {
    Platform.AWS: ("partition", "access_until", "revoked_at"),
    Platform.GCP: ("access_until", "revoked_at"),
    Platform.AZURE: ("resource_group", "access_until", "revoked_at"),
}

# Example values for offline commands only (synth, permissions, diff, preflight): never a real run.
EXAMPLE: dict[Platform, dict[str, str]] = {
    Platform.AWS: {
        "account_id": "123456789012",
        "region": "us-east-1",
        "vendor_principal": "arn:aws:iam::111122223333:role/alien-release",
        "external_id": "example-external-id-offline-only-0000",
    },
    Platform.GCP: {
        "project": "acme-customer-prod",
        "region": "us-central1",
        "vendor_principal": "alien-release@vendor-release.iam.gserviceaccount.com",
    },
    Platform.AZURE: {
        "subscription_id": "00000000-0000-0000-0000-000000000000",
        "region": "eastus",
        "vendor_oidc_issuer": "https://oidc.vendor.example.com",
        "vendor_principal": "system:serviceaccount:alien:release",
    },
}

_GCP_PROJECT = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_GCP_REGION = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")
_GCP_SA = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com$")
_AZURE_LOCATION = re.compile(r"^[a-z][a-z0-9]{2,40}$")
_GUID = re.compile(r"^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$")
_RG = re.compile(r"^[-\w._()]{1,89}[-\w_()]$")
_ROLE_ARN = re.compile(r"^arn:(?P<partition>[a-z-]+):iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
_EXTERNAL_ID = re.compile(r"^[\w+=,.@:/-]{32,1224}$")
_ISSUER = re.compile(r"^https://[^\s/?#]+(/[^\s?#]*)?$")
_SUBJECT = re.compile(r"^\S{1,600}$")
# ISO 8601 in UTC: a date (the window ends at its first second) or a date-time with seconds optional.
_UTC_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_UTC_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(Z|\+00:00)$")
ACCESS_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# The tag (AWS role, Azure identity) that marks the management identity revoked in the cloud itself, its value
# the revocation time: a setup from any machine finds it there (deploy/revocation.py).
REVOKED_MARK = "alien-revoked-at"


def access_deadline(value: str) -> datetime | None:
    """The instant an access window ends, from an ISO 8601 UTC date or date-time; None when malformed
    (a local time or another offset is refused rather than guessed)."""
    if not (_UTC_DATE.match(value) or _UTC_TIME.match(value)):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed


def normalise_access(value: str) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ``, the form every cloud's condition and the records carry (unchanged if malformed:
    the check reports it)."""
    deadline = access_deadline(value)
    return deadline.strftime(ACCESS_FORMAT) if deadline else value


@cache
def aws_partitions() -> dict[str, re.Pattern[str]]:
    """AWS partitions and their region patterns, from the endpoint data botocore ships (not a hand list)."""
    import botocore.loaders

    data = botocore.loaders.create_loader().load_data("endpoints")
    return {p["partition"]: re.compile(p["regionRegex"]) for p in data["partitions"]}


def partition_of(region: str) -> str | None:
    return next((name for name, regex in aws_partitions().items() if regex.match(region)), None)


def _example_region(partition: str) -> str:
    """The example region of an offline context on ``partition``: us-east-1 on aws, a known region of another."""
    example = EXAMPLE[Platform.AWS]["region"]
    regex = aws_partitions()[partition]
    if regex.match(example):
        return example
    return next((r for r in sorted(KNOWN_REGIONS[Platform.AWS]) if partition_of(r) == partition), example)


def _check_region(platform: Platform, values: Mapping[str, str]) -> str | None:
    """The region's form on its cloud (and AWS partition), then whether it is one the cloud has (``regions``)."""
    region = values["region"]
    if platform is Platform.AWS:
        partition = values.get("partition") or partition_of(region)
        if partition is None or not aws_partitions()[partition].match(region):
            where = f"of partition {partition}" if values.get("partition") else "of any AWS partition"
            return f"{region!r} is not an AWS region {where} (e.g. us-east-1, eu-west-1)"
    elif platform is Platform.GCP:
        if not _GCP_REGION.match(region):
            return f"{region!r} is not a GCP region (e.g. us-central1, europe-west4)"
    elif not _AZURE_LOCATION.match(region):
        return f"{region!r} is not an Azure location name (lowercase, e.g. eastus, westeurope)"
    return unknown_region(platform, region)


def _check_principal(platform: Platform, values: Mapping[str, str]) -> str | None:
    principal = values["vendor_principal"]
    if platform is Platform.AWS:
        match = _ROLE_ARN.match(principal)
        if not match:
            return f"{principal!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>); never '*'"
        partition = values.get("partition") or partition_of(values.get("region", "")) or "aws"
        if match["partition"] != partition:
            return f"the role is in partition {match['partition']}, the deployment in {partition}"
        return None
    if platform is Platform.GCP:
        return None if _GCP_SA.match(principal) else \
            f"{principal!r} is not a service-account email (<name>@<project>.iam.gserviceaccount.com)"
    return None if _SUBJECT.match(principal) and principal != "*" else \
        f"{principal!r} is not an OIDC subject (1-600 characters, no spaces, not '*')"


_CHECKS: dict[str, Callable[[Platform, Mapping[str, str]], str | None]] = {
    "prefix": lambda _p, v: None if PREFIX.match(v["prefix"]) else
    f"{v['prefix']!r} must be 1-24 characters of a-z, 0-9 and '-', starting with a letter",
    "region": _check_region,
    "account_id": lambda _p, v: None if re.fullmatch(r"\d{12}", v["account_id"]) else
    f"{v['account_id']!r} is not a 12-digit AWS account id",
    "partition": lambda _p, v: None if v["partition"] in aws_partitions() else
    f"{v['partition']!r} is not an AWS partition ({', '.join(aws_partitions())})",
    "project": lambda _p, v: None if _GCP_PROJECT.match(v["project"]) else
    f"{v['project']!r} is not a GCP project id (6-30 characters of a-z, 0-9 and '-')",
    "subscription_id": lambda _p, v: None if _GUID.match(v["subscription_id"]) else
    f"{v['subscription_id']!r} is not a subscription id (a lowercase GUID)",
    "resource_group": lambda _p, v: None if _RG.match(v["resource_group"]) else
    f"{v['resource_group']!r} is not a resource group name",
    "vendor_principal": _check_principal,
    "vendor_oidc_issuer": lambda _p, v: None if _ISSUER.match(v["vendor_oidc_issuer"]) else
    f"{v['vendor_oidc_issuer']!r} is not an https issuer URL",
    "external_id": lambda _p, v: None if _EXTERNAL_ID.match(v["external_id"]) else
    "the external id must be 32-1224 characters of letters, digits and +=,.@:/-_ (generate it with "
    "`alien-pulumi deployments new`)",
    "access_until": lambda _p, v: None if access_deadline(v["access_until"]) else
    f"{v['access_until']!r} is not an ISO 8601 UTC date or date-time (e.g. 2027-03-31 or 2027-03-31T18:00:00Z)",
    "revoked_at": lambda _p, v: None if _UTC_TIME.match(v["revoked_at"]) and access_deadline(v["revoked_at"]) else
    f"{v['revoked_at']!r} is not an ISO 8601 UTC date-time (YYYY-MM-DDTHH:MM:SSZ)",
}


def field_name(field: str, naming: Naming) -> str:
    if naming == "field" or field not in FIELDS:
        return field
    return FIELDS[field][0 if naming == "flag" else 1]


def context_problems(platform: Platform, values: Mapping[str, Any], naming: Naming = "field",
                     example: bool = False) -> list[Problem]:
    """Every problem of a context's fields on ``platform``: missing (unless ``example``), malformed,
    or belonging to another cloud. One problem per field."""
    given = {k: str(v) for k, v in values.items() if v is not None}
    problems = []
    allowed = {"prefix", *REQUIRED[platform], *OPTIONAL[platform]}
    for field, what in REQUIRED[platform].items():
        if field not in given and not example:
            problems.append(Problem("context", field_name(field, naming), f"missing: {what}", "MISSING"))
    for field in given:
        if field not in allowed:
            problems.append(Problem("context", field_name(field, naming),
                                    f"not used on {platform.value}: remove it", "NOT_USED"))
        elif (message := _CHECKS[field](platform, given)) is not None:
            problems.append(Problem("context", field_name(field, naming), message, "MALFORMED"))
    return problems


def refuse_past_access(ctx: DeploymentContext, naming: Naming) -> None:
    """A setup that would grant access already over: refused, naming the field as typed. Not part of the
    context's validation, since the records of past setups must still load."""
    if ctx.access_until is None:
        return
    now = datetime.now(timezone.utc)
    deadline = access_deadline(ctx.access_until)
    if deadline is not None and deadline <= now:
        raise ContextError([Problem("context", field_name("access_until", naming),
                                    f"{ctx.access_until} is in the past (now {now.strftime(ACCESS_FORMAT)}): give "
                                    "a later date, or none for no expiry", "PAST")])


class DeploymentContext(BaseModel):
    """One deployment: platform, prefix, region, the account/project/subscription, and the vendor's trust."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    platform: Platform
    prefix: str = Field(description="Prefix of every physical name, e.g. acme-myapp (1-24 chars).")
    stack: str = Field(description="Stack name (tags and labels carry it).")
    region: str = Field(description="AWS region, GCP region or Azure location of the deployment.")
    account_id: str | None = Field(default=None, description="AWS account id.")
    partition: str | None = Field(default=None, description="AWS partition (derived from the region when not given).")
    project: str | None = Field(default=None, description="GCP project id.")
    subscription_id: str | None = Field(default=None, description="Azure subscription id.")
    resource_group: str | None = Field(default=None, description="Azure resource group (default <prefix>-rg).")
    vendor_principal: str = Field(description="The vendor's release identity: AWS role ARN, GCP service account "
                                  "email, or the subject of the vendor's Azure OIDC tokens.")
    vendor_oidc_issuer: str | None = Field(default=None, description="Azure: the vendor's OIDC issuer.")
    external_id: str | None = Field(default=None, description="AWS sts:ExternalId of the trust policy.")
    access_until: str | None = Field(default=None, description="End of the vendor's access (UTC, "
                                     "YYYY-MM-DDTHH:MM:SSZ); None: no expiry.")
    revoked_at: str | None = Field(default=None, description="When the customer's admin revoked the vendor's access "
                                   "(UTC, YYYY-MM-DDTHH:MM:SSZ); None: not revoked.")
    example: bool = Field(default=False, description="Example values were filled in: offline use only.")

    @field_validator("access_until", "revoked_at")
    @classmethod
    def _normalised(cls, value: str | None) -> str | None:
        return None if value is None else normalise_access(value)

    @model_validator(mode="after")
    def _valid(self) -> DeploymentContext:
        problems = context_problems(self.platform, self._facts(), example=self.example)
        if problems:
            raise ValueError("; ".join(map(str, problems)))
        return self

    def _facts(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in FIELDS if getattr(self, k) is not None}

    @classmethod
    def create(cls, platform: Platform | str, stack: str, **fields: Any) -> DeploymentContext:
        """A real context from keyword fields (see ``from_fields``)."""
        return cls.from_fields(platform, stack, fields)

    @classmethod
    def from_fields(cls, platform: Platform | str, stack: str, fields: Mapping[str, Any], *,
                    naming: Naming = "field", example: bool = False) -> DeploymentContext:
        """A real context: every field the cloud needs, well formed, or a ``ContextError`` naming each
        missing or malformed one (as ``naming`` says: flag, config key or field). With ``example``,
        missing fields take example values and the context is marked as an example."""
        platform = Platform(platform)
        values = {k: v for k, v in fields.items() if v is not None}
        # The default prefix is the stack name, cut to the prefix's 24 characters and its ending rule.
        values.setdefault("prefix", stack[:24].rstrip("-"))
        problems = context_problems(platform, values, naming, example)
        if problems:
            raise ContextError(problems)
        filled = {k: v for k, v in EXAMPLE[platform].items() if k not in values} if example else {}
        if platform is Platform.AWS:
            if "partition" in values and "region" in filled:  # an example region of the partition given
                filled["region"] = _example_region(values["partition"])
            region = values.get("region") or filled["region"]
            values.setdefault("partition", partition_of(region))
            if "vendor_principal" in filled:  # the example role is in the deployment's partition
                partition = values["partition"]
                filled["vendor_principal"] = filled["vendor_principal"].replace("arn:aws:", f"arn:{partition}:")
        return cls(platform=platform, stack=stack, example=bool(filled), **values, **filled)

    @classmethod
    def example_context(cls, platform: Platform | str, stack: str, **fields: Any) -> DeploymentContext:
        """An offline context: given fields are still checked; missing ones take example values."""
        return cls.from_fields(platform, stack, fields, example=True)

    @property
    def scope_id(self) -> str:
        """The account, project or subscription the deployment lives in."""
        value = {Platform.AWS: self.account_id, Platform.GCP: self.project,
                 Platform.AZURE: self.subscription_id}[self.platform]
        assert value is not None  # required by validation
        return value

    @property
    def target(self) -> str:
        """What makes a deployment unique: platform, account/project/subscription, prefix."""
        return f"{self.platform.value}:{self.scope_id}:{self.prefix}"

    @property
    def gcp_region(self) -> str:
        return self.region

    @property
    def location(self) -> str:
        return self.region

    @property
    def principal(self) -> str:
        return self.vendor_principal

    @property
    def external(self) -> str:
        return self.external_id or ""

    @property
    def rg(self) -> str:
        return self.resource_group or deployment_names(Platform.AZURE, self.prefix)["resource_group"]

    def facts(self) -> dict[str, str]:
        """The customer's and the vendor's facts (no stack, no example flag): what a record must match."""
        return {k: str(v) for k, v in self._facts().items()}

    def state_names(self) -> dict[str, str]:
        """The deployment's state store (DESIGN.md §4a): deterministic, so its permissions render before it
        exists. AWS: bucket and KMS alias; GCP: bucket, key ring and key; Azure: resource group, storage
        account, container, Key Vault and key (the account and vault names are global: a hash keeps them
        unique and within 24 characters). ``setup_record``: where setup keeps its record's copy, outside every
        grant of the management identity (AWS: beside .pulumi/ in the state bucket; GCP: a bucket of its own;
        Azure: a container of its own in the state account)."""
        digest = hashlib.sha256(f"{self.scope_id}/{self.prefix}".encode()).hexdigest()
        compact = re.sub("[^a-z0-9]", "", self.prefix)
        return {
            Platform.AWS: lambda: {"state_bucket": f"{self.prefix}-state-{self.account_id}",
                                   "state_key": f"alias/{self.prefix}-pulumi-state",
                                   "setup_record": "alien-setup/record.json"},
            Platform.GCP: lambda: {"state_bucket": f"{self.prefix}-state-{self.project}",
                                   "state_key_ring": f"{self.prefix}-pulumi-state", "state_key": "pulumi-state",
                                   "setup_bucket": f"{self.prefix}-setup-{self.project}",
                                   "setup_record": "record.json"},
            Platform.AZURE: lambda: {"state_resource_group": f"{self.prefix}-state-rg",
                                     "state_account": f"{compact[:14]}st{digest[:8]}",
                                     "state_container": "pulumi-state",
                                     "state_vault": f"{self.prefix[:13].rstrip('-')}-kv{digest[:8]}",
                                     "state_key": "pulumi-state", "setup_container": "alien-setup",
                                     "setup_record": "record.json"},
        }[self.platform]()

    def identity(self, role: str) -> str:
        """Physical name of an identity (``management`` or ``rt-<profile>``); GCP: the SA email."""
        name = identity_name(self.platform, self.prefix, role)
        if self.platform is Platform.GCP:
            return f"{name}@{self.project}.iam.gserviceaccount.com"
        return name

    def template_values(self) -> dict[str, str]:
        """Placeholders every permission template may use (besides the per-resource names)."""
        values = {
            **deployment_names(self.platform, self.prefix),
            "prefix": self.prefix,
            "stack": self.stack,
            "region": self.region,
            "management_identity": self.identity("management"),
            **self.state_names(),
        }
        if self.platform is Platform.AWS:
            values.update(partition=str(self.partition), account=str(self.account_id))
        elif self.platform is Platform.GCP:
            values.update(project=str(self.project))
        else:
            values.update(subscription=str(self.subscription_id), resource_group=self.rg, location=self.region)
        return values
