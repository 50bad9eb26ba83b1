"""alien-deploy: the admin's setup through the CLI (simulated engine, and the real Automation API against
the recording stand-in CLI)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from alien_pulumi.cli.deploy import app
from alien_pulumi.model.record import ReleaseRecord
from tests.artifacts import artifact
from tests.conftest import ROOT
from tests.deploy.lifecycle import CUSTOMER, SHARED_STATE, register, set_up
from tests.fake_cli.fixtures import FakeCli

QUICKSTART = ROOT / "examples" / "my_app.py"
runner = CliRunner()


def deploy(*args: str, stdin: str | None = None) -> object:
    return runner.invoke(app, list(args), input=stdin, catch_exceptions=False)


def test_up_writes_the_release_record(tmp_path: Path) -> None:
    result = set_up(tmp_path, register(tmp_path, "acme"))
    assert result.exit_code == 0, result.output
    record = ReleaseRecord.model_validate_json((tmp_path / "records" / "acme.json").read_text())
    assert record.program == "provision" and record.deployment == "acme"
    assert record.digest == record.spec.digest() and record.context.prefix == "acme"
    assert record.context.account_id == "210987654321" and not record.context.example
    assert set(record.permissions) == {"provisioning", "management", "runtime"}
    assert record.targets and all("::alien:aws:" in t for t in record.targets)
    assert "what the vendor needs" in result.stdout  # type: ignore[attr-defined]


def test_up_asks_before_applying(tmp_path: Path) -> None:
    result = deploy("up", str(artifact(QUICKSTART)), "-p", "gcp", *CUSTOMER["gcp"], "--engine", "simulated:1",
                    "--state-dir", str(tmp_path), "--backend", "gs://acme-state", "--secrets-provider",
                    "gcpkms://projects/p/locations/europe-west4/keyRings/r/cryptoKeys/k", "--allow-external-backend",
                    stdin="n\n")
    assert result.exit_code == 5  # type: ignore[attr-defined]
    assert "nothing applied" in result.stdout  # type: ignore[attr-defined]
    assert not (tmp_path / "records").exists()


def test_second_setup_preflights_frozen_changes(tmp_path: Path) -> None:
    common = ["-p", "aws", *CUSTOMER["aws"], "--external-id", "x" * 32, "--engine", "simulated:1",
              "--state-dir", str(tmp_path), "--yes", *SHARED_STATE]
    assert deploy("up", str(artifact(QUICKSTART)), *common).exit_code == 0  # type: ignore[attr-defined]
    changed = tmp_path / "stack.py"
    changed.write_text(QUICKSTART.read_text().replace("versioning=True", "versioning=False"))
    blocked = deploy("up", str(artifact(changed)), *common)
    assert blocked.exit_code == 3  # type: ignore[attr-defined]
    assert "FROZEN_CHANGED data.versioning: True -> False" in blocked.stdout  # type: ignore[attr-defined]
    allowed = deploy("up", str(artifact(changed)), *common, "--allow-frozen-changes")
    assert allowed.exit_code == 0  # type: ignore[attr-defined]
    record = json.loads((tmp_path / "records" / "my-app.json").read_text())
    assert next(r for r in record["spec"]["resources"] if r["id"] == "data")["versioning"] is False


def test_preview_runs_the_provisioning_program_as_the_admin(tmp_path: Path, fake_cli: FakeCli) -> None:
    result = deploy("preview", str(artifact(QUICKSTART)), "--bundle", str(register(tmp_path, "acme")), "--state-dir",
                    str(tmp_path))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    call = fake_cli.call("preview")
    assert "--target" not in call["args"]
    assert call["env"]["AWS_ACCESS_KEY_ID"] == "AKIAADMIN"
    assert call["env"]["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] == "true", "the admin's run fetches no plugin"
    assert "[live]   update aws:lambda/function:Function api-function" in result.stdout  # type: ignore[attr-defined]
    assert (tmp_path / "workspaces" / "acme" / "provision" / "__main__.py").read_text().endswith(
        "run(ProgramKind.PROVISION)\n")


def test_up_applies_exactly_the_plan_its_preview_saved(tmp_path: Path, fake_cli: FakeCli) -> None:
    result = deploy("up", str(artifact(QUICKSTART)), "--bundle", str(register(tmp_path, "acme")), "--state-dir",
                    str(tmp_path), "--yes", *SHARED_STATE)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    preview, up = fake_cli.call("preview")["args"], fake_cli.call("up")["args"]
    saved = preview[preview.index("--save-plan") + 1]
    assert up[up.index("--plan") + 1] == saved
    assert Path(saved).is_relative_to(tmp_path), "the plan stays on the admin's machine"


def test_permissions_document(tmp_path: Path) -> None:
    result = deploy("permissions", str(artifact(QUICKSTART)), "-p", "azure")
    assert result.exit_code == 0  # type: ignore[attr-defined]
    assert "## What the vendor can never do" in result.stdout  # type: ignore[attr-defined]


def test_missing_cli_is_one_line(tmp_path: Path, fake_cli: FakeCli, monkeypatch: object) -> None:
    bundle = register(tmp_path, "acme")
    monkeypatch.setenv("PATH", str(tmp_path))  # the admin's cloud is there (fake_cli's), the Pulumi CLI is not  # type: ignore[attr-defined]
    result = deploy("preview", str(artifact(QUICKSTART)), "--bundle", str(bundle), "--state-dir", str(tmp_path))
    assert result.exit_code == 4  # type: ignore[attr-defined]
    assert result.stderr.strip().splitlines() == [  # type: ignore[attr-defined]
        "error: the Pulumi CLI is not on PATH: install it (https://www.pulumi.com/docs/install/) and run again"]


def test_real_setup_refuses_missing_and_malformed_context_writing_nothing(tmp_path: Path) -> None:
    result = deploy("up", str(artifact(QUICKSTART)), "-p", "azure", "--region", "West Europe", "--vendor-oidc-issuer",
                    "http://issuer", "--engine", "simulated:1", "--state-dir", str(tmp_path), "--yes")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert result.stderr.splitlines() == [  # type: ignore[attr-defined]
        "error: invalid deployment context (4 problems):",
        "  - --subscription-id: missing: the customer's Azure subscription id (a GUID)",
        "  - --vendor-principal: missing: the subject of the vendor's OIDC tokens the federated credential trusts",
        "  - --region: 'West Europe' is not an Azure location name (lowercase, e.g. eastus, westeurope)",
        "  - --vendor-oidc-issuer: 'http://issuer' is not an https issuer URL",
    ]
    assert not (tmp_path / "records").exists() and not (tmp_path / "workspaces").exists()


def test_a_flag_overrides_the_bundle_and_the_plan_says_so(tmp_path: Path) -> None:
    result = set_up(tmp_path, register(tmp_path, "acme"), "--region", "eu-central-1")
    assert result.exit_code == 0, result.output
    assert "--region overrides the bundle: eu-west-1 -> eu-central-1" in result.stdout
    record = ReleaseRecord.model_validate_json((tmp_path / "records" / "acme.json").read_text())
    assert record.context.region == "eu-central-1"


def test_a_bundle_for_another_cloud_or_a_broken_one_is_refused(tmp_path: Path) -> None:
    bundle = register(tmp_path, "acme")
    other = deploy("preview", str(artifact(QUICKSTART)), "--bundle", str(bundle), "-p", "gcp", "--state-dir",
                   str(tmp_path))
    assert other.exit_code == 2 and "the bundle is for aws, not gcp" in other.stderr  # type: ignore[attr-defined]
    data = json.loads(bundle.read_text())
    data["context"]["external_id"] = "short"
    bundle.write_text(json.dumps(data))
    broken = deploy("preview", str(artifact(QUICKSTART)), "--bundle", str(bundle), "--state-dir", str(tmp_path))
    assert broken.exit_code == 2  # type: ignore[attr-defined]
    assert "acme.bundle.json: context.external_id: the external id must be 32-1224" in broken.stderr  # type: ignore
    data["bundle_version"] = 99
    bundle.write_text(json.dumps(data))
    newer = deploy("preview", str(artifact(QUICKSTART)), "--bundle", str(bundle), "--state-dir", str(tmp_path))
    assert "bundle version 99 is newer" in newer.stderr  # type: ignore[attr-defined]


def test_record_after_a_plain_pulumi_up_reads_the_stack_on_the_store(tmp_path: Path, fake_cli: FakeCli,
                                                                     monkeypatch: object) -> None:
    bundle = register(tmp_path, "acme")
    monkeypatch.setenv("FAKE_PULUMI_OUTPUTS", json.dumps(  # type: ignore[attr-defined]
        {"management_identity": {"role_arn": "arn:aws:iam::210987654321:role/acme-management"}}))
    s3 = admin_s3()
    s3.create_bucket(Bucket=STORE_BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})  # bootstrap's
    result = deploy("record", str(artifact(QUICKSTART)), "--bundle", str(bundle), "--state-dir", str(tmp_path))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    local = (tmp_path / "records" / "acme.json").read_text()
    record = ReleaseRecord.model_validate_json(local)
    assert record.backend == "s3://acme-state-210987654321?region=eu-west-1"
    assert record.outputs["management_identity"]["role_arn"].endswith(":role/acme-management")
    assert not [c for c in fake_cli.calls() if "up" in c["args"]], "record runs nothing"
    # The same record is kept in the admin's store, beside .pulumi/ (where the management grants stop).
    kept = s3.get_object(Bucket=STORE_BUCKET, Key="alien-setup/record.json")["Body"].read().decode()
    assert ReleaseRecord.model_validate_json(kept) == record
    assert f"setup record kept at s3://{STORE_BUCKET}/alien-setup/record.json" in result.output  # type: ignore[attr-defined]


def admin_s3() -> Any:
    import boto3

    return boto3.session.Session(region_name="eu-west-1").client("s3")  # the fixture's admin, moto's S3


STORE_BUCKET = "acme-state-210987654321"


def test_a_setup_from_a_fresh_machine_checks_the_state_against_the_record_kept_in_the_cloud(
        tmp_path: Path, fake_cli: FakeCli, monkeypatch: pytest.MonkeyPatch) -> None:
    """The admin's laptop set the deployment up; a CI runner with an empty state directory runs the next setup. The
    vendor swapped the frozen bucket's id in the state meanwhile: the copy in the cloud is the baseline, so the swap
    is refused before the engine runs, exactly as on the laptop."""
    laptop, runner_dir = tmp_path / "laptop", tmp_path / "runner"
    bundle = register(laptop, "acme")
    admin_s3().create_bucket(Bucket=STORE_BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    state = [{"urn": "urn:pulumi:acme::alien::pulumi:pulumi:Stack::alien-acme", "type": "pulumi:pulumi:Stack"},
             {"urn": "urn:pulumi:acme::alien::alien:aws:Storage$aws:s3/bucket:Bucket::data-bucket",
              "type": "aws:s3/bucket:Bucket", "custom": True, "id": "acme-data", "inputs": {"bucket": "acme-data"}}]
    monkeypatch.setenv("FAKE_PULUMI_STATE", json.dumps(state))
    assert deploy("record", str(artifact(QUICKSTART)), "--bundle", str(bundle), "--state-dir",
                  str(laptop)).exit_code == 0  # type: ignore[attr-defined]
    state[1]["id"] = "customer-payroll"
    monkeypatch.setenv("FAKE_PULUMI_STATE", json.dumps(state))
    result = deploy("preview", str(artifact(QUICKSTART)), "--bundle", str(bundle), "--state-dir", str(runner_dir))
    assert result.exit_code == 3, result.output  # type: ignore[attr-defined]
    assert f"state checked against the setup record s3://{STORE_BUCKET}/alien-setup/record.json" in \
        result.output  # type: ignore[attr-defined]
    assert "data-bucket" in result.output and "customer-payroll" in result.output  # type: ignore[attr-defined]
    assert not [c for c in fake_cli.calls() if "preview" in c["args"]], "the engine never ran"


def test_record_refuses_a_state_holding_what_the_program_does_not_declare(tmp_path: Path, fake_cli: FakeCli,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """After a plain `pulumi up` on a state the vendor wrote into: the record would make an injected resource part of
    what the next setup trusts, so it is refused and no record is written."""
    injected = "urn:pulumi:acme::alien::aws:s3/bucket:Bucket::customer-payroll"
    monkeypatch.setenv("FAKE_PULUMI_STATE", json.dumps([
        {"urn": "urn:pulumi:acme::alien::pulumi:pulumi:Stack::alien-acme", "type": "pulumi:pulumi:Stack"},
        {"urn": injected, "type": "aws:s3/bucket:Bucket", "custom": True, "id": "customer-payroll"}]))
    result = deploy("record", str(artifact(QUICKSTART)), "--bundle", str(register(tmp_path, "acme")), "--state-dir",
                    str(tmp_path))
    assert result.exit_code == 3, result.output  # type: ignore[attr-defined]
    assert f"{injected}: not in your last setup record and not declared" in result.output  # type: ignore[attr-defined]
    assert not (tmp_path / "records" / "acme.json").exists()


def test_the_state_store_of_an_example_context_or_without_credentials_is_never_guessed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import alien_pulumi as alien
    from alien_pulumi.deploy.state_store import StateStoreError, bootstrap

    with pytest.raises(StateStoreError, match="example context is never created"):
        bootstrap(alien.DeploymentContext.example_context("aws", "s"))
    # No GCP credentials anywhere (no ADC file, no gcloud config, no metadata server): a clear error, exit 4.
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    gcp = register(tmp_path, "acme-gcp", "gcp")
    result = deploy("bootstrap", "--bundle", str(gcp), "--spec", str(artifact(QUICKSTART)))
    assert result.exit_code == 4  # type: ignore[attr-defined]
    assert "no GCP credentials for the state store bootstrap" in result.stderr  # type: ignore[attr-defined]
    # No AWS credentials either: said as such, never as a permission the admin lacks.
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = deploy("bootstrap", "--bundle", str(register(tmp_path, "acme")), "--spec", str(artifact(QUICKSTART)))
    assert result.exit_code == 4, result.output  # type: ignore[attr-defined]
    assert "no AWS credentials for the state store bootstrap" in result.stderr  # type: ignore[attr-defined]
    assert "provisioning layer" not in result.stderr  # type: ignore[attr-defined]


def test_a_record_on_local_state_is_refused_by_the_vendor(tmp_path: Path) -> None:
    """A release could never run on the admin's local directory: the vendor's import refuses it (exit 1)."""
    from tests.deploy.lifecycle import vendor

    local = ["--backend", (tmp_path / "local").as_uri()]
    assert set_up(tmp_path, register(tmp_path, "acme"), store=local).exit_code == 0
    added = vendor("deployments", "add", str(tmp_path / "records" / "acme.json"), "--state-dir", str(tmp_path))
    assert added.exit_code == 1 and "is a local directory" in added.stderr and "tests and demonstrations" in \
        added.stderr


def test_setup_never_offers_the_flag_for_what_it_cannot_apply(tmp_path: Path) -> None:
    common = ["-p", "aws", *CUSTOMER["aws"], "--external-id", "x" * 32, "--engine", "simulated:1",
              "--state-dir", str(tmp_path), "--yes", *SHARED_STATE]
    assert deploy("up", str(artifact(QUICKSTART)), *common).exit_code == 0  # type: ignore[attr-defined]
    removed = tmp_path / "stack.py"
    removed.write_text(QUICKSTART.read_text().replace('.add(secrets, "frozen")', ""))
    for extra in ([], ["--allow-frozen-changes"]):
        blocked = deploy("up", str(artifact(removed)), *common, *extra)
        assert blocked.exit_code == 3, blocked.stdout  # type: ignore[attr-defined]
        assert "FROZEN_REMOVED" in blocked.stdout  # type: ignore[attr-defined]
        assert "need --allow-frozen-changes" not in blocked.stdout  # type: ignore[attr-defined]
        assert "fix the stack" in blocked.stdout  # type: ignore[attr-defined]


def test_a_deployment_name_that_is_a_path_is_refused_before_any_file_is_touched(tmp_path: Path) -> None:
    for command in ("revoke", "restore"):
        result = deploy(command, "-d", "../../etc/passwd", "--state-dir", str(tmp_path))
        assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
        assert result.stderr.strip() == ("error: --deployment: '../../etc/passwd' is not a deployment name: use "  # type: ignore[attr-defined]
                                         "1-63 lowercase letters, digits and '-', starting with a letter and not "
                                         "ending with '-'")
    from alien_pulumi.deploy.setup import record_path
    from alien_pulumi.errors import ContextError

    with pytest.raises(ContextError, match="is not a deployment name"):
        record_path(tmp_path, "../x")
    assert record_path(tmp_path, "acme") == tmp_path / "records" / "acme.json"
