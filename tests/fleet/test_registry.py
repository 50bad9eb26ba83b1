"""The registry: schema migrations, one commit per state change, and the API the rollout and the CLI use."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import alien_pulumi as alien
from alien_pulumi.automation.run import RunKind, RunResult, RunStatus
from alien_pulumi.errors import AlienError
from alien_pulumi.fleet import registry as registry_module
from alien_pulumi.fleet.registry import (
    SCHEMA_VERSION,
    Registry,
    RegistryError,
    RegistryVersionError,
    RolloutStatus,
    RunState,
    rollout_run_id,
)
from alien_pulumi.fleet.schema import metadata
from alien_pulumi.model.record import ReleaseRecord
from tests.fleet.legacy_registry import legacy_registry

ECR = "111122223333.dkr.ecr.us-east-1.amazonaws.com"  # AWS runs ECR images only (DESIGN.md §4b)


def small_spec(image: str = f"{ECR}/i") -> alien.StackSpec:
    return alien.Stack("s").platforms("aws", "gcp").add(alien.Function("f", image=image), "live").build()


def record(name: str, platform: str = "aws", release: str = "setup-1", management: object = None) -> ReleaseRecord:
    spec = small_spec()
    outputs = {} if management is None else {"management_identity": management}
    return ReleaseRecord(release=release, deployment=name, program="provision",
                         context=alien.DeploymentContext.example_context(platform, "s", prefix=name), spec=spec,
                         digest=spec.digest(), frozen_digest=spec.frozen_digest(), permissions={}, outputs=outputs)


def result(run: str, deployment: str, status: RunStatus = RunStatus.SUCCEEDED, error: str | None = None,
           seconds: float = 0.5) -> RunResult:
    return RunResult(run_id=run, deployment=deployment, kind=RunKind.RELEASE, status=status, error=error,
                     seconds=seconds, summary={"update": 1})


@pytest.fixture
def reg(tmp_path: Path, database: str | None) -> Iterator[Registry]:
    """The registry on each database: SQLite (the default) and PostgreSQL."""
    with Registry(tmp_path, url=database) as opened:
        yield opened


# State directory and schema -----------------------------------------------------------------------------------


def test_state_dir_argument_beats_environment_beats_user_data_dir(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry_module.platformdirs, "user_data_dir", lambda app: str(tmp_path / "user" / app))
    monkeypatch.delenv("ALIEN_PULUMI_STATE_DIR", raising=False)
    with Registry() as default:
        assert default.path == tmp_path / "user" / "alien-pulumi" / "registry.db"
    monkeypatch.setenv("ALIEN_PULUMI_STATE_DIR", str(tmp_path / "env"))
    with Registry() as from_env:
        assert from_env.path == tmp_path / "env" / "registry.db"
    with Registry(tmp_path / "arg") as explicit:
        assert explicit.path == tmp_path / "arg" / "registry.db"


def test_a_fresh_registry_has_the_latest_schema(reg: Registry) -> None:
    assert SCHEMA_VERSION >= 4
    assert reg.schema_version == SCHEMA_VERSION
    tables = set(sa.inspect(reg.engine).get_table_names())
    assert {"deployments", "releases", "rollouts", "runs", "heartbeats", "run_attempts"} <= tables


def test_the_migrated_schema_is_the_one_the_queries_use(reg: Registry) -> None:
    """The Alembic revisions and the tables of schema.py describe the same database (no column, index or
    constraint only one of them has)."""
    with reg.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_a_fresh_sqlite_registry_is_in_wal_mode_and_marked_for_older_versions(tmp_path: Path) -> None:
    with Registry(tmp_path) as reg:
        assert reg.path is not None
        conn = sqlite3.connect(reg.path)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        # What the hand-written versions read: they refuse a registry newer than theirs (3).
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_version_1_registry_is_migrated_forward_with_its_data(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "registry.db", isolation_level=None)
    assert legacy_registry(tmp_path).migrate(conn, target=1) == 0
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'run_attempts'").fetchone()
    old = record("acme")
    conn.execute("INSERT INTO deployments VALUES (?, 'aws', ?, '{\"role_arn\": \"arn:r\"}', ?, 't')",
                  ("acme", old.context.model_dump_json(), old.model_dump_json()))
    conn.execute("INSERT INTO runs (id, deployment, kind, attempt, status, started_at, finished_at, error) "
                 "VALUES ('r1', 'acme', 'release', 2, 'failed', 't0', 't1', 'boom')")
    conn.execute("INSERT INTO runs (id, deployment, kind, attempt, status) VALUES ('r2', 'acme', 'release', 0, "
                 "'pending')")
    conn.close()

    with Registry(tmp_path) as reg:
        assert reg.schema_version == SCHEMA_VERSION
        assert reg.get_deployment("acme").management == {"role_arn": "arn:r"}
        assert reg.get_deployment("acme").record == old
        # Version 1 kept only each run's last attempt: the migration carries it into the attempt log.
        [attempt] = reg.attempts("r1")
        assert (attempt.attempt, attempt.status, attempt.error) == (2, "failed", "boom")
        assert reg.attempts("r2") == []
        assert reg.get_run("r2").status is RunState.PENDING


def test_a_registry_newer_than_the_code_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "registry.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(RegistryVersionError, match=rf"schema version {SCHEMA_VERSION + 1}.*upgrade alien-pulumi"):
        Registry(tmp_path)
    assert issubclass(RegistryVersionError, AlienError)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0


def test_durable_mode_fsyncs_every_commit(tmp_path: Path) -> None:
    with Registry(tmp_path, durable=True) as durable, Registry(tmp_path) as default:
        # PRAGMA synchronous is per connection: 2 = FULL, 1 = NORMAL.
        with durable.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2
        with default.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1


def test_every_state_change_is_committed_before_the_call_returns(reg: Registry) -> None:
    """Another connection (another process: the CLI, or a resume after a crash) sees each change at once."""
    other = sa.create_engine(reg.url)

    def read(sql: str) -> tuple[object, ...]:
        with other.connect() as conn:
            return tuple(conn.exec_driver_sql(sql).one())

    reg.record_release("v1", small_spec())
    reg.create_rollout("ro", "v1", {}, [["a", "b"]])
    reg.start_run(rollout_run_id("ro", "a"))
    assert read("SELECT status, attempt FROM runs WHERE id = 'ro:a'") == ("running", 1)
    reg.finish_run("ro:a", result("ro:a", "a"))
    assert read("SELECT status FROM runs WHERE id = 'ro:a'") == ("succeeded",)
    reg.record_heartbeat("a", {"f": "present"})
    assert read("SELECT count(*) FROM heartbeats") == (1,)
    other.dispose()


def test_a_failed_write_leaves_nothing_behind(reg: Registry) -> None:
    with pytest.raises(RegistryError, match="no release 'nope'"):
        reg.create_rollout("ro", "nope", {}, [["a"]])
    assert reg.rollouts() == []
    assert reg.runs() == []


# Deployments and releases -------------------------------------------------------------------------------------


def test_deployments_come_from_setup_records(reg: Registry) -> None:
    reg.add_deployment(record("acme", management={"role_arn": "arn:aws:iam::1:role/acme-management"}))
    reg.add_deployment(record("globex", "gcp", management="globex-mgmt@p.iam.gserviceaccount.com"))
    acme = reg.get_deployment("acme")
    assert acme.platform is alien.Platform.AWS
    assert acme.context.prefix == "acme"
    assert acme.management == {"role_arn": "arn:aws:iam::1:role/acme-management"}
    assert acme.record is not None and acme.record.release == "setup-1"
    assert reg.get_deployment("globex").management == {"service_account": "globex-mgmt@p.iam.gserviceaccount.com"}
    assert [d.name for d in reg.list_deployments()] == ["acme", "globex"]
    assert [d.name for d in reg.list_deployments("gcp")] == ["globex"]
    with pytest.raises(RegistryError, match="no deployment named 'initech'"):
        reg.get_deployment("initech")


def test_a_new_deployed_record_keeps_the_management_identity(reg: Registry) -> None:
    reg.add_deployment(record("acme", management={"role_arn": "arn:r"}))
    reg.set_deployed_record(record("acme", release="v2"))
    acme = reg.get_deployment("acme")
    assert acme.record is not None and acme.record.release == "v2"
    assert acme.management == {"role_arn": "arn:r"}
    reg.add_deployment(record("acme", release="setup-2"))  # a setup record without the output
    assert reg.get_deployment("acme").management == {"role_arn": "arn:r"}
    with pytest.raises(RegistryError, match="no deployment named 'ghost'"):
        reg.set_deployed_record(record("ghost"))
    reg.remove_deployment("acme")
    assert reg.list_deployments() == []


def test_a_release_id_names_one_stack(reg: Registry) -> None:
    first = reg.record_release("v1", small_spec())
    assert (first.stack, first.digest, first.frozen_digest) == ("s", small_spec().digest(),
                                                                small_spec().frozen_digest())
    assert reg.record_release("v1", small_spec()) == first  # idempotent
    with pytest.raises(RegistryError, match="already recorded with another stack"):
        reg.record_release("v1", small_spec(image=f"{ECR}/other"))
    assert reg.get_release("v1").spec == small_spec()


# Rollouts, runs, attempts -------------------------------------------------------------------------------------


def test_runs_are_claimed_finished_and_logged_per_attempt(reg: Registry) -> None:
    reg.record_release("v1", small_spec())
    rollout = reg.create_rollout("ro", "v1", {"waves": "1,100%"}, [["a"], ["b", "c"]])
    assert (rollout.status, rollout.plan) == (RolloutStatus.RUNNING, {"waves": "1,100%"})
    runs = reg.runs(rollout_id="ro")
    assert [(r.deployment, r.wave, r.status, r.attempt) for r in runs] == [
        ("a", 1, RunState.PENDING, 0), ("b", 2, RunState.PENDING, 0), ("c", 2, RunState.PENDING, 0)]

    assert reg.start_run("ro:a") == 1
    assert reg.retry_run("ro:a", result("ro:a", "a", RunStatus.LOCKED, "locked")) == 2
    assert reg.get_run("ro:a").status is RunState.RUNNING
    assert reg.finish_run("ro:a", result("ro:a", "a")) is RunState.SUCCEEDED
    assert [(a.attempt, a.status) for a in reg.attempts("ro:a")] == [(1, "locked"), (2, "succeeded")]
    done = reg.get_run("ro:a")
    assert done.result is not None and done.result.summary == {"update": 1}
    assert done.started_at is not None and done.finished_at is not None and done.started_at <= done.finished_at
    with pytest.raises(RegistryError, match="already succeeded"):
        reg.start_run("ro:a")

    # A run left 'running' by a dead process is claimed again: a new attempt.
    reg.start_run("ro:b")
    assert reg.start_run("ro:b") == 2
    assert reg.finish_run("ro:b", result("ro:b", "b", RunStatus.FAILED, "boom")) is RunState.FAILED
    assert reg.get_run("ro:b").error == "boom"

    assert reg.skip_unfinished("ro", "halted") == 1
    assert reg.get_run("ro:c").status is RunState.SKIPPED
    reg.finish_rollout("ro", RolloutStatus.HALTED)
    assert reg.get_rollout("ro").status is RolloutStatus.HALTED
    assert reg.get_rollout("ro").finished_at is not None
    assert [r.id for r in reg.rollouts(RolloutStatus.RUNNING)] == []
    with pytest.raises(RegistryError, match="already exists"):
        reg.create_rollout("ro", "v1", {}, [["a"]])


def test_results_per_deployment(reg: Registry) -> None:
    reg.record_release("v1", small_spec())
    reg.create_rollout("ro1", "v1", {}, [["a", "b"]])
    reg.create_rollout("ro2", "v1", {}, [["a"]])
    for run in ("ro1:a", "ro2:a"):
        reg.start_run(run)
        reg.finish_run(run, result(run, "a"))
    reg.add_run("a", RunKind.HEARTBEAT, "hb-1")
    assert [r.id for r in reg.runs(deployment="a")] == ["ro1:a", "ro2:a", "hb-1"]
    last = reg.last_run("a", RunKind.RELEASE)
    assert last is not None and last.id == "ro2:a"
    assert reg.last_run("b") is None


def test_the_latest_heartbeat_of_each_deployment(reg: Registry) -> None:
    reg.record_heartbeat("a", {"f": "present"}, checked_at="2026-01-01T00:00:00+00:00")
    reg.record_heartbeat("a", {"f": "drifted"}, checked_at="2026-01-02T00:00:00+00:00")
    reg.record_heartbeat("a", {"f": "old"}, checked_at="2025-12-31T00:00:00+00:00")  # late arrival, older check
    reg.record_heartbeat("b", {"f": "missing"})
    latest = reg.latest_heartbeat("a")
    assert latest is not None and latest.health == {"f": "drifted"}
    assert reg.latest_heartbeat("c") is None
    assert {name: hb.health for name, hb in reg.latest_heartbeats().items()} == {
        "a": {"f": "drifted"}, "b": {"f": "missing"}}


def test_a_registry_written_by_the_hand_migrated_version_upgrades_in_place_with_its_data(tmp_path: Path) -> None:
    """A version-3 registry written through the pre-SQLAlchemy Registry itself: every row reads back the same
    through today's, and today's writes carry on from it (run order, attempts, heartbeats)."""
    legacy = legacy_registry(tmp_path)
    with contextlib.closing(legacy.Registry(tmp_path)) as old:
        assert old.schema_version == 3
        old.add_deployment(record("acme", management={"role_arn": "arn:r"}))
        old.add_deployment(record("globex", "gcp"))
        old.record_release("v1", small_spec())
        old.create_rollout("ro", "v1", {"waves": "1,100%"}, [["globex"], ["acme"]])
        old.start_run("ro:globex")
        old.retry_run("ro:globex", result("ro:globex", "globex", RunStatus.LOCKED, "locked"))
        old.finish_run("ro:globex", result("ro:globex", "globex"))
        old.add_run("acme", RunKind.HEARTBEAT, "hb-1")
        old.record_heartbeat("acme", {"f": "present"})
        before = [vars(x) for x in (*old.list_deployments(), old.get_release("v1"), old.get_rollout("ro"),
                                      *old.runs(), *old.attempts("ro:globex"), *old.latest_heartbeats().values())]

    with Registry(tmp_path) as reg:
        assert reg.schema_version == SCHEMA_VERSION
        after = [vars(x) for x in (*reg.list_deployments(), reg.get_release("v1"), reg.get_rollout("ro"),
                                     *reg.runs(), *reg.attempts("ro:globex"), *reg.latest_heartbeats().values())]
        for deployment in after[:2]:  # a field the legacy version did not have: no setup request is open
            assert deployment.pop("open_request") is None
        assert after == before
        reg.add_run("acme", RunKind.HEARTBEAT, "hb-2")
        assert [r.id for r in reg.runs(deployment="acme")] == ["ro:acme", "hb-1", "hb-2"]
        assert [r.id for r in reg.runs(rollout_id="ro")] == ["ro:globex", "ro:acme"]
        assert reg.start_run("ro:acme") == 1
    # The old code now refuses the upgraded registry instead of writing on a schema it does not know.
    with pytest.raises(legacy.RegistryVersionError, match=f"schema version {SCHEMA_VERSION}, newer"):
        legacy.Registry(tmp_path)
