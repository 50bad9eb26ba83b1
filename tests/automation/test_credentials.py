"""Management credentials: STS AssumeRole with the external id through real boto3 against a moto server;
GCP impersonation and Azure OIDC environments; the caller's cloud credentials scrubbed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

import alien_pulumi as alien
from alien_pulumi.automation.credentials import (
    aws_environment,
    management_environment,
    scrubbed,
    session_name,
)
from alien_pulumi.errors import CredentialsError
from alien_pulumi.permissions import derive_plan, render_layer
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
    # moto does not evaluate trust policies: the external id condition is checked on the document
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}}
    assert trust["Statement"][0]["Principal"] == {"AWS": VENDOR_ROLE}


def test_a_refused_assume_role_is_one_clear_error(moto_iam_enforced: str) -> None:
    nobody = user_keys("nobody", None)
    sts = boto3.client("sts", region_name="us-east-1", endpoint_url=moto_iam_enforced, **nobody)
    with pytest.raises(CredentialsError) as info:
        aws_environment(context(), {}, "r1", "acme", sts_client=sts)
    message = str(info.value)
    assert message.startswith("AWS refused to let the release service assume arn:aws:iam::123456789012:role/acme-"
                              "management (AccessDenied")
    assert message.endswith("check the external id and that the role trusts the vendor's principal")


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
                                               "DurationSeconds": 3600})
        ctx = context().model_copy(update={"external_id": "wrong"})
        with pytest.raises(CredentialsError, match=r"AccessDenied: User: .* is not authorized to perform: "
                                                   "sts:AssumeRole"):
            aws_environment(ctx, {}, "r1", "acme", sts_client=sts)


def test_session_name_fits_sts_rules() -> None:
    assert session_name("v1.2/3", "acme prod") == "alien-v1.2-3-acme-prod"
    assert len(session_name("r" * 80, "d")) == 64


CALLER = {"AWS_PROFILE": "admin", "AWS_ACCESS_KEY_ID": "AKIA", "GOOGLE_APPLICATION_CREDENTIALS": "/vendor.json",
          "CLOUDSDK_CORE_ACCOUNT": "admin@customer", "ARM_CLIENT_SECRET": "s", "AZURE_CLIENT_ID": "x",
          "PULUMI_ACCESS_TOKEN": "pul-123", "PATH": "/usr/bin", "HOME": "/home/release"}


def test_scrubbing_keeps_pulumi_and_system_variables() -> None:
    assert scrubbed(CALLER) == {"PULUMI_ACCESS_TOKEN": "pul-123", "PATH": "/usr/bin", "HOME": "/home/release"}


def test_gcp_management_environment_impersonates() -> None:
    ctx = alien.DeploymentContext.example_context("gcp", "my-app", prefix="acme", project="acme-prod-1")
    env = management_environment(ctx, {}, "r1", "acme", environ=CALLER)
    assert env["GOOGLE_IMPERSONATE_SERVICE_ACCOUNT"] == "acme-mgmt@acme-prod-1.iam.gserviceaccount.com"
    assert env["GOOGLE_APPLICATION_CREDENTIALS"] == "/vendor.json"  # the vendor's own, to impersonate with
    assert "AWS_PROFILE" not in env and "CLOUDSDK_CORE_ACCOUNT" not in env and "ARM_CLIENT_SECRET" not in env


def test_azure_management_environment_uses_the_oidc_token() -> None:
    ctx = alien.DeploymentContext.example_context("azure", "my-app", prefix="acme")
    management = {"client_id": "cid", "tenant_id": "tid"}
    env = management_environment(ctx, management, "r1", "acme", environ={**CALLER, "ALIEN_AZURE_OIDC_TOKEN": "jwt"})
    assert {k: env[k] for k in ("ARM_USE_OIDC", "ARM_OIDC_TOKEN", "ARM_CLIENT_ID", "ARM_TENANT_ID")} == {
        "ARM_USE_OIDC": "true", "ARM_OIDC_TOKEN": "jwt", "ARM_CLIENT_ID": "cid", "ARM_TENANT_ID": "tid"}
    assert "ARM_CLIENT_SECRET" not in env and "AZURE_CLIENT_ID" not in env
    with pytest.raises(CredentialsError, match="no OIDC token for Azure"):
        management_environment(ctx, management, "r1", "acme", environ=CALLER)


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
