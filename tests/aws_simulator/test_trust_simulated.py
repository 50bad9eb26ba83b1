"""The management role's rendered trust policy, evaluated by a real AWS policy simulator (iam-simulate): the
vendor may assume it only with the external id, a source identity and exactly the session tags, and only before
the access window ends."""

from __future__ import annotations

from typing import Any

import pytest

import alien_pulumi as alien
from alien_pulumi.automation.credentials import session_tags
from alien_pulumi.permissions import derive_plan
from alien_pulumi.permissions.render import render_layer
from tests.aws_simulator import ROLE, VENDOR_SESSION, allowed, assume_role

EXTERNAL_ID = "x7Kq2Vb9mT4wLz8Rj3Nc6Hy1Pd5Fs0Ga2Ue7Qo9Wi4E"
VENDOR_ROLE = "arn:aws:iam::111122223333:role/alien-release"
UNTIL = "2027-03-31T18:00:00Z"
BEFORE, AFTER = "2027-03-31T17:59:59Z", "2027-03-31T18:00:00Z"
# What the release service sends (automation/credentials.py): its tags, and the release as source identity.
RELEASE = "r20270301T120000Z"
TAGS = {tag["Key"]: tag["Value"] for tag in session_tags(RELEASE, "acme")}


def trust(access_until: str | None = UNTIL) -> dict[str, Any]:
    spec = alien.Stack("my-app").platforms("aws").add(alien.Storage("data"), "frozen").build()
    ctx = alien.DeploymentContext.create("aws", "my-app", prefix="acme", account_id="123456789012",
                                         region="eu-west-1", vendor_principal=VENDOR_ROLE, external_id=EXTERNAL_ID,
                                         access_until=access_until)
    return render_layer(derive_plan(spec, ctx), "management")["trust_policy"]


def release_call(doc: dict[str, Any], **changes: Any) -> dict[str, str]:
    """The release service's AssumeRole (automation/credentials.py), with ``changes``."""
    call: dict[str, Any] = {"at": BEFORE, "external_id": EXTERNAL_ID, "source_identity": RELEASE,
                            "tags": TAGS, **changes}
    return assume_role(doc, **call)


def test_the_release_service_may_assume_the_role_before_the_date() -> None:
    results = release_call(trust())
    assert results == {"sts:AssumeRole": "Allowed", "sts:SetSourceIdentity": "Allowed", "sts:TagSession": "Allowed"}


def test_at_and_after_the_date_every_action_is_denied() -> None:
    for at in (AFTER, "2031-01-01T00:00:00Z"):
        results = release_call(trust(), at=at)
        assert set(results.values()) == {"ImplicitlyDenied"}, (at, results)


def test_without_an_access_window_there_is_no_expiry() -> None:
    assert allowed(release_call(trust(None), at="2099-01-01T00:00:00Z"))


@pytest.mark.parametrize("changes", [
    {"source_identity": None},  # no SourceIdentity: CloudTrail would not name the release
    {"tags": None},  # no session tags at all
    {"tags": {"alien:release": RELEASE}},  # one of the two
    {"tags": {**TAGS, "team": "x"}},  # a tag key beyond the two
    {"external_id": "wrong-external-id-wrong-external-id-0"},
    {"external_id": None},
], ids=["no-source-identity", "no-tags", "one-tag", "extra-tag", "wrong-external-id", "no-external-id"])
def test_a_call_without_what_the_trust_requires_is_denied(changes: dict[str, Any]) -> None:
    results = release_call(trust(), **changes)
    assert results["sts:AssumeRole"] == "ImplicitlyDenied", results


def test_another_principal_is_denied() -> None:
    stranger = "arn:aws:sts::444455556666:assumed-role/alien-release/release-service"
    assert not allowed(release_call(trust(), principal=stranger))
    assert VENDOR_SESSION.split(":")[4] == VENDOR_ROLE.split(":")[4]  # the allowed case is the vendor's account


def test_every_statement_names_the_vendor_and_ends_at_the_date() -> None:
    doc = trust()
    assert {st["Action"] for st in doc["Statement"]} == {"sts:AssumeRole", "sts:SetSourceIdentity",
                                                         "sts:TagSession"}
    for st in doc["Statement"]:
        assert st["Principal"] == {"AWS": VENDOR_ROLE} and st["Effect"] == "Allow"
        assert st["Condition"]["DateLessThan"] == {"aws:CurrentTime": UNTIL}


# Why one statement per action with the requirements on AssumeRole (the comment in permissions/render/aws.py):
# the simulator shows what the two simpler designs do.


def _vendor(action: str | list[str], condition: dict[str, Any]) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": {"AWS": VENDOR_ROLE}, "Action": action, "Condition": condition}


def test_requirements_on_the_tag_and_identity_actions_alone_let_a_bare_call_through() -> None:
    # sts:SetSourceIdentity and sts:TagSession are evaluated only when a call sets them: a call that sets neither
    # never meets their conditions.
    doc = {"Version": "2012-10-17", "Statement": [
        _vendor("sts:AssumeRole", {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}}),
        _vendor("sts:SetSourceIdentity", {"StringLike": {"sts:SourceIdentity": "?*"}}),
        _vendor("sts:TagSession", {"Null": {"aws:RequestTag/alien:release": "false"}})]}
    assert allowed(release_call(doc, source_identity=None, tags=None))


def test_the_external_id_on_all_three_actions_denies_even_the_release_service() -> None:
    # sts:ExternalId is a key of sts:AssumeRole alone: on the other actions it is absent, so the condition fails.
    doc = {"Version": "2012-10-17", "Statement": [
        _vendor(["sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"],
                {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}})]}
    results = release_call(doc)
    assert results["sts:AssumeRole"] == "Allowed"
    assert results["sts:SetSourceIdentity"] == results["sts:TagSession"] == "ImplicitlyDenied"
    assert ROLE.endswith(":role/acme-management")
