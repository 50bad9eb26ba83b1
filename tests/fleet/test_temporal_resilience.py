"""The rollout survives what distributed runs meet: a worker killed mid-wave (its runs go to the others,
none is lost, none succeeds twice) and a restart of the Temporal server mid-rollout."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

from temporalio.api.enums.v1 import PendingActivityState

from alien_pulumi.automation.engine import SimulatedEngine
from alien_pulumi.fleet.registry import Registry, RolloutStatus, RunState
from alien_pulumi.fleet.temporal.client import connect
from alien_pulumi.fleet.temporal.devserver import DevServer
from tests.fleet.conftest import FleetMaker, Workers
from tests.fleet.test_temporal import in_background, runs_of


def wait_for_successes(state: Path, rollout_id: str, count: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if sum(r.status is RunState.SUCCEEDED for r in runs_of(state, rollout_id)) >= count:
                return
        except Exception:  # the rollout is not planned yet
            pass
        time.sleep(0.05)
    raise AssertionError(f"{count} runs of {rollout_id} did not succeed within {timeout} s")


def successes_per_run(state: Path, rollout_id: str) -> Counter[str]:
    with Registry(state) as registry:
        return Counter({run.deployment: sum(a.status == "succeeded" for a in registry.attempts(run.id))
                        for run in registry.runs(rollout_id=rollout_id)})


def busiest_worker(workers: Workers, rollout_id: str, at_least: int = 3, timeout: float = 120) \
        -> subprocess.Popen[str]:
    """A worker process that Temporal says has ``at_least`` of the rollout's runs started on it now (the one with
    the most). On a loaded machine far fewer than ``parallel`` runs are in flight at once (a run's synth is
    CPU-bound), so any one worker may hold none at a given moment, or only a run about to report its end:
    killing a fixed one would then test nothing."""
    pids = {proc.pid: proc for proc in workers.procs}

    async def started_on() -> Counter[int]:
        handle = (await connect(workers.settings)).get_workflow_handle(rollout_id)
        pending = (await handle.describe()).raw_description.pending_activities
        return Counter(int(a.last_worker_identity.split("@")[0]) for a in pending
                       if a.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED)

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        held = [(count, pid) for pid, count in asyncio.run(started_on()).items() if pid in pids and count >= at_least]
        if held:
            return pids[max(held)[1]]
        time.sleep(0.05)
    raise AssertionError(f"no worker held {at_least} runs of {rollout_id} at once within {timeout} s")


def test_200_deployments_over_3_workers_survive_a_killed_worker(workers: Workers, make_fleet: FleetMaker) -> None:
    names = make_fleet(workers.state, 200)
    workers.start(3, parallel=8)
    # The runs after the first 30 are held until answered: a run Temporal shows started on the victim is still
    # running when the kill lands, however long the look and the kill take (with runs of a fixed latency, they had
    # often recorded their end between the two on a loaded machine, and their retries then ran nothing).
    held = names[30:]
    thread, results = in_background(workers.state, names, workers, "ro-kill",
                                    engine=f"simulated:20;hold={','.join(held)}", parallel=24)
    try:
        wait_for_successes(workers.state, "ro-kill", 30)
        victim = busiest_worker(workers, "ro-kill")
        victim.send_signal(signal.SIGKILL)  # mid-wave, with runs started on it
    finally:
        SimulatedEngine.answer(workers.state, *held)
    thread.join(timeout=300)
    (result,) = results
    assert victim.wait() == -signal.SIGKILL
    assert result.ok and result.counts["succeeded"] == 200  # none lost
    assert set(successes_per_run(workers.state, "ro-kill").values()) == {1}  # none succeeded twice
    retried = [o for o in result.deployments.values() if o.attempts > 1]
    assert retried, "the killed worker's runs were not picked up by the others"
    with Registry(workers.state) as registry:
        assert {registry.get_deployment(n).record.release for n in names} == {"r2"}  # type: ignore[union-attr]


def test_a_rollout_completes_through_a_temporal_server_restart(temporal_server: DevServer, workers: Workers,
                                                               make_fleet: FleetMaker) -> None:
    names = make_fleet(workers.state, 60)
    workers.start(2, parallel=4)
    thread, results = in_background(workers.state, names, workers, "ro-restart", engine="simulated:100", parallel=8)
    wait_for_successes(workers.state, "ro-restart", 10)
    temporal_server.restart()
    thread.join(timeout=300)
    (result,) = results
    assert result.status is RolloutStatus.COMPLETED and result.ok and result.counts["succeeded"] == 60
    assert set(successes_per_run(workers.state, "ro-restart").values()) == {1}
    assert all(w.poll() is None for w in workers.procs)  # the workers rode it out too
