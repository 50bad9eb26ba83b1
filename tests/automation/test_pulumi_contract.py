"""The contract with the Pulumi CLI, through the real Automation API against a recording stand-in CLI:
exact arguments, the environment of each run, and a recorded engine event log replayed through the
progress and record code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import alien_pulumi as alien
from alien_pulumi.automation.pulumi_engine import PulumiEngine
from alien_pulumi.automation.run import RunInput, RunKind, RunStatus
from alien_pulumi.errors import (
    AccessRevokedError,
    AutomationError,
    ProgramError,
    PulumiNotFoundError,
    StackLockedError,
)
from alien_pulumi.fleet import worker
from tests.fake_cli.fixtures import HERE, FakeCli, RecordingPulumiCommand

BASE = "urn:pulumi:acme::alien::"
TARGETS = [
    BASE + "alien:aws:Function::api",
    BASE + "alien:aws:Function$aws:lambda/function:Function::api-function",
    BASE + "alien:aws:Function$aws:lambda/permission:Permission::api-url-permission",
]
ASSUMED = {"AWS_ACCESS_KEY_ID": "ASIAMANAGEMENT", "AWS_SECRET_ACCESS_KEY": "m-secret", "AWS_SESSION_TOKEN": "m-token",
           "AWS_REGION": "us-east-1"}


def fake_sts(ctx: Any, management: Any, release: str, deployment: str) -> dict[str, str]:
    assert (release, deployment) == ("r42", "acme")
    return dict(ASSUMED)


def run_input(tmp_path: Path, kind: RunKind, **extra: Any) -> RunInput:
    spec = alien.load_stack(Path(__file__).parents[2] / "examples" / "my_app.py")
    ctx = alien.DeploymentContext.example_context("aws", spec.name, prefix="acme")
    extra.setdefault("backend_url", (tmp_path / "state" / "backend").as_uri())  # what the setup record names
    return RunInput(run_id="run-1", kind=kind, deployment="acme", release="r42", spec=spec, context=ctx,
                    targets=TARGETS, state_dir=str(tmp_path / "state"), **extra)


def engine(recording: type[RecordingPulumiCommand]) -> PulumiEngine:
    return PulumiEngine(command_factory=recording, aws_sts=fake_sts)


@pytest.mark.parametrize("kind", [RunKind.RELEASE, RunKind.PREVIEW, RunKind.HEARTBEAT])
def test_a_management_run_without_a_backend_on_record_is_refused(kind: RunKind, tmp_path: Path, fake_cli: FakeCli,
                                                                 recording: type[RecordingPulumiCommand]) -> None:
    with pytest.raises(AutomationError, match="acme has no backend on record: import its setup record"):
        engine(recording).execute(run_input(tmp_path, kind, backend_url=None))
    assert not [a for a, _ in recording.calls if {"up", "preview"} & set(a)], "nothing ran on a local default"


def test_release_arguments_and_management_environment(tmp_path: Path, fake_cli: FakeCli,
                                                      recording: type[RecordingPulumiCommand]) -> None:
    lines: list[str] = []
    result = engine(recording).execute(run_input(tmp_path, RunKind.RELEASE), lines.append)
    assert result.status is RunStatus.SUCCEEDED
    up_args, up_env = next((a, e) for a, e in recording.calls if "up" in a)
    assert up_args[0] == "--non-interactive"
    assert up_args[1:4] == ["up", "--yes", "--skip-preview"]
    targets = [up_args[i + 1] for i, a in enumerate(up_args) if a == "--target"]
    assert targets == TARGETS, "one --target per live URN, exactly"
    assert "--target-dependents" not in up_args
    assert up_args[up_args.index("--stack") + 1] == "acme"
    assert "--event-log" in up_args
    # the management credentials, and nothing of the caller's cloud credentials
    for key, value in ASSUMED.items():
        assert up_env[key] == value
    for key in ("AWS_PROFILE", "GOOGLE_APPLICATION_CREDENTIALS", "ARM_CLIENT_SECRET"):
        assert key not in up_env
    assert up_env["PULUMI_CONFIG_PASSPHRASE"]
    # no run fetches a plugin (a provider in the state could name another version or a download URL)
    assert up_env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] == "true"
    # every call the CLI saw (not only `up`) ran in that environment
    assert all(c["env"]["AWS_ACCESS_KEY_ID"] == "ASIAMANAGEMENT" for c in fake_cli.calls())
    select = fake_cli.call("select")
    assert select["args"] == ["--non-interactive", "stack", "select", "--stack", "acme"]
    # backend and project: the workspace's Pulumi.yaml names the file:// backend under the state dir
    project = (tmp_path / "state" / "workspaces" / "acme" / "manage" / "Pulumi.yaml").read_text()
    assert "name: alien" in project and (tmp_path / "state" / "backend").as_uri() in project


def test_replayed_event_log_reaches_progress_and_record(tmp_path: Path, fake_cli: FakeCli,
                                                        recording: type[RecordingPulumiCommand]) -> None:
    lines: list[str] = []
    result = engine(recording).execute(run_input(tmp_path, RunKind.RELEASE), lines.append)
    assert result.operations == {TARGETS[0]: "same", TARGETS[1]: "update", TARGETS[2]: "same"}
    assert result.summary == {"update": 1, "same": 2}
    assert lines == ["[live]   update aws:lambda/function:Function api-function"]


def test_setup_runs_with_the_admins_own_credentials(tmp_path: Path, fake_cli: FakeCli,
                                                    recording: type[RecordingPulumiCommand]) -> None:
    result = engine(recording).execute(run_input(tmp_path, RunKind.SETUP))
    assert result.status is RunStatus.SUCCEEDED
    up_args, up_env = next((a, e) for a, e in recording.calls if "up" in a)
    assert "--target" not in up_args
    assert up_env["AWS_ACCESS_KEY_ID"] == "AKIAADMIN" and up_env["AWS_PROFILE"] == "customer-admin"
    assert (tmp_path / "state" / "workspaces" / "acme" / "provision" / "spec.json").exists()


def test_preview_is_targeted_too(tmp_path: Path, fake_cli: FakeCli, recording: type[RecordingPulumiCommand]) -> None:
    engine(recording).execute(run_input(tmp_path, RunKind.PREVIEW))
    args = fake_cli.call("preview")["args"]
    assert args.count("--target") == len(TARGETS) and "--target-dependents" not in args and "up" not in args


def test_no_live_resource_means_no_run(tmp_path: Path, fake_cli: FakeCli,
                                       recording: type[RecordingPulumiCommand]) -> None:
    result = engine(recording).execute(run_input(tmp_path, RunKind.RELEASE).model_copy(update={"targets": []}))
    assert result.status is RunStatus.SUCCEEDED and fake_cli.calls() == []


def test_heartbeat_is_a_preview_refresh_of_resources(tmp_path: Path, fake_cli: FakeCli,
                                                     recording: type[RecordingPulumiCommand],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_PULUMI_EVENTS", str(HERE / "data" / "heartbeat-events.jsonl"))
    refresh = {
        BASE + "alien:aws:Storage$aws:s3/bucketVersioning:BucketVersioning::data-versioning": "data",
        BASE + "alien:aws:Queue$aws:sqs/queue:Queue::jobs-queue": "jobs",
        BASE + "alien:aws:Kv$aws:dynamodb/table:Table::cache-table": "cache",
    }
    run = run_input(tmp_path, RunKind.HEARTBEAT, refresh_targets=refresh)
    monkeypatch.setattr("alien_pulumi.automation.pulumi_engine.aws_bucket_health", lambda spec, ctx, backend: {})
    result = engine(recording).execute(run)
    args = fake_cli.call("refresh")["args"]
    assert "--preview-only" in args and "up" not in args
    assert sorted(args[i + 1] for i, a in enumerate(args) if a == "--target") == sorted(refresh)
    assert result.health == {
        "data": {"state": "drifted", "fields": ["data-versioning.versioningConfiguration"]},
        "jobs": {"state": "present", "fields": []},
        "cache": {"state": "missing", "fields": []},
    }


@pytest.mark.parametrize("failure", [
    "locked",
    # The diy backend lists the lock files, then reads each: one deleted in between fails the read NotFound,
    # which the CLI prints flattened into "2 errors occurred" (found by tests/engine's concurrent run).
    "vanished-lock",
])
def test_locked_stack_is_retryable(tmp_path: Path, fake_cli: FakeCli, recording: type[RecordingPulumiCommand],
                                   monkeypatch: pytest.MonkeyPatch, failure: str) -> None:
    monkeypatch.setenv("FAKE_PULUMI_FAIL", failure)
    with pytest.raises(StackLockedError, match="is locked by another update; retry later"):
        engine(recording).execute(run_input(tmp_path, RunKind.RELEASE))
    monkeypatch.setattr(worker, "engine_for", lambda run: engine(recording))
    assert worker.execute(run_input(tmp_path, RunKind.RELEASE)).status is RunStatus.LOCKED


def test_joined_errors_carry_their_causes(tmp_path: Path, fake_cli: FakeCli,
                                          recording: type[RecordingPulumiCommand],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure after the engine started is not contention, NotFound or not; its message names each cause."""
    monkeypatch.setenv("FAKE_PULUMI_FAIL", "joined")
    monkeypatch.setattr(worker, "engine_for", lambda run: engine(recording))
    result = worker.execute(run_input(tmp_path, RunKind.RELEASE))
    assert result.status is RunStatus.FAILED
    assert result.error is not None and "\n" not in result.error
    assert "2 errors occurred: writing snapshot: operation error S3: PutObject" in result.error, result.error
    assert result.error.endswith("StatusCode: 503; NotFound"), result.error


def test_azure_refusing_the_federated_sign_in_is_a_revoked_run(tmp_path: Path, fake_cli: FakeCli,
                                                               recording: type[RecordingPulumiCommand],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Entra's AADSTS70021 (the federated credential alien-deploy revoke deletes) inside the engine's output: the
    run is revoked, not failed; the same text from a setup run (the admin's own sign-in) is a plain failure."""
    monkeypatch.setenv("FAKE_PULUMI_FAIL", "federated-gone")
    monkeypatch.setenv("ALIEN_AZURE_OIDC_TOKEN", "vendor-oidc-token")
    spec = alien.load_stack(Path(__file__).parents[2] / "examples" / "my_app.py")
    ctx = alien.DeploymentContext.example_context("azure", spec.name, prefix="acme")
    azure = run_input(tmp_path, RunKind.RELEASE).model_copy(update={
        "context": ctx, "management": {"client_id": "11111111-2222-3333-4444-555555555555",
                                       "tenant_id": "00000000-0000-0000-0000-000000000001"}})
    with pytest.raises(AccessRevokedError, match=r"^Azure refused the federated sign-in of 11111111-2222-3333-4444-"
                                                 r"555555555555 for acme \(AADSTS70021\); the customer revoked"):
        engine(recording).execute(azure)
    monkeypatch.setattr(worker, "engine_for", lambda run: engine(recording))
    result = worker.execute(azure)
    assert result.status is RunStatus.REVOKED and result.error and "\n" not in result.error
    with pytest.raises(AutomationError) as info:
        engine(recording).execute(azure.model_copy(update={"kind": RunKind.SETUP}))
    assert not isinstance(info.value, AccessRevokedError)
    with pytest.raises(AutomationError) as info:  # an AWS run's output naming it is no Azure refusal either
        engine(recording).execute(run_input(tmp_path, RunKind.RELEASE))
    assert not isinstance(info.value, AccessRevokedError)


def test_compilation_error_is_one_line(tmp_path: Path, fake_cli: FakeCli, recording: type[RecordingPulumiCommand],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_PULUMI_FAIL", "compile")
    with pytest.raises(ProgramError) as info:
        engine(recording).execute(run_input(tmp_path, RunKind.RELEASE))
    assert "\n" not in str(info.value) and "failed to compile" in str(info.value)


def test_missing_cli_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PulumiNotFoundError, match="the Pulumi CLI is not on PATH: install it"):
        PulumiEngine(aws_sts=fake_sts).execute(run_input(tmp_path, RunKind.RELEASE))


def test_a_management_run_records_what_joins_it_to_the_audit_logs(tmp_path: Path, fake_cli: FakeCli,
                                                                  recording: type[RecordingPulumiCommand]) -> None:
    from datetime import datetime

    result = engine(recording).execute(run_input(tmp_path, RunKind.RELEASE))
    who = result.attribution
    assert {k: who[k] for k in ("principal", "session", "source_identity")} == {
        "principal": "arn:aws:iam::123456789012:role/acme-management", "session": "alien-r42-acme",
        "source_identity": "r42"}
    assert datetime.fromisoformat(who["started_at"]) <= datetime.fromisoformat(who["finished_at"])
    assert datetime.fromisoformat(who["started_at"]).utcoffset() is not None  # UTC, as the audit logs are
    # the admin's setup acts as the admin: nothing of the vendor's to join
    assert engine(recording).execute(run_input(tmp_path, RunKind.SETUP)).attribution == {}
