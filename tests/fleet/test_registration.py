"""Registering a deployment before setup: the bundle, uniqueness, idempotence, and importing the setup
record into the registration (refusing one that does not match it)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

import alien_pulumi as alien
from alien_pulumi.fleet.registry import DeploymentState, Registry, RegistryError
from alien_pulumi.model.record import ReleaseRecord
from tests.deploy.lifecycle import CUSTOMER, VENDOR_ROLE, register, set_up, vendor
from tests.fleet.legacy_registry import legacy_registry

ACCOUNT = "210987654321"


def aws_context(prefix: str = "acme", account: str = ACCOUNT, **extra: str) -> alien.DeploymentContext:
    return alien.DeploymentContext.create("aws", prefix, prefix=prefix, account_id=account, region="eu-west-1",
                                          vendor_principal=VENDOR_ROLE, external_id="e" * 43, **extra)


def setup_record(name: str, ctx: alien.DeploymentContext) -> ReleaseRecord:
    image = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/i"  # AWS runs ECR images only (DESIGN.md §4b)
    spec = alien.Stack("s").platforms("aws").add(alien.Function("f", image=image), "live").build()
    return ReleaseRecord(release="setup-1", deployment=name, program="provision", context=ctx, spec=spec,
                         digest=spec.digest(), frozen_digest=spec.frozen_digest(), permissions={},
                         backend="s3://state", secrets_provider="awskms://alias/k")


@pytest.fixture
def reg(tmp_path: Path, database: str | None) -> Iterator[Registry]:
    with Registry(tmp_path, url=database) as opened:
        yield opened


def test_registered_deployment_awaits_setup_with_its_bundle(reg: Registry) -> None:
    dep = reg.register_deployment("acme", aws_context(), {"bundle_version": 1, "deployment": "acme"})
    assert dep.state is DeploymentState.AWAITING_SETUP and dep.record is None
    assert dep.bundle == {"bundle_version": 1, "deployment": "acme"}
    assert dep.context.target == f"aws:{ACCOUNT}:acme"


def test_registering_again_is_idempotent_and_keeps_the_first_external_id(reg: Registry) -> None:
    reg.register_deployment("acme", aws_context(), {"external_id": "first"})
    fresh_id = aws_context().model_copy(update={"external_id": "f" * 43})  # a new `deployments new` generates one
    again = reg.register_deployment("acme", fresh_id, {"external_id": "2nd"})
    assert again.bundle == {"external_id": "first"} and again.context.external_id == "e" * 43
    assert len(reg.list_deployments()) == 1


def test_same_account_and_prefix_under_another_name_is_refused(reg: Registry) -> None:
    reg.register_deployment("acme", aws_context(), {})
    with pytest.raises(RegistryError, match=f"aws {ACCOUNT} with prefix 'acme' is already the deployment 'acme'"):
        reg.register_deployment("acme-2", aws_context(), {})
    other_account = reg.register_deployment("acme-2", aws_context(account="333344445555"), {})
    assert other_account.context.prefix == "acme"  # the same prefix in another account is another deployment


@pytest.mark.parametrize(("first", "second"), [("acme", "acme-prod"), ("acme-prod", "acme")])
def test_a_prefix_extending_another_in_the_same_account_is_refused(reg: Registry, first: str, second: str) -> None:
    """`acme-*` grants would reach `acme-prod-*` names: in one account, neither prefix may extend the other."""
    reg.register_deployment(first, aws_context(first), {})
    with pytest.raises(RegistryError, match=f"prefix '{second}' overlaps prefix '{first}' of the deployment "
                                            f"'{first}' in aws {ACCOUNT}: grants on `acme-\\*`"):
        reg.register_deployment(second, aws_context(second), {})
    with pytest.raises(RegistryError, match="overlaps"):
        reg.add_deployment(setup_record(second, aws_context(second)))
    assert [d.name for d in reg.list_deployments()] == [first]
    # Elsewhere, or without the dash, the names cannot meet.
    assert reg.register_deployment(second, aws_context(second, account="333344445555"), {})
    assert reg.register_deployment("acmeprod", aws_context("acmeprod"), {})


def test_same_name_with_another_target_is_refused(reg: Registry) -> None:
    reg.register_deployment("acme", aws_context(), {})
    with pytest.raises(RegistryError, match="already registered with other facts \\(account_id: 210987654321 "
                                            "registered, 333344445555 given\\)"):
        reg.register_deployment("acme", aws_context(account="333344445555"), {})


def test_a_record_is_imported_into_its_registration(reg: Registry) -> None:
    reg.register_deployment("acme", aws_context(), {})
    dep = reg.add_deployment(setup_record("acme", aws_context()), registered=True)
    assert dep.state is DeploymentState.DEPLOYED and dep.record is not None and dep.record.backend == "s3://state"
    assert dep.bundle == {}


def test_a_record_that_does_not_match_the_registration_is_refused(reg: Registry) -> None:
    reg.register_deployment("acme", aws_context(), {})
    other = aws_context(account="333344445555")
    with pytest.raises(RegistryError, match="does not match its registration \\(account_id: 210987654321 registered, "
                                            "333344445555 given\\); nothing was imported"):
        reg.add_deployment(setup_record("acme", other), registered=True)
    assert reg.get_deployment("acme").record is None


def test_two_records_of_different_accounts_with_one_prefix_do_not_overwrite(reg: Registry) -> None:
    """The overwrite bug: both records used to report 'registered' and only the second remained."""
    reg.add_deployment(setup_record("acme", aws_context()))
    with pytest.raises(RegistryError, match="does not match its registration"):
        reg.add_deployment(setup_record("acme", aws_context(account="333344445555")))
    assert reg.get_deployment("acme").context.account_id == ACCOUNT


def test_an_unregistered_record_is_refused_when_registration_is_required(reg: Registry) -> None:
    with pytest.raises(RegistryError, match="no deployment named 'acme' is registered"):
        reg.add_deployment(setup_record("acme", aws_context()), registered=True)
    assert reg.list_deployments() == []


def test_migration_3_fills_targets_and_one_region_field(tmp_path: Path) -> None:
    legacy = legacy_registry(tmp_path)
    conn = sqlite3.connect(tmp_path / "registry.db", isolation_level=None)
    legacy.migrate(conn, target=2)
    old = {"platform": "gcp", "prefix": "acme", "stack": "s", "region": "us-east-1", "account_id": "123456789012",
           "partition": "aws", "project": "acme-prod-4711", "gcp_region": "europe-west4",
           "subscription_id": "00000000-0000-0000-0000-000000000000", "resource_group": None, "location": "eastus",
           "vendor_principal": "alien-release@vendor-release.iam.gserviceaccount.com",
           "vendor_oidc_issuer": "https://oidc.vendor.example.com", "external_id": None}
    conn.execute("INSERT INTO deployments VALUES ('acme', 'gcp', ?, '{}', NULL, 'then')", (json.dumps(old),))
    legacy.migrate(conn)
    with Registry(tmp_path) as reg:
        dep = reg.get_deployment("acme")
    assert dep.context.region == "europe-west4" and dep.context.target == "gcp:acme-prod-4711:acme"
    assert dep.state is DeploymentState.AWAITING_SETUP


def test_an_old_deployment_without_complete_facts_is_one_clear_error(tmp_path: Path) -> None:
    legacy = legacy_registry(tmp_path)
    conn = sqlite3.connect(tmp_path / "registry.db", isolation_level=None)
    legacy.migrate(conn, target=2)
    old = {"platform": "aws", "prefix": "acme", "stack": "s", "region": "us-east-1", "account_id": "123456789012",
           "partition": "aws", "vendor_principal": None, "external_id": None}
    conn.execute("INSERT INTO deployments VALUES ('acme', 'aws', ?, '{}', NULL, 'then')", (json.dumps(old),))
    with Registry(tmp_path) as reg, pytest.raises(RegistryError, match="registered without complete facts"):
        reg.get_deployment("acme")


# CLI ------------------------------------------------------------------------------------------------------


def test_deployments_new_writes_a_bundle_with_a_fresh_external_id(tmp_path: Path) -> None:
    bundle = json.loads(register(tmp_path, "acme").read_text())
    assert bundle["bundle_version"] == 2 and bundle["deployment"] == "acme" and bundle["platform"] == "aws"
    ctx = bundle["context"]
    assert ctx["account_id"] == ACCOUNT and ctx["region"] == "eu-west-1" and ctx["prefix"] == "acme"
    assert ctx["partition"] == "aws" and ctx["vendor_principal"] == VENDOR_ROLE
    assert len(ctx["external_id"]) >= 32
    other = json.loads(register(tmp_path, "beta").read_text())["context"]["external_id"]
    assert other != ctx["external_id"]
    again = json.loads(register(tmp_path, "acme").read_text())  # idempotent: the same bundle
    assert again["context"]["external_id"] == ctx["external_id"]


@pytest.mark.parametrize("platform", ["gcp", "azure"])
def test_deployments_new_on_gcp_and_azure(tmp_path: Path, platform: str) -> None:
    bundle = json.loads(register(tmp_path, "acme", platform).read_text())
    assert "external_id" not in bundle["context"] and bundle["platform"] == platform


def test_deployments_new_names_every_bad_field_and_writes_nothing(tmp_path: Path) -> None:
    result = vendor("deployments", "new", "acme", "-p", "aws", "--account-id", "12", "--region", "mars-1",
                    "--vendor-principal", "*", "--external-id", "ab", "--out", str(tmp_path / "b.json"),
                    "--state-dir", str(tmp_path))
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0] == "error: invalid deployment context (4 problems):"
    assert [ln.split(":")[0].strip() for ln in lines[1:]] == [
        "- --region", "- --account-id", "- --vendor-principal", "- --external-id"]
    assert "never '*'" in result.stderr
    assert not (tmp_path / "b.json").exists()
    assert Registry(tmp_path).list_deployments() == []


def test_missing_vendor_principal_names_the_flag_the_variable_and_the_config(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALIEN_PULUMI_CONFIG", str(tmp_path / "config.toml"))
    result = vendor("deployments", "new", "acme", "-p", "gcp", "--project", "acme-prod-4711", "--region",
                    "europe-west4", "--state-dir", str(tmp_path))
    assert result.exit_code == 2
    assert (f"--vendor-principal (or ALIEN_PULUMI_GCP_VENDOR_PRINCIPAL or [gcp] vendor_principal in "
            f"{tmp_path / 'config.toml'}): missing") in result.stderr


def test_vendor_facts_come_from_the_environment_then_the_config_file(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[azure]\nvendor_oidc_issuer = "https://issuer.vendor.test"\n'
                      'vendor_principal = "repo:vendor/app:ref:refs/heads/main"\n')
    monkeypatch.setenv("ALIEN_PULUMI_CONFIG", str(config))
    monkeypatch.setenv("ALIEN_PULUMI_AZURE_VENDOR_PRINCIPAL", "repo:vendor/app:environment:prod")
    flags = CUSTOMER["azure"][:4]  # subscription and region only
    result = vendor("deployments", "new", "acme", "-p", "azure", *flags, "--out", str(tmp_path / "b.json"),
                    "--state-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    ctx = json.loads((tmp_path / "b.json").read_text())["context"]
    assert ctx["vendor_oidc_issuer"] == "https://issuer.vendor.test"
    assert ctx["vendor_principal"] == "repo:vendor/app:environment:prod"


def test_a_malformed_config_file_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[aws]\nvendor_role = "x"\n')
    monkeypatch.setenv("ALIEN_PULUMI_CONFIG", str(config))
    result = vendor("deployments", "new", "acme", "-p", "aws", *CUSTOMER["aws"][:4], "--state-dir", str(tmp_path))
    assert result.exit_code == 2
    assert f"{config}: [aws] vendor_role: unknown key" in result.stderr


def test_cli_refuses_a_second_name_for_one_account_and_prefix(tmp_path: Path) -> None:
    register(tmp_path, "acme")
    result = vendor("deployments", "new", "acme-eu", "-p", "aws", "--prefix", "acme", *CUSTOMER["aws"],
                    "--state-dir", str(tmp_path), "--out", str(tmp_path / "x.json"))
    assert result.exit_code == 2
    assert "is already the deployment 'acme'" in result.stderr
    assert not (tmp_path / "x.json").exists()


def test_show_add_and_remove(tmp_path: Path) -> None:
    bundle = register(tmp_path, "acme")
    shown = json.loads(vendor("deployments", "show", "acme", "--state-dir", str(tmp_path), "--json").stdout)
    assert shown["state"] == "awaiting-setup" and shown["context"]["account_id"] == ACCOUNT
    assert set_up(tmp_path, bundle).exit_code == 0
    added = vendor("deployments", "add", str(tmp_path / "records" / "acme.json"), "--state-dir", str(tmp_path))
    assert added.exit_code == 0, added.output
    shown = json.loads(vendor("deployments", "show", "acme", "--state-dir", str(tmp_path), "--json").stdout)
    assert shown["state"] == "deployed" and shown["release"].startswith("setup-") and shown["backend"]
    kept = vendor("deployments", "remove", "acme", "--state-dir", str(tmp_path), stdin="n\n")
    assert kept.exit_code == 5 and "deployment acme kept" in kept.stdout
    assert Registry(tmp_path).get_deployment("acme")
    gone = vendor("deployments", "remove", "acme", "--yes", "--state-dir", str(tmp_path))
    assert gone.exit_code == 0 and Registry(tmp_path).list_deployments() == []


def test_add_refuses_a_record_of_another_account(tmp_path: Path) -> None:
    bundle = register(tmp_path, "acme")
    assert set_up(tmp_path, bundle, "--account-id", "333344445555").exit_code == 0  # the admin overrode it
    result = vendor("deployments", "add", str(tmp_path / "records" / "acme.json"), "--state-dir", str(tmp_path))
    assert result.exit_code == 2
    assert "does not match its registration (account_id: 210987654321 registered, 333344445555 given)" in \
        result.stderr
    assert Registry(tmp_path).get_deployment("acme").record is None


def test_add_refuses_an_unregistered_deployment(tmp_path: Path) -> None:
    result = set_up(tmp_path, register(tmp_path, "acme"))
    assert result.exit_code == 0
    record = tmp_path / "records" / "acme.json"
    data = json.loads(record.read_text())
    data["deployment"] = "stranger"
    record.write_text(json.dumps(data))
    added = vendor("deployments", "add", str(record), "--state-dir", str(tmp_path))
    assert added.exit_code == 2 and "no deployment named 'stranger' is registered" in added.stderr
