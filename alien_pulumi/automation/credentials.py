"""The environment of a run: whose credentials it carries (DESIGN.md §1, §4).

A setup run uses the admin's own credentials from the environment, untouched. A management run (release,
preview, heartbeat) gets a scrubbed environment: every cloud credential variable of the calling process
is removed, and only the management identity's short-lived credentials are added — AWS: STS AssumeRole
with the external id and session name ``alien-<release>-<deployment>``; GCP: service-account
impersonation; Azure: an OIDC federated token for the management identity.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from alien_pulumi.errors import CredentialsError
from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.types import Platform

# Cloud credential and profile variables never inherited by a management run.
SCRUBBED_PREFIXES = ("AWS_", "GOOGLE_", "CLOUDSDK_", "GCLOUD_", "ARM_", "AZURE_", "MSI_", "IDENTITY_")
# The vendor's own base credentials that a management run needs to obtain the management identity's.
GCP_BASE = ("GOOGLE_APPLICATION_CREDENTIALS",)
AZURE_TOKEN_ENV, AZURE_TOKEN_FILE_ENV = "ALIEN_AZURE_OIDC_TOKEN", "ALIEN_AZURE_OIDC_TOKEN_FILE"
SESSION_NAME = re.compile(r"[^\w+=,.@-]")


def scrubbed(environ: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if not k.startswith(SCRUBBED_PREFIXES)}


def session_name(release: str, deployment: str) -> str:
    """``alien-<release>-<deployment>``, within STS's 2-64 characters of [\\w+=,.@-]."""
    return SESSION_NAME.sub("-", f"alien-{release}-{deployment}")[:64]


def management_role_arn(ctx: DeploymentContext, management: Mapping[str, str]) -> str:
    return management.get("role_arn") or \
        f"arn:{ctx.partition}:iam::{ctx.account_id}:role/{ctx.identity('management')}"


def aws_environment(ctx: DeploymentContext, management: Mapping[str, str], release: str, deployment: str,
                    sts_client: Any = None) -> dict[str, str]:
    """Assume the management role with the external id; return its temporary credentials as env vars."""
    import boto3
    import botocore.exceptions

    role_arn = management_role_arn(ctx, management)
    client = sts_client or boto3.client("sts", region_name=ctx.region)
    try:
        response = client.assume_role(
            RoleArn=role_arn,
            RoleSessionName=session_name(release, deployment),
            ExternalId=ctx.external,
            DurationSeconds=3600,
        )
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        raise CredentialsError(
            f"AWS refused to let the release service assume {role_arn} ({error.get('Code')}: {error.get('Message')}); "
            "check the external id and that the role trusts the vendor's principal"
        ) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise CredentialsError(f"could not reach AWS STS to assume {role_arn}: {exc}") from None
    creds = response["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"],
        "AWS_REGION": ctx.region,
        "AWS_DEFAULT_REGION": ctx.region,
    }


def gcp_environment(ctx: DeploymentContext, management: Mapping[str, str], environ: Mapping[str, str]
                    ) -> dict[str, str]:
    """Impersonate the management service account with the vendor's own base credentials."""
    account = management.get("service_account") or ctx.identity("management")
    env = {k: environ[k] for k in GCP_BASE if k in environ}
    env["GOOGLE_IMPERSONATE_SERVICE_ACCOUNT"] = account
    return env


def azure_environment(ctx: DeploymentContext, management: Mapping[str, str], environ: Mapping[str, str]
                      ) -> dict[str, str]:
    """Sign in as the management identity with the vendor's OIDC token (federated credential)."""
    token = environ.get(AZURE_TOKEN_ENV)
    if token is None and environ.get(AZURE_TOKEN_FILE_ENV):
        token = Path(environ[AZURE_TOKEN_FILE_ENV]).read_text().strip()
    if not token:
        raise CredentialsError(f"no OIDC token for Azure: set {AZURE_TOKEN_ENV} or {AZURE_TOKEN_FILE_ENV} to a token "
                               f"issued by {ctx.vendor_oidc_issuer} for subject {ctx.principal}")
    for key in ("client_id", "tenant_id"):
        if not management.get(key):
            raise CredentialsError(f"the deployment's management identity has no {key}: add the setup's release "
                                   "record to the registry (alien-pulumi deployments add)")
    return {
        "ARM_USE_OIDC": "true",
        "ARM_OIDC_TOKEN": token,
        "ARM_CLIENT_ID": management["client_id"],
        "ARM_TENANT_ID": management["tenant_id"],
        "ARM_SUBSCRIPTION_ID": ctx.scope_id,
    }


def management_environment(ctx: DeploymentContext, management: Mapping[str, str], release: str, deployment: str,
                           environ: Mapping[str, str] | None = None,
                           aws_sts: Callable[..., dict[str, str]] = aws_environment) -> dict[str, str]:
    """The whole environment of a management run: the caller's, less every cloud credential, plus the
    management identity's credentials."""
    environ = dict(os.environ if environ is None else environ)
    if ctx.platform is Platform.AWS:
        creds = aws_sts(ctx, management, release, deployment)
    elif ctx.platform is Platform.GCP:
        creds = gcp_environment(ctx, management, environ)
    else:
        creds = azure_environment(ctx, management, environ)
    return {**scrubbed(environ), **creds}
