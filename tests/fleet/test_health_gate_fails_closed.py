"""Issue 25, item 2: the health gate fails closed. After a wave, only a positive heartbeat (succeeded, every resource
present) lets a deployment through; every other outcome halts the rollout at that wave, with a reason naming the
deployment and the outcome: failed, locked, timed out, resources missing, not set up any more, removed from the
registry, a gate that could not run. A revoked deployment alone goes on, as before. Each outcome is checked locally
(service.release, as `alien-pulumi rollout --health-gate` runs it) and on Temporal (real dev server and worker
processes).

Every rollout here releases c000..c003 in waves 2,100%: c001, in wave 1, meets the outcome; wave 2 (c002, c003)
must never run."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from alien_pulumi.automation.engine import SimulatedEngine
from alien_pulumi.automation.run import RunInput, RunKind, RunResult, RunStatus
from alien_pulumi.errors import AlienError
from alien_pulumi.fleet import service
from alien_pulumi.fleet.executor import InProcessExecutor, OnDone, ProcessExecutor, ShouldStop, never
from alien_pulumi.fleet.gate import NO_ANSWER, health_problem
from alien_pulumi.fleet.registry import Registry, RolloutStatus, RunState
from alien_pulumi.fleet.rollout import ProgressEvent, ProgressKind, RolloutResult, rollout
from alien_pulumi.fleet.temporal import client
from alien_pulumi.fleet.temporal.types import Timing
from alien_pulumi.model.loader import load_stack
from tests.fleet.conftest import QUICKSTART, FleetMaker, Workers

FAST = "simulated:5"
WAVES = "2,100%"
BAD, GOOD = "c001", "c000"  # wave 1; c002 and c003 are wave 2
TIMEOUT = 5.0  # seconds a heartbeat may take before it is given up on, in the timed-out tests
TEMPORAL = Timing(heartbeat_every=0.5, heartbeat_timeout=3, attempts=4, first_wait=0.2, longest_wait=1)

Hook = Callable[[Registry], None]  # what happens to the registry once BAD's release has finished


def gone(registry: Registry) -> None:
    """BAD is removed from the registry (`alien-pulumi deployments remove`)."""
    registry.remove_deployment(BAD)


def not_set_up(registry: Registry) -> None:
    """BAD is removed and registered again without its setup record: it has no release record any more."""
    deployment = registry.get_deployment(BAD)
    registry.remove_deployment(BAD)
    registry.register_deployment(BAD, deployment.context, {})


@dataclass(frozen=True)
class Outcome:
    """One heartbeat outcome of BAD: the engine that produces it (or the registry change), and the words the halt
    reason gives it."""

    engine: str
    words: str
    hook: Hook | None = None


HALTING = {
    "failed": Outcome(f"{FAST};heartbeat-fails={BAD}", f"{BAD}: failed: simulated heartbeat failure"),
    "locked": Outcome(f"{FAST};heartbeat-locked={BAD}", f"{BAD}: locked: stack {BAD} of {BAD} is locked by another "
                                                        "update"),
    "missing": Outcome(f"{FAST};unhealthy={BAD}", " missing)"),  # its first resource: "<id> missing"
    "not-set-up": Outcome(FAST, f"{BAD}: not set up: it has no release record", not_set_up),
    "removed": Outcome(FAST, f"{BAD}: removed: it is no longer in the registry", gone),
}


def assert_halted_at_wave_1(result: RolloutResult, events: list[ProgressEvent], words: str, *,
                            alone: bool = True) -> str:
    """The rollout halted at the gate of wave 1 naming BAD and its outcome (BAD alone unless ``alone`` is false);
    wave 2 never ran. Returns the reason."""
    assert result.status is RolloutStatus.HALTED, result.deployments
    reason = result.deployments["c002"].error or ""
    assert reason.startswith("halted at the health gate after wave 1: "), reason
    assert words in reason, reason
    if alone:
        assert reason.startswith(f"halted at the health gate after wave 1: 1 unhealthy ({BAD}: "), reason
    for name in ("c002", "c003"):
        outcome = result.deployments[name]
        assert (outcome.status, outcome.attempts, outcome.error) == (RunState.SKIPPED, 0, reason), outcome
    assert all(result.deployments[n].attempts >= 1 for n in (GOOD, BAD)), "wave 1 ran"
    assert [e.error for e in events if e.kind is ProgressKind.HALTED] == [reason]
    return reason


# Locally ----------------------------------------------------------------------------------------------------------


def release_locally(state: Path, names: list[str], engine: str, executor: object, hook: Hook | None = None,
                    ) -> tuple[RolloutResult, list[ProgressEvent]]:
    """`alien-pulumi rollout --waves 2,100% --health-gate`, through the release service; ``hook`` is applied to the
    registry as soon as BAD's release is recorded (on the rollout's own thread: before the gate, always)."""
    events: list[ProgressEvent] = []
    with Registry(state) as registry:
        def progress(event: ProgressEvent) -> None:
            events.append(event)
            if hook is not None and event.kind is ProgressKind.RUN_FINISHED and event.deployment == BAD:
                hook(registry)

        result = service.release(registry, load_stack(QUICKSTART), names, "r2", state, waves=WAVES,
                                 health_gate=True, engine=engine, executor=executor,  # type: ignore[arg-type]
                                 on_progress=progress)
    return result, events


@pytest.mark.parametrize("outcome", list(HALTING), ids=list(HALTING))
def test_locally_the_gate_halts_on(outcome: str, tmp_path: Path, make_fleet: FleetMaker) -> None:
    case = HALTING[outcome]
    names = make_fleet(tmp_path, 4)
    result, events = release_locally(tmp_path, names, case.engine, InProcessExecutor(), case.hook)
    assert result.deployments[BAD].status is RunState.SUCCEEDED  # the release was fine: its heartbeat is not
    assert_halted_at_wave_1(result, events, case.words)


class HeartbeatsTimeOut:
    """Releases on threads of this process; heartbeats in worker processes killed after TIMEOUT seconds (the
    ProcessExecutor's timeout, which is what makes a local heartbeat time out)."""

    def run_all(self, runs: Iterable[RunInput], parallel: int, on_done: OnDone,
                should_stop: ShouldStop = never) -> None:
        pending: Iterator[RunInput] = iter(runs)
        first = next(pending, None)
        if first is None:
            return
        chosen = ProcessExecutor(timeout=TIMEOUT) if first.kind is RunKind.HEARTBEAT else InProcessExecutor()
        chosen.run_all(itertools.chain([first], pending), parallel, on_done, should_stop)


def test_locally_the_gate_halts_on_timed_out(tmp_path: Path, make_fleet: FleetMaker) -> None:
    names = make_fleet(tmp_path, 4)
    try:
        result, events = release_locally(tmp_path, names, f"{FAST};heartbeat-hangs={BAD}", HeartbeatsTimeOut())
    finally:
        answer(tmp_path)
    # GOOD's heartbeat is no slower than a worker start: on a loaded machine it may time out too (then it is named).
    assert_halted_at_wave_1(result, events, f"{BAD}: failed: the worker timed out after {TIMEOUT:g} s and was killed",
                            alone=False)


def answer(state: Path) -> None:
    """End BAD's hanging heartbeats (the workers a timeout gave up on must not outlive the test)."""
    SimulatedEngine.answer(state, BAD)


def test_locally_a_revoked_heartbeat_still_goes_on(tmp_path: Path, make_fleet: FleetMaker) -> None:
    names = make_fleet(tmp_path, 4)
    result, _ = release_locally(tmp_path, names, f"{FAST};revoked={BAD}", InProcessExecutor())
    assert result.status is RolloutStatus.COMPLETED and result.ok, result.deployments
    assert [result.deployments[n].status for n in names] == [RunState.SUCCEEDED, RunState.REVOKED,
                                                             RunState.SUCCEEDED, RunState.SUCCEEDED]
    with Registry(tmp_path) as registry:
        assert registry.latest_heartbeats()[BAD].health["status"] == "revoked", "the gate heartbeat it, revoked"


@pytest.mark.parametrize("error", [AlienError("the registry is gone"), KeyError(BAD)], ids=["ours", "a-bug"])
def test_locally_a_gate_that_cannot_run_halts_with_its_error(error: Exception, tmp_path: Path,
                                                             make_fleet: FleetMaker) -> None:
    def gate(wave: int, members: list[str]) -> str | None:
        raise error

    names = make_fleet(tmp_path, 4)
    events: list[ProgressEvent] = []
    with Registry(tmp_path) as registry:
        prepared = service.prepare(registry, load_stack(QUICKSTART), names, "r2", tmp_path, engine=FAST)
        result = rollout(registry, "r2", prepared.inputs, WAVES, executor=InProcessExecutor(), gate=gate,
                         record=prepared.build, on_progress=events.append)
    words = "the registry is gone" if isinstance(error, AlienError) else f"KeyError: '{BAD}'"
    reason = assert_halted_at_wave_1(result, events, words, alone=False)
    assert reason == f"halted at the health gate after wave 1: the heartbeats of {GOOD}, {BAD} could not run ({words})"


@pytest.mark.parametrize(("status", "error", "health", "halts"), [
    (RunStatus.SUCCEEDED, None, {"api": {"state": "present"}}, None),
    (RunStatus.SUCCEEDED, None, {}, None),  # a stack with nothing to refresh
    (RunStatus.REVOKED, "refused", {}, None),
    (RunStatus.FAILED, "boom", {}, "failed: boom"),
    (RunStatus.FAILED, None, {}, "failed: the heartbeat gave no reason"),
    (RunStatus.LOCKED, "held", {}, "locked: held"),
    (RunStatus.SUCCEEDED, "odd", {"api": {"state": "present"}}, "succeeded with an error: odd"),
    (RunStatus.SUCCEEDED, None, {"api": {"state": "drifted"}, "db": {"state": "present"}}, "api drifted"),
    (RunStatus.SUCCEEDED, None, {"api": {"state": "missing"}}, "api missing"),
    (RunStatus.SUCCEEDED, None, {"api": {}}, "api None"),  # a state nobody knows is no positive answer
], ids=["present", "nothing-to-check", "revoked", "failed", "failed-silently", "locked", "error", "drifted",
        "missing", "unknown-state"])
def test_only_a_positive_heartbeat_passes(status: RunStatus, error: str | None, health: dict[str, dict[str, str]],
                                          halts: str | None) -> None:
    result = RunResult(run_id="h", deployment="d", kind=RunKind.HEARTBEAT, status=status, error=error,
                       health=health)
    assert health_problem(result) == halts


def test_no_heartbeat_result_is_no_positive_answer() -> None:
    assert health_problem(None) == NO_ANSWER


# On Temporal ------------------------------------------------------------------------------------------------------


def release_on_temporal(workers: Workers, names: list[str], engine: str, hook: Hook | None = None,
                        timing: Timing = TEMPORAL) -> tuple[RolloutResult, list[ProgressEvent]]:
    """The same rollout as a workflow on the workers. ``hook`` is applied once the release service prepared it and
    before the workflow starts (the workers then find BAD as the hook left it, at its release and at its gate: a
    change between the two could not be timed without a race)."""
    events: list[ProgressEvent] = []
    with Registry(workers.state) as registry:
        prepared = service.prepare(registry, load_stack(QUICKSTART), names, "r2", workers.state, engine=engine)
        if hook is not None:
            hook(registry)
        result = client.rollout(registry, "r2", prepared, workers.settings, waves=WAVES, parallel=4, health_gate=True,
                                engine=engine, timing=timing, on_progress=events.append)
    return result, events


@pytest.mark.parametrize("outcome", list(HALTING), ids=list(HALTING))
def test_on_temporal_the_gate_halts_on(outcome: str, workers: Workers, make_fleet: FleetMaker) -> None:
    case = HALTING[outcome]
    names = make_fleet(workers.state, 4)
    workers.start(1, parallel=4)
    result, events = release_on_temporal(workers, names, case.engine, case.hook)
    # A release of a deployment not set up or removed fails (the gate still runs: no halt after failures here).
    assert result.deployments[BAD].status is (RunState.FAILED if case.hook else RunState.SUCCEEDED)
    assert_halted_at_wave_1(result, events, case.words)


def test_on_temporal_the_gate_halts_on_timed_out(workers: Workers, make_fleet: FleetMaker) -> None:
    names = make_fleet(workers.state, 4)
    # Room for the hanging heartbeat's three attempts (each holds its slot until answered) beside the others.
    workers.start(1, parallel=8)
    timing = Timing(run_timeout=TIMEOUT, heartbeat_every=0.5, heartbeat_timeout=3, attempts=4, first_wait=0.2,
                    longest_wait=1)
    try:
        result, events = release_on_temporal(workers, names, f"{FAST};heartbeat-hangs={BAD}", timing=timing)
    finally:
        answer(workers.state)
    assert_halted_at_wave_1(result, events, f"{BAD}: timed out: no answer from the workers within the heartbeat's "
                                            "start-to-close timeout", alone=False)


def test_on_temporal_a_revoked_heartbeat_still_goes_on(workers: Workers, make_fleet: FleetMaker) -> None:
    names = make_fleet(workers.state, 4)
    workers.start(1, parallel=4)
    result, _ = release_on_temporal(workers, names, f"{FAST};revoked={BAD}")
    assert result.status is RolloutStatus.COMPLETED and result.ok, result.deployments
    assert [result.deployments[n].status for n in names] == [RunState.SUCCEEDED, RunState.REVOKED,
                                                             RunState.SUCCEEDED, RunState.SUCCEEDED]
    with Registry(workers.state) as registry:
        assert registry.latest_heartbeats()[BAD].health["status"] == "revoked", "the gate heartbeat it, revoked"
