"""Management credentials: STS AssumeRole with the external id through real boto3 against a moto server;
GCP impersonation and Azure OIDC environments; the caller's cloud credentials scrubbed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from botocore.stub import Stubber
from requests.adapters import BaseAdapter

import alien_pulumi as alien
from alien_pulumi.automation.attribution import attribution
from alien_pulumi.automation.credentials import (
    SOURCE_IDENTITY,
    aws_environment,
    check_release_id,
    management_environment,
    scrubbed,
    session_name,
    session_tags,
)
from alien_pulumi.errors import AccessRevokedError, CredentialsError, ReleaseIdError
from alien_pulumi.permissions import derive_plan, render_layer
from alien_pulumi.permissions.render.aws import SESSION_TAGS
from tests.deploy.sdk_fake import answer, session
from tests.gcp_token_server import management_token, token_server
from tests.moto_server import moto_server

ACCOUNT = "123456789012"


@pytest.fixture
def moto_iam_enforced() -> Iterator[str]:
    with moto_server(enforce_iam=True) as endpoint:
        yield endpoint


EXTERNAL_ID = "ext-7f3a-0123456789abcdef0123456789abc"
VENDOR_ROLE = f"arn:aws:iam::{ACCOUNT}:role/vendor-release"  # the vendor's release role (moto: one account)


def user_keys(name: str, policy: dict[str, Any] | None) -> dict[str, str]:
    from moto.iam.models import iam_backends

    iam = iam_backends[ACCOUNT]["global"]
    iam.create_user(region_name="us-east-1", user_name=name)
    if policy:
        iam.put_user_policy(name, "p", json.dumps(policy))
    key = iam.create_access_key(name)
    return {"aws_access_key_id": key.access_key_id, "aws_secret_access_key": key.secret_access_key}


def context() -> alien.DeploymentContext:
    return alien.DeploymentContext.example_context("aws", "my-app", prefix="acme", external_id=EXTERNAL_ID,
                                                   vendor_principal=VENDOR_ROLE)


def test_assume_role_with_external_id_through_boto3(moto_iam_enforced: str) -> None:
    ctx = context()
    spec = alien.Stack("my-app").platforms("aws").add(alien.Kv("k"), "frozen").build()
    trust = render_layer(derive_plan(spec, ctx), "management")["trust_policy"]
    vendor = user_keys("vendor", {"Version": "2012-10-17",
                                  "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    iam = boto3.client("iam", region_name="us-east-1", endpoint_url=moto_iam_enforced, **vendor)
    # moto checks the trust policy's principal against the caller but cannot authorise an assumed-role
    # session to assume further, so the vendor is a user here: the rendered trust with that principal.
    moto_trust = json.loads(json.dumps(trust))
    moto_trust["Statement"][0]["Principal"] = {"AWS": f"arn:aws:iam::{ACCOUNT}:user/vendor"}
    iam.create_role(RoleName="acme-management", AssumeRolePolicyDocument=json.dumps(moto_trust))
    sts = boto3.client("sts", region_name="us-east-1", endpoint_url=moto_iam_enforced, **vendor)
    env = aws_environment(ctx, {}, "2026.11.1", "acme", sts_client=sts)
    assert env["AWS_ACCESS_KEY_ID"] != vendor["aws_access_key_id"] and env["AWS_SESSION_TOKEN"]
    assert env["AWS_REGION"] == "us-east-1"
    who = boto3.client("sts", region_name="us-east-1", endpoint_url=moto_iam_enforced,
                       aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                       aws_session_token=env["AWS_SESSION_TOKEN"]).get_caller_identity()
    assert who["Arn"].endswith(":assumed-role/acme-management/alien-2026.11.1-acme")
    # moto does not evaluate trust policies' conditions: a policy simulator does (tests/aws_simulator)
    assert trust["Statement"][0]["Condition"]["StringEquals"] == {"sts:ExternalId": EXTERNAL_ID}
    assert trust["Statement"][0]["Principal"] == {"AWS": VENDOR_ROLE}


def test_a_refused_assume_role_is_one_clear_error(moto_iam_enforced: str) -> None:
    nobody = user_keys("nobody", None)
    sts = boto3.client("sts", region_name="us-east-1", endpoint_url=moto_iam_enforced, **nobody)
    with pytest.raises(AccessRevokedError) as info:
        aws_environment(context(), {}, "r1", "acme", sts_client=sts)
    message = str(info.value)
    assert message.startswith("AWS refused to let the release service assume arn:aws:iam::123456789012:role/acme-"
                              "management for acme (AccessDenied")
    # AccessDenied is what a trust policy without the vendor answers, and also a trust that no longer matches:
    # the message says both, and where the customer sees which.
    assert message.endswith("the customer revoked the vendor's access (alien-deploy revoke), its access window is "
                            "over, or the trust no longer matches (the external id, vendor principal, "
                            "sts:TagSession/sts:SetSourceIdentity): alien-deploy access on the customer's side shows "
                            "which; not retried, the next run goes once the customer's admin has run alien-deploy "
                            "restore")


@pytest.mark.parametrize(("code", "status"), [("RegionDisabledException", 403), ("ExpiredToken", 400),
                                              ("Throttling", 400)])
def test_other_refusals_of_assume_role_are_not_revocations(code: str, status: int) -> None:
    sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(sts) as stub:
        stub.add_client_error("assume_role", service_error_code=code, http_status_code=status, service_message="no")
        with pytest.raises(CredentialsError, match=f"for acme \\({code}: no\\); check the external id") as info:
            aws_environment(context(), {}, "r1", "acme", sts_client=sts)
    assert not isinstance(info.value, AccessRevokedError)


def test_wrong_external_id_answer_from_aws_is_reported() -> None:
    # AWS answers a wrong external id with AccessDenied on sts:AssumeRole (moto does not check it).
    sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(sts) as stub:
        stub.add_client_error("assume_role", service_error_code="AccessDenied", http_status_code=403,
                              service_message="User: arn:aws:iam::111122223333:role/alien-release is not authorized "
                                              "to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/"
                                              "acme-management",
                              expected_params={"RoleArn": "arn:aws:iam::123456789012:role/acme-management",
                                               "RoleSessionName": "alien-r1-acme", "ExternalId": "wrong",
                                               "SourceIdentity": "r1", "Tags": TAGS_R1,
                                               "DurationSeconds": 3600})
        ctx = context().model_copy(update={"external_id": "wrong"})
        with pytest.raises(CredentialsError, match=r"AccessDenied: User: .* is not authorized to perform: "
                                                   "sts:AssumeRole"):
            aws_environment(ctx, {}, "r1", "acme", sts_client=sts)


TAGS_R1 = [{"Key": "alien:release", "Value": "r1"}, {"Key": "alien:deployment", "Value": "acme"}]


def test_the_session_names_the_release_as_source_identity_and_tags() -> None:
    # botocore validates the request against STS's own model (lengths, patterns) before the stub answers.
    sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    release = "r20261202T161300Z"
    expiry = datetime(2026, 12, 2, 17, 13, tzinfo=timezone.utc)
    with Stubber(sts) as stub:
        stub.add_response("assume_role", {"Credentials": {
            "AccessKeyId": "ASIAEXAMPLEEXAMPLE", "SecretAccessKey": "s" * 40, "SessionToken": "t" * 40,
            "Expiration": expiry}, "SourceIdentity": release}, expected_params={
            "RoleArn": "arn:aws:iam::123456789012:role/acme-management", "RoleSessionName": f"alien-{release}-acme",
            "ExternalId": EXTERNAL_ID, "SourceIdentity": release, "DurationSeconds": 3600,
            "Tags": [{"Key": "alien:release", "Value": release}, {"Key": "alien:deployment", "Value": "acme"}]})
        env = aws_environment(context(), {}, release, "acme", sts_client=sts)
    assert env["AWS_ACCESS_KEY_ID"] == "ASIAEXAMPLEEXAMPLE"
    # the tag keys are the ones the trust policy requires, exactly
    assert [t["Key"] for t in session_tags(release, "acme")] == list(SESSION_TAGS)


@pytest.mark.parametrize("release", ["r", "v1.2/3", "release 7", "r" * 65, "rélease"])
def test_a_release_that_cannot_be_a_source_identity_assumes_nothing(release: str) -> None:
    sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(sts), pytest.raises(CredentialsError, match="cannot be an sts:SourceIdentity"):
        aws_environment(context(), {}, release, "acme", sts_client=sts)  # the stub has no answer: no call made


@pytest.mark.parametrize(("release", "ok"), [
    ("r20261202T161300Z", True), ("2026.11.1", True), ("v1_2+build=3,rc@x-1", True), ("r" * 54, True),
    ("r" * 55, False), ("x", False), ("v1.2/3", False), ("release 7", False), ("rélease", False)])
def test_release_ids_fit_the_source_identity_of_release_and_heartbeat(release: str, ok: bool) -> None:
    if ok:
        check_release_id(release)
        assert SOURCE_IDENTITY.match(f"heartbeat-{release}")
    else:
        with pytest.raises(ReleaseIdError, match="must be 2-54 characters"):
            check_release_id(release)


def test_a_deployment_name_that_cannot_be_a_tag_is_refused() -> None:
    with pytest.raises(CredentialsError, match="cannot be the AWS session tag alien:deployment"):
        session_tags("r1", "a" * 257)


def test_session_name_fits_sts_rules() -> None:
    assert session_name("v1.2/3", "acme prod") == "alien-v1.2-3-acme-prod"
    assert len(session_name("r" * 80, "d")) == 64


CALLER = {"AWS_PROFILE": "admin", "AWS_ACCESS_KEY_ID": "AKIA", "GOOGLE_APPLICATION_CREDENTIALS": "/vendor.json",
          "CLOUDSDK_CORE_ACCOUNT": "admin@customer", "ARM_CLIENT_SECRET": "s", "AZURE_CLIENT_ID": "x",
          "PULUMI_ACCESS_TOKEN": "pul-123", "PATH": "/usr/bin", "HOME": "/home/release"}


def test_scrubbing_keeps_pulumi_and_system_variables() -> None:
    assert scrubbed(CALLER) == {"PULUMI_ACCESS_TOKEN": "pul-123", "PATH": "/usr/bin", "HOME": "/home/release"}


def test_gcp_management_environment_carries_the_impersonated_token_alone(tmp_path: Path) -> None:
    """google-auth signs a JWT with the vendor's key, trades it for a token, and impersonates the management
    service account with it; the run gets that token in the form Pulumi's gs:// and gcpkms:// read, and
    neither the vendor's key file nor an impersonation variable."""
    ctx = alien.DeploymentContext.example_context("gcp", "my-app", prefix="acme", project="acme-prod-1")
    with token_server() as google:
        caller = {**CALLER, "GOOGLE_APPLICATION_CREDENTIALS": str(google.key_file(tmp_path / "sa.json", "r@v.iam")),
                  "GOOGLE_IAM_CREDENTIALS_CUSTOM_ENDPOINT": f"{google.url}/v1/"}
        env = management_environment(ctx, {}, "r1", "acme", tmp_path, environ=caller)
        assert google.impersonated == ["acme-mgmt@acme-prod-1.iam.gserviceaccount.com"]
        assert env["GOOGLE_OAUTH_ACCESS_TOKEN"] == management_token(google.impersonated[0])
        assert not {"GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_IMPERSONATE_SERVICE_ACCOUNT",
                    "GOOGLE_IAM_CREDENTIALS_CUSTOM_ENDPOINT", "AWS_PROFILE", "CLOUDSDK_CORE_ACCOUNT",
                    "ARM_CLIENT_SECRET"} & set(env)

        for content, problem in (("{not json", "is not a readable credentials file"),
                                 ('{"type": "gdch_service_account"}', "holds credentials of type 'gdch_serv")):
            (tmp_path / "bad.json").write_text(content)
            with pytest.raises(CredentialsError, match=f"GOOGLE_APPLICATION_CREDENTIALS=.*bad.json {problem}"):
                management_environment(ctx, {}, "r1", "acme", tmp_path,
                                       environ={**caller, "GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "bad.json")})

        account = "acme-mgmt@acme-prod-1.iam.gserviceaccount.com"
        google.api_disabled = True  # the vendor's project: PERMISSION_DENIED too, but no revocation
        with pytest.raises(CredentialsError, match=r"roles/iam\.serviceAccountTokenCreator") as info:
            management_environment(ctx, {}, "r1", "acme", tmp_path, environ=caller)
        assert not isinstance(info.value, AccessRevokedError)
        google.api_disabled = False

        google.disabled.add(account)  # alien-deploy revoke disables the management service account
        with pytest.raises(AccessRevokedError, match=r"impersonate acme-mgmt@acme-prod-1\.iam\.gserviceaccount\.com "
                                                     r"\(400 FAILED_PRECONDITION: Precondition check failed\.\); the "
                                                     r"customer revoked the vendor's access \(alien-deploy revoke\)"):
            management_environment(ctx, {}, "r1", "acme", tmp_path, environ=caller)
        google.disabled.clear()

        google.refused.add(account)  # ... and removes the impersonation binding
        with pytest.raises(AccessRevokedError, match=r"GCP refused to let the release service impersonate "
                                                     r"acme-mgmt@acme-prod-1\.iam\.gserviceaccount\.com "
                                                     r"\(403 PERMISSION_DENIED: .*getAccessToken.*not retried"):
            management_environment(ctx, {}, "r1", "acme", tmp_path, environ=caller)
        assert google.impersonated == [account], "no refused exchange gave a token"


def test_azure_management_environment_signs_in_the_provider_and_the_state_backend(tmp_path: Path) -> None:
    ctx = alien.DeploymentContext.example_context("azure", "my-app", prefix="acme")
    management = {"client_id": "cid", "tenant_id": "tid"}
    env = management_environment(ctx, management, "r1", "acme", tmp_path,
                                 environ={**CALLER, "ALIEN_AZURE_OIDC_TOKEN": "jwt"})
    assert {k: env[k] for k in ("ARM_USE_OIDC", "ARM_OIDC_TOKEN", "ARM_CLIENT_ID", "ARM_TENANT_ID")} == {
        "ARM_USE_OIDC": "true", "ARM_OIDC_TOKEN": "jwt", "ARM_CLIENT_ID": "cid", "ARM_TENANT_ID": "tid"}
    # DefaultAzureCredential's workload-identity form, which azblob:// and azurekeyvault:// sign in with
    token_file = Path(env["AZURE_FEDERATED_TOKEN_FILE"])
    assert (env["AZURE_CLIENT_ID"], env["AZURE_TENANT_ID"]) == ("cid", "tid") and token_file.parent == tmp_path
    assert token_file.read_text() == "jwt" and token_file.stat().st_mode & 0o077 == 0
    assert "ARM_CLIENT_SECRET" not in env
    given = tmp_path / "given-token"
    given.write_text("jwt-from-file\n")
    env = management_environment(ctx, management, "r1", "acme", tmp_path / "unused",
                                 environ={**CALLER, "ALIEN_AZURE_OIDC_TOKEN_FILE": str(given)})
    assert env["AZURE_FEDERATED_TOKEN_FILE"] == str(given) and env["ARM_OIDC_TOKEN"] == "jwt-from-file"
    with pytest.raises(CredentialsError, match="no OIDC token for Azure"):
        management_environment(ctx, management, "r1", "acme", tmp_path, environ=CALLER)


class EntraToken(BaseAdapter):
    """Entra ID's token endpoint: records each form posted and answers an access token."""

    def __init__(self) -> None:
        super().__init__()
        self.paths: list[str] = []
        self.forms: list[dict[str, list[str]]] = []

    def send(self, request: requests.PreparedRequest, **_: Any) -> requests.Response:  # type: ignore[override]
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body or "")
        self.paths.append(urlsplit(str(request.url)).path)
        self.forms.append(parse_qs(body))
        return answer(request, 200, {"access_token": "management-access-token", "expires_in": 3600,
                                     "token_type": "Bearer"})

    def close(self) -> None:
        pass


def test_azure_identity_signs_in_from_the_management_environment(tmp_path: Path) -> None:
    """The Azure SDK's own workload-identity credential (the contract DefaultAzureCredential shares across
    languages) reads the environment a management run gets, and presents the vendor's token for the
    management identity's client id in its tenant."""
    from azure.core.pipeline.transport import RequestsTransport
    from azure.identity import WorkloadIdentityCredential

    ctx = alien.DeploymentContext.example_context("azure", "my-app", prefix="acme")
    env = management_environment(ctx, {"client_id": "cid", "tenant_id": "tid"}, "r1", "acme", tmp_path,
                                 environ={**CALLER, "ALIEN_AZURE_OIDC_TOKEN": "vendor-jwt"})
    entra = EntraToken()
    with pytest.MonkeyPatch.context() as mp:
        for key in ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE"):
            mp.setenv(key, env[key])
        credential = WorkloadIdentityCredential(transport=RequestsTransport(session=session(entra)))
        token = credential.get_token("https://storage.azure.com/.default")
    assert token.token == "management-access-token"
    (form,) = entra.forms
    assert entra.paths == ["/tid/oauth2/v2.0/token"]
    assert form["client_id"] == ["cid"] and form["client_assertion"] == ["vendor-jwt"]
    assert form["client_assertion_type"] == ["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"]


# One real variable of each credential family, named independently of SCRUBBED_PREFIXES (a prefix dropped from
# that tuple lets its family through, and this test fails).
CREDENTIAL_VARIABLES = {
    "AWS_": "AWS_SECRET_ACCESS_KEY", "GOOGLE_": "GOOGLE_OAUTH_ACCESS_TOKEN", "CLOUDSDK_": "CLOUDSDK_AUTH_ACCESS_TOKEN",
    "GCLOUD_": "GCLOUD_PROJECT", "ARM_": "ARM_CLIENT_SECRET", "AZURE_": "AZURE_CLIENT_SECRET",
    "MSI_": "MSI_ENDPOINT", "IDENTITY_": "IDENTITY_HEADER",
}


@pytest.mark.parametrize(("prefix", "variable"), sorted(CREDENTIAL_VARIABLES.items()))
def test_every_credential_family_is_scrubbed(prefix: str, variable: str) -> None:
    from alien_pulumi.automation.credentials import SCRUBBED_PREFIXES

    assert prefix in SCRUBBED_PREFIXES
    assert variable not in scrubbed({variable: "caller-secret", "PATH": "/usr/bin"})
    assert scrubbed({variable: "caller-secret", "PATH": "/usr/bin"}) == {"PATH": "/usr/bin"}


def test_every_scrubbed_prefix_is_a_tested_family() -> None:
    from alien_pulumi.automation.credentials import SCRUBBED_PREFIXES

    assert set(SCRUBBED_PREFIXES) == set(CREDENTIAL_VARIABLES)


def test_gcp_and_azure_runs_are_attributed_to_the_management_identity() -> None:
    gcp = alien.DeploymentContext.example_context("gcp", "my-app", prefix="acme", project="acme-prod-1")
    assert attribution(gcp, {}, "r1", "acme") == {
        "principal": "acme-mgmt@acme-prod-1.iam.gserviceaccount.com", "delegated_by": gcp.principal}
    azure = alien.DeploymentContext.example_context("azure", "my-app", prefix="acme")
    assert attribution(azure, {"client_id": "c-1", "tenant_id": "t-1"}, "r1", "acme") == {
        "principal": "c-1", "federated_subject": azure.principal, "federated_issuer": azure.vendor_oidc_issuer}
