"""Revoke and restore on AWS: the admin's calls against moto with IAM enforced (a session issued before the
revocation is denied after it and works again after restore), the documents judged by a real policy simulator
(iam-simulate), the CLI, and a setup while revoked keeping it so; ``revoke --stop`` stopping the live ECS service
(desired count 0) and Lambda function (reserved concurrency 0), and restore starting exactly those again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

import alien_pulumi as alien
from alien_pulumi.automation.credentials import aws_environment
from alien_pulumi.deploy.revocation import (
    NOT_STOPPED,
    STARTED,
    STOPPED,
    STOPPED_MARK,
    STOPPED_UNMARKED,
    RevocationError,
    restore,
    revoke,
    revoked_in_cloud,
)
from alien_pulumi.deploy.setup import plan_setup
from alien_pulumi.deploy.state_store import StateStore
from alien_pulumi.errors import AccessRevokedError
from alien_pulumi.model.context import REVOKED_MARK
from alien_pulumi.permissions import derive_plan, render_layer
from alien_pulumi.permissions.render.aws import REVOKED_SESSIONS_POLICY
from alien_pulumi.synth import synth
from tests.aws_simulator import ACCOUNT, VENDOR_POLICY, assume_role, simulate
from tests.aws_simulator.test_trust_simulated import RELEASE, TAGS
from tests.moto_server import moto_server

EXTERNAL_ID = "x7Kq2Vb9mT4wLz8Rj3Nc6Hy1Pd5Fs0Ga2Ue7Qo9Wi4E"
VENDOR_ROLE = "arn:aws:iam::111122223333:role/alien-release"
CTX = alien.DeploymentContext.create("aws", "my-app", prefix="acme", account_id=ACCOUNT, region="us-east-1",
                                     vendor_principal=VENDOR_ROLE, external_id=EXTERNAL_ID)
SPEC = alien.Stack("my-app").platforms("aws").add(alien.Kv("k"), "frozen").build()
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@pytest.fixture
def cloud() -> Iterator[dict[str, Any]]:
    """moto enforcing IAM: an admin, the vendor (a user: moto cannot chain assumed roles), and the management
    role as setup creates it, with a grant its sessions use (iam:ListRoles)."""
    yield from _cloud(enforce_iam=True)


@pytest.fixture
def compute_cloud() -> Iterator[dict[str, Any]]:
    """The same without IAM enforcement: moto's enforcement cannot check the signature of Lambda's REST calls
    (SignatureDoesNotMatch), so the tests that stop and start a function run on it."""
    yield from _cloud(enforce_iam=False)


def _cloud(enforce_iam: bool) -> Iterator[dict[str, Any]]:
    from moto.awslambda.models import lambda_backends
    from moto.ecs.models import ecs_backends
    from moto.iam.models import iam_backends

    with moto_server(enforce_iam=enforce_iam, reset=(iam_backends, ecs_backends, lambda_backends)) as endpoint:
        iam = iam_backends[ACCOUNT]["global"]

        def keys(name: str, policy: dict[str, Any]) -> dict[str, str]:
            iam.create_user(region_name="us-east-1", user_name=name)
            iam.put_user_policy(name, "p", json.dumps(policy))
            key = iam.create_access_key(name)
            return {"aws_access_key_id": key.access_key_id, "aws_secret_access_key": key.secret_access_key}

        admin = boto3.session.Session(region_name="us-east-1", **keys("admin", ALLOW_ALL))
        vendor = keys("vendor", ALLOW_ALL)
        trust = render_layer(derive_plan(SPEC, CTX), "management")["trust_policy"]
        trust["Statement"][0]["Principal"] = {"AWS": f"arn:aws:iam::{ACCOUNT}:user/vendor"}  # moto's caller
        client = admin.client("iam", endpoint_url=endpoint)
        client.create_role(RoleName="acme-management", AssumeRolePolicyDocument=json.dumps(trust))
        client.put_role_policy(RoleName="acme-management", PolicyName="grant", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:ListRoles",
                                                      "Resource": "*"}]}))
        yield {"endpoint": endpoint, "admin": _Endpoint(admin, endpoint), "vendor": vendor, "iam": client}


class _Endpoint:
    """A boto3 session whose clients go to moto (what revocation.py calls ``session``)."""

    def __init__(self, session: boto3.session.Session, endpoint: str) -> None:
        self.session, self.endpoint = session, endpoint

    def client(self, name: str, **kwargs: Any) -> Any:
        return self.session.client(name, endpoint_url=self.endpoint, **kwargs)


def session_of(cloud: dict[str, Any]) -> dict[str, str]:
    sts = boto3.client("sts", region_name="us-east-1", endpoint_url=cloud["endpoint"], **cloud["vendor"])
    return aws_environment(CTX, {}, RELEASE, "acme", sts_client=sts)


def lists_roles(cloud: dict[str, Any], env: dict[str, str]) -> bool:
    iam = boto3.client("iam", region_name="us-east-1", endpoint_url=cloud["endpoint"],
                       aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                       aws_session_token=env["AWS_SESSION_TOKEN"])
    try:
        iam.list_roles()
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == "AccessDenied"
        return False
    return True


def test_revoke_stops_the_session_already_issued_and_restore_gives_it_back(cloud: dict[str, Any]) -> None:
    old = session_of(cloud)
    assert lists_roles(cloud, old)

    done = revoke("acme", CTX, clients=cloud["admin"], at="2026-12-02T10:00:00Z")
    assert done.changed and done.state == "revoked" and done.revoked_at == "2026-12-02T10:00:00Z"
    assert [s.split(": ", 1)[1] for s in done.steps] == [
        f"the trust policy denies {VENDOR_ROLE}",
        f"inline policy {REVOKED_SESSIONS_POLICY} denies sessions issued before it",
        f"tagged {REVOKED_MARK}=2026-12-02T10:00:00Z"]
    assert not lists_roles(cloud, old)  # the session issued before: denied everything
    with pytest.raises(AccessRevokedError):  # and no new one
        session_of(cloud)
    # What the cloud now holds, read back and judged by the simulator (moto checks a trust's principal, not its
    # effect or conditions): the trust denies the vendor whatever the call, and the inline policy denies every
    # session issued before the revocation (the propagation margin included).
    held = cloud["iam"].get_role(RoleName="acme-management")["Role"]["AssumeRolePolicyDocument"]
    held = json.loads(held) if isinstance(held, str) else held
    assert set(assume_role(held, at="2026-12-02T11:00:00Z", external_id=EXTERNAL_ID, source_identity=RELEASE,
                           tags=TAGS).values()) == {"ExplicitlyDenied"}
    deny = cloud["iam"].get_role_policy(RoleName="acme-management", PolicyName=REVOKED_SESSIONS_POLICY)
    deny = deny["PolicyDocument"] if isinstance(deny["PolicyDocument"], dict) else json.loads(deny["PolicyDocument"])
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/acme-management/alien-r1-acme"
    for issued, expected in (("2026-12-02T09:59:00Z", "ExplicitlyDenied"), ("2026-12-02T10:05:00Z", "Allowed")):
        (judged,) = simulate(None, [{"principal": session, "action": "iam:ListRoles", "resource": "*",
                                     "account": ACCOUNT, "context": {"aws:TokenIssueTime": issued},
                                     "identity_policies": [ALLOW_ALL, deny]}])
        assert judged["result"] == expected, issued
    assert revoked_in_cloud(CTX, clients=cloud["admin"]) == "2026-12-02T10:00:00Z"
    again = revoke("acme", CTX, clients=cloud["admin"])
    assert not again.changed and again.revoked_at == "2026-12-02T10:00:00Z"  # the first revocation stands

    back = restore("acme", CTX, clients=cloud["admin"])
    assert back.changed and back.revoked_at is None
    assert lists_roles(cloud, old)
    role = cloud["iam"].get_role(RoleName="acme-management")["Role"]
    assert REVOKED_MARK not in {t["Key"] for t in role.get("Tags", [])}
    assert cloud["iam"].list_role_policies(RoleName="acme-management")["PolicyNames"] == ["grant"]
    # The trust is the one setup renders, which the simulator allows for the release service's call.
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust == render_layer(derive_plan(SPEC, CTX), "management")["trust_policy"]
    assert set(assume_role(trust, at="2026-12-02T11:00:00Z", external_id=EXTERNAL_ID, source_identity=RELEASE,
                           tags=TAGS).values()) == {"Allowed"}
    assert not restore("acme", CTX, clients=cloud["admin"]).changed


def test_revoking_a_deployment_never_set_up_changes_nothing(cloud: dict[str, Any]) -> None:
    other = CTX.model_copy(update={"prefix": "other"})
    with pytest.raises(RevocationError, match="deployment other has no management role other-management in aws "
                                              f"{ACCOUNT}: it was never set up there .*nothing was changed"):
        revoke("other", other, clients=cloud["admin"])
    assert [r["RoleName"] for r in cloud["iam"].list_roles()["Roles"]] == ["acme-management"]
    assert revoked_in_cloud(other, clients=cloud["admin"]) is None  # a first setup: nothing to keep


def revoked_documents() -> dict[str, Any]:
    return render_layer(derive_plan(SPEC, CTX.model_copy(update={"revoked_at": "2026-12-02T10:00:00Z"})),
                        "management")


def test_the_simulator_denies_the_revoked_trust_whatever_the_call() -> None:
    trust = revoked_documents()["trust_policy"]
    results = assume_role(trust, at="2026-12-02T11:00:00Z", external_id=EXTERNAL_ID, source_identity=RELEASE,
                          tags=TAGS)
    assert set(results.values()) == {"ExplicitlyDenied"}, results


def test_the_simulator_denies_sessions_issued_before_the_revocation_only() -> None:
    deny = revoked_documents()["revoked_sessions"]
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/acme-management/alien-r1-acme"

    def call(issued: str) -> str:
        (result,) = simulate(None, [{"principal": session, "action": "iam:ListRoles", "resource": "*",
                                   "account": ACCOUNT, "context": {"aws:TokenIssueTime": issued},
                                   "identity_policies": [VENDOR_POLICY | {"Statement": [
                                       {"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}, deny]}])
        return str(result["result"])

    assert call("2026-12-02T09:59:00Z") == "ExplicitlyDenied"
    assert call("2026-12-02T10:04:59Z") == "ExplicitlyDenied"  # within IAM's propagation margin
    assert call("2026-12-02T10:05:00Z") == "Allowed"


def custom(spec: alien.StackSpec, ctx: alien.DeploymentContext) -> dict[str, Any]:
    """The provisioning program's resources by name."""
    return {n.name: n for n in synth(spec, ctx).provision.nodes.values() if n.custom}


def test_a_setup_while_revoked_renders_the_revoked_trust(cloud: dict[str, Any], tmp_path: Path) -> None:
    revoke("acme", CTX, clients=cloud["admin"], at="2026-12-02T10:00:00Z")
    store = StateStore("s3://acme-state?region=us-east-1", "awskms://alias/acme?region=us-east-1")
    plan = plan_setup(SPEC, CTX, tmp_path, store, False, deployment="acme", clients=cloud["admin"])
    assert plan.run.context.revoked_at == "2026-12-02T10:00:00Z"
    nodes = custom(SPEC, plan.run.context)
    role = nodes["identities-management"].inputs
    assert json.loads(role["assumeRolePolicy"])["Statement"] == [{
        "Sid": "VendorAccessRevoked", "Effect": "Deny", "Principal": {"AWS": VENDOR_ROLE},
        "Action": ["sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"]}]
    assert role["tags"][REVOKED_MARK] == "2026-12-02T10:00:00Z"
    deny = nodes["identities-management-revoked-sessions"].inputs
    assert deny["name"] == REVOKED_SESSIONS_POLICY
    assert json.loads(deny["policy"]) == revoked_documents()["revoked_sessions"]
    restore("acme", CTX, clients=cloud["admin"])
    kept = plan_setup(SPEC, CTX, tmp_path, store, False, deployment="acme", clients=cloud["admin"])
    assert kept.run.context.revoked_at is None
    assert "identities-management-revoked-sessions" not in custom(SPEC, kept.run.context)


def test_restoring_an_access_window_that_is_over_is_refused(cloud: dict[str, Any]) -> None:
    revoke("acme", CTX, clients=cloud["admin"])
    over = CTX.model_copy(update={"access_until": "2020-01-01T00:00:00Z"})
    with pytest.raises(RevocationError, match="ended at 2020-01-01T00:00:00Z: restoring it would grant nothing"):
        restore("acme", over, clients=cloud["admin"])
    assert revoked_in_cloud(CTX, clients=cloud["admin"]) is not None


def test_the_security_document_says_how_revoking_works_and_whether_it_is_in_force() -> None:
    from alien_pulumi.permissions import render_markdown

    live = render_markdown(derive_plan(SPEC, CTX))
    assert "`alien-deploy revoke` (with the setup record or bundle) ends the vendor's management access" in live
    assert "`alien-deploy revoke --stop` also stops every live compute" in live
    assert "sessions issued before it are denied every action (aws:TokenIssueTime)" in live
    assert "Revoked since" not in live
    revoked = render_markdown(derive_plan(SPEC, CTX.model_copy(update={"revoked_at": "2026-12-02T10:00:00Z"})))
    assert "**Revoked since 2026-12-02T10:00:00Z.**" in revoked
    assert '"Sid": "VendorAccessRevoked"' in revoked  # the trust shown is the one in force


def test_a_refused_revocation_says_whether_anything_was_changed(cloud: dict[str, Any]) -> None:
    """Refused at the first read (the admin may not even read the role): nothing changed, and it says so; refused at
    a later step: it says earlier steps may stand and that running it again completes it."""
    from moto.iam.models import iam_backends

    iam = iam_backends[ACCOUNT]["global"]

    def admin_with(policy: dict[str, Any], name: str) -> _Endpoint:
        iam.create_user(region_name="us-east-1", user_name=name)
        iam.put_user_policy(name, "p", json.dumps(policy))
        key = iam.create_access_key(name)
        return _Endpoint(boto3.session.Session(region_name="us-east-1", aws_access_key_id=key.access_key_id,
                                               aws_secret_access_key=key.secret_access_key), cloud["endpoint"])

    reader = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetRole", "Resource": "*"}]}
    with pytest.raises(RevocationError, match=r"AccessDenied.*\. Nothing was changed$"):
        revoke("acme", CTX, clients=admin_with({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"}]}, "auditor"))
    with pytest.raises(RevocationError, match="may have been applied; run it again to complete it"):
        revoke("acme", CTX, clients=admin_with(reader, "reader"))
    assert revoked_in_cloud(CTX, clients=cloud["admin"]) is None


# ---------------------------------------------------------------- revoke --stop (issue 19, item 5)

IMAGES = alien.Registry("ghcr.io/acme", aws="111122223333.dkr.ecr.{region}.amazonaws.com/acme")
# Two live computes the vendor releases, and a frozen one (setup-owned: --stop leaves it running).
COMPUTE = (alien.Stack("my-app", images=IMAGES).platforms("aws").add(alien.Kv("k"), "frozen")
           .add(alien.Container("web", image="web:2.0.0", min_replicas=2, max_replicas=4), "live")
           .add(alien.Function("api", image="api:1.4.2"), "live")
           .add(alien.Function("cron", image="cron:1.0.0"), "frozen").build())
SERVICE, FUNCTION, FROZEN = "acme-web", "acme-api", "acme-cron"


def deployed_compute(cloud: dict[str, Any]) -> tuple[Any, Any]:
    """The ECS service (desired count 2, as setup declares it from min_replicas) and the Lambda functions (no
    concurrency limit) setup created, with the admin's credentials; their ecs and lambda clients."""
    admin = cloud["admin"]
    ecs, lam = admin.client("ecs", region_name="us-east-1"), admin.client("lambda", region_name="us-east-1")
    ecs.create_cluster(clusterName="acme")
    ecs.register_task_definition(family=SERVICE, containerDefinitions=[{"name": "web", "image": "web", "memory": 1024}])
    ecs.create_service(cluster="acme", serviceName=SERVICE, taskDefinition=SERVICE, desiredCount=2,
                       tags=[{"key": "alien-stack", "value": "my-app"}])
    role = cloud["iam"].create_role(RoleName="acme-rt-default", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": []}))["Role"]["Arn"]
    for name in (FUNCTION, FROZEN):
        lam.create_function(FunctionName=name, PackageType="Image", Role=role, Tags={"alien-stack": "my-app"},
                            Code={"ImageUri": f"111122223333.dkr.ecr.us-east-1.amazonaws.com/acme/{name}:1"})
    return ecs, lam


def service(ecs: Any) -> tuple[int, dict[str, str]]:
    (found,) = ecs.describe_services(cluster="acme", services=[SERVICE], include=["TAGS"])["services"]
    return found["desiredCount"], {t["key"]: t["value"] for t in found.get("tags") or []}


def function(lam: Any, name: str = FUNCTION) -> tuple[int | None, dict[str, str]]:
    concurrency = lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions")
    return concurrency, lam.get_function(FunctionName=name).get("Tags") or {}


def test_revoke_stop_stops_the_live_computes_and_restore_starts_them_again(compute_cloud: dict[str, Any]) -> None:
    cloud = compute_cloud
    ecs, lam = deployed_compute(cloud)
    done = revoke("acme", CTX, clients=cloud["admin"], at="2026-12-02T10:00:00Z", stop=True, spec=COMPUTE)
    assert done.changed and done.trust_changed
    assert service(ecs) == (0, {"alien-stack": "my-app", STOPPED_MARK: "2026-12-02T10:00:00Z"})
    assert function(lam) == (0, {"alien-stack": "my-app", STOPPED_MARK: "2026-12-02T10:00:00Z"})
    assert function(lam, FROZEN) == (None, {"alien-stack": "my-app"})  # frozen: setup-owned, left running
    assert done.steps[3:] == [
        f"ECS service acme/{SERVICE}: tagged {STOPPED_MARK}=2026-12-02T10:00:00Z (restore starts it again)",
        f"ECS service acme/{SERVICE}: desired count 0 (was 2): ECS stops its tasks and starts none",
        f"Lambda function {FUNCTION}: tagged {STOPPED_MARK}=2026-12-02T10:00:00Z (restore starts it again)",
        f"Lambda function {FUNCTION}: reserved concurrency 0: every invocation is throttled (those in flight end "
        "within its timeout)"]
    assert [(c.id, c.type, c.state) for c in done.compute or []] == [("web", "container", STOPPED),
                                                                      ("api", "function", STOPPED)]
    assert "Stopped by the revocation: web (container: ECS service acme/acme-web), api (function: Lambda " \
           "function acme-api)" in done.runtime
    again = revoke("acme", CTX, clients=cloud["admin"], stop=True, spec=COMPUTE)
    assert not again.changed and again.steps == [] and again.revoked_at == "2026-12-02T10:00:00Z"

    back = restore("acme", CTX, clients=cloud["admin"], spec=COMPUTE)
    assert back.changed and [c.state for c in back.compute or []] == [STARTED, STARTED]
    assert service(ecs) == (2, {"alien-stack": "my-app"})  # the spec's min_replicas, as setup sets it
    assert function(lam) == (None, {"alien-stack": "my-app"})  # no concurrency limit, as setup sets none
    assert back.steps[-4:] == [
        f"ECS service acme/{SERVICE}: desired count 2 again (the spec's min_replicas, as setup sets it)",
        f"ECS service acme/{SERVICE}: tag {STOPPED_MARK} removed",
        f"Lambda function {FUNCTION}: reserved concurrency limit deleted (setup sets none): it runs again",
        f"Lambda function {FUNCTION}: tag {STOPPED_MARK} removed"]
    assert not restore("acme", CTX, clients=cloud["admin"], spec=COMPUTE).changed


def test_revoke_without_stop_names_the_computes_that_keep_running(compute_cloud: dict[str, Any]) -> None:
    cloud = compute_cloud
    ecs, lam = deployed_compute(cloud)
    done = revoke("acme", CTX, clients=cloud["admin"], spec=COMPUTE)
    assert [(c.id, c.state) for c in done.compute or []] == [("web", NOT_STOPPED), ("api", NOT_STOPPED)]
    assert done.runtime.startswith("Code already running in the live computes web (container: ECS service "
                                   "acme/acme-web), api (function: Lambda function acme-api) keeps its runtime "
                                   "access")
    assert "`alien-deploy revoke --stop` stops them" in done.runtime
    assert service(ecs) == (2, {"alien-stack": "my-app"}) and function(lam) == (None, {"alien-stack": "my-app"})
    # --stop later, on the deployment already revoked: the trust stays as it is, the computes stop
    later = revoke("acme", CTX, clients=cloud["admin"], stop=True, spec=COMPUTE)
    assert later.changed and not later.trust_changed and later.revoked_at == done.revoked_at
    assert service(ecs)[0] == 0 and function(lam)[0] == 0


def test_restore_starts_only_what_the_revocation_stopped(compute_cloud: dict[str, Any]) -> None:
    cloud = compute_cloud
    """A service the customer stopped by hand before (no mark) stays stopped; a restore that finds the trust
    already restored (it ran from the bundle, without the stack) still starts the marked computes."""
    ecs, lam = deployed_compute(cloud)
    ecs.update_service(cluster="acme", service=SERVICE, desiredCount=0)
    done = revoke("acme", CTX, clients=cloud["admin"], stop=True, spec=COMPUTE)
    assert [c.state for c in done.compute or []] == [STOPPED_UNMARKED, STOPPED]
    assert "Already stopped before, not by a revocation: web (container: ECS service acme/acme-web)" in done.runtime
    assert service(ecs) == (0, {"alien-stack": "my-app"})
    trust_only = restore("acme", CTX, clients=cloud["admin"])  # no spec: the computes are unknown
    assert trust_only.compute is None and "stay stopped" in trust_only.runtime
    assert function(lam)[0] == 0
    back = restore("acme", CTX, clients=cloud["admin"], spec=COMPUTE)
    assert back.changed and not back.trust_changed
    assert [c.state for c in back.compute or []] == [STOPPED_UNMARKED, STARTED]
    assert service(ecs) == (0, {"alien-stack": "my-app"}) and function(lam) == (None, {"alien-stack": "my-app"})


def test_stop_without_the_stack_is_refused_before_anything_changes(compute_cloud: dict[str, Any]) -> None:
    cloud = compute_cloud
    with pytest.raises(RevocationError, match=r"revoke --stop needs the setup record .*nothing was changed"):
        revoke("acme", CTX, clients=cloud["admin"], stop=True)
    assert revoked_in_cloud(CTX, clients=cloud["admin"]) is None


def test_stop_with_no_live_compute_says_so(compute_cloud: dict[str, Any]) -> None:
    cloud = compute_cloud
    done = revoke("acme", CTX, clients=cloud["admin"], stop=True, spec=SPEC)
    assert done.changed and done.compute == []
    assert done.runtime == ("--stop: nothing to stop: the deployment has no live compute (container or function), "
                            "so no code the vendor releases runs here.")


def test_a_stop_refused_half_way_says_what_it_did_and_running_it_again_completes_it(cloud: dict[str, Any]) -> None:
    """The admin may revoke and tag but not UpdateService: the error lists the steps done; the service carries
    the mark, so the admin's next run (with the right) stops it, and restore starts it."""
    from moto.iam.models import iam_backends

    ecs, _ = deployed_compute(cloud)
    web = COMPUTE.model_copy(update={"resources": tuple(r for r in COMPUTE.resources if r.id != "api")})
    iam = iam_backends[ACCOUNT]["global"]
    iam.create_user(region_name="us-east-1", user_name="partial")
    iam.put_user_policy("partial", "p", json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "ecs:UpdateService", "Resource": "*"}]}))
    key = iam.create_access_key("partial")
    partial = _Endpoint(boto3.session.Session(region_name="us-east-1", aws_access_key_id=key.access_key_id,
                                              aws_secret_access_key=key.secret_access_key), cloud["endpoint"])
    with pytest.raises(RevocationError) as refused:
        revoke("acme", CTX, clients=partial, at="2026-12-02T10:00:00Z", stop=True, spec=web)
    said = str(refused.value)
    assert "refused the revocation of deployment acme: UpdateService: 403" in said and "AccessDenied" in said
    assert "run it again to complete it" in said
    assert f"Done before it: role acme-management: the trust policy denies {VENDOR_ROLE}" in said
    assert said.endswith(f"ECS service acme/{SERVICE}: tagged {STOPPED_MARK}=2026-12-02T10:00:00Z (restore starts "
                         "it again)")
    assert service(ecs) == (2, {"alien-stack": "my-app", STOPPED_MARK: "2026-12-02T10:00:00Z"})
    done = revoke("acme", CTX, clients=cloud["admin"], stop=True, spec=web)
    assert not done.trust_changed and service(ecs)[0] == 0
    assert done.steps[0] == f"ECS service acme/{SERVICE}: desired count 0 (was 2): ECS stops its tasks and starts none"
    restore("acme", CTX, clients=cloud["admin"], spec=web)
    assert service(ecs) == (2, {"alien-stack": "my-app"})
