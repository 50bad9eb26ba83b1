"""What the engine itself decides, on AWS: the events that drive progress lines and records, its stack lock
met by a concurrent run (and retried), and a plugin version no fake provides."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from alien_pulumi.fleet.registry import Registry
from tests.artifacts import artifact
from tests.engine.fixtures import Engine
from tests.engine.flows import SMALL, changed, register, registered, setup, stack_state, vendor
from tests.engine.harness import plugin_version
from tests.engine.test_lifecycle import descendants, heartbeat
from tests.gcp_token_server import TokenServer


def test_progress_and_records_follow_the_engine_events(engine: Engine, management: TokenServer, tmp_path: Path) -> None:
    state = tmp_path / "state"
    up = setup(SMALL, "aws", state)
    assert up.exit_code == 0, up.output
    engine_state = stack_state(state)
    frozen, live = descendants(engine_state, ("jobs", "cache")), descendants(engine_state, ("api",))
    lines = [ln for ln in up.output.splitlines() if ln.startswith("[")]
    for urn in frozen | live:
        mark = "frozen" if urn in frozen else "live"
        assert any(ln.startswith(f"[{mark}]") and "create" in ln and ln.endswith(" " + urn.rsplit("::", 1)[-1])
                   for ln in lines), (urn, lines)
    record = json.loads((state / "records" / "acme.json").read_text())
    assert record["operations"] == {"create": len(engine_state["resources"])}, "the engine's summary event"

    registered(state)
    fake = engine.clouds["aws"]
    fake.clear_calls()
    result = vendor("release", changed(tmp_path, "memory_mb=512", "memory_mb=1024"), "-d", "acme", "--state-dir",
                    state, "--release-id", "r2")
    assert result.exit_code == 0, result.output
    deployed = Registry(state).get_deployment("acme").record
    assert deployed is not None
    updates = [c["urn"] for c in fake.calls() if c["method"] == "Update" and not c["preview"]]
    assert updates and set(updates) <= live
    assert deployed.operations.get("update") == len(updates) and set(deployed.operations) <= {"update", "same"}


def test_a_concurrent_run_meets_the_engine_lock_and_is_retried(engine: Engine, management: TokenServer,
                                                               tmp_path: Path) -> None:
    """Driven by events, not by seconds: the admin's update holds the stack's lock until the vendor's release has
    met it (its locked attempt is in the registry), however long the release takes to start on a loaded machine."""
    fake, state = engine.clouds["aws"], tmp_path / "state"
    assert setup(SMALL, "aws", state).exit_code == 0
    registered(state)
    fake.hold_updates()
    fake.clear_calls()
    # The admin re-runs setup with a change: its update holds the stack's lock until the updates are released.
    bigger = changed(tmp_path, "memory_mb=512", "memory_mb=768")
    admin = subprocess.Popen(
        [sys.executable, "-m", "alien_pulumi.cli.deploy", "up", str(artifact(bigger)), "--bundle",
         str(register("aws", state)), "--secrets-provider", "passphrase", "--yes", "--state-dir", str(state),
         "--allow-external-backend"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dict(os.environ))
    met, done = threading.Event(), threading.Event()

    def release_once_the_lock_was_met() -> None:
        """The admin's update goes on once the release recorded an attempt that found the stack locked."""
        try:
            with Registry(state) as registry:
                while not done.is_set():
                    if any(a.status == "locked" for run in registry.runs(deployment="acme")
                           for a in registry.attempts(run.id)):
                        met.set()
                        return
                    done.wait(0.1)
        finally:
            fake.release_updates()

    watcher = threading.Thread(target=release_once_the_lock_was_met, daemon=True)
    try:
        deadline = time.monotonic() + 300
        while not any(c["method"] == "Update" and not c.get("preview") for c in fake.calls()):
            assert admin.poll() is None and time.monotonic() < deadline, "the admin's setup never started updating"
            time.sleep(0.2)
        watcher.start()  # the admin holds the lock now, until the release has met it
        released = vendor("release", changed(tmp_path, "memory_mb=512", "memory_mb=1024"), "-d", "acme",
                          "--state-dir", state, "--json")
    finally:
        done.set()
        fake.release_updates()
        output, _ = admin.communicate(timeout=300)
        if watcher.is_alive():
            watcher.join()
    assert met.is_set(), "the release never found the stack locked"
    assert admin.returncode == 0, output
    assert released.exit_code == 0, released.output
    outcome = json.loads(released.stdout)["deployments"]["acme"]
    assert outcome["status"] == "succeeded" and outcome["attempts"] >= 2, outcome


def test_aws_bucket_heartbeat_reads_the_buckets_where_the_state_is(engine: Engine, management: TokenServer,
                                                                   tmp_path: Path) -> None:
    """On AWS a bucket's health is read directly, not refreshed (DESIGN.md §4): from the management run's scrubbed
    environment too, at the S3 endpoint the deployment's s3:// backend names (here moto)."""
    import boto3

    state = tmp_path / "state"
    with_bucket = changed(tmp_path, 'cache = alien.Kv("cache")',
                          'cache = alien.Kv("cache")\ndata = alien.Storage("data", versioning=True)')
    with_bucket = changed(tmp_path, '.add(cache, "frozen")', '.add(cache, "frozen").add(data, "frozen")', with_bucket)
    assert setup(with_bucket, "aws", state).exit_code == 0
    registered(state)
    assert heartbeat(state)["data"] == {"state": "missing", "fields": []}, "moto holds no such bucket yet"

    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=engine.moto)
    s3.create_bucket(Bucket="acme-data")
    s3.put_bucket_versioning(Bucket="acme-data", VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(Bucket="acme-data", ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    s3.put_public_access_block(Bucket="acme-data", PublicAccessBlockConfiguration=dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True))
    s3.put_bucket_tagging(Bucket="acme-data", Tagging={"TagSet": [{"Key": "alien-stack", "Value": "small"}]})
    assert heartbeat(state)["data"] == {"state": "present", "fields": []}
    s3.put_bucket_versioning(Bucket="acme-data", VersioningConfiguration={"Status": "Suspended"})
    assert heartbeat(state)["data"] == {"state": "drifted", "fields": ["versioning: Suspended"]}


def test_a_plugin_version_no_fake_provides_fails_naming_it(engine: Engine, tmp_path: Path) -> None:
    shutil.rmtree(engine.home / "plugins" / f"resource-aws-v{plugin_version('aws')}")
    up = setup(SMALL, "aws", tmp_path / "state")
    assert up.exit_code == 4
    assert "aws" in up.output and plugin_version("aws") in up.output, up.output


@pytest.mark.parametrize("cloud", ["gcp", "azure"])
def test_a_release_dropping_setup_owned_grants_needs_setup(cloud: str, engine: Engine, management: TokenServer,
                                                           tmp_path: Path) -> None:
    """Found by the real engine: on GCP and Azure a live change dropping a link removes setup-owned grant resources
    from the management program, and the engine refuses a targeted run that would delete an untargeted resource.
    Preflight stops the release before any run: it awaits setup, with a setup request naming the grant; the
    admin's setup removes them."""
    fake, state = engine.clouds[cloud], tmp_path / "state"
    assert setup(SMALL, cloud, state).exit_code == 0
    registered(state)
    # Setup-owned permissions: bindings/assignments (Grants) and custom roles (Identities).
    grants = {r["urn"] for r in fake.resources()
              if any(f":{cloud}:{component}$" in r["urn"] for component in ("Grants", "Identities"))}
    fake.clear_calls()
    fewer = changed(tmp_path, "links=[jobs, cache]", "links=[jobs]")
    result = vendor("release", fewer, "-d", "acme", "--state-dir", state)
    assert result.exit_code == 3, result.output
    assert "awaiting-setup" in result.output, result.output
    assert fake.calls() == [], "stopped before the engine ran"
    with Registry(state) as registry:
        assert [(r.status.value, r.attempt) for r in registry.runs(deployment="acme")] == [("awaiting-setup", 0)]
        reasons = registry.open_setup_request("acme").request.reasons
    assert any(r.startswith(f"{cloud}: cache: the release drops the setup-owned") and
               "the customer's admin must run setup" in r for r in reasons), reasons

    again = setup(fewer, cloud, state)
    assert again.exit_code == 0, again.output
    deleted = {c["urn"] for c in fake.calls() if c["method"] == "Delete"}
    assert deleted <= grants and any(":Grants$" in u for u in deleted), "setup deletes the dropped grants only"
