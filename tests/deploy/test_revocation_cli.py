"""``alien-deploy revoke|restore`` through the CLI, against moto's IAM, ECS and Lambda: from the setup record, the
deployment's name or the bundle; the records updated; a setup in between keeps access revoked; bad input changes
nothing; what running code keeps (the live computes named), ``--stop`` and restore starting them again; a record whose
trust was changed refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

import alien_pulumi as alien
from alien_pulumi.deploy.revocation import STOPPED_MARK
from alien_pulumi.model.context import REVOKED_MARK
from alien_pulumi.model.record import ReleaseRecord
from tests.artifacts import artifact
from tests.deploy.lifecycle import admin, edited, register, set_up
from tests.moto_server import moto_server


@pytest.fixture
def iam(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The customer's IAM, ECS and Lambda (moto) with the admin's credentials, and the management role setup
    created (the simulated setup creates no compute: a test that stops one creates it)."""
    from moto.awslambda.models import lambda_backends
    from moto.ecs.models import ecs_backends
    from moto.iam.models import iam_backends

    with moto_server(reset=(iam_backends, ecs_backends, lambda_backends)) as endpoint:
        for key, value in {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "AKIAADMIN",
                           "AWS_SECRET_ACCESS_KEY": "admin", "AWS_DEFAULT_REGION": "eu-west-1"}.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        client = boto3.client("iam", region_name="eu-west-1", endpoint_url=endpoint)
        client.create_role(RoleName="acme-management", AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": []}))
        yield client


def record_of(state: Path) -> ReleaseRecord:
    return ReleaseRecord.model_validate_json((state / "records" / "acme.json").read_text())


def test_revoke_and_restore_from_the_record_with_a_setup_in_between(iam: Any, tmp_path: Path) -> None:
    bundle = register(tmp_path, "acme")
    assert set_up(tmp_path, bundle).exit_code == 0
    record = tmp_path / "records" / "acme.json"

    revoked = admin("revoke", "--record", str(record), "--state-dir", str(tmp_path), "--json")
    assert revoked.exit_code == 0, revoked.output
    result = json.loads(revoked.stdout)
    assert result["state"] == "revoked" and result["changed"] and result["records_updated"] == [str(record)]
    at = result["revoked_at"]
    assert record_of(tmp_path).context.revoked_at == at
    tags = {t["Key"]: t["Value"] for t in iam.get_role(RoleName="acme-management")["Role"]["Tags"]}
    assert tags == {REVOKED_MARK: at}
    shown = json.loads(admin("access", "--record", str(record), "--json").stdout)
    assert shown["revoked_at"] == at

    again = set_up(tmp_path, bundle)  # the admin's next setup (simulated: the record says it is revoked)
    assert again.exit_code == 0, again.output
    assert f"the vendor's access is revoked since {at}: this setup keeps it revoked" in " ".join(again.output.split())
    assert record_of(tmp_path).context.revoked_at == at

    restored = admin("restore", "-d", "acme", "--state-dir", str(tmp_path))
    assert restored.exit_code == 0, restored.output
    assert "access is restored" in restored.output
    assert record_of(tmp_path).context.revoked_at is None
    assert "Tags" not in iam.get_role(RoleName="acme-management")["Role"] or not \
        iam.get_role(RoleName="acme-management")["Role"]["Tags"]
    trust = iam.get_role(RoleName="acme-management")["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"] == record_of(tmp_path).permissions["management"]["trust_policy"]["Statement"]
    assert "already restored" in admin("restore", "-d", "acme", "--state-dir", str(tmp_path)).output


def test_revoke_from_the_bundle_updates_the_record_setup_keeps(iam: Any, tmp_path: Path) -> None:
    bundle = register(tmp_path, "acme")
    assert set_up(tmp_path, bundle).exit_code == 0
    revoked = admin("revoke", "--bundle", str(bundle), "--state-dir", str(tmp_path))
    assert revoked.exit_code == 0, revoked.output
    assert "sessions issued before it are denied every action" in " ".join(revoked.output.split())
    assert record_of(tmp_path).context.revoked_at is not None


@pytest.mark.parametrize("args, says", [
    (["-d", "nobody"], "no setup record of deployment nobody in "),
    ([], "give the setup record (--record FILE), the setup bundle (--bundle FILE) or the deployment"),
    (["--record", "missing.json"], "missing.json: no such file"),
])
def test_a_revoke_of_an_unknown_deployment_changes_nothing(iam: Any, tmp_path: Path, args: list[str],
                                                          says: str) -> None:
    result = admin("revoke", *args, "--state-dir", str(tmp_path))
    assert result.exit_code == 2
    assert says in " ".join(result.output.split())
    assert "Tags" not in iam.get_role(RoleName="acme-management")["Role"] or not \
        iam.get_role(RoleName="acme-management")["Role"]["Tags"]


def test_a_deployment_never_set_up_in_the_account_is_refused(iam: Any, tmp_path: Path) -> None:
    bundle = register(tmp_path, "other")
    result = admin("revoke", "--bundle", str(bundle), "--state-dir", str(tmp_path))
    assert result.exit_code == 2
    assert "deployment other has no management role other-management in aws 210987654321" in \
        " ".join(result.output.split())
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["acme-management"]


def test_a_bundle_cannot_carry_a_revocation(tmp_path: Path) -> None:
    bundle = register(tmp_path, "acme")
    data = json.loads(bundle.read_text())
    data["context"]["revoked_at"] = "2026-12-02T10:00:00Z"
    bundle.write_text(json.dumps(data))
    result = set_up(tmp_path, bundle)
    assert result.exit_code == 2
    assert "context.revoked_at: a bundle cannot revoke access" in " ".join(result.output.split())
    assert not (tmp_path / "records" / "acme.json").exists()


def test_a_revocation_made_elsewhere_is_found_and_written_into_the_record(iam: Any, tmp_path: Path) -> None:
    from alien_pulumi.deploy.revocation import revoke

    assert set_up(tmp_path, register(tmp_path, "acme")).exit_code == 0
    revoke("acme", record_of(tmp_path).context, at="2026-12-01T08:00:00Z")  # another machine's admin
    result = admin("revoke", "-d", "acme", "--state-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "acme: access already revoked (since 2026-12-01T08:00:00Z); nothing was changed in the cloud" in said
    assert record_of(tmp_path).context.revoked_at == "2026-12-01T08:00:00Z"
    assert "setup record" in said and "updated" in said


# ---------------------------------------------------------------- running code: named, --stop, restore


def said(result: Any) -> str:
    return " ".join(result.output.split())


def test_revoke_says_which_live_computes_keep_running(iam: Any, tmp_path: Path) -> None:
    assert set_up(tmp_path, register(tmp_path, "acme")).exit_code == 0
    revoked = admin("revoke", "-d", "acme", "--state-dir", str(tmp_path))
    assert revoked.exit_code == 0, revoked.output
    assert "Code already running in the live computes api (function: Lambda function acme-api), web (container: " \
           "ECS service acme/acme-web) keeps its runtime access" in said(revoked)
    assert "`alien-deploy revoke --stop` stops them" in said(revoked)
    again = json.loads(admin("revoke", "-d", "acme", "--state-dir", str(tmp_path), "--json").stdout)
    assert not again["changed"] and not again["trust_changed"]
    assert [(c["id"], c["type"], c["resource"], c["state"]) for c in again["compute"]] == [
        ("api", "function", "Lambda function acme-api", "not stopped"),
        ("web", "container", "ECS service acme/acme-web", "not stopped")]
    assert "keeps its runtime access" in again["runtime"]


def live_compute(iam: Any) -> tuple[Any, Any]:
    """The quick-start's live computes as setup creates them in eu-west-1: ECS service acme-web (min_replicas 1) and
    Lambda function acme-api."""
    ecs, lam = boto3.client("ecs", region_name="eu-west-1"), boto3.client("lambda", region_name="eu-west-1")
    ecs.create_cluster(clusterName="acme")
    ecs.register_task_definition(family="acme-web",
                                 containerDefinitions=[{"name": "web", "image": "w", "memory": 1024}])
    ecs.create_service(cluster="acme", serviceName="acme-web", taskDefinition="acme-web", desiredCount=1)
    role = iam.create_role(RoleName="acme-rt-app", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam.create_function(FunctionName="acme-api", PackageType="Image", Role=role,
                        Code={"ImageUri": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/acme/api:1.4.2"})
    return ecs, lam


def test_revoke_stop_and_restore_through_the_cli(iam: Any, tmp_path: Path) -> None:
    assert set_up(tmp_path, register(tmp_path, "acme")).exit_code == 0
    ecs, lam = live_compute(iam)
    stopped = admin("revoke", "-d", "acme", "--stop", "--state-dir", str(tmp_path))
    assert stopped.exit_code == 0, stopped.output
    assert "done: ECS service acme/acme-web: desired count 0 (was 1)" in said(stopped)
    assert "done: Lambda function acme-api: reserved concurrency 0" in said(stopped)
    assert "Stopped by the revocation: api (function: Lambda function acme-api), web (container: ECS service " \
           "acme/acme-web); restore starts them again." in said(stopped)
    (service,) = ecs.describe_services(cluster="acme", services=["acme-web"], include=["TAGS"])["services"]
    assert service["desiredCount"] == 0 and {t["key"] for t in service["tags"]} == {STOPPED_MARK}
    assert lam.get_function_concurrency(FunctionName="acme-api")["ReservedConcurrentExecutions"] == 0

    restored = admin("restore", "-d", "acme", "--state-dir", str(tmp_path), "--json")
    assert restored.exit_code == 0, restored.output
    result = json.loads(restored.stdout)
    assert result["trust_changed"] and [c["state"] for c in result["compute"]] == ["started", "started"]
    (service,) = ecs.describe_services(cluster="acme", services=["acme-web"], include=["TAGS"])["services"]
    assert service["desiredCount"] == 1 and not service.get("tags")
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName="acme-api")


def test_stop_on_a_deployment_without_live_compute_revokes_and_says_there_is_nothing_to_stop(
        iam: Any, tmp_path: Path) -> None:
    images = alien.Registry("ghcr.io/acme", aws="111122223333.dkr.ecr.{region}.amazonaws.com/acme")
    frozen_only = (alien.Stack("my-app", images=images).platforms("aws").add(alien.Kv("cache"), "frozen")
                   .add(alien.Function("cron", image="cron:1.0.0"), "frozen").build())
    assert set_up(tmp_path, register(tmp_path, "acme"), stack=artifact(frozen_only)).exit_code == 0
    result = admin("revoke", "-d", "acme", "--stop", "--state-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "the vendor's access is revoked since" in said(result)
    assert "--stop: nothing to stop: the deployment has no live compute (container or function), so no code the " \
           "vendor releases runs here." in said(result)
    assert record_of(tmp_path).context.revoked_at is not None


def test_stop_from_a_bundle_without_a_setup_record_changes_nothing(iam: Any, tmp_path: Path) -> None:
    bundle = register(tmp_path, "acme")  # never set up from this machine: no record, so no stack
    result = admin("revoke", "--bundle", str(bundle), "--stop", "--state-dir", str(tmp_path))
    assert result.exit_code == 2
    assert "revoke --stop needs the setup record (--record FILE, or -d NAME with the record in --state-dir): its " \
           "stack names the live computes to stop (a bundle holds no stack); nothing was changed" in said(result)
    assert not iam.get_role(RoleName="acme-management")["Role"].get("Tags")


def test_a_restore_from_a_record_whose_trust_was_changed_is_refused(iam: Any, tmp_path: Path) -> None:
    assert set_up(tmp_path, register(tmp_path, "acme")).exit_code == 0
    record = tmp_path / "records" / "acme.json"
    assert admin("revoke", "--record", str(record), "--state-dir", str(tmp_path)).exit_code == 0
    denied = iam.get_role(RoleName="acme-management")["Role"]["AssumeRolePolicyDocument"]

    def other_principal(data: dict[str, Any]) -> None:
        data["permissions"]["management"]["trust_policy"]["Statement"][0]["Principal"]["AWS"] = \
            "arn:aws:iam::999999999999:role/attacker"

    result = admin("restore", "--record", str(edited(record, other_principal)), "--state-dir", str(tmp_path))
    assert result.exit_code == 2
    assert "the setup record's management permissions disagree with what its stack and context render: " \
           "trust_policy.Statement[0].Principal.AWS is arn:aws:iam::999999999999:role/attacker, not " in said(result)
    assert "nothing was changed" in said(result)
    role = iam.get_role(RoleName="acme-management")["Role"]
    assert role["AssumeRolePolicyDocument"] == denied and {t["Key"] for t in role["Tags"]} == {REVOKED_MARK}
