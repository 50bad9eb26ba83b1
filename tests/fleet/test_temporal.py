"""Rollouts and heartbeats on a real Temporal dev server, with real worker processes (`alien-pulumi worker`)
and the simulated engine."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from alien_pulumi.automation.engine import SimulatedEngine
from alien_pulumi.fleet import service
from alien_pulumi.fleet.registry import Registry, RolloutStatus, RunRecord, RunState
from alien_pulumi.fleet.rollout import ProgressEvent, ProgressKind, RolloutResult
from alien_pulumi.fleet.temporal import client
from alien_pulumi.fleet.temporal.devserver import free_port
from alien_pulumi.fleet.temporal.types import VERSION, Timing
from alien_pulumi.model.loader import load_stack
from alien_pulumi.model.record import ReleaseRecord
from tests.fleet.conftest import QUICKSTART, FleetMaker, Workers

FAST = Timing(heartbeat_every=0.5, heartbeat_timeout=3, attempts=4, first_wait=0.2, longest_wait=1)


def start(state: Path, names: list[str], settings: client.TemporalSettings, engine: str = "simulated:20",
          events: list[ProgressEvent] | None = None, **options: object) -> RolloutResult:
    spec = load_stack(QUICKSTART)
    with Registry(state) as registry:
        prepared = service.prepare(registry, spec, names, "r2", state, engine=engine)
        return client.rollout(registry, "r2", prepared, settings, engine=engine, timing=FAST,
                              on_progress=events.append if events is not None else None, **options)  # type: ignore[arg-type]


def test_a_rollout_runs_on_temporal_workers(workers: Workers, make_fleet: FleetMaker) -> None:
    names = make_fleet(workers.state, 10)
    workers.start(2, parallel=4)
    events: list[ProgressEvent] = []
    result = start(workers.state, names, workers.settings, events=events, waves="2,100%", parallel=4)
    assert result.ok and result.status is RolloutStatus.COMPLETED, result.deployments
    assert result.counts["succeeded"] == 10 and [w.size for w in result.waves] == [2, 8]
    with Registry(workers.state) as registry:
        for name in names:
            record = registry.get_deployment(name).record
            assert record is not None and record.release == "r2" and record.program == "manage"
    finished = [e for e in events if e.kind is ProgressKind.RUN_FINISHED]
    assert sorted(e.deployment for e in finished) == names
    assert [e.kind for e in events if e.kind in (ProgressKind.WAVE_STARTED, ProgressKind.WAVE_FINISHED)] == [
        ProgressKind.WAVE_STARTED, ProgressKind.WAVE_FINISHED, ProgressKind.WAVE_STARTED, ProgressKind.WAVE_FINISHED]
    # Wave 2 started only after every run of wave 1 had finished.
    with Registry(workers.state) as registry:
        runs = registry.runs(rollout_id=result.rollout_id)
    assert max(r.finished_at for r in runs if r.wave == 1) <= min(r.started_at for r in runs if r.wave == 2)  # type: ignore[type-var]
    assert json.dumps(result.counts)
    assert all(r.status is RunState.SUCCEEDED and r.attempt == 1 for r in runs)


def in_background(state: Path, names: list[str], workers: Workers, rollout_id: str, **options: object) \
        -> tuple[threading.Thread, list[RolloutResult]]:
    """A rollout started and followed on another thread, as a second terminal would."""
    results: list[RolloutResult] = []

    def go() -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())  # synth (Pulumi's mock runtime) needs one on its thread
        results.append(start(state, names, workers.settings, rollout_id=rollout_id, **options))  # type: ignore[arg-type]

    thread = threading.Thread(target=go)
    thread.start()
    return thread, results


def runs_of(state: Path, rollout_id: str) -> list[RunRecord]:
    with Registry(state) as registry:
        return registry.runs(rollout_id=rollout_id)


def test_injected_failures_halt_after_k(workers: Workers, make_fleet: FleetMaker) -> None:
    names = make_fleet(workers.state, 8)
    workers.start(1, parallel=1)
    result = start(workers.state, names, workers.settings, engine="simulated:10;fail=c001,c002,c003,c004",
                   parallel=1, halt_after_failures=2)
    assert result.status is RolloutStatus.HALTED and not result.ok
    assert result.counts == {"pending": 0, "running": 0, "succeeded": 1, "failed": 2, "skipped": 5,
                             "awaiting-setup": 0, "revoked": 0, "not-set-up": 0}
    skipped = [o for o in result.deployments.values() if o.status is RunState.SKIPPED]
    assert {o.error for o in skipped} == {"halted after 2 failure(s)"}  # the words of the local runner
    assert result.deployments["c001"].error == "simulated failure"


def test_revoked_runs_are_not_retried_and_never_halt(workers: Workers, make_fleet: FleetMaker) -> None:
    names = make_fleet(workers.state, 3)
    workers.start(1, parallel=3)
    result = start(workers.state, names, workers.settings, engine="simulated:10;revoked=c000,c001",
                   halt_after_failures=1, health_gate=True)
    assert result.status is RolloutStatus.COMPLETED and result.ok
    assert (result.counts["revoked"], result.counts["succeeded"]) == (2, 1)
    assert result.deployments["c000"].attempts == 1  # a result, not an activity failure Temporal retries
    assert "customer revoked the access of c000" in (result.deployments["c000"].error or "")


def test_an_unhealthy_heartbeat_halts_at_the_gate(workers: Workers, make_fleet: FleetMaker) -> None:
    names = make_fleet(workers.state, 6)
    workers.start(1, parallel=4)
    events: list[ProgressEvent] = []
    result = start(workers.state, names, workers.settings, engine="simulated:10;unhealthy=c001", waves="2,100%",
                   health_gate=True, events=events)
    assert result.status is RolloutStatus.HALTED
    assert [result.deployments[n].status for n in names] == [RunState.SUCCEEDED] * 2 + [RunState.SKIPPED] * 4
    reason = result.deployments["c005"].error or ""
    assert reason.startswith("halted at the health gate after wave 1: 1 unhealthy (c001: ") and "missing" in reason
    with Registry(workers.state) as registry:
        beats = registry.latest_heartbeats()
    assert sorted(beats) == ["c000", "c001"]  # the gate's heartbeats are recorded like any other
    assert any(h["state"] == "missing" for h in beats["c001"].health["resources"].values())
    halted = [e for e in events if e.kind is ProgressKind.HALTED]
    assert len(halted) == 1 and halted[0].error == reason


def test_healthy_waves_pass_the_gate(workers: Workers, make_fleet: FleetMaker) -> None:
    names = make_fleet(workers.state, 4)
    workers.start(1, parallel=4)
    result = start(workers.state, names, workers.settings, engine="simulated:10", waves="1,100%", health_gate=True)
    assert result.ok and result.counts["succeeded"] == 4
    with Registry(workers.state) as registry:
        assert sorted(registry.latest_heartbeats()) == names  # both waves were checked


def test_a_locked_stack_is_retried_by_temporal(workers: Workers, make_fleet: FleetMaker) -> None:
    names = make_fleet(workers.state, 3)
    workers.start(1, parallel=3)
    result = start(workers.state, names, workers.settings, engine="simulated:10;locked=2")
    assert result.ok and {o.attempts for o in result.deployments.values()} == {3}
    with Registry(workers.state) as registry:
        attempts = registry.attempts(f"{result.rollout_id}:c000")
    assert [(a.attempt, a.status) for a in attempts] == [(1, "locked"), (2, "locked"), (3, "succeeded")]


def test_still_locked_after_every_attempt_fails_the_run(workers: Workers, make_fleet: FleetMaker) -> None:
    names = make_fleet(workers.state, 1)
    workers.start(1)
    result = start(workers.state, names, workers.settings, engine="simulated:10;locked=9")
    outcome = result.deployments["c000"]
    assert outcome.status is RunState.FAILED and outcome.attempts == FAST.attempts
    assert outcome.error == f"still locked after {FAST.attempts} attempt(s): the stack is locked by another update"


def test_a_cancelled_rollout_stops_starting_runs(workers: Workers, make_fleet: FleetMaker) -> None:
    names = make_fleet(workers.state, 30)
    workers.start(1, parallel=2)
    # c002 and c003 are held in flight until answered: the cancel lands while they run, whatever the load.
    held = ["c002", "c003"]
    thread, results = in_background(workers.state, names, workers, "ro-cancel",
                                    engine=f"simulated:5;hold={','.join(held)}", parallel=2)
    try:
        deadline = time.monotonic() + 300  # bounds a failure: the loop waits for the registry's rows
        while time.monotonic() < deadline:
            running = {r.deployment for r in runs_of(workers.state, "ro-cancel") if r.status is RunState.RUNNING}
            if running == set(held):
                break
            assert thread.is_alive(), results
            time.sleep(0.1)
        client.cancel("ro-cancel", workers.settings)
    finally:
        # The held runs end once the cancel is recorded: after it, in the workflow's history.
        SimulatedEngine.answer(workers.state, *held)
    thread.join(timeout=300)
    (result,) = results
    assert result.status is RolloutStatus.CANCELLED and not result.ok
    runs = runs_of(workers.state, "ro-cancel")
    started = sorted(r.deployment for r in runs if r.started_at is not None)
    assert started == ["c000", "c001", *held]  # the runs in flight when it was cancelled ended; no new one started
    assert all(r.status is RunState.SUCCEEDED for r in runs if r.started_at is not None)  # ... not interrupted
    assert all(r.status is RunState.SKIPPED and r.error == "the rollout was cancelled" for r in runs
               if r.started_at is None)


def test_a_worker_of_another_version_is_refused(workers: Workers, make_fleet: FleetMaker) -> None:
    names = make_fleet(workers.state, 2)
    workers.start(1)
    with pytest.raises(client.TemporalError) as caught:
        start(workers.state, names, workers.settings, version="0.0.1")
    assert (f"this worker runs alien-pulumi {VERSION}, the workflow was started by alien-pulumi 0.0.1"
            in str(caught.value))
    runs = [r for ro in Registry(workers.state).rollouts() for r in runs_of(workers.state, ro.id)]
    assert runs and all(r.started_at is None for r in runs)


def test_an_unreachable_server_is_refused_before_anything_is_recorded(tmp_path: Path, make_fleet: FleetMaker) -> None:
    names = make_fleet(tmp_path, 2)
    nobody = client.TemporalSettings(f"127.0.0.1:{free_port()}")
    with pytest.raises(client.TemporalUnavailableError, match=r"cannot reach the Temporal server at 127\.0\.0\.1:\d+ "
                                                              r"\(namespace default\): .*nothing was started"):
        start(tmp_path, names, nobody)
    with Registry(tmp_path) as registry:
        assert registry.rollouts() == [] and registry.runs() == []


def released_after_a_new_record(workers: Workers, make_fleet: FleetMaker, count: int,
                                new_record: Callable[[Registry, ReleaseRecord], ReleaseRecord]) -> RolloutResult:
    """A rollout prepared by the release service, then c000's record replaced (another setup) before it runs."""
    names = make_fleet(workers.state, count)
    workers.start(1)
    with Registry(workers.state) as registry:
        prepared = service.prepare(registry, load_stack(QUICKSTART), names, "r2", workers.state,
                                   engine="simulated:5")
        record = registry.get_deployment("c000").record
        assert record is not None
        replaced = new_record(registry, record).model_copy(update={"created_at": "2030-01-01T00:00:00+00:00"})
        registry.add_deployment(replaced)
        return client.rollout(registry, "r2", prepared, workers.settings, engine="simulated:5", timing=FAST)


def test_a_record_changed_since_the_preflight_is_checked_again(workers: Workers, make_fleet: FleetMaker) -> None:
    def other_prefix(registry: Registry, record: ReleaseRecord) -> ReleaseRecord:
        # A setup made for another prefix, whose permissions no longer fit this release.
        other = registry.get_deployment("c001").record
        assert other is not None
        return record.model_copy(update={"permissions": other.permissions})

    result = released_after_a_new_record(workers, make_fleet, 2, other_prefix)
    assert result.deployments["c001"].status is RunState.SUCCEEDED  # unchanged: the first preflight stands
    # Checked again, c000 needs permissions only its admin's setup grants: a setup request, not a run.
    waiting = result.deployments["c000"]
    assert (waiting.status, waiting.attempts) == (RunState.AWAITING_SETUP, 0)
    with Registry(workers.state) as registry:
        request = registry.open_setup_request("c000")
    assert waiting.error and waiting.error.startswith(f"awaiting setup: setup request {request.id}")
    assert request.request.permissions, "the permissions the other setup's record lacks"


def test_a_record_changed_into_a_block_setup_cannot_lift_fails_the_run(workers: Workers,
                                                                       make_fleet: FleetMaker) -> None:
    def versioning_off(_registry: Registry, record: ReleaseRecord) -> ReleaseRecord:
        # Another setup turned the frozen bucket's versioning off: this release would change a frozen resource.
        frozen = record.spec.model_copy(update={"resources": tuple(
            r.model_copy(update={"versioning": False}) if r.id == "data" else r for r in record.spec.resources)})
        return record.model_copy(update={"spec": frozen, "digest": frozen.digest()})

    refused = released_after_a_new_record(workers, make_fleet, 1, versioning_off).deployments["c000"]
    assert refused.status is RunState.FAILED
    assert refused.error and refused.error.startswith("preflight blocks the release:") and "FROZEN_CHANGED" in \
        refused.error


def test_workers_on_another_registry_are_refused(workers: Workers, make_fleet: FleetMaker) -> None:
    ours = workers.state / "release-service"
    names = make_fleet(ours, 2)
    workers.start(1)  # polling the right queue, but with a registry of its own
    with pytest.raises(client.TemporalError, match="has no rollout .*point the worker at the release service's "
                                                   r"registry \(the same --state-dir\)"):
        start(ours, names, workers.settings)
    assert all(r.started_at is None for r in runs_of(ours, Registry(ours).rollouts()[0].id))
