"""The registry: what the vendor knows about its deployments, releases, rollouts, runs and health.

Embedded SQLite (``<state dir>/registry.db``) so that a vendor needs no database server. It is written to
survive the release service dying at any moment:

- every state change is its own transaction, committed before the next run starts or the caller moves on;
- WAL journal: a commit is durable when the process dies (killed, crashed, out of memory). With
  ``synchronous=NORMAL`` (the default) a power loss may roll back the last commits, never corrupt the file;
  a run whose success is rolled back that way is found 'running' and run again, which a Pulumi update
  tolerates. ``Registry(durable=True)`` fsyncs every commit instead;
- the schema is versioned with ``PRAGMA user_version`` and an append-only list of migrations, so a
  registry written by an older version is migrated forward and a newer one is refused.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import ValidationError

from alien_pulumi.automation.run import RunKind, RunResult, RunStatus
from alien_pulumi.errors import AlienError
from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.record import ReleaseRecord
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import Platform

STATE_ENV = "ALIEN_PULUMI_STATE_DIR"
DB_NAME = "registry.db"

# Append-only: a shipped migration is never edited, a change is a new entry. Entry i brings the schema
# from version i to i + 1. Statements are listed one by one because all pending migrations run inside one
# transaction (sqlite3's executescript would commit in the middle).
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (  # 1: the registry
        """CREATE TABLE deployments (
            name TEXT PRIMARY KEY,
            platform TEXT NOT NULL,
            context TEXT NOT NULL,          -- DeploymentContext JSON
            management TEXT NOT NULL,       -- management identity JSON (role_arn / service_account / client_id...)
            record TEXT,                    -- the deployed ReleaseRecord JSON
            updated_at TEXT NOT NULL)""",
        """CREATE TABLE releases (
            id TEXT PRIMARY KEY,
            stack TEXT NOT NULL,
            digest TEXT NOT NULL,
            frozen_digest TEXT NOT NULL,
            spec TEXT NOT NULL,
            created_at TEXT NOT NULL)""",
        """CREATE TABLE rollouts (
            id TEXT PRIMARY KEY,
            release_id TEXT NOT NULL REFERENCES releases(id),
            plan TEXT NOT NULL,             -- waves, sizes, halt threshold, kind
            status TEXT NOT NULL,           -- running / completed / halted
            created_at TEXT NOT NULL,
            finished_at TEXT)""",
        """CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            rollout_id TEXT REFERENCES rollouts(id),
            deployment TEXT NOT NULL,
            kind TEXT NOT NULL,
            wave INTEGER,
            attempt INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL,           -- pending / running / succeeded / failed / skipped
            started_at TEXT,
            finished_at TEXT,
            result TEXT,                    -- RunResult JSON
            error TEXT)""",
        "CREATE INDEX runs_by_rollout ON runs(rollout_id, wave)",
        "CREATE INDEX runs_by_deployment ON runs(deployment)",
        """CREATE TABLE heartbeats (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            deployment TEXT NOT NULL,
            checked_at TEXT NOT NULL,
            health TEXT NOT NULL)""",
        "CREATE INDEX heartbeats_by_deployment ON heartbeats(deployment, checked_at)",
    ),
    (  # 2: one row per attempt, so lock retries and re-runs after a crash stay visible
        """CREATE TABLE run_attempts (
            run_id TEXT NOT NULL REFERENCES runs(id),
            attempt INTEGER NOT NULL,
            status TEXT NOT NULL,           -- succeeded / failed / locked
            finished_at TEXT NOT NULL,
            seconds REAL NOT NULL,
            error TEXT,
            PRIMARY KEY (run_id, attempt))""",
        # Registries of version 1 knew only each run's last attempt.
        """INSERT INTO run_attempts (run_id, attempt, status, finished_at, seconds, error)
           SELECT id, attempt, status, finished_at, 0, error FROM runs
           WHERE finished_at IS NOT NULL AND attempt > 0 AND status IN ('succeeded', 'failed')""",
    ),
    (  # 3: registration before setup (the bundle), and one deployment per platform + account + prefix
        "ALTER TABLE deployments ADD COLUMN target TEXT",  # <platform>:<account/project/subscription>:<prefix>
        "ALTER TABLE deployments ADD COLUMN bundle TEXT",  # the SetupBundle JSON handed to the admin
        """UPDATE deployments SET target = platform || ':' || CASE platform
               WHEN 'aws' THEN json_extract(context, '$.account_id')
               WHEN 'gcp' THEN json_extract(context, '$.project')
               ELSE json_extract(context, '$.subscription_id') END || ':' || json_extract(context, '$.prefix')""",
        "CREATE UNIQUE INDEX deployments_by_target ON deployments(target)",
        # Contexts have one region field for every cloud and only their own cloud's fields now.
        *(f"""UPDATE deployments SET {column} = json_remove(json_set({column}, '{path}region',
                  COALESCE(json_extract({column}, '{path}{region}'), json_extract({column}, '{path}region'))),
                  {", ".join(f"'{path}{k}'" for k in drop)})
              WHERE platform = '{platform}' AND {column} IS NOT NULL"""
          for column, path in (("context", "$."), ("record", "$.context."))
          for platform, region, drop in (
              ("aws", "region", ("gcp_region", "location", "project", "subscription_id", "vendor_oidc_issuer")),
              ("gcp", "gcp_region", ("gcp_region", "location", "account_id", "partition", "subscription_id",
                                     "resource_group", "vendor_oidc_issuer", "external_id")),
              ("azure", "location", ("gcp_region", "location", "account_id", "partition", "project",
                                     "external_id")))),
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


class RegistryError(AlienError):
    """The registry cannot do what was asked (unknown deployment, conflicting release, ...)."""


class RegistryVersionError(RegistryError):
    """The registry was written by a newer alien-pulumi: this version must not touch it."""


class DeploymentState(str, Enum):
    AWAITING_SETUP = "awaiting-setup"  # registered, bundle handed out, no setup record yet
    DEPLOYED = "deployed"


class RunSupersededError(RegistryError):
    """An execution of a run was given up on (its worker stopped heartbeating) and a later attempt owns the run
    now: the older one must not record anything."""


class RunState(str, Enum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


FINAL = frozenset({RunState.SUCCEEDED, RunState.FAILED, RunState.SKIPPED})


class RolloutStatus(str, Enum):
    RUNNING = "running"
    COMPLETED = "completed"
    HALTED = "halted"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Deployment:
    name: str
    platform: Platform
    context: DeploymentContext
    management: dict[str, str]
    record: ReleaseRecord | None
    updated_at: str
    bundle: dict[str, Any] | None = None  # the setup bundle of a registered deployment

    @property
    def state(self) -> DeploymentState:
        return DeploymentState.DEPLOYED if self.record is not None else DeploymentState.AWAITING_SETUP


@dataclass(frozen=True)
class Release:
    id: str
    stack: str
    digest: str
    frozen_digest: str
    spec: StackSpec
    created_at: str


@dataclass(frozen=True)
class Rollout:
    id: str
    release_id: str
    plan: dict[str, Any]
    status: RolloutStatus
    created_at: str
    finished_at: str | None


@dataclass(frozen=True)
class RunRecord:
    id: str
    rollout_id: str | None
    deployment: str
    kind: RunKind
    wave: int | None
    attempt: int  # executions started (or scheduled, for a lock retry)
    status: RunState
    started_at: str | None
    finished_at: str | None
    result: RunResult | None
    error: str | None


@dataclass(frozen=True)
class Attempt:
    run_id: str
    attempt: int
    status: str  # succeeded / failed / locked
    finished_at: str
    seconds: float
    error: str | None


@dataclass(frozen=True)
class Heartbeat:
    deployment: str
    checked_at: str
    health: dict[str, Any]


def state_dir(explicit: str | Path | None = None) -> Path:
    """The state directory: the argument, else $ALIEN_PULUMI_STATE_DIR, else the user data directory."""
    path = Path(explicit or os.environ.get(STATE_ENV) or platformdirs.user_data_dir("alien-pulumi"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the database to schema ``target`` in one transaction; return the version it had.

    The version is read inside the write transaction, so two processes opening a fresh registry at once
    cannot both apply the same migration.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        _refuse_newer(version, _db_name(conn))
        for statements in MIGRATIONS[version:target]:
            for statement in statements:
                conn.execute(statement)
        if target > version:
            conn.execute(f"PRAGMA user_version = {int(target)}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return int(version)


def _refuse_newer(version: int, where: str) -> None:
    if version > SCHEMA_VERSION:
        raise RegistryVersionError(
            f"the registry {where} has schema version {version}, newer than this alien-pulumi understands "
            f"({SCHEMA_VERSION}): upgrade alien-pulumi; the registry was not changed")


def _db_name(conn: sqlite3.Connection) -> str:
    row = conn.execute("PRAGMA database_list").fetchone()
    return str(row[2]) if row and row[2] else "(in memory)"


def management_from(record: ReleaseRecord) -> dict[str, str]:
    """The management identity from a setup record's ``management_identity`` output: a mapping of
    role_arn / service_account / client_id / tenant_id, or one string naming the identity."""
    value = record.outputs.get("management_identity")
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items() if v is not None}
    if isinstance(value, str) and value:
        key = {Platform.AWS: "role_arn", Platform.GCP: "service_account", Platform.AZURE: "client_id"}
        return {key[record.context.platform]: value}
    return {}


class Registry:
    """One registry database. Every write method is one committed transaction. Safe to share between
    threads (a lock serialises them), and between processes (SQLite's own locking, with a busy timeout)."""

    def __init__(self, state: str | Path | None = None, *, timeout: float = 30.0, durable: bool = False) -> None:
        """``durable``: also survive a power loss or an OS crash (an fsync per commit, ~3.5 ms each on the
        machine this was measured on, against ~0.03 ms); a dying process loses nothing either way."""
        self.state_dir = state_dir(state)
        self.path = self.state_dir / DB_NAME
        # Autocommit mode: transactions are explicit (BEGIN IMMEDIATE ... COMMIT), one per state change.
        self._conn = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
        self._lock = threading.RLock()
        try:
            # Refuse a newer registry before changing anything about the file, its journal mode included.
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            _refuse_newer(version, str(self.path))
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
            self._conn.execute("PRAGMA foreign_keys = ON")
            migrate(self._conn)
        except BaseException:
            self._conn.close()
            raise

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            cursor = self._conn.execute(sql, params)
            cursor.row_factory = sqlite3.Row
            return cursor.fetchall()

    # Deployments ---------------------------------------------------------------------------------------

    def register_deployment(self, name: str, context: DeploymentContext, bundle: Mapping[str, Any]) -> Deployment:
        """Register a deployment before setup (awaiting setup, with its bundle). The same name with another
        target, or the target under another name, is refused; the same registration again returns the one
        registered (its bundle, external id included, unchanged)."""
        with self._tx() as conn:
            existing = conn.execute("SELECT context FROM deployments WHERE name = ?", (name,)).fetchone()
            if existing is not None:
                registered = DeploymentContext.model_validate_json(existing[0])
                changed = _mismatch(registered, context, ignore=("external_id",))
                if changed:
                    raise RegistryError(f"deployment {name!r} is already registered with other facts ({changed}): "
                                        "remove it first (alien-pulumi deployments remove) or choose another name")
            else:
                self._refuse_taken(conn, name, context)
                conn.execute(
                    "INSERT INTO deployments (name, platform, context, management, record, updated_at, target, bundle) "
                    "VALUES (?, ?, ?, '{}', NULL, ?, ?, ?)",
                    (name, context.platform.value, context.model_dump_json(), now(), context.target,
                     json.dumps(dict(bundle), sort_keys=True)))
        return self.get_deployment(name)

    def _refuse_taken(self, conn: sqlite3.Connection, name: str, context: DeploymentContext) -> None:
        row = conn.execute("SELECT name FROM deployments WHERE target = ? AND name != ?",
                           (context.target, name)).fetchone()
        if row is not None:
            raise RegistryError(f"{context.platform.value} {context.scope_id} with prefix {context.prefix!r} is "
                                f"already the deployment {row[0]!r}: one prefix per account, project or "
                                "subscription")

    def add_deployment(self, record: ReleaseRecord, management: Mapping[str, str] | None = None, *,
                       registered: bool = False) -> Deployment:
        """Import a setup's release record: name, platform, context, and the management identity from
        ``outputs["management_identity"]`` unless given (a record without one keeps the identity already
        registered). A record for a registered deployment must match its registration (platform, account,
        prefix, region, vendor trust); another deployment's target is refused. ``registered``: refuse a
        record of a deployment that was never registered."""
        identity = dict(management) if management is not None else management_from(record)
        ctx = record.context
        with self._tx() as conn:
            existing = conn.execute("SELECT context FROM deployments WHERE name = ?", (record.deployment,)).fetchone()
            if existing is None and registered:
                raise RegistryError(f"no deployment named {record.deployment!r} is registered: register it first "
                                    "(alien-pulumi deployments new) and give its admin the setup bundle")
            if existing is not None:
                changed = _mismatch(DeploymentContext.model_validate_json(existing[0]), ctx)
                if changed:
                    raise RegistryError(f"the record of {record.deployment!r} does not match its registration "
                                        f"({changed}); nothing was imported")
            self._refuse_taken(conn, record.deployment, ctx)
            conn.execute(
                """INSERT INTO deployments (name, platform, context, management, record, updated_at, target)
                   VALUES (?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(name) DO UPDATE SET platform = excluded.platform, context = excluded.context,
                       management = CASE WHEN excluded.management = '{}'
                       THEN deployments.management ELSE excluded.management END,
                       record = excluded.record, updated_at = excluded.updated_at, target = excluded.target""",
                (record.deployment, ctx.platform.value, ctx.model_dump_json(),
                 json.dumps(identity, sort_keys=True), record.model_dump_json(), now(), ctx.target))
        return self.get_deployment(record.deployment)

    def get_deployment(self, name: str) -> Deployment:
        rows = self._query("SELECT * FROM deployments WHERE name = ?", (name,))
        if not rows:
            raise RegistryError(f"no deployment named {name!r} in the registry {self.path}: add its setup record "
                                "(alien-pulumi deployments add)")
        return _deployment(rows[0])

    def list_deployments(self, platform: Platform | str | None = None) -> list[Deployment]:
        if platform is None:
            rows = self._query("SELECT * FROM deployments ORDER BY name")
        else:
            rows = self._query("SELECT * FROM deployments WHERE platform = ? ORDER BY name",
                               (Platform(platform).value,))
        return [_deployment(row) for row in rows]

    def remove_deployment(self, name: str) -> None:
        with self._tx() as conn:
            if conn.execute("DELETE FROM deployments WHERE name = ?", (name,)).rowcount == 0:
                raise RegistryError(f"no deployment named {name!r} in the registry {self.path}")

    def set_deployed_record(self, record: ReleaseRecord) -> None:
        """What the deployment runs now (after a successful release); its management identity is kept."""
        with self._tx() as conn:
            self._set_record(conn, record)

    def _set_record(self, conn: sqlite3.Connection, record: ReleaseRecord) -> None:
        updated = conn.execute("UPDATE deployments SET record = ?, context = ?, updated_at = ? WHERE name = ?",
                               (record.model_dump_json(), record.context.model_dump_json(), now(),
                                record.deployment)).rowcount
        if updated == 0:
            raise RegistryError(f"no deployment named {record.deployment!r} in the registry {self.path}: add its "
                                "setup record first")

    # Releases ------------------------------------------------------------------------------------------

    def record_release(self, release_id: str, spec: StackSpec) -> Release:
        """Record a release (idempotent); the same id with a different spec is refused."""
        digest = spec.digest()
        with self._tx() as conn:
            row = conn.execute("SELECT digest FROM releases WHERE id = ?", (release_id,)).fetchone()
            if row is not None and row[0] != digest:
                raise RegistryError(f"release {release_id!r} is already recorded with another stack (digest "
                                    f"{row[0][:12]}, not {digest[:12]}): give the new release its own id")
            if row is None:
                conn.execute("INSERT INTO releases (id, stack, digest, frozen_digest, spec, created_at) "
                             "VALUES (?, ?, ?, ?, ?, ?)",
                             (release_id, spec.name, digest, spec.frozen_digest(), spec.to_json(), now()))
        return self.get_release(release_id)

    def get_release(self, release_id: str) -> Release:
        rows = self._query("SELECT * FROM releases WHERE id = ?", (release_id,))
        if not rows:
            raise RegistryError(f"no release {release_id!r} in the registry {self.path}")
        row = rows[0]
        return Release(row["id"], row["stack"], row["digest"], row["frozen_digest"],
                       StackSpec.model_validate_json(row["spec"]), row["created_at"])

    def has_release(self, release_id: str) -> bool:
        return bool(self._query("SELECT 1 FROM releases WHERE id = ?", (release_id,)))

    # Rollouts and runs -----------------------------------------------------------------------------------

    def create_rollout(self, rollout_id: str, release_id: str, plan: Mapping[str, Any],
                       waves: list[list[str]], kind: RunKind = RunKind.RELEASE) -> Rollout:
        """A rollout and all its planned runs (pending), in one transaction: a rollout is never half planned.
        ``waves`` lists the deployments of each wave, in order; run ids are ``<rollout id>:<deployment>``."""
        created = now()
        with self._tx() as conn:
            if conn.execute("SELECT 1 FROM rollouts WHERE id = ?", (rollout_id,)).fetchone():
                raise RegistryError(f"rollout {rollout_id!r} already exists")
            if not conn.execute("SELECT 1 FROM releases WHERE id = ?", (release_id,)).fetchone():
                raise RegistryError(f"no release {release_id!r} in the registry {self.path}: record it first")
            conn.execute("INSERT INTO rollouts (id, release_id, plan, status, created_at) VALUES (?, ?, ?, ?, ?)",
                         (rollout_id, release_id, json.dumps(dict(plan), sort_keys=True),
                          RolloutStatus.RUNNING.value, created))
            conn.executemany(
                "INSERT INTO runs (id, rollout_id, deployment, kind, wave, status) VALUES (?, ?, ?, ?, ?, ?)",
                [(rollout_run_id(rollout_id, name), rollout_id, name, kind.value, index, RunState.PENDING.value)
                 for index, wave in enumerate(waves, start=1) for name in wave])
        return self.get_rollout(rollout_id)

    def get_rollout(self, rollout_id: str) -> Rollout:
        rows = self._query("SELECT * FROM rollouts WHERE id = ?", (rollout_id,))
        if not rows:
            raise RegistryError(f"no rollout {rollout_id!r} in the registry {self.path}")
        return _rollout(rows[0])

    def find_rollout(self, rollout_id: str) -> Rollout | None:
        rows = self._query("SELECT * FROM rollouts WHERE id = ?", (rollout_id,))
        return _rollout(rows[0]) if rows else None

    def rollouts(self, status: RolloutStatus | None = None) -> list[Rollout]:
        if status is None:
            rows = self._query("SELECT * FROM rollouts ORDER BY created_at")
        else:
            rows = self._query("SELECT * FROM rollouts WHERE status = ? ORDER BY created_at", (status.value,))
        return [_rollout(row) for row in rows]

    def finish_rollout(self, rollout_id: str, status: RolloutStatus) -> None:
        with self._tx() as conn:
            conn.execute("UPDATE rollouts SET status = ?, finished_at = ? WHERE id = ?",
                         (status.value, now(), rollout_id))

    def add_run(self, deployment: str, kind: RunKind, run: str, rollout_id: str | None = None,
                wave: int | None = None) -> RunRecord:
        """A run outside a rollout (one release, a preview, a heartbeat), pending."""
        with self._tx() as conn:
            conn.execute("INSERT INTO runs (id, rollout_id, deployment, kind, wave, status) VALUES (?, ?, ?, ?, ?, ?)",
                         (run, rollout_id, deployment, kind.value, wave, RunState.PENDING.value))
        return self.get_run(run)

    def get_run(self, run: str) -> RunRecord:
        rows = self._query("SELECT * FROM runs WHERE id = ?", (run,))
        if not rows:
            raise RegistryError(f"no run {run!r} in the registry {self.path}")
        return _run(rows[0])

    def start_run(self, run: str, attempt: int | None = None) -> int:
        """Claim a run: running, one more attempt, started now. Only a pending run, or one left running by a
        process that died, can be claimed; returns the attempt number.

        ``attempt``: the attempt number is the caller's (a distributed executor numbers the executions of a
        run itself); claiming the same number again is idempotent, an older number than the run's is refused."""
        with self._tx() as conn:
            row = conn.execute("SELECT status, attempt FROM runs WHERE id = ?", (run,)).fetchone()
            if row is None:
                raise RegistryError(f"no run {run!r} in the registry {self.path}")
            if RunState(row[0]) in FINAL:
                raise RegistryError(f"run {run!r} is already {row[0]}; it is not run again")
            if attempt is not None and attempt < int(row[1]):
                raise RunSupersededError(f"run {run!r} is at attempt {row[1]}; attempt {attempt} is superseded")
            attempt = int(row[1]) + 1 if attempt is None else attempt
            conn.execute("UPDATE runs SET status = ?, attempt = ?, started_at = ?, finished_at = NULL WHERE id = ?",
                         (RunState.RUNNING.value, attempt, now(), run))
        return attempt

    def retry_run(self, run: str, result: RunResult) -> int:
        """Log an attempt that found the stack locked; the run stays running and its next attempt is counted
        now (it starts after a backoff). Returns the next attempt number."""
        with self._tx() as conn:
            attempt = self._log_attempt(conn, run, result, "locked")
            conn.execute("UPDATE runs SET attempt = ?, error = ? WHERE id = ?", (attempt + 1, result.error, run))
        return attempt + 1

    def finish_run(self, run: str, result: RunResult, *, status: RunState | None = None,
                   error: str | None = None, record: ReleaseRecord | None = None,
                   attempt: int | None = None) -> RunState:
        """A run's final result. The state follows the result (succeeded, else failed) unless ``status`` says
        otherwise; ``record``, for a succeeded release, becomes the deployment's deployed record in the same
        transaction, so a success is never recorded without what it deployed. ``attempt``: record only if the
        run is still at that attempt and not final (else RunSupersededError), so that an execution given up on
        never records a second result."""
        state = status or (RunState.SUCCEEDED if result.status is RunStatus.SUCCEEDED else RunState.FAILED)
        message = error or result.error
        with self._tx() as conn:
            if attempt is not None:
                row = conn.execute("SELECT status, attempt FROM runs WHERE id = ?", (run,)).fetchone()
                if row is None or RunState(row[0]) in FINAL or int(row[1]) != attempt:
                    raise RunSupersededError(f"run {run!r} attempt {attempt} is superseded: the run is "
                                             f"{row[0] if row else 'unknown'} at attempt {row[1] if row else '-'}")
            self._log_attempt(conn, run, result, result.status.value)
            conn.execute("UPDATE runs SET status = ?, finished_at = ?, result = ?, error = ? WHERE id = ?",
                         (state.value, now(), result.model_dump_json(), message, run))
            if record is not None:
                self._set_record(conn, record)
        return state

    def _log_attempt(self, conn: sqlite3.Connection, run: str, result: RunResult, status: str) -> int:
        row = conn.execute("SELECT attempt FROM runs WHERE id = ?", (run,)).fetchone()
        if row is None:
            raise RegistryError(f"no run {run!r} in the registry {self.path}")
        attempt = max(int(row[0]), 1)
        conn.execute("INSERT OR REPLACE INTO run_attempts (run_id, attempt, status, finished_at, seconds, error) "
                     "VALUES (?, ?, ?, ?, ?, ?)", (run, attempt, status, now(), result.seconds, result.error))
        return attempt

    def skip_unfinished(self, rollout_id: str, reason: str) -> int:
        """Every run of the rollout without a final state becomes skipped (call it when nothing of the
        rollout is in flight: a 'running' run is then one interrupted in an earlier session); returns how
        many."""
        with self._tx() as conn:
            return int(conn.execute(
                "UPDATE runs SET status = ?, error = ?, finished_at = ? WHERE rollout_id = ? AND status IN (?, ?)",
                (RunState.SKIPPED.value, reason, now(), rollout_id, RunState.PENDING.value,
                 RunState.RUNNING.value)).rowcount)

    def runs(self, *, rollout_id: str | None = None, deployment: str | None = None) -> list[RunRecord]:
        """Runs of a rollout (by wave, in plan order) or of a deployment (oldest first), or both filters."""
        clauses, params = [], []
        if rollout_id is not None:
            clauses.append("rollout_id = ?")
            params.append(rollout_id)
        if deployment is not None:
            clauses.append("deployment = ?")
            params.append(deployment)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        order = "wave, rowid" if rollout_id is not None else "rowid"
        return [_run(row) for row in self._query(f"SELECT * FROM runs {where} ORDER BY {order}", tuple(params))]

    def last_run(self, deployment: str, kind: RunKind | None = None) -> RunRecord | None:
        """The deployment's latest finished run (of a kind): its current result."""
        sql = "SELECT * FROM runs WHERE deployment = ? AND finished_at IS NOT NULL"
        params: tuple[Any, ...] = (deployment,)
        if kind is not None:
            sql += " AND kind = ?"
            params += (kind.value,)
        rows = self._query(sql + " ORDER BY finished_at DESC, rowid DESC LIMIT 1", params)
        return _run(rows[0]) if rows else None

    def attempts(self, run: str) -> list[Attempt]:
        rows = self._query("SELECT * FROM run_attempts WHERE run_id = ? ORDER BY attempt", (run,))
        return [Attempt(r["run_id"], r["attempt"], r["status"], r["finished_at"], r["seconds"], r["error"])
                for r in rows]

    # Heartbeats ----------------------------------------------------------------------------------------

    def record_heartbeat(self, deployment: str, health: Mapping[str, Any], checked_at: str | None = None) -> None:
        with self._tx() as conn:
            conn.execute("INSERT INTO heartbeats (deployment, checked_at, health) VALUES (?, ?, ?)",
                         (deployment, checked_at or now(), json.dumps(dict(health), sort_keys=True, default=str)))

    def latest_heartbeat(self, deployment: str) -> Heartbeat | None:
        rows = self._query("SELECT * FROM heartbeats WHERE deployment = ? ORDER BY checked_at DESC, id DESC LIMIT 1",
                           (deployment,))
        return Heartbeat(rows[0]["deployment"], rows[0]["checked_at"], json.loads(rows[0]["health"])) if rows else None

    def latest_heartbeats(self) -> dict[str, Heartbeat]:
        """The latest heartbeat of every deployment that has one."""
        rows = self._query(
            """SELECT * FROM heartbeats h WHERE id = (SELECT id FROM heartbeats WHERE deployment = h.deployment
                                                     ORDER BY checked_at DESC, id DESC LIMIT 1)
               ORDER BY deployment""")
        return {r["deployment"]: Heartbeat(r["deployment"], r["checked_at"], json.loads(r["health"])) for r in rows}


def _mismatch(registered: DeploymentContext, given: DeploymentContext, ignore: tuple[str, ...] = ()) -> str:
    """The facts that differ between two contexts of one deployment (its stack name aside), as text."""
    mine, theirs = registered.facts(), given.facts()
    if registered.platform is not given.platform:
        return f"platform: {registered.platform.value} registered, {given.platform.value} given"
    keys = sorted((set(mine) | set(theirs)) - set(ignore))
    return "; ".join(f"{k}: {mine.get(k, '-')} registered, {theirs.get(k, '-')} given"
                     for k in keys if mine.get(k) != theirs.get(k))


def rollout_run_id(rollout_id: str, deployment: str) -> str:
    return f"{rollout_id}:{deployment}"


def _deployment(row: sqlite3.Row) -> Deployment:
    try:
        record = ReleaseRecord.model_validate_json(row["record"]) if row["record"] else None
        context = DeploymentContext.model_validate_json(row["context"])
    except ValidationError as exc:
        # Written before contexts were checked (example values filled in): its facts must be registered anew.
        raise RegistryError(f"deployment {row['name']!r} was registered without complete facts "
                            f"({exc.errors()[0]['msg']}): remove it and register it again "
                            "(alien-pulumi deployments new)") from None
    return Deployment(row["name"], Platform(row["platform"]), context,
                      json.loads(row["management"]), record, row["updated_at"],
                      json.loads(row["bundle"]) if row["bundle"] else None)


def _rollout(row: sqlite3.Row) -> Rollout:
    return Rollout(row["id"], row["release_id"], json.loads(row["plan"]), RolloutStatus(row["status"]),
                   row["created_at"], row["finished_at"])


def _run(row: sqlite3.Row) -> RunRecord:
    result = RunResult.model_validate_json(row["result"]) if row["result"] else None
    return RunRecord(row["id"], row["rollout_id"], row["deployment"], RunKind(row["kind"]), row["wave"],
                     row["attempt"], RunState(row["status"]), row["started_at"], row["finished_at"], result,
                     row["error"])
