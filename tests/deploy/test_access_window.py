"""The vendor's access window (`--access-until`, `alien:accessUntil`): the context field, the bundle that
carries it, the admin's override, the refusals that leave nothing behind, the record the vendor imports, and
`alien-deploy access`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest

import alien_pulumi as alien
from alien_pulumi.errors import ContextError
from alien_pulumi.model.record import ReleaseRecord
from tests.artifacts import artifact
from tests.deploy.lifecycle import QUICKSTART, VENDOR_ROLE, admin, register, set_up, vendor
from tests.moto_server import moto_server

AWS = {"account_id": "210987654321", "region": "eu-west-1", "vendor_principal": VENDOR_ROLE,
       "external_id": "e" * 43}


@pytest.mark.parametrize(("given", "normalised"), [
    ("2027-03-31", "2027-03-31T00:00:00Z"),
    ("2027-03-31T18:00Z", "2027-03-31T18:00:00Z"),
    ("2027-03-31T18:00:05Z", "2027-03-31T18:00:05Z"),
    ("2027-03-31T18:00:05+00:00", "2027-03-31T18:00:05Z"),
])
def test_access_until_is_normalised_to_utc_seconds(given: str, normalised: str) -> None:
    ctx = alien.DeploymentContext.create("aws", "s", access_until=given, **AWS)
    assert ctx.access_until == normalised and ctx.facts()["access_until"] == normalised


@pytest.mark.parametrize("bad", ["31/03/2027", "2027-03-31T18:00:00+02:00", "2027-02-30", "2027-03-31 18:00:00Z",
                                 "2027-03-31T18:00:00", "soon"])
@pytest.mark.parametrize(("naming", "name"), [("flag", "--access-until"), ("config", "alien:accessUntil"),
                                              ("field", "access_until")])
def test_a_malformed_access_date_names_the_field_as_typed(bad: str, naming: str, name: str) -> None:
    with pytest.raises(ContextError) as info:
        alien.DeploymentContext.from_fields("gcp", "s", {"project": "acme-prod-4711", "region": "europe-west4",
                                                         "vendor_principal": "a-vendor@vendor-1234.iam."
                                                         "gserviceaccount.com", "access_until": bad},
                                            naming=naming)  # type: ignore[arg-type]
    (problem,) = info.value.problems
    assert (problem.field, problem.code) == (name, "MALFORMED")
    assert "is not an ISO 8601 UTC date" in problem.message


def test_a_past_window_still_loads_from_a_record() -> None:
    # The validator checks the form only: a setup record of a window now over is history, not an error.
    ctx = alien.DeploymentContext.create("aws", "s", access_until="2020-01-01", **AWS)
    assert ctx.access_until == "2020-01-01T00:00:00Z"
    assert alien.DeploymentContext.model_validate_json(ctx.model_dump_json()) == ctx


def test_the_bundle_carries_the_vendors_date(tmp_path: Path) -> None:
    bundle = json.loads(register(tmp_path, "acme", "aws", "--access-until", "2031-06-30").read_text())
    assert bundle["bundle_version"] == 2
    assert bundle["context"]["access_until"] == "2031-06-30T00:00:00Z"


def test_the_admins_flag_overrides_it_and_the_vendor_imports_the_record(tmp_path: Path) -> None:
    bundle = register(tmp_path, "acme", "aws", "--access-until", "2031-06-30")
    result = set_up(tmp_path, bundle, "--access-until", "2030-12-31T12:00:00Z")
    assert result.exit_code == 0, result.output
    assert "--access-until overrides the bundle: 2031-06-30T00:00:00Z -> 2030-12-31T12:00:00Z" in result.stdout
    record = ReleaseRecord.model_validate_json((tmp_path / "records" / "acme.json").read_text())
    assert record.context.access_until == "2030-12-31T12:00:00Z"
    trust = record.permissions["management"]["trust_policy"]["Statement"]
    assert {st["Condition"]["DateLessThan"]["aws:CurrentTime"] for st in trust} == {"2030-12-31T12:00:00Z"}
    # the registration said 2031-06-30: the admin's choice is not a mismatch
    added = vendor("deployments", "add", str(tmp_path / "records" / "acme.json"), "--state-dir", str(tmp_path))
    assert added.exit_code == 0, added.output
    shown = json.loads(vendor("deployments", "show", "acme", "--state-dir", str(tmp_path), "--json").stdout)
    assert "2030-12-31T12:00:00Z" in json.dumps(shown)


def test_the_same_instant_in_another_form_overrides_nothing(tmp_path: Path) -> None:
    bundle = register(tmp_path, "acme", "aws", "--access-until", "2031-06-30")
    same = set_up(tmp_path, bundle, "--access-until", "2031-06-30T00:00+00:00")
    assert same.exit_code == 0, same.output
    assert "overrides the bundle" not in same.stdout


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The admin's credentials against moto: a setup that bootstrapped anything would leave it there."""
    from moto.iam.models import iam_backends
    from moto.kms.models import kms_backends
    from moto.s3.models import s3_backends

    with moto_server(enforce_iam=False, reset=(iam_backends, s3_backends, kms_backends)) as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        yield endpoint


def nothing_created(endpoint: str, state: Path) -> None:
    s3 = boto3.client("s3", region_name="eu-west-1", endpoint_url=endpoint)
    kms = boto3.client("kms", region_name="eu-west-1", endpoint_url=endpoint)
    assert s3.list_buckets()["Buckets"] == [] and kms.list_keys()["Keys"] == []
    assert not (state / "records").exists() and not (state / "workspaces").exists()


@pytest.mark.parametrize("command", ["up", "preview", "bootstrap"])
def test_a_past_date_from_the_flag_is_refused_before_anything_exists(moto: str, tmp_path: Path,
                                                                       command: str) -> None:
    bundle = register(tmp_path / "vendor", "acme")
    args = ["--spec", str(artifact(QUICKSTART))] if command == "bootstrap" else [str(artifact(QUICKSTART)),
                                                                                   "--state-dir", str(tmp_path)]
    result = admin(command, *args, "--bundle", str(bundle), "--access-until", "2020-01-01")
    assert result.exit_code == 2, result.output
    assert "--access-until: 2020-01-01T00:00:00Z is in the past" in result.stderr
    assert "Traceback" not in result.output
    nothing_created(moto, tmp_path)


def test_a_past_date_in_the_bundle_is_refused_too(moto: str, tmp_path: Path) -> None:
    bundle = register(tmp_path / "vendor", "acme", "aws", "--access-until", "2031-01-01")
    data = json.loads(bundle.read_text())
    data["context"]["access_until"] = "2021-01-01T00:00:00Z"  # a bundle handed over too late
    bundle.write_text(json.dumps(data))
    result = admin("up", str(artifact(QUICKSTART)), "--bundle", str(bundle), "--yes", "--state-dir", str(tmp_path))
    assert result.exit_code == 2 and "--access-until: 2021-01-01T00:00:00Z is in the past" in result.stderr
    nothing_created(moto, tmp_path)


def test_a_malformed_date_is_refused_naming_the_flag(moto: str, tmp_path: Path) -> None:
    bundle = register(tmp_path / "vendor", "acme")
    result = admin("up", str(artifact(QUICKSTART)), "--bundle", str(bundle), "--yes", "--state-dir", str(tmp_path),
                   "--access-until", "next tuesday")
    assert result.exit_code == 2
    assert "--access-until: 'next tuesday' is not an ISO 8601 UTC date" in result.stderr
    nothing_created(moto, tmp_path)


@pytest.mark.parametrize(("date", "says"), [("2027-13-01", "is not an ISO 8601 UTC date"),
                                           ("2020-01-01", "2020-01-01T00:00:00Z is in the past")])
def test_the_vendor_cannot_register_a_malformed_or_past_date(tmp_path: Path, date: str, says: str) -> None:
    result = vendor("deployments", "new", "acme", "-p", "aws", "--account-id", "210987654321", "--region",
                    "eu-west-1", "--vendor-principal", VENDOR_ROLE, "--access-until", date,
                    "--out", str(tmp_path / "b.json"), "--state-dir", str(tmp_path), "--json")
    assert result.exit_code == 2
    (problem,) = json.loads(result.stdout)["error"]["problems"]
    assert problem["field"] == "--access-until" and says in problem["message"]
    assert not (tmp_path / "b.json").exists()
    listed = vendor("deployments", "list", "--state-dir", str(tmp_path), "--json")
    assert json.loads(listed.stdout) == []  # nothing registered


# alien-deploy access --------------------------------------------------------------------------------------


def access(*args: str) -> tuple[int, str, str]:
    result = admin("access", *args)
    return result.exit_code, result.stdout, result.stderr


def test_access_from_an_aws_record(tmp_path: Path) -> None:
    assert set_up(tmp_path, register(tmp_path, "acme", "aws", "--access-until", "2030-01-01")).exit_code == 0
    record = str(tmp_path / "records" / "acme.json")
    code, stdout, _ = access("--record", record, "--json")
    assert code == 0
    found = json.loads(stdout)
    assert found == {
        "deployment": "acme", "platform": "aws", "source": "record", "principal": VENDOR_ROLE, "issuer": None,
        "management_identity": "arn:aws:iam::210987654321:role/acme-management", "external_id": "required",
        "access_until": "2030-01-01T00:00:00Z",
        "enforced_by": "the trust policy: DateLessThan aws:CurrentTime 2030-01-01T00:00:00Z on every statement "
                       "allowing the vendor's principal (sessions issued before it last at most their hour)",
        "expired": False, "revoked_at": None}
    code, human, _ = access("--record", record)
    assert code == 0
    for text in ("vendor access to acme (aws, from the record)", VENDOR_ROLE, "required", "2030-01-01T00:00:00Z",
                 "DateLessThan aws:CurrentTime"):
        assert text in human


def test_access_reads_the_window_from_what_setup_created(tmp_path: Path) -> None:
    # The record's rendered trust is what the cloud holds: it, not the context, is reported.
    assert set_up(tmp_path, register(tmp_path, "acme", "aws", "--access-until", "2030-01-01")).exit_code == 0
    path = tmp_path / "records" / "acme.json"
    data = json.loads(path.read_text())
    for st in data["permissions"]["management"]["trust_policy"]["Statement"]:
        del st["Condition"]["DateLessThan"]
    path.write_text(json.dumps(data))
    found = json.loads(access("--record", str(path), "--json")[1])
    assert (found["access_until"], found["enforced_by"]) == (None, "no expiry")


@pytest.mark.parametrize(("platform", "until", "enforced"), [
    ("gcp", "2030-01-01", 'an IAM condition on the vendor\'s impersonation binding: request.time < '
                          'timestamp("2030-01-01T00:00:00Z")'),
    ("azure", "2030-01-01", "not by Azure: a federated identity credential has no time condition; your admin "
                            "enforces the date by revoking access then (alien-deploy revoke)"),
    ("aws", None, "no expiry"),
    ("gcp", None, "no expiry"),
])
def test_access_from_a_bundle(tmp_path: Path, platform: str, until: str | None, enforced: str) -> None:
    bundle = register(tmp_path, "acme", platform, *(["--access-until", until] if until else []))
    code, stdout, _ = access("--bundle", str(bundle), "--json")
    assert code == 0
    found = json.loads(stdout)
    assert found["source"] == "bundle" and found["platform"] == platform
    assert found["enforced_by"].startswith(enforced)
    assert found["access_until"] == (f"{until}T00:00:00Z" if until else None)
    assert found["external_id"] == ("required" if platform == "aws" else "not used")
    code, human, _ = access("--bundle", str(bundle))
    assert code == 0 and ("no expiry" in human) is (until is None)


def test_an_expired_window_is_said_so(tmp_path: Path) -> None:
    bundle = register(tmp_path, "acme", "gcp", "--access-until", "2031-01-01")
    data = json.loads(bundle.read_text())
    data["context"]["access_until"] = "2021-01-01T00:00:00Z"
    bundle.write_text(json.dumps(data))
    found = json.loads(access("--bundle", str(bundle), "--json")[1])
    assert found["expired"] is True
    assert "(over)" in access("--bundle", str(bundle))[1]


@pytest.mark.parametrize("args", [[], ["--record", "a.json", "--bundle", "b.json"], ["--record", "missing.json"],
                                  ["--bundle", "missing.json"]])
def test_access_usage_errors_are_one_json_document(tmp_path: Path, args: list[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, stdout, stderr = access(*args, "--json")
    assert code == 2
    assert json.loads(stdout)["error"]["code"] == "UsageError" and stderr.startswith("error:")


def test_access_refuses_a_file_that_is_no_record(tmp_path: Path) -> None:
    bundle = register(tmp_path, "acme")
    code, stdout, _ = access("--record", str(bundle), "--json")
    assert code == 1 and "not a release record" in json.loads(stdout)["error"]["message"]


@pytest.fixture
def root_config() -> Iterator[Callable[[str], None]]:
    """The root program's config (`pulumi config set alien:...`), as a plain `pulumi up` of setup has it."""
    from pulumi.runtime.config import set_all_config

    def configure(until: str) -> None:
        set_all_config({"alien:platform": "aws", "alien:stack": str(artifact(QUICKSTART)),
                        "alien:accountId": "210987654321", "alien:region": "eu-west-1",
                        "alien:vendorPrincipal": VENDOR_ROLE, "alien:externalId": "e" * 43, "alien:accessUntil": until})

    yield configure
    set_all_config({})


def test_a_plain_pulumi_up_of_setup_refuses_a_past_date_by_its_config_key(root_config: Callable[[str], None]
                                                                           ) -> None:
    import pulumi

    from alien_pulumi.components.base import ProgramKind
    from alien_pulumi.programs import entry
    from alien_pulumi.synth.mocks import run_program

    root_config("2020-01-01")
    with pytest.raises(pulumi.RunError, match=r"alien:accessUntil: 2020-01-01T00:00:00Z is in the past") as info:
        run_program(lambda: entry.run(ProgramKind.PROVISION), "alien", "my-app")
    assert "set each with `pulumi config set <key> <value>`" in str(info.value)
    # The management program of a deployment whose window is over still builds: the cloud refuses the vendor.
    assert run_program(lambda: entry.run(ProgramKind.MANAGE), "alien", "my-app")
    root_config("2031-01-01")
    registrations = run_program(lambda: entry.run(ProgramKind.PROVISION), "alien", "my-app")
    (role,) = [r for r in registrations if r.type == "aws:iam/role:Role" and r.name.endswith("management")]
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert {st["Condition"]["DateLessThan"]["aws:CurrentTime"] for st in trust["Statement"]} == \
        {"2031-01-01T00:00:00Z"}
