"""One row per attempt, so lock retries and re-runs after a crash stay visible (version 2).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("run_attempts",
                    sa.Column("run_id", sa.Text, sa.ForeignKey("runs.id"), primary_key=True),
                    sa.Column("attempt", sa.Integer, primary_key=True),
                    sa.Column("status", sa.Text, nullable=False),
                    sa.Column("finished_at", sa.Text, nullable=False),
                    sa.Column("seconds", sa.Float, nullable=False),
                    sa.Column("error", sa.Text))
    # Registries of version 1 knew only each run's last attempt.
    op.execute("""INSERT INTO run_attempts (run_id, attempt, status, finished_at, seconds, error)
                  SELECT id, attempt, status, finished_at, 0, error FROM runs
                  WHERE finished_at IS NOT NULL AND attempt > 0 AND status IN ('succeeded', 'failed')""")
