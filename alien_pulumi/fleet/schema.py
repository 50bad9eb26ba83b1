"""The registry's tables, defined once: the queries in registry.py use them; the Alembic revisions in
migrations/versions/ bring a database to them (a new table is a table here and one revision there).

Documents (contexts, records, specs, results) are JSON text and times are ISO 8601 UTC text, as the SQLite
registry has always stored them, so that registries written before SQLAlchemy keep their data as it is."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, ForeignKey, Identity, Index, Integer, MetaData, Table, Text

metadata = MetaData()

deployments = Table(
    "deployments", metadata,
    Column("name", Text, primary_key=True),
    Column("platform", Text, nullable=False),
    Column("context", Text, nullable=False),  # DeploymentContext JSON
    Column("management", Text, nullable=False),  # management identity JSON (role_arn / service_account / ...)
    Column("record", Text),  # the deployed ReleaseRecord JSON
    Column("updated_at", Text, nullable=False),
    Column("target", Text),  # <platform>:<account/project/subscription>:<prefix>
    Column("bundle", Text),  # the SetupBundle JSON handed to the admin
    Column("setup_record", Text),  # the last setup record imported (ReleaseRecord JSON): a setup request's base
    Index("deployments_by_target", "target", unique=True),
)

releases = Table(
    "releases", metadata,
    Column("id", Text, primary_key=True),
    Column("stack", Text, nullable=False),
    Column("digest", Text, nullable=False),
    Column("frozen_digest", Text, nullable=False),
    Column("spec", Text, nullable=False),
    Column("created_at", Text, nullable=False),
)

rollouts = Table(
    "rollouts", metadata,
    Column("id", Text, primary_key=True),
    Column("release_id", Text, ForeignKey("releases.id"), nullable=False),
    Column("plan", Text, nullable=False),  # waves, sizes, halt threshold, kind
    Column("status", Text, nullable=False),  # running / completed / halted / cancelled
    Column("created_at", Text, nullable=False),
    Column("finished_at", Text),
)

runs = Table(
    "runs", metadata,
    Column("id", Text, primary_key=True),
    Column("rollout_id", Text, ForeignKey("rollouts.id")),
    Column("deployment", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("wave", Integer),
    Column("attempt", Integer, nullable=False, server_default="0"),
    Column("status", Text, nullable=False),  # pending / running / succeeded / failed / skipped / awaiting-setup /
    # revoked / not-set-up
    Column("started_at", Text),
    Column("finished_at", Text),
    Column("result", Text),  # RunResult JSON
    Column("error", Text),
    # Insertion order (plan order within a wave): an identity on PostgreSQL, a trigger on SQLite (revision 0004).
    Column("seq", BigInteger, Identity()),
    Index("runs_by_rollout", "rollout_id", "wave"),
    Index("runs_by_deployment", "deployment"),
    Index("runs_in_order", "seq", unique=True),
)

run_attempts = Table(
    "run_attempts", metadata,
    Column("run_id", Text, ForeignKey("runs.id"), primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("status", Text, nullable=False),  # succeeded / failed / locked
    Column("finished_at", Text, nullable=False),
    Column("seconds", Float, nullable=False),
    Column("error", Text),
)

heartbeats = Table(
    "heartbeats", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("deployment", Text, nullable=False),
    Column("checked_at", Text, nullable=False),
    Column("health", Text, nullable=False),
    Index("heartbeats_by_deployment", "deployment", "checked_at"),
)

setup_requests = Table(
    "setup_requests", metadata,
    Column("id", Text, primary_key=True),
    Column("deployment", Text, nullable=False),
    Column("release_id", Text, ForeignKey("releases.id"), nullable=False),
    Column("digest", Text, nullable=False),  # of the stack the request asks setup to apply
    Column("request", Text, nullable=False),  # the SetupRequest JSON handed to the admin
    Column("status", Text, nullable=False),  # open / applied / superseded
    Column("requested_at", Text, nullable=False),
    Column("reviewed_at", Text),  # when the admin confirmed it after its review (their record says so)
    Column("applied_at", Text),  # when the vendor imported the admin's record answering it
    Column("record", Text),  # that record (ReleaseRecord JSON)
    Column("superseded_by", Text),  # the request or setup record that replaced an unanswered request
    Index("setup_requests_by_deployment", "deployment", "requested_at"),
)
