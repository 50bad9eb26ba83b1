"""Setup requests: what a release needs from the customer's admin, and its history (requested, reviewed,
applied with the admin's record) (version 5).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("setup_requests",
                    sa.Column("id", sa.Text, primary_key=True),
                    sa.Column("deployment", sa.Text, nullable=False),
                    sa.Column("release_id", sa.Text, sa.ForeignKey("releases.id"), nullable=False),
                    sa.Column("digest", sa.Text, nullable=False),
                    sa.Column("request", sa.Text, nullable=False),
                    sa.Column("status", sa.Text, nullable=False),
                    sa.Column("requested_at", sa.Text, nullable=False),
                    sa.Column("reviewed_at", sa.Text),
                    sa.Column("applied_at", sa.Text),
                    sa.Column("record", sa.Text),
                    sa.Column("superseded_by", sa.Text))
    op.create_index("setup_requests_by_deployment", "setup_requests", ["deployment", "requested_at"])
