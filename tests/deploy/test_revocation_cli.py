"""``alien-deploy revoke|restore`` through the CLI, against moto's IAM: from the setup record, the deployment's name or
the bundle; the records updated; a setup in between keeps access revoked; bad input changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from alien_pulumi.model.context import REVOKED_MARK
from alien_pulumi.model.record import ReleaseRecord
from tests.deploy.lifecycle import admin, register, set_up
from tests.moto_server import moto_server


@pytest.fixture
def iam(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The customer's IAM (moto) with the admin's credentials, and the management role setup created."""
    from moto.iam.models import iam_backends

    with moto_server(reset=(iam_backends,)) as endpoint:
        for key, value in {"AWS_ENDPOINT_URL_IAM": endpoint, "AWS_ACCESS_KEY_ID": "AKIAADMIN",
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
