"""The registry: what the vendor knows about its deployments, releases, rollouts, runs and health.

Embedded SQLite (``<state dir>/registry.db``) by default, so that a vendor needs no database server; PostgreSQL
when ``ALIEN_PULUMI_DATABASE_URL=postgresql://...`` (a fleet whose workers run on several machines). Queries are
SQLAlchemy Core on the tables of ``schema.py``; the schema is brought forward by the Alembic revisions in
``migrations/`` when a registry is opened. It is written to survive the release service dying at any moment:

- every state change is its own transaction, committed before the next run starts or the caller moves on;
  writers are serialised: SQLite's ``BEGIN IMMEDIATE``, PostgreSQL's SERIALIZABLE isolation with the
  transaction retried on a serialization failure, so that concurrent workers never lose or duplicate a run;
- SQLite: WAL journal, so a commit is durable when the process dies (killed, crashed, out of memory). With
  ``synchronous=NORMAL`` (the default) a power loss may roll back the last commits, never corrupt the file;
  a run whose success is rolled back that way is found 'running' and run again, which a Pulumi update
  tolerates. ``Registry(durable=True)`` fsyncs every commit instead;
- a registry written by an older version is migrated forward (those of the hand-written migrations, marked
  with ``PRAGMA user_version``, included) and a newer one is refused, unchanged.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import platformdirs
import sqlalchemy as sa
import tenacity
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from pydantic import ValidationError
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine, RowMapping

from alien_pulumi.automation.run import RunKind, RunResult, RunStatus
from alien_pulumi.deploy.request import SetupRequest
from alien_pulumi.errors import AlienError
from alien_pulumi.fleet.schema import (
    deployments,
    heartbeats,
    metadata,
    releases,
    rollouts,
    run_attempts,
    runs,
    setup_requests,
)
from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.deployment_name import check_deployment_name
from alien_pulumi.model.record import ReleaseRecord
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import Platform

STATE_ENV = "ALIEN_PULUMI_STATE_DIR"
DATABASE_ENV = "ALIEN_PULUMI_DATABASE_URL"
DB_NAME = "registry.db"
# The hand-written SQLite migrations numbered the schema with PRAGMA user_version: version N is revision 000N.
LEGACY_VERSIONS = 3
# PostgreSQL errors after which a write transaction is run again: serialization failure, deadlock.
RETRIED_SQLSTATES = frozenset({"40001", "40P01"})

class RegistryError(AlienError):
    """The registry cannot do what was asked (unknown deployment, conflicting release, ...)."""


class RegistryVersionError(RegistryError):
    """The registry was written by a newer alien-pulumi: this version must not touch it."""


class DeploymentState(str, Enum):
    AWAITING_SETUP = "awaiting-setup"  # no setup record yet (bundle handed out), or a setup request is open
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
    AWAITING_SETUP = "awaiting-setup"  # the release needs the admin's setup first: a setup request is open
    REVOKED = "revoked"  # the customer's cloud refused the management identity: not a failure, never retried
    NOT_SET_UP = "not-set-up"  # registered, but no setup record imported yet: nothing to run on (never started)


FINAL = frozenset({RunState.SUCCEEDED, RunState.FAILED, RunState.SKIPPED, RunState.AWAITING_SETUP, RunState.REVOKED,
                   RunState.NOT_SET_UP})
# The states of runs that reached the customer's cloud, or were refused by it (what revoked_since reads).
REACHED = (RunState.SUCCEEDED, RunState.FAILED)
STATE_OF = {RunStatus.SUCCEEDED: RunState.SUCCEEDED, RunStatus.REVOKED: RunState.REVOKED}


class SetupRequestStatus(str, Enum):
    OPEN = "open"
    APPLIED = "applied"  # the admin's record answering it was imported
    SUPERSEDED = "superseded"  # a newer request, or a setup record not answering it, took its place


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
    open_request: str | None = None  # the id of its open setup request

    @property
    def state(self) -> DeploymentState:
        deployed = self.record is not None and self.open_request is None
        return DeploymentState.DEPLOYED if deployed else DeploymentState.AWAITING_SETUP


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
class SetupRequestEntry:
    """A setup request and its history: requested, reviewed (when the admin's record says so), applied."""

    id: str
    deployment: str
    release_id: str
    digest: str
    request: SetupRequest
    status: SetupRequestStatus
    requested_at: str
    reviewed_at: str | None
    applied_at: str | None
    record: ReleaseRecord | None  # the admin's record that applied it
    superseded_by: str | None


@dataclass(frozen=True)
class Heartbeat:
    deployment: str
    checked_at: str
    health: dict[str, Any]


def state_dir(explicit: str | Path | None = None) -> Path:
    """The state directory: the argument, else $ALIEN_PULUMI_STATE_DIR, else the user data directory (created);
    one that is not a directory, or cannot be made, is a clear error naming where it came from."""
    source = "--state-dir" if explicit else f"${STATE_ENV}" if os.environ.get(STATE_ENV) else "the user data directory"
    path = Path(explicit or os.environ.get(STATE_ENV) or platformdirs.user_data_dir("alien-pulumi"))
    if path.exists() and not path.is_dir():
        raise RegistryError(f"the state directory {path} ({source}) is not a directory: give a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RegistryError(f"the state directory {path} ({source}) cannot be created: {exc.strerror or exc}") \
            from None
    return path


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


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




def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("alien_pulumi.fleet") / "migrations"))
    return config


ALEMBIC = _alembic_config()
SCRIPT = ScriptDirectory.from_config(ALEMBIC)
SCHEMA_VERSION = int(SCRIPT.get_current_head() or 0)
# Serialises the migration of one PostgreSQL database by concurrent openers (an arbitrary, fixed key).
MIGRATION_LOCK = 0x616C69656E  # "alien"


def database_url(state: Path, url: str | None = None) -> sa.URL:
    """The registry's database: ``url``, else $ALIEN_PULUMI_DATABASE_URL, else SQLite in the state directory.
    ``postgresql://`` means the psycopg (3) driver, the one alien-pulumi ships with."""
    raw = url or os.environ.get(DATABASE_ENV)
    if not raw:
        return sa.URL.create("sqlite", database=str(state / DB_NAME))
    try:
        parsed = sa.make_url(raw)
    except sa.exc.ArgumentError:
        raise RegistryError(f"{DATABASE_ENV} is not a database URL: expected "
                            "postgresql://USER:PASSWORD@HOST:PORT/DATABASE") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername not in ("postgresql+psycopg", "sqlite"):
        raise RegistryError(f"{DATABASE_ENV} names the database driver {parsed.drivername!r}: the registry runs on "
                            "postgresql:// (psycopg) or sqlite://")
    return parsed


def _create_engine(url: sa.URL, timeout: float, durable: bool) -> Engine:
    if url.get_backend_name() != "sqlite":
        return sa.create_engine(url, connect_args={"connect_timeout": max(1, int(timeout))}, pool_pre_ping=True,
                                max_overflow=-1)
    # Any number of threads (a worker's run slots) may hold a connection at once.
    engine = sa.create_engine(url, connect_args={"timeout": timeout, "check_same_thread": False}, max_overflow=-1)

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own transaction handling off: BEGIN below, IMMEDIATE for a write so that the version a
        # transaction reads is the one it writes on (writers queue on the lock, with the busy timeout).
        dbapi_connection.isolation_level = None
        dbapi_connection.execute(f"PRAGMA synchronous = {'FULL' if durable else 'NORMAL'}")
        dbapi_connection.execute("PRAGMA foreign_keys = ON")

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("registry_write") else "BEGIN")

    return engine


def _write_options(engine: Engine) -> dict[str, Any]:
    return {"registry_write": True} if engine.dialect.name == "sqlite" else {"isolation_level": "SERIALIZABLE"}


def _schema_version(conn: Connection, where: str) -> tuple[int, bool]:
    """The schema version of the database and whether it is one of the hand-written migrations (marked only
    with SQLite's user_version); a version newer than this code's is refused."""
    heads = MigrationContext.configure(conn).get_current_heads()
    legacy = not heads
    if heads:
        known = {script.revision for script in SCRIPT.walk_revisions()}
        if heads[0] not in known or len(heads) > 1:
            _refuse_newer(", ".join(heads), where)
        version = int(heads[0])
    elif conn.dialect.name == "sqlite":
        version = int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)
        if version > LEGACY_VERSIONS:
            _refuse_newer(str(version), where)
    else:
        version = 0
    return version, legacy and version > 0


def _refuse_newer(version: str, where: str) -> None:
    raise RegistryVersionError(
        f"the registry {where} has schema version {version}, newer than this alien-pulumi understands "
        f"({SCHEMA_VERSION}): upgrade alien-pulumi; the registry was not changed")


def upgrade(engine: Engine, where: str) -> int:
    """Bring the database to the newest schema in one transaction; return the version it had. The version is
    read inside the write transaction (a lock on PostgreSQL), so two processes opening a fresh registry at
    once cannot both apply a revision. A registry of the hand-written migrations is stamped with the revision
    of its version first, then carried forward."""
    # On PostgreSQL at READ COMMITTED, not SERIALIZABLE: there a transaction's snapshot is taken by its first
    # statement, the lock, and would not show what the holder before it committed.
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect().execution_options(**_write_options(engine) if sqlite else {}) as conn, conn.begin():
        if not sqlite:
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        version, legacy = _schema_version(conn, where)
        if version == SCHEMA_VERSION:
            return version
        with EnvironmentContext(ALEMBIC, SCRIPT, destination_rev="head",
                                fn=lambda rev, _context: SCRIPT._upgrade_revs("head", rev)) as env:
            env.configure(connection=conn, target_metadata=metadata, transactional_ddl=True)
            if legacy:
                env.get_context().stamp(SCRIPT, f"{version:04d}")
            env.run_migrations()
        if sqlite:
            # Older alien-pulumi versions read only this: they refuse a registry newer than theirs.
            conn.exec_driver_sql(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return version


_F = TypeVar("_F", bound=Callable[..., Any])


def _conflict(exc: BaseException) -> bool:
    return isinstance(exc, sa.exc.DBAPIError) and getattr(exc.orig, "sqlstate", None) in RETRIED_SQLSTATES


def _serialised(method: _F) -> _F:
    """Run a write method again when PostgreSQL aborts its transaction for a concurrent one (serialization
    failure, deadlock): it then sees what the other committed, as if the two had run one after the other."""
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        retrying = tenacity.Retrying(retry=tenacity.retry_if_exception(_conflict), reraise=True,
                                     stop=tenacity.stop_after_attempt(50),
                                     wait=tenacity.wait_random_exponential(multiplier=0.005, max=0.5))
        return retrying(method, *args, **kwargs)
    return wrapper  # type: ignore[return-value]


class Registry:
    """One registry database. Every write method is one committed transaction. Safe to share between
    threads (each checks out its own connection), and between processes and machines (SQLite's locking with a
    busy timeout; PostgreSQL's serializable transactions)."""

    def __init__(self, state: str | Path | None = None, *, timeout: float = 30.0, durable: bool = False,
                 url: str | None = None) -> None:
        """``url``: the database (else $ALIEN_PULUMI_DATABASE_URL, else ``<state>/registry.db``). ``durable``:
        a SQLite registry also survives a power loss or an OS crash (an fsync per commit, ~3.5 ms each on the
        machine this was measured on, against ~0.03 ms); a dying process loses nothing either way, and a
        PostgreSQL commit is durable by the server's own settings."""
        self.state_dir = state_dir(state)
        self.url = database_url(self.state_dir, url)
        sqlite = self.url.get_backend_name() == "sqlite"
        self.path: Path | None = Path(self.url.database or "") if sqlite else None
        self.where = str(self.path) if sqlite else self.url.render_as_string(hide_password=True)
        self.engine = _create_engine(self.url, timeout, durable)
        self._write = _write_options(self.engine)
        self._insert = sqlite_insert if sqlite else postgresql_insert
        # SQLite has one writer at a time: this process's threads queue here rather than through SQLite's busy
        # handler, which sleeps up to 100 ms a try. PostgreSQL's writers run side by side.
        self._writing: contextlib.AbstractContextManager[Any] = threading.Lock() if sqlite else contextlib.nullcontext()
        try:
            # Refuse a newer registry, or report an unreachable database, before changing anything, the SQLite
            # file's journal mode included.
            try:
                with self.engine.connect() as conn:
                    version, legacy = _schema_version(conn, self.where)
            except sa.exc.OperationalError as exc:
                raise RegistryError(f"cannot open the registry {self.where}: {_first_line(exc.orig)}; nothing "
                                    f"was done (is the database server up? {DATABASE_ENV})") from None
            except sa.exc.DatabaseError as exc:  # a file that is no SQLite database (damaged, or something else)
                raise RegistryError(f"the registry {self.where} is not a registry database ("
                                    f"{_first_line(exc.orig)}): restore it from a backup, or move it aside to start "
                                    "an empty registry; nothing was done") from None
            if sqlite:
                raw = self.engine.raw_connection()
                try:
                    raw.driver_connection.execute("PRAGMA journal_mode = WAL")  # type: ignore[union-attr]
                finally:
                    raw.close()
            if legacy or version != SCHEMA_VERSION:  # an up-to-date registry opens without a write lock
                upgrade(self.engine, self.where)
        except BaseException:
            self.engine.dispose()
            raise

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return _schema_version(conn, self.where)[0]

    @contextlib.contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self._writing, self.engine.connect().execution_options(**self._write) as conn, conn.begin():
            yield conn

    def _query(self, statement: sa.Select[Any]) -> list[RowMapping]:
        with self.engine.connect() as conn:
            return list(conn.execute(statement).mappings().all())

    # Deployments ---------------------------------------------------------------------------------------

    @_serialised
    def register_deployment(self, name: str, context: DeploymentContext, bundle: Mapping[str, Any]) -> Deployment:
        """Register a deployment before setup (awaiting setup, with its bundle). The same name with another
        target, or the target under another name, is refused; the same registration again returns the one
        registered (its bundle, external id included, unchanged)."""
        check_deployment_name(name, "the deployment name")
        with self._tx() as conn:
            existing = conn.execute(sa.select(deployments.c.context).where(deployments.c.name == name)).first()
            if existing is not None:
                registered = DeploymentContext.model_validate_json(existing[0])
                changed = _mismatch(registered, context, ignore=("external_id",))
                if changed:
                    raise RegistryError(f"deployment {name!r} is already registered with other facts ({changed}): "
                                        "remove it first (alien-pulumi deployments remove) or choose another name")
            else:
                self._refuse_taken(conn, name, context)
                conn.execute(deployments.insert().values(
                    name=name, platform=context.platform.value, context=context.model_dump_json(), management="{}",
                    record=None, updated_at=now(), target=context.target,
                    bundle=json.dumps(dict(bundle), sort_keys=True)))
        return self.get_deployment(name)

    def _refuse_taken(self, conn: Connection, name: str, context: DeploymentContext) -> None:
        row = conn.execute(sa.select(deployments.c.name)
                           .where(deployments.c.target == context.target, deployments.c.name != name)).first()
        if row is not None:
            raise RegistryError(f"{context.platform.value} {context.scope_id} with prefix {context.prefix!r} is "
                                f"already the deployment {row[0]!r}: one prefix per account, project or "
                                "subscription")
        # Management grants are packed as `<prefix>-*`: in one account, `acme-*` would also match every name of
        # a deployment prefixed `acme-prod`, so neither prefix may extend the other with a dash.
        scope = context.target.rsplit(":", 1)[0] + ":"
        for other, target in conn.execute(sa.select(deployments.c.name, deployments.c.target).where(
                deployments.c.target.startswith(scope, autoescape=True), deployments.c.name != name)):
            theirs = target[len(scope):]
            if theirs.startswith(f"{context.prefix}-") or context.prefix.startswith(f"{theirs}-"):
                raise RegistryError(
                    f"prefix {context.prefix!r} overlaps prefix {theirs!r} of the deployment {other!r} in "
                    f"{context.platform.value} {context.scope_id}: grants on `{min(theirs, context.prefix, key=len)}"
                    "-*` would reach the other deployment's resources; choose a prefix that does not extend the "
                    "other with '-'")

    @_serialised
    def add_deployment(self, record: ReleaseRecord, management: Mapping[str, str] | None = None, *,
                       registered: bool = False) -> Deployment:
        """Import a setup's release record: name, platform, context, the record (deployed, and kept as the last setup
        record, which setup requests build on), and the management identity from
        ``outputs["management_identity"]`` unless given (a record without one keeps the identity already
        registered). A record for a registered deployment must match its registration (platform, account,
        prefix, region, vendor trust); another deployment's target is refused. ``registered``: refuse a
        record of a deployment that was never registered."""
        identity = dict(management) if management is not None else management_from(record)
        ctx = record.context
        with self._tx() as conn:
            existing = conn.execute(sa.select(deployments.c.context)
                                    .where(deployments.c.name == record.deployment)).first()
            if existing is None and registered:
                raise RegistryError(f"no deployment named {record.deployment!r} is registered: register it first "
                                    "(alien-pulumi deployments new) and give its admin the setup bundle")
            if existing is not None:
                # The admin may shorten or lengthen the vendor's access window at setup: theirs to choose.
                registered_ctx = DeploymentContext.model_validate_json(existing[0])
                changed = _mismatch(registered_ctx, ctx, ignore=("access_until", "revoked_at"))
                if changed:
                    raise RegistryError(f"the record of {record.deployment!r} does not match its registration "
                                        f"({changed}); nothing was imported")
            self._refuse_taken(conn, record.deployment, ctx)
            document = record.model_dump_json()
            insert = self._insert(deployments).values(
                name=record.deployment, platform=ctx.platform.value, context=ctx.model_dump_json(),
                management=json.dumps(identity, sort_keys=True), record=document, updated_at=now(),
                target=ctx.target, setup_record=document if record.program == "provision" else None)
            new = insert.excluded
            conn.execute(insert.on_conflict_do_update(index_elements=[deployments.c.name], set_={
                "platform": new.platform, "context": new.context, "record": new.record,
                "updated_at": new.updated_at, "target": new.target,
                "setup_record": sa.func.coalesce(new.setup_record, deployments.c.setup_record),
                "management": sa.case((new.management == "{}", deployments.c.management), else_=new.management)}))
            self._answer_requests(conn, record)
        return self.get_deployment(record.deployment)

    def _answer_requests(self, conn: Connection, record: ReleaseRecord) -> None:
        """A setup record closes the deployment's requests: the one it applied (its id and stack digest) is
        applied, with the record; any other open one is superseded (the next release checks against the new
        record and asks again if it must)."""
        answer = record.setup_request
        if answer is not None and answer.digest == record.digest:
            conn.execute(setup_requests.update().where(
                setup_requests.c.id == answer.id, setup_requests.c.deployment == record.deployment,
                setup_requests.c.digest == answer.digest,
                setup_requests.c.status != SetupRequestStatus.APPLIED.value).values(
                status=SetupRequestStatus.APPLIED.value, applied_at=now(), reviewed_at=answer.reviewed_at,
                record=record.model_dump_json(), superseded_by=None))
        conn.execute(setup_requests.update().where(
            setup_requests.c.deployment == record.deployment,
            setup_requests.c.status == SetupRequestStatus.OPEN.value).values(
            status=SetupRequestStatus.SUPERSEDED.value, superseded_by=f"setup record {record.release}"))

    def _deployments(self) -> sa.Select[Any]:
        open_request = (sa.select(setup_requests.c.id)
                        .where(setup_requests.c.deployment == deployments.c.name,
                               setup_requests.c.status == SetupRequestStatus.OPEN.value)
                        .order_by(setup_requests.c.requested_at.desc()).limit(1).scalar_subquery())
        return sa.select(deployments, open_request.label("open_request"))

    def get_deployment(self, name: str) -> Deployment:
        rows = self._query(self._deployments().where(deployments.c.name == name))
        if not rows:
            raise RegistryError(f"no deployment named {name!r} in the registry {self.where}: add its setup record "
                                "(alien-pulumi deployments add)")
        return _deployment(rows[0])

    def setup_record(self, name: str) -> ReleaseRecord:
        """The deployment's last setup record the vendor imported, which releases do not replace (they replace its
        deployed record): what its setup requests build on."""
        rows = self._query(sa.select(deployments.c.setup_record).where(deployments.c.name == name))
        if not rows:
            raise RegistryError(f"no deployment named {name!r} in the registry {self.where}")
        if rows[0]["setup_record"] is None:
            raise RegistryError(f"deployment {name!r} has no setup record in the registry {self.where} (a release "
                                "replaced it before the registry kept it apart): import its admin's last setup record "
                                "again (alien-pulumi deployments add RECORD)")
        return ReleaseRecord.model_validate_json(rows[0]["setup_record"])

    def list_deployments(self, platform: Platform | str | None = None) -> list[Deployment]:
        query = self._deployments().order_by(deployments.c.name)
        if platform is not None:
            query = query.where(deployments.c.platform == Platform(platform).value)
        return [_deployment(row) for row in self._query(query)]

    @_serialised
    def remove_deployment(self, name: str) -> None:
        with self._tx() as conn:
            if conn.execute(deployments.delete().where(deployments.c.name == name)).rowcount == 0:
                raise RegistryError(f"no deployment named {name!r} in the registry {self.where}")

    @_serialised
    def set_deployed_record(self, record: ReleaseRecord) -> None:
        """What the deployment runs now (after a successful release); its management identity is kept."""
        with self._tx() as conn:
            self._set_record(conn, record)

    def _set_record(self, conn: Connection, record: ReleaseRecord) -> None:
        updated = conn.execute(deployments.update().where(deployments.c.name == record.deployment).values(
            record=record.model_dump_json(), context=record.context.model_dump_json(), updated_at=now())).rowcount
        if updated == 0:
            raise RegistryError(f"no deployment named {record.deployment!r} in the registry {self.where}: add its "
                                "setup record first")

    # Releases ------------------------------------------------------------------------------------------

    @_serialised
    def record_release(self, release_id: str, spec: StackSpec) -> Release:
        """Record a release (idempotent); the same id with a different spec is refused."""
        digest = spec.digest()
        with self._tx() as conn:
            row = conn.execute(sa.select(releases.c.digest).where(releases.c.id == release_id)).first()
            if row is not None and row[0] != digest:
                raise RegistryError(f"release {release_id!r} is already recorded with another stack (digest "
                                    f"{row[0][:12]}, not {digest[:12]}): give the new release its own id")
            if row is None:
                conn.execute(releases.insert().values(id=release_id, stack=spec.name, digest=digest,
                                                      frozen_digest=spec.frozen_digest(), spec=spec.to_json(),
                                                      created_at=now()))
        return self.get_release(release_id)

    def get_release(self, release_id: str) -> Release:
        rows = self._query(sa.select(releases).where(releases.c.id == release_id))
        if not rows:
            raise RegistryError(f"no release {release_id!r} in the registry {self.where}")
        row = rows[0]
        return Release(row["id"], row["stack"], row["digest"], row["frozen_digest"],
                       StackSpec.model_validate_json(row["spec"]), row["created_at"])

    def has_release(self, release_id: str) -> bool:
        return bool(self._query(sa.select(releases.c.id).where(releases.c.id == release_id)))

    # Rollouts and runs -----------------------------------------------------------------------------------

    @_serialised
    def create_rollout(self, rollout_id: str, release_id: str, plan: Mapping[str, Any],
                       waves: list[list[str]], kind: RunKind = RunKind.RELEASE,
                       awaiting: Mapping[str, str] | None = None,
                       not_set_up: Mapping[str, str] | None = None) -> Rollout:
        """A rollout and all its planned runs (pending), in one transaction: a rollout is never half planned.
        ``waves`` lists the deployments of each wave, in order; run ids are ``<rollout id>:<deployment>``.
        ``awaiting``: deployments waiting for their admin's setup (the reason each): their runs are planned
        awaiting setup, final, never started. ``not_set_up``: deployments without a setup record yet (the reason
        each): planned not set up, final, never started."""
        created = now()
        with self._tx() as conn:
            if conn.execute(sa.select(rollouts.c.id).where(rollouts.c.id == rollout_id)).first():
                raise RegistryError(f"rollout {rollout_id!r} already exists")
            if not conn.execute(sa.select(releases.c.id).where(releases.c.id == release_id)).first():
                raise RegistryError(f"no release {release_id!r} in the registry {self.where}: record it first")
            conn.execute(rollouts.insert().values(id=rollout_id, release_id=release_id,
                                                  plan=json.dumps(dict(plan), sort_keys=True),
                                                  status=RolloutStatus.RUNNING.value, created_at=created))
            parked = {**{name: (RunState.AWAITING_SETUP, why) for name, why in (awaiting or {}).items()},
                      **{name: (RunState.NOT_SET_UP, why) for name, why in (not_set_up or {}).items()}}
            planned = [{"id": rollout_run_id(rollout_id, name), "rollout_id": rollout_id, "deployment": name,
                        "kind": kind.value, "wave": index,
                        "status": parked[name][0].value if name in parked else RunState.PENDING.value,
                        "error": parked[name][1] if name in parked else None,
                        "finished_at": created if name in parked else None}
                       for index, wave in enumerate(waves, start=1) for name in wave]
            if planned:
                conn.execute(runs.insert(), planned)
        return self.get_rollout(rollout_id)

    def get_rollout(self, rollout_id: str) -> Rollout:
        found = self.find_rollout(rollout_id)
        if found is None:
            raise RegistryError(f"no rollout {rollout_id!r} in the registry {self.where}")
        return found

    def find_rollout(self, rollout_id: str) -> Rollout | None:
        rows = self._query(sa.select(rollouts).where(rollouts.c.id == rollout_id))
        return _rollout(rows[0]) if rows else None

    def rollouts(self, status: RolloutStatus | None = None) -> list[Rollout]:
        query = sa.select(rollouts).order_by(rollouts.c.created_at)
        if status is not None:
            query = query.where(rollouts.c.status == status.value)
        return [_rollout(row) for row in self._query(query)]

    @_serialised
    def finish_rollout(self, rollout_id: str, status: RolloutStatus) -> None:
        with self._tx() as conn:
            conn.execute(rollouts.update().where(rollouts.c.id == rollout_id)
                         .values(status=status.value, finished_at=now()))

    @_serialised
    def add_run(self, deployment: str, kind: RunKind, run: str, rollout_id: str | None = None,
                wave: int | None = None) -> RunRecord:
        """A run outside a rollout (one release, a preview, a heartbeat), pending."""
        with self._tx() as conn:
            conn.execute(runs.insert().values(id=run, rollout_id=rollout_id, deployment=deployment, kind=kind.value,
                                              wave=wave, status=RunState.PENDING.value))
        return self.get_run(run)

    def get_run(self, run: str) -> RunRecord:
        rows = self._query(sa.select(runs).where(runs.c.id == run))
        if not rows:
            raise RegistryError(f"no run {run!r} in the registry {self.where}")
        return _run(rows[0])

    def _run_state(self, conn: Connection, run: str) -> tuple[RunState, int] | None:
        row = conn.execute(sa.select(runs.c.status, runs.c.attempt).where(runs.c.id == run)).first()
        return (RunState(row[0]), int(row[1])) if row is not None else None

    @_serialised
    def start_run(self, run: str, attempt: int | None = None) -> int:
        """Claim a run: running, one more attempt, started now. Only a pending run, or one left running by a
        process that died, can be claimed; returns the attempt number.

        ``attempt``: the attempt number is the caller's (a distributed executor numbers the executions of a
        run itself); claiming the same number again is idempotent, an older number than the run's is refused."""
        with self._tx() as conn:
            found = self._run_state(conn, run)
            if found is None:
                raise RegistryError(f"no run {run!r} in the registry {self.where}")
            status, current = found
            if status in FINAL:
                raise RegistryError(f"run {run!r} is already {status.value}; it is not run again")
            if attempt is not None and attempt < current:
                raise RunSupersededError(f"run {run!r} is at attempt {current}; attempt {attempt} is superseded")
            attempt = current + 1 if attempt is None else attempt
            conn.execute(runs.update().where(runs.c.id == run).values(
                status=RunState.RUNNING.value, attempt=attempt, started_at=now(), finished_at=None))
        return attempt

    @_serialised
    def retry_run(self, run: str, result: RunResult) -> int:
        """Log an attempt that found the stack locked; the run stays running and its next attempt is counted
        now (it starts after a backoff). Returns the next attempt number."""
        with self._tx() as conn:
            attempt = self._log_attempt(conn, run, result, "locked")
            conn.execute(runs.update().where(runs.c.id == run).values(attempt=attempt + 1, error=result.error))
        return attempt + 1

    @_serialised
    def finish_run(self, run: str, result: RunResult, *, status: RunState | None = None,
                   error: str | None = None, record: ReleaseRecord | None = None,
                   attempt: int | None = None) -> RunState:
        """A run's final result. The state follows the result (succeeded, else failed) unless ``status`` says
        otherwise; ``record``, for a succeeded release, becomes the deployment's deployed record in the same
        transaction, so a success is never recorded without what it deployed. ``attempt``: record only if the
        run is still at that attempt and not final (else RunSupersededError), so that an execution given up on
        never records a second result."""
        state = status or STATE_OF.get(result.status, RunState.FAILED)
        message = error or result.error
        with self._tx() as conn:
            if attempt is not None:
                found = self._run_state(conn, run)
                if found is None or found[0] in FINAL or found[1] != attempt:
                    raise RunSupersededError(f"run {run!r} attempt {attempt} is superseded: the run is "
                                             f"{found[0].value if found else 'unknown'} at attempt "
                                             f"{found[1] if found else '-'}")
            self._log_attempt(conn, run, result, result.status.value)
            conn.execute(runs.update().where(runs.c.id == run).values(
                status=state.value, finished_at=now(), result=result.model_dump_json(), error=message))
            if record is not None:
                self._set_record(conn, record)
        return state

    def _log_attempt(self, conn: Connection, run: str, result: RunResult, status: str) -> int:
        found = self._run_state(conn, run)
        if found is None:
            raise RegistryError(f"no run {run!r} in the registry {self.where}")
        attempt = max(found[1], 1)
        values = {"status": status, "finished_at": now(), "seconds": result.seconds, "error": result.error}
        conn.execute(self._insert(run_attempts).values(run_id=run, attempt=attempt, **values)
                     .on_conflict_do_update(index_elements=[run_attempts.c.run_id, run_attempts.c.attempt],
                                            set_=values))
        return attempt

    @_serialised
    def await_setup(self, run: str, reason: str) -> None:
        """A run not started because its deployment waits for the admin's setup (a worker found a setup request
        needed when it took the preflight again): final, and not a failure."""
        with self._tx() as conn:
            conn.execute(runs.update().where(runs.c.id == run, runs.c.status.not_in([s.value for s in FINAL]))
                         .values(status=RunState.AWAITING_SETUP.value, error=reason, finished_at=now()))

    @_serialised
    def skip_unfinished(self, rollout_id: str, reason: str) -> int:
        """Every run of the rollout without a final state becomes skipped (call it when nothing of the
        rollout is in flight: a 'running' run is then one interrupted in an earlier session); returns how
        many."""
        with self._tx() as conn:
            return int(conn.execute(
                runs.update()
                .where(runs.c.rollout_id == rollout_id,
                       runs.c.status.in_([RunState.PENDING.value, RunState.RUNNING.value]))
                .values(status=RunState.SKIPPED.value, error=reason, finished_at=now())).rowcount)

    def runs(self, *, rollout_id: str | None = None, deployment: str | None = None) -> list[RunRecord]:
        """Runs of a rollout (by wave, in plan order) or of a deployment (oldest first), or both filters."""
        query = sa.select(runs)
        if rollout_id is not None:
            query = query.where(runs.c.rollout_id == rollout_id).order_by(runs.c.wave)
        if deployment is not None:
            query = query.where(runs.c.deployment == deployment)
        return [_run(row) for row in self._query(query.order_by(runs.c.seq))]

    def last_run(self, deployment: str, kind: RunKind | None = None) -> RunRecord | None:
        """The deployment's latest finished run (of a kind): its current result."""
        query = sa.select(runs).where(runs.c.deployment == deployment, runs.c.finished_at.is_not(None))
        if kind is not None:
            query = query.where(runs.c.kind == kind.value)
        rows = self._query(query.order_by(runs.c.finished_at.desc(), runs.c.seq.desc()).limit(1))
        return _run(rows[0]) if rows else None

    def revoked_since(self, deployment: str | None = None) -> dict[str, str]:
        """Deployments whose latest run that tried the customer's cloud was refused as revoked: when the first
        refusal after their last run that reached it finished (a later run reaching it clears it)."""
        reached = (sa.select(runs.c.deployment, sa.func.max(runs.c.finished_at).label("at"))
                   .where(runs.c.status.in_([s.value for s in REACHED])).group_by(runs.c.deployment).subquery())
        query = (sa.select(runs.c.deployment, sa.func.min(runs.c.finished_at).label("since"))
                 .select_from(runs.outerjoin(reached, reached.c.deployment == runs.c.deployment))
                 .where(runs.c.status == RunState.REVOKED.value,
                        sa.or_(reached.c.at.is_(None), runs.c.finished_at > reached.c.at))
                 .group_by(runs.c.deployment))
        if deployment is not None:
            query = query.where(runs.c.deployment == deployment)
        return {row["deployment"]: row["since"] for row in self._query(query)}

    def attempts(self, run: str) -> list[Attempt]:
        rows = self._query(sa.select(run_attempts).where(run_attempts.c.run_id == run)
                           .order_by(run_attempts.c.attempt))
        return [Attempt(r["run_id"], r["attempt"], r["status"], r["finished_at"], r["seconds"], r["error"])
                for r in rows]

    # Setup requests ------------------------------------------------------------------------------------

    @_serialised
    def record_setup_request(self, request: SetupRequest) -> SetupRequestEntry:
        """Record what a release needs from a deployment's admin; it supersedes the deployment's open request.
        The same stack on the same setup record asked again (the release run again, or under another release id)
        returns the open request as it is (idempotent): its admin may hold it already, and would apply the same."""
        with self._tx() as conn:
            if not conn.execute(sa.select(deployments.c.name).where(deployments.c.name == request.deployment)).first():
                raise RegistryError(f"no deployment named {request.deployment!r} in the registry {self.where}")
            if not conn.execute(sa.select(releases.c.id).where(releases.c.id == request.release)).first():
                raise RegistryError(f"no release {request.release!r} in the registry {self.where}: record it first")
            current = conn.execute(sa.select(setup_requests.c.id, setup_requests.c.digest,
                                             setup_requests.c.request).where(
                setup_requests.c.deployment == request.deployment,
                setup_requests.c.status == SetupRequestStatus.OPEN.value)).all()
            same = [row.id for row in current if row.digest == request.digest
                    and SetupRequest.model_validate_json(row.request).setup == request.setup]
            if not same:
                conn.execute(setup_requests.update().where(
                    setup_requests.c.id.in_([row.id for row in current])).values(
                    status=SetupRequestStatus.SUPERSEDED.value, superseded_by=request.id))
                conn.execute(setup_requests.insert().values(
                    id=request.id, deployment=request.deployment, release_id=request.release, digest=request.digest,
                    request=request.model_dump_json(), status=SetupRequestStatus.OPEN.value, requested_at=now()))
        return self.get_setup_request(same[0] if same else request.id)

    def get_setup_request(self, request_id: str) -> SetupRequestEntry:
        rows = self._query(sa.select(setup_requests).where(setup_requests.c.id == request_id))
        if not rows:
            raise RegistryError(f"no setup request {request_id!r} in the registry {self.where}")
        return _setup_request(rows[0])

    def setup_requests(self, deployment: str) -> list[SetupRequestEntry]:
        """A deployment's setup requests, oldest first: its history."""
        rows = self._query(sa.select(setup_requests).where(setup_requests.c.deployment == deployment)
                           .order_by(setup_requests.c.requested_at))
        return [_setup_request(row) for row in rows]

    def open_setup_request(self, deployment: str) -> SetupRequestEntry:
        """The deployment's open setup request; a clear error if it has none."""
        found = self.get_deployment(deployment).open_request
        if found is None:
            raise RegistryError(f"deployment {deployment!r} has no open setup request: no release waits for its "
                                f"admin's setup (state: {self.get_deployment(deployment).state.value})")
        return self.get_setup_request(found)

    # Heartbeats ----------------------------------------------------------------------------------------

    @_serialised
    def record_heartbeat(self, deployment: str, health: Mapping[str, Any], checked_at: str | None = None) -> None:
        with self._tx() as conn:
            conn.execute(heartbeats.insert().values(deployment=deployment, checked_at=checked_at or now(),
                                                    health=json.dumps(dict(health), sort_keys=True, default=str)))

    def latest_heartbeat(self, deployment: str) -> Heartbeat | None:
        rows = self._query(sa.select(heartbeats).where(heartbeats.c.deployment == deployment)
                           .order_by(heartbeats.c.checked_at.desc(), heartbeats.c.id.desc()).limit(1))
        return _heartbeat(rows[0]) if rows else None

    def latest_heartbeats(self) -> dict[str, Heartbeat]:
        """The latest heartbeat of every deployment that has one."""
        other = heartbeats.alias("other")
        latest = (sa.select(other.c.id).where(other.c.deployment == heartbeats.c.deployment)
                  .order_by(other.c.checked_at.desc(), other.c.id.desc()).limit(1).scalar_subquery())
        rows = self._query(sa.select(heartbeats).where(heartbeats.c.id == latest).order_by(heartbeats.c.deployment))
        return {r["deployment"]: _heartbeat(r) for r in rows}


def _first_line(exc: BaseException | None) -> str:
    return str(exc).strip().splitlines()[0] if exc is not None and str(exc).strip() else type(exc).__name__


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


def _deployment(row: RowMapping) -> Deployment:
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
                      json.loads(row["bundle"]) if row["bundle"] else None, row.get("open_request"))


def _setup_request(row: RowMapping) -> SetupRequestEntry:
    return SetupRequestEntry(row["id"], row["deployment"], row["release_id"], row["digest"],
                             SetupRequest.model_validate_json(row["request"]), SetupRequestStatus(row["status"]),
                             row["requested_at"], row["reviewed_at"], row["applied_at"],
                             ReleaseRecord.model_validate_json(row["record"]) if row["record"] else None,
                             row["superseded_by"])


def _heartbeat(row: RowMapping) -> Heartbeat:
    return Heartbeat(row["deployment"], row["checked_at"], json.loads(row["health"]))


def _rollout(row: RowMapping) -> Rollout:
    return Rollout(row["id"], row["release_id"], json.loads(row["plan"]), RolloutStatus(row["status"]),
                   row["created_at"], row["finished_at"])


def _run(row: RowMapping) -> RunRecord:
    result = RunResult.model_validate_json(row["result"]) if row["result"] else None
    return RunRecord(row["id"], row["rollout_id"], row["deployment"], RunKind(row["kind"]), row["wave"],
                     row["attempt"], RunState(row["status"]), row["started_at"], row["finished_at"], result,
                     row["error"])
