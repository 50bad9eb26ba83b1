"""The CLI on Temporal: the same output, JSON and exit codes as the local executor; workers that run each
deployment in its own process; attach, status, cancel; heartbeats once or on a Temporal schedule."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from alien_pulumi.fleet.registry import Registry
from alien_pulumi.fleet.temporal.client import connect
from alien_pulumi.fleet.temporal.devserver import free_port
from tests.cli.helpers import run
from tests.conftest import ROOT
from tests.fleet.conftest import CLI, QUICKSTART, FleetMaker, Workers


def temporal(workers: Workers) -> list[str]:
    return ["--temporal", workers.server.address, "--task-queue", workers.task_queue]


def without_ids(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in ("rollout", "release")}


def rollout(state: Path, *args: str) -> Any:
    return run("rollout", str(QUICKSTART), "--all", "--yes", "--no-resolve", "--state-dir", str(state), "--json", *args)


@pytest.mark.parametrize("engine, extra, code", [
    ("simulated:5", (), 0),
    ("simulated:5;fail=c001", ("--halt-after-failures", "1", "--parallel", "1"), 4),
    ("simulated:5;unhealthy=c000", ("--waves", "1,100%", "--health-gate"), 4),  # halted at the gate of wave 1
])
def test_the_same_json_and_exit_code_on_both_executors(workers: Workers, make_fleet: FleetMaker, tmp_path: Path,
                                                       engine: str, extra: tuple[str, ...], code: int) -> None:
    local_state = tmp_path / "local"
    make_fleet(local_state, 3)
    make_fleet(workers.state, 3)
    workers.start(1, parallel=3, executor="process")  # each run in its own worker process, as in production
    local = rollout(local_state, "--engine", engine, "--release-id", "r2", *extra)
    remote = rollout(workers.state, "--engine", engine, "--release-id", "r2", *extra, *temporal(workers))
    assert (local.exit_code, remote.exit_code) == (code, code), remote.output
    assert without_ids(json.loads(remote.stdout)) == without_ids(json.loads(local.stdout))
    rollout_id = json.loads(remote.stdout)["rollout"]
    attached = run("rollout", "--resume", rollout_id, "--state-dir", str(workers.state), "--json", *temporal(workers))
    shown = run("rollout", "--status", rollout_id, "--state-dir", str(workers.state), "--json")
    assert attached.exit_code == shown.exit_code == code
    assert json.loads(attached.stdout) == json.loads(shown.stdout) == json.loads(remote.stdout)


def test_the_table_output_matches_the_local_one(workers: Workers, make_fleet: FleetMaker, tmp_path: Path) -> None:
    make_fleet(tmp_path / "local", 2)
    make_fleet(workers.state, 2)
    workers.start(1)
    args = ("rollout", str(QUICKSTART), "--all", "--yes", "--no-resolve", "--engine", "simulated:5",
            "--release-id", "r2")
    local = run(*args, "--state-dir", str(tmp_path / "local"))
    remote = run(*args, "--state-dir", str(workers.state), *temporal(workers))
    assert local.exit_code == remote.exit_code == 0

    def normal(text: str) -> str:  # the rollout id and the timings differ between any two runs
        return re.sub(r"\d+:\d\d:\d\d|\d+\.\d+", "T", re.sub(r"ro-[\w-]+", "ID", text))
    assert "wave" in local.stdout and normal(remote.stdout) == normal(local.stdout)


def test_the_address_comes_from_the_environment(workers: Workers, make_fleet: FleetMaker,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    make_fleet(workers.state, 1)
    workers.start(1)
    monkeypatch.setenv("ALIEN_PULUMI_TEMPORAL_ADDRESS", workers.server.address)
    monkeypatch.setenv("ALIEN_PULUMI_TEMPORAL_TASK_QUEUE", workers.task_queue)
    result = rollout(workers.state, "--engine", "simulated:5")
    assert result.exit_code == 0, result.output
    with Registry(workers.state) as registry:
        (planned,) = registry.rollouts()
    assert json.loads(result.stdout)["rollout"] == planned.id


def test_an_unreachable_server_fails_before_anything_is_recorded(tmp_path: Path, make_fleet: FleetMaker) -> None:
    make_fleet(tmp_path, 2)
    port = free_port()
    result = rollout(tmp_path, "--engine", "simulated:5", "--release-id", "r2", "--temporal", f"127.0.0.1:{port}")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: cannot reach the Temporal server at 127.0.0.1:{port} (namespace "
                                    "default)")
    with Registry(tmp_path) as registry:
        assert registry.rollouts() == [] and not registry.has_release("r2")


def test_cancel_needs_temporal(tmp_path: Path) -> None:
    result = run("rollout", "--cancel", "ro-x", "--state-dir", str(tmp_path))
    assert result.exit_code == 2 and "--cancel stops a rollout on Temporal" in result.stderr


def test_heartbeats_through_temporal_once_and_on_a_schedule(workers: Workers, make_fleet: FleetMaker) -> None:
    names = make_fleet(workers.state, 3)
    workers.start(1, parallel=3)
    # Every deployment unhealthy now; the schedule heartbeats them healthy: its run is told by what it records,
    # not by a timestamp (to the second) that a sleep would have to move on.
    once = run("heartbeat", "--all", "--engine", f"simulated:5;unhealthy={','.join(names)}", "--state-dir",
               str(workers.state), "--json", *temporal(workers))
    assert once.exit_code == 0, once.output
    beats = json.loads(once.stdout)
    assert sorted(beats) == names and all(b["status"] == "succeeded" for b in beats.values())
    assert all("missing" in {h["state"] for h in b["resources"].values()} for b in beats.values())

    scheduled = run("heartbeat", "--all", "--every", "1h", "--engine", "simulated:5", "--state-dir",
                    str(workers.state), "--json", *temporal(workers))
    assert scheduled.exit_code == 0, scheduled.output
    schedule_id = json.loads(scheduled.stdout)["schedule"]

    def all_present() -> bool:
        with Registry(workers.state) as registry:
            latest = [registry.latest_heartbeat(n) for n in names]
        return all(b is not None and b.health["resources"] and
                   all(h["state"] == "present" for h in b.health["resources"].values()) for b in latest)

    assert not all_present()

    async def trigger() -> None:
        client = await connect(workers.settings)
        handle = client.get_schedule_handle(schedule_id)
        assert (await handle.describe()).schedule.spec.intervals[0].every.total_seconds() == 3600
        await handle.trigger()
    asyncio.run(trigger())
    deadline = time.monotonic() + 300  # bounds a failure: the loop waits for the heartbeats the schedule records
    while not all_present() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert all_present(), "the schedule's heartbeat workflow did not run"


def test_every_needs_all_and_temporal(tmp_path: Path) -> None:
    result = run("heartbeat", "--all", "--every", "15m", "--state-dir", str(tmp_path))
    assert result.exit_code == 2 and "--every schedules the whole fleet on Temporal" in result.stderr


def test_a_fresh_cli_process_rolls_out_on_temporal(workers: Workers, make_fleet: FleetMaker) -> None:
    """As a vendor runs it: its own process, nothing cached (synth runs after the client has connected)."""
    make_fleet(workers.state, 2)
    workers.start(1)
    done = subprocess.run([*CLI, "rollout", str(QUICKSTART), "--all", "--yes", "--no-resolve", "--engine",
                           "simulated:5", "--json", "--state-dir", str(workers.state), *temporal(workers)],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["counts"]["succeeded"] == 2
