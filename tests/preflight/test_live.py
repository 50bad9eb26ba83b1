"""``preflight --live`` against the clouds' own answers through their real SDKs: boto3's IAM client under botocore's
Stubber (recorded SimulatePrincipalPolicy answers: allowed, a manual edit's implicit deny, an SCP, a permissions
boundary, a paged answer), google-auth's session and azure-mgmt-authorization over the recording HTTP answerer
(tests/deploy/sdk_fake.py). Each proves which checks the release asks, what the cloud is asked exactly, and that a
denial becomes a blocking finding naming the resource, the permission, the set and setup."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

import alien_pulumi as alien
from alien_pulumi.errors import CredentialsError
from alien_pulumi.model.types import Platform
from alien_pulumi.permissions import derive_plan
from alien_pulumi.preflight.findings import Code
from alien_pulumi.preflight.live import (
    AWS_RESULTS_PER_CALL,
    DEPLOYMENT,
    GCP_PERMISSIONS_PER_CALL,
    Check,
    LiveClients,
    ask_aws,
    azure_allows,
    check_live,
    clients_from_environment,
    release_checks,
)
from tests.deploy.sdk_fake import FakeCloud, Token, session

ACCOUNT, REGION = "123456789012", "eu-west-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/acme-management"
FN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:acme-api"
PROJECT, GCP_REGION = "acme-prod-1", "europe-west1"
SUBSCRIPTION = "11111111-2222-3333-4444-555555555555"
TENANT = "99999999-0000-4000-8000-000000000000"
ECR = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"


def stack() -> alien.StackSpec:
    """A live function and a live bucket it links, a frozen queue: the release touches the first two only."""
    s = alien.Stack("shop").platforms("aws", "gcp", "azure")
    s.add(alien.Storage("files"), "live")
    s.add(alien.Queue("jobs"), "frozen")
    s.add(alien.Function("api", image=f"{ECR}/shop/api:1", links=["files"]), "live")
    return s.build()


def context(platform: str) -> alien.DeploymentContext:
    return {
        "aws": lambda: alien.DeploymentContext.create("aws", "acme", account_id=ACCOUNT, region=REGION,
                                                      vendor_principal="arn:aws:iam::999988887777:role/release",
                                                      external_id="x" * 40),
        "gcp": lambda: alien.DeploymentContext.create("gcp", "acme", project=PROJECT, region=GCP_REGION,
                                                      vendor_principal="alien-release@vendor-rel.iam.gserviceaccount.com"),
        "azure": lambda: alien.DeploymentContext.create(
            "azure", "acme", subscription_id=SUBSCRIPTION, region="westeurope",
            vendor_principal="repo:vendor/release:environment:prod",
            vendor_oidc_issuer="https://token.actions.githubusercontent.com"),
    }[platform]()


def plan(platform: str, spec: alien.StackSpec | None = None) -> Any:
    return derive_plan(spec or stack(), context(platform))


def iam_client() -> Any:
    return boto3.client("iam", region_name="us-east-1", aws_access_key_id="AKIATEST", aws_secret_access_key="s",
                        aws_session_token="t")


def answer(action: str, resource: str, decision: str = "allowed", *, scp: bool = True, boundary: bool = True,
           policy: str | None = "acme-management-1") -> dict[str, Any]:
    """One evaluation result as IAM's simulator answers it."""
    out: dict[str, Any] = {
        "EvalActionName": action, "EvalResourceName": resource, "EvalDecision": decision,
        "MatchedStatements": [{"SourcePolicyId": policy, "SourcePolicyType": "IAM Policy",
                               "StartPosition": {"Line": 1, "Column": 1}, "EndPosition": {"Line": 9, "Column": 2}}]
        if policy else [],
        "MissingContextValues": [], "EvalDecisionDetails": {}, "ResourceSpecificResults": [],
        "OrganizationsDecisionDetail": {"AllowedByOrganizations": scp},
        "PermissionsBoundaryDecisionDetail": {"AllowedByPermissionsBoundary": boundary},
    }
    return out


# -- which checks the release asks ----------------------------------------------------------------------------


def test_the_release_asks_its_live_resources_and_the_deployment_wide_grants_never_a_frozen_one() -> None:
    checks = release_checks(plan("aws"))
    resources = {c.resource for c in checks}
    assert resources == {"api", "files", DEPLOYMENT}  # the frozen queue's heartbeat is not this release's
    by = {(c.resource, c.permission, c.target) for c in checks}
    assert ("api", "lambda:UpdateFunctionCode", FN) in by
    assert ("files", "s3:PutBucketVersioning", "arn:aws:s3:::acme-files") in by
    assert (DEPLOYMENT, "iam:SimulatePrincipalPolicy", ROLE) in by  # the self-check is itself checked
    assert any(c.set_id == "state/state" and c.permission == "s3:PutObject" for c in checks)
    assert not any("sqs:" in c.permission for c in checks)
    # every check comes from the permission plan, nothing re-derived
    held = {(a, r) for g in plan("aws").management.grants for a in g.actions for r in g.resources}
    assert {(c.permission, c.target) for c in checks} <= held


# -- AWS: recorded SimulatePrincipalPolicy answers --------------------------------------------------------------

CASES = {
    "allowed": (answer("lambda:UpdateFunctionCode", FN), None),
    "manual edit": (answer("lambda:UpdateFunctionCode", FN, "implicitDeny", policy=None),
                    "no policy of the role allows it"),
    "scp": (answer("lambda:UpdateFunctionCode", FN, "explicitDeny", scp=False, policy="p-examplescp"),
            "a service control policy of the customer's organisation denies it"),
    "boundary": (answer("lambda:UpdateFunctionCode", FN, "implicitDeny", boundary=False),
                 "the role's permissions boundary does not allow it"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_aws_simulation_answers_become_findings_that_say_which_policy_type_blocked(case: str) -> None:
    denied_answer, why = CASES[case]
    checks = [Check("api", "function/management", "lambda:UpdateFunctionCode", FN),
              Check("api", "function/management", "lambda:UpdateFunctionConfiguration", FN)]
    iam = iam_client()
    with Stubber(iam) as stub:
        stub.add_response("simulate_principal_policy", {
            "EvaluationResults": [denied_answer, answer("lambda:UpdateFunctionConfiguration", FN)],
            "IsTruncated": False,
        }, {"PolicySourceArn": ROLE, "ActionNames": ["lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration"],
            "ResourceArns": [FN], "MaxItems": AWS_RESULTS_PER_CALL})
        result = ask_aws(checks, iam, ROLE)
        stub.assert_no_pending_responses()
    assert result.calls == 1
    findings = result.findings(Platform.AWS, ROLE)
    if why is None:
        assert findings == []
        return
    (finding,) = findings
    assert finding.code is Code.LIVE_PERMISSION_DENIED and finding.blocks and finding.needs_setup
    assert (finding.resource, finding.field, finding.new) == ("api", "lambda:UpdateFunctionCode", FN)
    assert why in finding.message
    assert "function/management" in finding.message and "alien-deploy up" in finding.message
    assert finding.added == {"function/management": ["lambda:UpdateFunctionCode"]}


def test_aws_conditions_are_sent_as_the_requests_context_and_pages_are_followed() -> None:
    passrole = Check("api", "function/management", "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/acme-rt-default",
                     condition=json.dumps({"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}))
    iam = iam_client()
    expected = {"PolicySourceArn": ROLE, "ActionNames": ["iam:PassRole"], "ResourceArns": [passrole.target],
                "MaxItems": AWS_RESULTS_PER_CALL,
                "ContextEntries": [{"ContextKeyName": "iam:PassedToService",
                                    "ContextKeyValues": ["lambda.amazonaws.com"], "ContextKeyType": "string"}]}
    with Stubber(iam) as stub:
        stub.add_response("simulate_principal_policy", {"EvaluationResults": [], "IsTruncated": True,
                                                        "Marker": "page-2"}, expected)
        stub.add_response("simulate_principal_policy", {
            "EvaluationResults": [answer("iam:PassRole", passrole.target, "implicitDeny", policy=None)],
            "IsTruncated": False}, {**expected, "Marker": "page-2"})
        result = ask_aws([passrole], iam, ROLE)
        stub.assert_no_pending_responses()
    assert result.calls == 2 and [d.check for d in result.denials] == [passrole]


def test_aws_a_role_that_may_not_simulate_itself_is_one_blocking_finding_naming_the_self_check_set() -> None:
    iam = iam_client()
    with Stubber(iam) as stub:
        stub.add_client_error("simulate_principal_policy", "AccessDenied",
                              f"User: {ROLE}/s is not authorized to perform: iam:SimulatePrincipalPolicy", 403)
        result = ask_aws([Check("api", "function/management", "lambda:UpdateFunctionCode", FN)], iam, ROLE)
    blocking = [f for f in result.findings(Platform.AWS, ROLE) if f.blocks]
    assert [(f.field, f.new) for f in blocking] == [("iam:SimulatePrincipalPolicy", ROLE)]
    assert "identity/heartbeat" in blocking[0].message
    assert result.to_json()["checked"] == 0  # nothing else was asked, and it says so


def simulator(iam: Any, decide: Callable[[str, str], dict[str, Any]]) -> Stubber:
    """A Stubber whose answer to each call is recorded from ``decide`` for exactly what was asked (the plan-level
    tests do not restate the batching): botocore validates both the request and the answer against IAM's model."""
    stub = Stubber(iam)

    def record(params: dict[str, Any], **_: Any) -> None:
        results = [{**answer(a, r), **decide(a, r)} for r in params["ResourceArns"] for a in params["ActionNames"]]
        stub.add_response("simulate_principal_policy", {"EvaluationResults": results, "IsTruncated": False},
                          dict(params))

    iam.meta.events.register_first("provide-client-params.iam.SimulatePrincipalPolicy", record)
    return stub


def test_aws_whole_plan_an_scp_on_lambda_blocks_the_functions_checks_only() -> None:
    iam = iam_client()
    scp = {"EvalDecision": "explicitDeny", "OrganizationsDecisionDetail": {"AllowedByOrganizations": False}}
    aws = plan("aws")
    with simulator(iam, lambda a, r: scp if a.startswith("lambda:Update") else {}):
        result = check_live(aws, LiveClients(aws_iam=iam), ROLE)
    expected = {c for c in release_checks(aws) if c.permission.startswith("lambda:Update")}
    assert {"lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration"} <= {c.permission for c in expected}
    assert {d.check for d in result.denials} == expected
    assert all("service control policy" in d.why for d in result.denials)
    assert result.unchecked == [] and result.calls < len(result.checks)  # batched


# -- GCP: testIamPermissions through google-auth's session ----------------------------------------------------


def gcp_cloud(plan_: Any, drop: set[str] = frozenset()) -> FakeCloud:  # type: ignore[assignment]
    """Every tested resource exists and grants what the plan says, less ``drop``."""
    cloud = FakeCloud()
    for check in release_checks(plan_):
        name = check.target if check.target.startswith("//") else \
            f"//cloudresourcemanager.googleapis.com/{check.target}"
        cloud.granted.setdefault(name, set())
        if check.permission not in drop:
            cloud.granted[name].add(check.permission)
    return cloud


def gcp_clients(cloud: FakeCloud) -> LiveClients:
    clients = clients_from_environment(Platform.GCP, {"GOOGLE_OAUTH_ACCESS_TOKEN": "ya29.management"})
    clients.gcp_session.mount("https://", cloud)
    return clients


def test_gcp_every_tested_resource_is_asked_once_as_the_management_token_and_a_removed_permission_blocks() -> None:
    gcp = plan("gcp")
    cloud = gcp_cloud(gcp, drop={"run.services.update"})
    result = check_live(gcp, gcp_clients(cloud))
    assert {c.authorization for c in cloud.calls} == {"Bearer ya29.management"}
    paths = sorted((c.method, c.path) for c in cloud.calls)
    service = f"projects/{PROJECT}/locations/{GCP_REGION}/services/acme-api"
    assert ("POST", f"/v2/{service}:testIamPermissions") in paths
    assert ("GET", "/storage/v1/b/acme-files/iam/testPermissions") in paths
    assert len(paths) == len(set(paths)) == result.calls
    (denial,) = result.denials
    assert (denial.check.resource, denial.check.permission) == ("api", "run.services.update")
    (finding,) = [f for f in result.findings(Platform.GCP, "acme-mgmt@x") if f.blocks]
    assert f"//run.googleapis.com/{service}" in finding.message and "function/management" in finding.message


def test_gcp_a_missing_resource_and_a_conditional_project_binding_are_reported_unchecked_not_denied() -> None:
    spec = alien.Stack("shop").platforms("gcp")
    spec.add(alien.Vault("secrets"), "live")  # its grants are project bindings with a condition on the name
    spec.add(alien.Queue("jobs"), "live")
    gcp = derive_plan(spec.build(), context("gcp"))
    cloud = gcp_cloud(gcp)
    del cloud.granted[f"//pubsub.googleapis.com/projects/{PROJECT}/topics/acme-jobs"]
    result = check_live(gcp, gcp_clients(cloud))
    assert result.denials == []
    reasons = {(c.resource, why.split(":")[0]) for c, why in result.unchecked}
    assert ("jobs", "GCP answered 404") in reasons
    assert any(c.resource == "secrets" and "condition" in why for c, why in result.unchecked)
    assert all(not f.blocks for f in result.findings(Platform.GCP, "m"))


def test_gcp_asks_at_most_100_permissions_a_request() -> None:
    target = f"projects/{PROJECT}"
    checks = [Check(DEPLOYMENT, "x/heartbeat", f"run.p{i}.get", target) for i in range(GCP_PERMISSIONS_PER_CALL + 5)]
    cloud = FakeCloud()
    cloud.granted[f"//cloudresourcemanager.googleapis.com/{target}"] = {c.permission for c in checks[:-1]}
    from alien_pulumi.preflight.live import ask_gcp

    result = ask_gcp(checks, gcp_clients(cloud).gcp_session)
    assert [len(c.body["permissions"]) for c in cloud.calls] == [100, 5]
    assert [d.check.permission for d in result.denials] == [checks[-1].permission]


# -- Azure: the permissions API through azure-mgmt-authorization -----------------------------------------------


class Perm:
    def __init__(self, actions: list[str], not_actions: list[str] = (), data: list[str] = (),  # type: ignore[assignment]
                 not_data: list[str] = ()) -> None:  # type: ignore[assignment]
        self.actions, self.not_actions, self.data_actions, self.not_data_actions = actions, not_actions, data, not_data


@pytest.mark.parametrize(("perms", "operation", "data", "allowed"), [
    ([Perm(["Microsoft.App/containerApps/write"])], "Microsoft.App/containerApps/write", False, True),
    ([Perm(["microsoft.app/*"])], "Microsoft.App/containerApps/write", False, True),  # case-insensitive
    ([Perm(["*/read"])], "Microsoft.App/containerApps/read", False, True),  # * crosses /
    ([Perm(["*/read"])], "Microsoft.App/containerApps/write", False, False),
    ([Perm(["Microsoft.App/*"], ["Microsoft.App/containerApps/write"])], "Microsoft.App/containerApps/write", False,
     False),
    # a notActions of one role does not take away what another role grants
    ([Perm(["*"], ["Microsoft.App/*"]), Perm(["Microsoft.App/containerApps/write"])],
     "Microsoft.App/containerApps/write", False, True),
    ([Perm(["*"])], "Microsoft.KeyVault/vaults/keys/encrypt/action", True, False),  # actions never grant data
    ([Perm([], data=["Microsoft.KeyVault/vaults/keys/*"], not_data=["*/decrypt/action"])],
     "Microsoft.KeyVault/vaults/keys/decrypt/action", True, False),
    ([Perm([], data=["Microsoft.KeyVault/vaults/keys/*"])], "Microsoft.KeyVault/vaults/keys/encrypt/action", True,
     True),
])
def test_azure_effective_permissions_are_evaluated_with_wildcards(perms: list[Perm], operation: str, data: bool,
                                                                  allowed: bool) -> None:
    assert azure_allows(perms, operation, data) is allowed


def azure_clients(cloud: FakeCloud) -> LiveClients:
    from azure.core.pipeline.transport import RequestsTransport
    from azure.mgmt.authorization import AuthorizationManagementClient

    return LiveClients(azure_authorization=lambda sub: AuthorizationManagementClient(
        Token(TENANT), sub, transport=RequestsTransport(session=session(cloud), session_owner=False)))


def permissions_path(group: str) -> str:
    return f"/subscriptions/{SUBSCRIPTION}/resourcegroups/{group}/providers/microsoft.authorization/permissions"


def test_azure_asks_each_resource_group_once_and_a_role_edited_by_hand_blocks_what_it_lost() -> None:
    azure = plan("azure")
    cloud = FakeCloud()
    state_group = azure.context.state_names()["state_resource_group"]
    # the custom role as setup made it, then edited by hand: container app writes taken out
    cloud.resources[permissions_path("acme-rg")] = {"value": [
        {"actions": sorted(azure.management.actions()), "notActions": ["Microsoft.App/containerApps/write"],
         "dataActions": [], "notDataActions": []}]}
    cloud.resources[permissions_path(state_group)] = {"value": [
        {"actions": [], "notActions": [], "dataActions": sorted(azure.management.data_actions()),
         "notDataActions": []}]}
    result = check_live(azure, azure_clients(cloud))
    assert sorted(c.path.lower() for c in cloud.calls) == sorted([permissions_path("acme-rg"),
                                                                  permissions_path(state_group)])
    assert all(c.query["api-version"] for c in cloud.calls)
    assert {(d.check.resource, d.check.permission) for d in result.denials} == {
        ("api", "Microsoft.App/containerApps/write")}
    assert all(c.target == f"/subscriptions/{SUBSCRIPTION}" for c, _ in result.unchecked)  # subscription-wide
    (finding,) = [f for f in result.findings(Platform.AZURE, "client-1") if f.blocks]
    assert "changed role definition or assignment" in finding.message


# -- the factory: clients from the management run's environment ------------------------------------------------


def test_clients_are_built_from_the_management_environment_only(tmp_path: Path) -> None:
    aws = clients_from_environment(Platform.AWS, {"AWS_ACCESS_KEY_ID": "ASIAMGMT", "AWS_SECRET_ACCESS_KEY": "s",
                                                  "AWS_SESSION_TOKEN": "t", "AWS_REGION": REGION})
    assert aws.aws_iam.meta.service_model.service_name == "iam"
    assert aws.aws_iam._request_signer._credentials.access_key == "ASIAMGMT"
    token = tmp_path / "oidc"
    token.write_text("eyJ.oidc.token")
    azure = clients_from_environment(Platform.AZURE, {"AZURE_TENANT_ID": TENANT, "AZURE_CLIENT_ID": "client-1",
                                                      "AZURE_FEDERATED_TOKEN_FILE": str(token)})
    client = azure.azure_authorization(SUBSCRIPTION)  # type: ignore[misc]
    assert type(client._config.credential).__name__ == "WorkloadIdentityCredential"
    assert client._config.subscription_id == SUBSCRIPTION
    with pytest.raises(CredentialsError, match="GOOGLE_OAUTH_ACCESS_TOKEN"):
        clients_from_environment(Platform.GCP, {"GOOGLE_APPLICATION_CREDENTIALS": "/vendor.json"})


def test_a_100_resource_stack_costs_a_bounded_number_of_calls_per_cloud() -> None:
    """benchmarks/bench_live.py prints the figures; here the bounds: AWS batches by kind of grant (not per
    resource), GCP asks each tested resource once, Azure each resource group once."""
    from benchmarks.bench_live import measure

    aws, _ = measure("aws", 100)
    aws_300, _ = measure("aws", 300)
    assert aws.calls <= 30 and aws_300.calls == aws.calls and not aws.unchecked
    gcp, _ = measure("gcp", 100)
    skipped = {c for c, _ in gcp.unchecked}
    asked = {c.target for c in gcp.checks if c not in skipped}
    assert gcp.calls == len(asked)
    azure, _ = measure("azure", 100)
    assert azure.calls == 2  # the deployment's resource group and its state store's


def test_a_cloud_that_cannot_answer_is_an_error_not_a_pass() -> None:
    from alien_pulumi.errors import LiveCheckError
    from alien_pulumi.preflight.live import ask_azure, ask_gcp

    check = Check("api", "function/management", "lambda:UpdateFunctionCode", FN)
    iam = iam_client()
    with Stubber(iam) as stub, pytest.raises(LiveCheckError, match="InvalidInput"):
        stub.add_client_error("simulate_principal_policy", "InvalidInput", "bad resource", 400)
        ask_aws([check], iam, ROLE)
    cloud = FakeCloud()
    cloud.deny.add(("GET", f"/subscriptions/{SUBSCRIPTION}/resourceGroups/acme-rg"))
    scope = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/acme-rg/providers/Microsoft.App/containerApps/acme-api"
    with pytest.raises(LiveCheckError, match="acme-rg"):
        ask_azure([Check("api", "function/management", "Microsoft.App/containerApps/write", scope)],
                  azure_clients(cloud).azure_authorization)  # type: ignore[arg-type]
    gcp = FakeCloud()
    gcp.deny.add(("POST", "/v1/projects"))
    result = ask_gcp([Check(DEPLOYMENT, "function/management", "run.operations.get", f"projects/{PROJECT}")],
                     gcp_clients(gcp).gcp_session)
    assert result.denials == [] and "403" in result.unchecked[0][1]  # a refusal to answer is not a denial
