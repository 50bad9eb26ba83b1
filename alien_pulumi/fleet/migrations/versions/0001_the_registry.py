"""The registry: deployments, releases, rollouts, runs, heartbeats (the hand-written schema's version 1).

Revision ID: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    text = sa.Text
    op.create_table("deployments",
                    sa.Column("name", text, primary_key=True),
                    sa.Column("platform", text, nullable=False),
                    sa.Column("context", text, nullable=False),
                    sa.Column("management", text, nullable=False),
                    sa.Column("record", text),
                    sa.Column("updated_at", text, nullable=False))
    op.create_table("releases",
                    sa.Column("id", text, primary_key=True),
                    sa.Column("stack", text, nullable=False),
                    sa.Column("digest", text, nullable=False),
                    sa.Column("frozen_digest", text, nullable=False),
                    sa.Column("spec", text, nullable=False),
                    sa.Column("created_at", text, nullable=False))
    op.create_table("rollouts",
                    sa.Column("id", text, primary_key=True),
                    sa.Column("release_id", text, sa.ForeignKey("releases.id"), nullable=False),
                    sa.Column("plan", text, nullable=False),
                    sa.Column("status", text, nullable=False),
                    sa.Column("created_at", text, nullable=False),
                    sa.Column("finished_at", text))
    op.create_table("runs",
                    sa.Column("id", text, primary_key=True),
                    sa.Column("rollout_id", text, sa.ForeignKey("rollouts.id")),
                    sa.Column("deployment", text, nullable=False),
                    sa.Column("kind", text, nullable=False),
                    sa.Column("wave", sa.Integer),
                    sa.Column("attempt", sa.Integer, nullable=False, server_default="0"),
                    sa.Column("status", text, nullable=False),
                    sa.Column("started_at", text),
                    sa.Column("finished_at", text),
                    sa.Column("result", text),
                    sa.Column("error", text))
    op.create_index("runs_by_rollout", "runs", ["rollout_id", "wave"])
    op.create_index("runs_by_deployment", "runs", ["deployment"])
    op.create_table("heartbeats",
                    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                    sa.Column("deployment", text, nullable=False),
                    sa.Column("checked_at", text, nullable=False),
                    sa.Column("health", text, nullable=False))
    op.create_index("heartbeats_by_deployment", "heartbeats", ["deployment", "checked_at"])
