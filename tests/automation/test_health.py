"""Heartbeat health: an AWS bucket's health from direct configuration reads (never HeadBucket), and the
refresh-based health merged per resource."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto import settings as moto_settings

import alien_pulumi as alien
from alien_pulumi.automation.health import aws_bucket_health, merge, s3_endpoint

SPEC = alien.Stack("my-app").platforms("aws").add(alien.Storage("data", versioning=True), "frozen").build()
CTX = alien.DeploymentContext.example_context("aws", "my-app", prefix="acme")


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setattr(moto_settings, "INITIAL_NO_AUTH_ACTION_COUNT", float("inf"))
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="acme-data")
        client.put_bucket_versioning(Bucket="acme-data", VersioningConfiguration={"Status": "Enabled"})
        client.put_bucket_encryption(Bucket="acme-data", ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
        client.put_public_access_block(Bucket="acme-data", PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})
        client.put_bucket_tagging(Bucket="acme-data", Tagging={"TagSet": [{"Key": "alien-stack", "Value": "my-app"}]})
        yield client


def test_present_bucket(s3: Any) -> None:
    assert aws_bucket_health(SPEC, CTX, s3) == {"data": {"state": "present", "fields": []}}


def test_drifted_bucket_names_the_fields(s3: Any) -> None:
    s3.put_bucket_versioning(Bucket="acme-data", VersioningConfiguration={"Status": "Suspended"})
    s3.put_public_access_block(Bucket="acme-data", PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    health = aws_bucket_health(SPEC, CTX, s3)["data"]
    assert health == {"state": "drifted", "fields": ["versioning: Suspended", "public_access_block: BlockPublicAcls"]}


def test_missing_bucket(s3: Any) -> None:
    s3.delete_public_access_block(Bucket="acme-data")
    s3.delete_bucket(Bucket="acme-data")
    assert aws_bucket_health(SPEC, CTX, s3) == {"data": {"state": "missing", "fields": []}}


def test_bucket_health_never_lists_objects(s3: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    called: list[str] = []
    for name in ("head_bucket", "list_objects", "list_objects_v2", "get_object"):
        monkeypatch.setattr(s3, name, lambda *a, _n=name, **k: called.append(_n))
    aws_bucket_health(SPEC, CTX, s3)
    assert called == []


def test_merge_keeps_the_worst_state() -> None:
    merged = merge({"a": {"state": "present", "fields": []}, "b": {"state": "drifted", "fields": ["x"]}},
                   {"a": {"state": "missing", "fields": []}, "b": {"state": "present", "fields": []}})
    assert merged == {"a": {"state": "missing", "fields": []}, "b": {"state": "drifted", "fields": ["x"]}}


def test_the_s3_endpoint_is_the_one_the_s3_backend_names() -> None:
    assert s3_endpoint("s3://state?region=eu-west-1&endpoint=http://127.0.0.1:5000&use_path_style=true") == \
        "http://127.0.0.1:5000"
    assert s3_endpoint("s3://state?region=eu-west-1") is None
    assert s3_endpoint("gs://state?endpoint=http://elsewhere") is None and s3_endpoint(None) is None


def test_a_child_the_refresh_said_nothing_of_is_unknown_never_present_and_the_gate_halts_on_it() -> None:
    """Only what the engine reported counts as present: a resource whose children were not all reported is unknown
    (named), and a wave's health gate does not take that for a positive answer."""
    from alien_pulumi.automation.events import EventRecorder
    from alien_pulumi.automation.health import health_from_refresh
    from alien_pulumi.automation.run import RunKind, RunResult, RunStatus
    from alien_pulumi.fleet.gate import health_problem

    prefix = "urn:pulumi:acme::alien::alien:aws:Storage$aws:s3/"
    targets = {f"{prefix}bucketVersioning:BucketVersioning::data-versioning": "data",
               f"{prefix}bucketPolicy:BucketPolicy::data-policy": "data",
               f"{prefix}bucketPolicy:BucketPolicy::logs-policy": "logs",
               f"{prefix}bucketPolicy:BucketPolicy::gone-policy": "gone"}
    recorder = EventRecorder(set())
    recorder.operations[f"{prefix}bucketVersioning:BucketVersioning::data-versioning"] = "same"
    recorder.operations[f"{prefix}bucketPolicy:BucketPolicy::logs-policy"] = "same"
    recorder.gone.add(f"{prefix}bucketPolicy:BucketPolicy::gone-policy")
    health = health_from_refresh(recorder, targets)
    assert health == {"data": {"state": "unknown", "fields": ["data-policy: not reported by the refresh"]},
                      "logs": {"state": "present", "fields": []},
                      "gone": {"state": "missing", "fields": []}}
    result = RunResult(run_id="h", deployment="acme", kind=RunKind.HEARTBEAT, status=RunStatus.SUCCEEDED,
                       health={"logs": health["logs"], "data": health["data"]})
    assert health_problem(result) == "data unknown"


def test_the_heartbeat_table_shows_an_unknown_resource(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from alien_pulumi.automation.run import RunKind, RunResult, RunStatus
    from alien_pulumi.cli.release_cmd import _heartbeat_table
    from alien_pulumi.fleet.registry import Registry
    from tests.deploy.lifecycle import deployed

    deployed(tmp_path, "acme", engine="simulated:1")
    result = RunResult(run_id="h", deployment="acme", kind=RunKind.HEARTBEAT, status=RunStatus.SUCCEEDED,
                       health={"data": {"state": "unknown", "fields": ["data-policy: not reported by the refresh"]}})
    with Registry(tmp_path) as registry:
        _heartbeat_table(registry, {"acme": result}, {})
    assert "unknown" in capsys.readouterr().out
