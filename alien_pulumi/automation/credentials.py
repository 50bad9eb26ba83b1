"""The environment of a run: whose credentials it carries (DESIGN.md §1, §4).

A setup run uses the admin's own credentials from the environment, untouched. A management run (release,
preview, heartbeat) gets a scrubbed environment: every cloud credential variable of the calling process
is removed, and only the management identity's short-lived credentials are added — AWS: STS AssumeRole
with the external id, session name ``alien-<release>-<deployment>``, the release as ``sts:SourceIdentity`` and
the session tags ``alien:release`` and ``alien:deployment`` (the trust policy requires both, so every CloudTrail
event of the session names the release); GCP: an access token of the management
service account, obtained by impersonation with the vendor's own credentials; Azure: the vendor's OIDC token
for the management identity's federated credential.

The credentials are in the forms both the providers and the engine's state backend read: Pulumi opens ``gs://``
and ``gcpkms://`` with ``GOOGLE_OAUTH_ACCESS_TOKEN`` (it ignores ``GOOGLE_IMPERSONATE_SERVICE_ACCOUNT``), and
``azblob://`` and ``azurekeyvault://`` with Azure's DefaultAzureCredential, whose workload-identity form is
``AZURE_CLIENT_ID``/``AZURE_TENANT_ID``/``AZURE_FEDERATED_TOKEN_FILE`` (the provider reads ``ARM_*``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from alien_pulumi.errors import AccessRevokedError, CredentialsError, ReleaseIdError
from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.types import Platform

# Cloud credential and profile variables never inherited by a management run.
SCRUBBED_PREFIXES = ("AWS_", "GOOGLE_", "CLOUDSDK_", "GCLOUD_", "ARM_", "AZURE_", "MSI_", "IDENTITY_")
# The vendor's own base credentials, with which a management run obtains the management identity's.
GCP_BASE = "GOOGLE_APPLICATION_CREDENTIALS"
GCP_SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
# The IAM Credentials endpoint, when the customer reaches Google through Private Service Connect (the name the
# Google provider reads, e.g. https://iamcredentials-myendpoint.p.googleapis.com/v1/).
GCP_IAM_ENDPOINT = "GOOGLE_IAM_CREDENTIALS_CUSTOM_ENDPOINT"
# Google's longest impersonated token without an organisation policy extending it: a management run must end
# within the hour, as an AWS session must.
GCP_TOKEN_SECONDS = 3600
AZURE_TOKEN_ENV, AZURE_TOKEN_FILE_ENV = "ALIEN_AZURE_OIDC_TOKEN", "ALIEN_AZURE_OIDC_TOKEN_FILE"
SESSION_NAME = re.compile(r"[^\w+=,.@-]")
# sts:SourceIdentity: 2-64 characters of [\w+=,.@-], and it cannot be changed for the session's lifetime. A release
# id is one as it is, at most 54 characters so that its heartbeat's ``heartbeat-<release>`` fits as well.
SOURCE_IDENTITY = re.compile(r"^[\w+=,.@-]{2,64}$", re.ASCII)
RELEASE_ID = re.compile(r"^[\w+=,.@-]{2,54}$", re.ASCII)
TAG_VALUE = re.compile(r"^[\w.:/=+@ -]{0,256}$")  # STS: letters, digits, spaces and _.:/=+-@, at most 256


def check_release_id(release: str) -> None:
    """Refuse a release id that cannot be the ``sts:SourceIdentity`` of its sessions, before anything runs."""
    if not RELEASE_ID.match(release):
        raise ReleaseIdError(f"release id {release!r} must be 2-54 characters of letters, digits and _+=,.@- (it "
                             "is the sts:SourceIdentity of every AWS session of the release, and heartbeat-<release> "
                             "of its heartbeats); the default r<UTC time> fits")


def scrubbed(environ: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if not k.startswith(SCRUBBED_PREFIXES)}


def session_name(release: str, deployment: str) -> str:
    """``alien-<release>-<deployment>``, within STS's 2-64 characters of [\\w+=,.@-]."""
    return SESSION_NAME.sub("-", f"alien-{release}-{deployment}")[:64]


def management_role_arn(ctx: DeploymentContext, management: Mapping[str, str]) -> str:
    return management.get("role_arn") or \
        f"arn:{ctx.partition}:iam::{ctx.account_id}:role/{ctx.identity('management')}"


def session_tags(release: str, deployment: str) -> list[dict[str, str]]:
    """The session tags the trust policy requires (permissions/render/aws.py SESSION_TAGS), in that order."""
    from alien_pulumi.permissions.render.aws import SESSION_TAGS

    tags = [{"Key": key, "Value": value} for key, value in zip(SESSION_TAGS, (release, deployment), strict=True)]
    for tag in tags:
        if not TAG_VALUE.match(tag["Value"]):
            raise CredentialsError(f"{tag['Value']!r} cannot be the AWS session tag {tag['Key']} (at most 256 "
                                   "letters, digits, spaces and _.:/=+-@)")
    return tags


def aws_environment(ctx: DeploymentContext, management: Mapping[str, str], release: str, deployment: str,
                    sts_client: Any = None) -> dict[str, str]:
    """Assume the management role with the external id, the release as source identity and the release and
    deployment as session tags; return its temporary credentials as env vars."""
    import boto3
    import botocore.exceptions

    if not SOURCE_IDENTITY.match(release):
        raise CredentialsError(f"release {release!r} cannot be an sts:SourceIdentity (2-64 characters of letters, "
                               "digits and _+=,.@-)")
    role_arn = management_role_arn(ctx, management)
    client = sts_client or boto3.client("sts", region_name=ctx.region)
    try:
        response = client.assume_role(
            RoleArn=role_arn,
            RoleSessionName=session_name(release, deployment),
            ExternalId=ctx.external,
            SourceIdentity=release,
            Tags=session_tags(release, deployment),
            DurationSeconds=3600,
        )
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        refused = f"AWS refused to let the release service assume {role_arn} for {deployment} " \
                  f"({error.get('Code')}: {error.get('Message')})"
        if error.get("Code") == "AccessDenied":  # what a trust policy without the vendor answers
            trust = "the external id, vendor principal, sts:TagSession/sts:SetSourceIdentity"
            raise AccessRevokedError(f"{refused}; {revoked_reasons(trust)}") from None
        raise CredentialsError(
            f"{refused}; check the external id, that the role trusts the vendor's principal (its access window "
            "included: alien-deploy access) and that the vendor's principal may sts:TagSession and "
            "sts:SetSourceIdentity") from None
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


def gcp_access_token(account: str, environ: Mapping[str, str], source: Any = None, request: Any = None) -> str:
    """An access token of ``account``, impersonated with the vendor's base credentials (``source``, else the
    key file ``GOOGLE_APPLICATION_CREDENTIALS`` of ``environ``, else Google's default credentials), from
    Google's IAM Credentials API or the endpoint ``GOOGLE_IAM_CREDENTIALS_CUSTOM_ENDPOINT`` names."""
    import google.auth
    import google.auth.exceptions
    import google.auth.transport.requests
    from google.auth import impersonated_credentials

    try:
        if source is None and environ.get(GCP_BASE):
            source = _gcp_key_file(environ[GCP_BASE])
        elif source is None:
            source, _ = google.auth.default(scopes=GCP_SCOPES)
        endpoint = environ.get(GCP_IAM_ENDPOINT)
        target = impersonated_credentials.Credentials(
            source_credentials=source, target_principal=account, target_scopes=list(GCP_SCOPES),
            lifetime=GCP_TOKEN_SECONDS,
            iam_endpoint_override=f"{endpoint.rstrip('/')}/projects/-/serviceAccounts/{account}:generateAccessToken"
            if endpoint else None)
        target.refresh(request or google.auth.transport.requests.Request())
    except google.auth.exceptions.GoogleAuthError as exc:
        if _gcp_revoked(exc):
            raise AccessRevokedError(
                f"GCP refused to let the release service impersonate {account} ({_gcp_refusal(exc)}); "
                f"{revoked_reasons('the impersonation binding')}") from None
        raise CredentialsError(
            f"GCP refused to let the release service impersonate {account} ({_first_line(exc)}); check that the "
            "customer's setup granted the vendor's principal roles/iam.serviceAccountTokenCreator on it") from None
    return str(target.token)


def revoked_reasons(trust: str) -> str:
    """What a refusal shaped like a revocation can mean, and what to do: the words every cloud's refusal shares."""
    return (f"the customer revoked the vendor's access (alien-deploy revoke), its access window is over, or the "
            f"trust no longer matches ({trust}): alien-deploy access on the customer's side shows which; not retried, "
            "the next run goes once the customer's admin has run alien-deploy restore")


# generateAccessToken's answers to a caller the customer no longer lets in: 403 PERMISSION_DENIED (the binding
# removed, or its access-window condition over) and, for a disabled service account, 400 FAILED_PRECONDITION.
GCP_REVOKED = frozenset({(403, "PERMISSION_DENIED"), (400, "FAILED_PRECONDITION")})


def _gcp_error(exc: BaseException) -> dict[str, Any]:
    """The Google error object of a refused refresh (google-auth's RefreshError carries the response body)."""
    import json

    body = exc.args[1] if len(exc.args) > 1 else None
    try:
        error = json.loads(body).get("error") if isinstance(body, str | bytes) else None
    except ValueError:
        return {}
    return error if isinstance(error, dict) else {}


def _gcp_revoked(exc: BaseException) -> bool:
    error = _gcp_error(exc)
    # The IAM Credentials API disabled in the vendor's project is PERMISSION_DENIED too: the vendor's to fix.
    disabled_api = any(isinstance(d, dict) and d.get("reason") == "SERVICE_DISABLED" for d in error.get("details", ()))
    return (error.get("code"), error.get("status")) in GCP_REVOKED and not disabled_api


def _gcp_refusal(exc: BaseException) -> str:
    error = _gcp_error(exc)
    return f"{error.get('code')} {error.get('status')}: {error.get('message')}"


def _gcp_key_file(path: str) -> Any:
    """The vendor's credentials file, by the loader of its own type (google-auth deprecates guessing it)."""
    import json

    from google.auth import identity_pool
    from google.oauth2 import credentials, service_account

    loaders: dict[str, Callable[..., Any]] = {
        "service_account": service_account.Credentials.from_service_account_file,
        "authorized_user": credentials.Credentials.from_authorized_user_file,
        "external_account": identity_pool.Credentials.from_file,  # workload identity federation
    }
    try:
        kind = json.loads(Path(path).read_text()).get("type")
    except (OSError, ValueError, AttributeError) as exc:
        raise CredentialsError(f"{GCP_BASE}={path} is not a readable credentials file: {exc}") from None
    if kind not in loaders:
        raise CredentialsError(f"{GCP_BASE}={path} holds credentials of type {kind!r}; the release service "
                               f"impersonates with one of: {', '.join(loaders)}")
    return loaders[kind](path, scopes=list(GCP_SCOPES))


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def gcp_environment(ctx: DeploymentContext, management: Mapping[str, str], environ: Mapping[str, str],
                    gcp_token: Callable[[str, Mapping[str, str]], str] = gcp_access_token) -> dict[str, str]:
    """The management service account's access token, for the provider and the gs:// / gcpkms:// state alike.
    No key file and no impersonation variable is passed on: the run holds only the hour-long token."""
    account = management.get("service_account") or ctx.identity("management")
    return {"GOOGLE_OAUTH_ACCESS_TOKEN": gcp_token(account, environ)}


def azure_environment(ctx: DeploymentContext, management: Mapping[str, str], environ: Mapping[str, str],
                      scratch: Path) -> dict[str, str]:
    """Sign in as the management identity with the vendor's OIDC token (federated credential): ``ARM_*`` for
    the provider, the workload-identity ``AZURE_*`` for the azblob:// state and the azurekeyvault:// key. A
    token given inline is written to a private file in ``scratch`` (the run's own directory)."""
    token_file = environ.get(AZURE_TOKEN_FILE_ENV)
    token = environ.get(AZURE_TOKEN_ENV)
    if token is None and token_file:
        token = Path(token_file).read_text().strip()
    if not token:
        raise CredentialsError(f"no OIDC token for Azure: set {AZURE_TOKEN_ENV} or {AZURE_TOKEN_FILE_ENV} to a token "
                               f"issued by {ctx.vendor_oidc_issuer} for subject {ctx.principal}")
    for key in ("client_id", "tenant_id"):
        if not management.get(key):
            raise CredentialsError(f"the deployment's management identity has no {key}: add the setup's release "
                                   "record to the registry (alien-pulumi deployments add)")
    if not token_file or environ.get(AZURE_TOKEN_ENV):
        path = scratch / "azure-federated-token"
        path.touch(mode=0o600)
        path.write_text(token)
        token_file = str(path)
    return {
        "ARM_USE_OIDC": "true",
        "ARM_OIDC_TOKEN": token,
        "ARM_CLIENT_ID": management["client_id"],
        "ARM_TENANT_ID": management["tenant_id"],
        "ARM_SUBSCRIPTION_ID": ctx.scope_id,
        "AZURE_CLIENT_ID": management["client_id"],
        "AZURE_TENANT_ID": management["tenant_id"],
        "AZURE_FEDERATED_TOKEN_FILE": token_file,
    }


def management_environment(ctx: DeploymentContext, management: Mapping[str, str], release: str, deployment: str,
                           scratch: Path, environ: Mapping[str, str] | None = None,
                           aws_sts: Callable[..., dict[str, str]] = aws_environment,
                           gcp_token: Callable[[str, Mapping[str, str]], str] = gcp_access_token) -> dict[str, str]:
    """The whole environment of a management run: the caller's, less every cloud credential, plus the
    management identity's credentials. ``scratch``: a private directory that lives as long as the run."""
    environ = dict(os.environ if environ is None else environ)
    if ctx.platform is Platform.AWS:
        creds = aws_sts(ctx, management, release, deployment)
    elif ctx.platform is Platform.GCP:
        creds = gcp_environment(ctx, management, environ, gcp_token)
    else:
        creds = azure_environment(ctx, management, environ, scratch)
    return {**scrubbed(environ), **creds}
