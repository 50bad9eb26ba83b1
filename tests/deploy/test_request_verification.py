"""The admin's review of a setup request is computed, never copied (DESIGN.md §1a): ``alien-deploy review`` and
``verify_request`` compute the permission delta, frozen changes and resources from the request's stack against
the admin's own last setup record, and refuse a request that states anything else (its stack and digest intact),
one built on another setup record, one already applied, or one for another deployment; nothing changes on a
refusal. The vendor builds a request on the setup record it imported, even after releases replaced its deployed
record."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from alien_pulumi.deploy.request import SetupRequestError, read_request, read_setup_record, verify_request
from alien_pulumi.fleet.registry import Registry
from tests.artifacts import artifact
from tests.deploy.lifecycle import QUICKSTART, SHARED_STATE, admin, deployed, edited, vendor
from tests.fleet.test_setup_requests import FAST, OFFLINE, stack_with_worker

WORKER_ARN = "arn:aws:lambda:eu-west-1:210987654321:function:acme-worker"


def files_of(state: Path) -> dict[str, bytes]:
    """Every file of the state directory, byte for byte: the admin's records, the registry (and its journal)."""
    return {str(p.relative_to(state)): p.read_bytes() for p in sorted(state.rglob("*")) if p.is_file()}


def setup_again(state: Path, stack: Path, *extra: str) -> None:
    """The admin runs setup again without a request (the vendor's registry does not import it), from the spec
    artifact of ``stack``."""
    result = admin("up", str(artifact(stack)), "--bundle", str(state / "acme.bundle.json"), "--yes", "--engine", FAST,
                   "--state-dir", str(state), *SHARED_STATE, *extra)
    assert result.exit_code == 0, result.output


def requested(state: Path, stack: Path, release: str, *extra: str) -> Path:
    """The vendor's release of ``stack`` awaits setup: its request, as the vendor hands it over."""
    result = vendor("release", str(stack), "-d", "acme", "--release-id", release, *OFFLINE, "--state-dir", str(state),
                    *extra)
    assert result.exit_code == 3 and "awaiting setup" in result.stdout, result.output
    path = state.parent / f"{release}.request.json"
    written = vendor("setup-request", "-d", "acme", "--out", str(path), "--state-dir", str(state))
    assert written.exit_code == 0, written.output
    return path


@pytest.fixture
def state(tmp_path: Path) -> Path:
    """acme set up with the quickstart and imported; requests and edited copies live outside this directory."""
    where = tmp_path / "state"
    where.mkdir()
    deployed(where, "acme", engine=FAST)
    return where


@pytest.fixture
def request_file(state: Path) -> Path:
    """The request of a release adding a live function without function/provision for it."""
    return requested(state, stack_with_worker(state.parent), "r2")


def refused(state: Path, request: Path, *flags: str) -> str:
    """Review the request in every output form: each is refused (exit 2, one clear message, no review shown)
    and nothing in the state directory changes. Returns the message."""
    gc.collect()  # the vendor's in-process runs may leave a registry connection to close (its journal with it)
    before = files_of(state)
    messages = set()
    for form in ((), ("--markdown",), ("--json",)):
        result = admin("review", str(request), *(flags or ("--state-dir", str(state))), *form)
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        if form == ("--json",):
            assert set(json.loads(result.stdout)) == {"error"}
        else:
            assert result.stdout == "", "no review is shown"
        messages.add(" ".join(result.stderr.split()))
    assert files_of(state) == before
    [message] = messages
    return message


def _management(data: dict[str, Any]) -> dict[str, Any]:
    return next(d for d in data["permissions"] if d["layer"] == "management")


def blank_permissions(data: dict[str, Any]) -> None:
    data["permissions"] = []


def drop_update_function_code(data: dict[str, Any]) -> None:
    management = _management(data)
    management["changes"] = [c for c in management["changes"] if c["action"] != "lambda:UpdateFunctionCode"]


def invent_a_revocation(data: dict[str, Any]) -> None:
    _management(data)["changes"].append({"change": "revoke", "action": "lambda:GetFunction",
                                         "resource": "arn:aws:lambda:eu-west-1:210987654321:function:acme-api",
                                         "condition": ""})


def blank_resources(data: dict[str, Any]) -> None:
    data["resources"] = []


def frozen_instead_of_live(data: dict[str, Any]) -> None:
    data["resources"][0]["lifecycle"] = "frozen"


@pytest.mark.parametrize(("change", "expected"), [
    (blank_permissions, "the request states no permission changes; computed: + acme-management (management) "),
    (drop_update_function_code, "permission changes the request does not state; computed: + acme-management "
                                f"(management) lambda:UpdateFunctionCode on {WORKER_ARN}"),
    (invent_a_revocation, "permission changes the request states, not computed: - acme-management (management) "
                          "lambda:GetFunction on arn:aws:lambda:eu-west-1:210987654321:function:acme-api"),
    (blank_resources, "the request states no resource changes; computed: worker (function, live) added"),
    (frozen_instead_of_live, "resource changes the request states, not computed: worker (function, frozen) added"),
])
def test_a_request_stating_other_changes_than_its_stack_makes_is_refused(
        state: Path, request_file: Path, change: Callable[[dict[str, Any]], None], expected: str) -> None:
    message = refused(state, edited(request_file, change))
    assert message.startswith(f"error: setup request {read_request(request_file).id} does not state what its stack "
                              "changes over your setup setup-")
    assert expected in message


def test_blanked_permissions_name_the_computed_delta(state: Path, request_file: Path) -> None:
    """What the customer's security team saw as "permission changes: none": refused, the first grants computed
    named and the rest counted."""
    message = refused(state, edited(request_file, blank_permissions))
    grants = sum(len(d["changes"]) for d in json.loads(request_file.read_text())["permissions"])
    assert grants > 3
    assert f"(and {grants - 3} more)" in message
    assert "+ acme-management (management) events:DescribeRule on arn:aws:events:eu-west-1:210987654321:rule/" \
           "acme-worker" in message


def test_a_hidden_frozen_change_is_refused(state: Path) -> None:
    stack = state.parent / "worker_and_versioning.py"
    stack.write_text(stack_with_worker(state.parent).read_text().replace("versioning=True", "versioning=False"))
    request = requested(state, stack, "r3", "--allow-frozen-changes")
    assert json.loads(request.read_text())["frozen_changes"], "the vendor's tool states it"
    message = refused(state, edited(request, lambda data: data.update(frozen_changes=[])))
    assert "the request states no frozen changes; computed: data.versioning: true -> false" in message


def test_a_request_built_against_an_older_setup_record_is_refused(state: Path, request_file: Path) -> None:
    """The admin set up again since the vendor imported its record: the request builds on the older one."""
    changed = state.parent / "changed.py"
    changed.write_text(QUICKSTART.read_text().replace("versioning=True", "versioning=False"))
    setup_again(state, changed, "--allow-frozen-changes")
    last = read_setup_record(state / "records" / "acme.json")
    message = refused(state, request_file)
    request = read_request(request_file)
    assert f"setup request {request.id} was built against another setup record than your last setup " \
           f"{last.release}" in message
    assert f"digest {request.setup.digest[:12]}, yours {last.digest[:12]}" in message
    assert f"frozen_digest {request.setup.frozen_digest[:12]}, yours {last.frozen_digest[:12]}" in message
    assert "ask the vendor for a request against your last setup" in message

    # Naming the admin's last setup as its base does not make it true: its stack is checked against that record.
    claimed = edited(request_file, lambda data: data.update(setup={
        "release": last.release, "digest": last.digest, "frozen_digest": last.frozen_digest}))
    lying = refused(state, claimed)
    assert "the request states no frozen changes; computed: data.versioning: false -> true" in lying


def test_a_request_already_applied_is_refused(state: Path, request_file: Path) -> None:
    """The admin applied the request: their setup record names it, as ``alien-deploy up --request`` writes it."""
    request = read_request(request_file)
    setup_again(state, stack_with_worker(state.parent))
    path = state / "records" / "acme.json"
    record = json.loads(path.read_text())
    record["setup_request"] = {"id": request.id, "digest": request.digest, "reviewed_at": "2026-12-02T10:00:00+00:00"}
    path.write_text(json.dumps(record, indent=2))
    message = refused(state, request_file)
    assert f"setup request {request.id} was already applied by your setup {record['release']}" in message


def test_a_request_for_another_deployment_is_refused(state: Path, request_file: Path) -> None:
    deployed(state, "gamma", engine=FAST)
    message = refused(state, request_file, "--record", str(state / "records" / "gamma.json"))
    assert f"setup request {read_request(request_file).id} is for deployment acme (aws), not gamma (aws)" in message


def test_a_request_is_reviewed_only_against_the_admins_own_setup_record(state: Path, request_file: Path) -> None:
    elsewhere = state.parent / "elsewhere"
    elsewhere.mkdir()
    missing = refused(state, request_file, "--state-dir", str(elsewhere))
    assert f"no setup record at {elsewhere / 'records' / 'acme.json'}" in missing
    assert "a setup request can only be reviewed against your own last setup record" in missing

    manage = elsewhere / "manage.json"
    manage.write_text(json.dumps({**json.loads((state / "records" / "acme.json").read_text()), "program": "manage"}))
    assert "is a manage record, not a setup record" in refused(state, request_file, "--record", str(manage))

    both = admin("review", str(request_file), "--record", str(manage), "--state-dir", str(state))
    assert both.exit_code == 2 and "give --record or --state-dir, not both" in both.stderr


def test_the_verified_review_is_the_computed_one_and_the_reasons_stay_the_vendors(state: Path,
                                                                                 request_file: Path) -> None:
    request = read_request(request_file)
    verified = verify_request(request, read_setup_record(state / "records" / "acme.json"))
    assert verified.review == request.stated()
    assert verified.spec.digest() == request.digest and verified.setup.release == request.setup.release
    assert [r.resource for r in verified.review.resources] == ["worker"]
    # The vendor's words may say anything: they are shown as its explanation, never checked or computed.
    worded = read_request(edited(request_file, lambda data: data.update(reasons=["nothing to see here"])))
    shown = verify_request(worded, read_setup_record(state / "records" / "acme.json"))
    assert shown.review == verified.review and shown.request.reasons == ["nothing to see here"]
    review = admin("review", str(request_file.with_name("edited.json")), "--state-dir", str(state))
    assert review.exit_code == 0, review.output
    assert "the vendor's explanation (not checked" in review.stdout
    assert review.stdout.index("nothing to see here") > review.stdout.index("the vendor's explanation")


def test_a_library_refusal_is_a_setup_request_error(state: Path, request_file: Path) -> None:
    setup = read_setup_record(state / "records" / "acme.json")
    data = json.loads(request_file.read_text())
    blanked = read_request(edited(request_file, blank_permissions))
    with pytest.raises(SetupRequestError, match=rf"setup request {data['id']} does not state what its stack"):
        verify_request(blanked, setup)


def test_after_releases_the_request_still_builds_on_the_setup_record(state: Path) -> None:
    """A release replaced the vendor's deployed record: the request names that record as checked against, and
    builds on the setup record, which the admin's review accepts."""
    newer_api = state.parent / "newer_api.py"
    newer_api.write_text(QUICKSTART.read_text().replace('image="api:1.4.2"', 'image="api:1.5.0"'))
    released = vendor("release", str(newer_api), "-d", "acme", "--release-id", "r1", *OFFLINE,
                      "--state-dir", str(state))
    assert released.exit_code == 0, released.output
    with Registry(state) as registry:
        assert registry.get_deployment("acme").record.release == "r1"  # type: ignore[union-attr]
    request = read_request(requested(state, stack_with_worker(state.parent), "r2"))
    setup = read_setup_record(state / "records" / "acme.json")
    assert request.deployed.release == "r1"
    assert (request.setup.release, request.setup.digest, request.setup.frozen_digest) == (
        setup.release, setup.digest, setup.frozen_digest)
    assert verify_request(request, setup).review == request.stated()


def test_a_fresh_machine_verifies_a_request_against_the_record_kept_in_the_cloud(
        state: Path, request_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CI runner has no local record: the request is checked against the copy setup kept in the deployment's
    store (moto's S3 here), and refused as before when there is none."""
    import boto3
    from moto.s3.models import s3_backends

    from alien_pulumi.cli.deploy import _request_baseline
    from tests.moto_server import moto_server

    record = state / "records" / "acme.json"
    stated = read_request(request_file)
    bundle = state / "acme.bundle.json"
    fresh = tmp_path / "runner"
    with moto_server(reset=(s3_backends,)) as endpoint:
        for key, value in {"AWS_ENDPOINT_URL_S3": endpoint, "AWS_ACCESS_KEY_ID": "AKIAADMIN",
                           "AWS_SECRET_ACCESS_KEY": "admin", "AWS_DEFAULT_REGION": "eu-west-1"}.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        with pytest.raises(SetupRequestError, match="no setup record at"):
            _request_baseline(stated, bundle, {}, None, fresh, "pulumi")  # no store yet, nothing local
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(Bucket="acme-state-210987654321", CreateBucketConfiguration={"LocationConstraint":
                                                                                      "eu-west-1"})
        s3.put_object(Bucket="acme-state-210987654321", Key="alien-setup/record.json", Body=record.read_bytes())
        baseline = _request_baseline(stated, bundle, {}, None, fresh, "pulumi")
    assert baseline == read_setup_record(record)
    assert verify_request(stated, baseline).review.permissions  # the new function's grants, computed
