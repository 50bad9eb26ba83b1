"""The registry on a real PostgreSQL: concurrent writers in separate processes never lose or duplicate a run
record, concurrent openers migrate once, an unreachable database is one clear error before anything starts,
and a rollout on Temporal workers records everything there (none of it in the local state directory)."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pytest

from alien_pulumi.automation.run import RunKind, RunResult, RunStatus
from alien_pulumi.fleet.registry import (
    DATABASE_ENV,
    DB_NAME,
    SCHEMA_VERSION,
    Registry,
    RegistryError,
    RunState,
    RunSupersededError,
    rollout_run_id,
)
from alien_pulumi.fleet.temporal.devserver import free_port
from tests.cli.helpers import run
from tests.fleet.conftest import QUICKSTART, FleetMaker, Workers
from tests.fleet.test_registry import small_spec
from tests.postgres_server import PostgresServer

WRITERS = 4
RUNS = 120


def claim_and_finish(url: str, state: str, run_ids: list[str]) -> list[tuple[str, int]]:
    """One writer process: claim every run in plan order (as a worker that finds runs left 'running' would) and
    record its success; returns the (run, attempt) results it recorded."""
    recorded = []
    with Registry(state, url=url) as registry:
        for run_id in run_ids:
            try:
                attempt = registry.start_run(run_id)
            except RunSupersededError:
                continue
            except RegistryError:  # already final: another writer finished it
                continue
            outcome = RunResult(run_id=run_id, deployment=run_id.split(":")[1], kind=RunKind.RELEASE,
                                status=RunStatus.SUCCEEDED, seconds=0.01)
            try:
                registry.finish_run(run_id, outcome, attempt=attempt)
            except RunSupersededError:  # another writer claimed it since: its attempt owns the run
                continue
            registry.record_heartbeat(run_id, {"writer": attempt})
            recorded.append((run_id, attempt))
    return recorded


def test_concurrent_writer_processes_never_lose_or_duplicate_a_run(postgres: PostgresServer, tmp_path: Path) -> None:
    url = postgres.new_database()
    names = [f"d{i:03d}" for i in range(RUNS)]
    with Registry(tmp_path, url=url) as registry:
        registry.record_release("v1", small_spec())
        registry.create_rollout("ro", "v1", {}, [names[:20], names[20:]])
    run_ids = [rollout_run_id("ro", name) for name in names]
    # Every writer walks the runs in the same order: they contend for the same row at the same time.
    with ProcessPoolExecutor(WRITERS, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(claim_and_finish, url, str(tmp_path), run_ids) for _ in range(WRITERS)]
        recorded = [item for future in futures for item in future.result(timeout=300)]

    assert sorted(run_id for run_id, _ in recorded) == sorted(run_ids)  # each run's success recorded once
    with Registry(tmp_path, url=url) as registry:
        runs = registry.runs(rollout_id="ro")
        assert [r.id for r in runs] == run_ids  # plan order, wave by wave
        assert all(r.status is RunState.SUCCEEDED for r in runs)
        by_run = dict(recorded)
        for record in runs:
            successes = [a for a in registry.attempts(record.id) if a.status == "succeeded"]
            assert [a.attempt for a in successes] == [record.attempt] == [by_run[record.id]]
        assert len(registry.latest_heartbeats()) == RUNS


def test_one_of_concurrent_identical_writes_wins_and_the_others_are_told(postgres: PostgresServer,
                                                                          tmp_path: Path) -> None:
    url = postgres.new_database()
    with Registry(tmp_path, url=url) as registry:
        registry.record_release("v1", small_spec())
        barrier = threading.Barrier(8)

        def create(_: int) -> str:
            barrier.wait()
            try:
                registry.create_rollout("ro", "v1", {}, [["a", "b"]])
            except RegistryError as exc:
                return str(exc)
            return "created"

        with ThreadPoolExecutor(8) as pool:
            outcomes = list(pool.map(create, range(8)))
        assert outcomes.count("created") == 1
        assert set(outcomes) == {"created", "rollout 'ro' already exists"}
        assert [r.id for r in registry.runs()] == ["ro:a", "ro:b"]


def test_concurrent_openers_of_a_fresh_database_migrate_it_once(postgres: PostgresServer, tmp_path: Path) -> None:
    url = postgres.new_database()
    barrier = threading.Barrier(6)

    def open_it(_: int) -> int:
        barrier.wait()
        with Registry(tmp_path, url=url) as registry:
            return registry.schema_version

    with ThreadPoolExecutor(6) as pool:
        assert list(pool.map(open_it, range(6))) == [SCHEMA_VERSION] * 6


def test_an_unreachable_database_is_one_clear_error_before_anything_starts(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    url = f"postgresql://alien:secret@127.0.0.1:{port}/fleet"
    with pytest.raises(RegistryError, match=rf"cannot open the registry postgresql\+psycopg://alien:\*\*\*@127.0.0.1:"
                                            rf"{port}/fleet: .*nothing was done") as raised:
        Registry(tmp_path, url=url)
    assert "secret" not in str(raised.value)

    monkeypatch.setenv(DATABASE_ENV, url)
    result = run("rollout", str(QUICKSTART), "--all", "--yes", "--no-resolve", "--engine", "simulated:5",
                 "--state-dir", str(tmp_path), "--json")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: cannot open the registry postgresql+psycopg://alien:***@")
    assert json.loads(result.stdout)["error"]["code"] == "RegistryError"
    assert not (tmp_path / DB_NAME).exists()  # nothing fell back to, or was recorded in, the local registry


def test_a_bad_database_url_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match=rf"{DATABASE_ENV} names the database driver 'mysql'"):
        Registry(tmp_path, url="mysql://u@127.0.0.1/db")
    with pytest.raises(RegistryError, match=rf"{DATABASE_ENV} is not a database URL"):
        Registry(tmp_path, url="not a url")


def test_a_rollout_on_temporal_workers_records_in_postgresql(postgres: PostgresServer, workers: Workers,
                                                            make_fleet: FleetMaker,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    url = postgres.new_database()
    monkeypatch.setenv(DATABASE_ENV, url)
    names = make_fleet(workers.state, 4)
    workers.start(2, parallel=2, env={DATABASE_ENV: url})
    result = run("rollout", str(QUICKSTART), "--all", "--yes", "--no-resolve", "--engine", "simulated:5",
                 "--release-id", "r2", "--state-dir", str(workers.state), "--json", "--temporal",
                 workers.server.address, "--task-queue", workers.task_queue)
    assert result.exit_code == 0, result.output
    rollout_id = json.loads(result.stdout)["rollout"]
    with Registry(workers.state) as registry:
        assert registry.path is None and registry.where.endswith(url.rsplit("/", 1)[1])
        runs = registry.runs(rollout_id=rollout_id)
        assert sorted(r.deployment for r in runs) == names
        assert all(r.status is RunState.SUCCEEDED and r.attempt == 1 for r in runs)
        assert {d.record.release for d in registry.list_deployments() if d.record} == {"r2"}
    assert not (workers.state / DB_NAME).exists()
