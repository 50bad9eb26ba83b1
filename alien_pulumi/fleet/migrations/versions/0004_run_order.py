"""Runs in insertion order without SQLite's rowid (PostgreSQL has none): a ``seq`` column.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite has no identity column besides an INTEGER PRIMARY KEY (runs are keyed by text), and VACUUM may
        # renumber rowids: the order is copied from them once, and a trigger numbers each new run (SQLite
        # writers are serialised, so max + 1 is unique).
        op.add_column("runs", sa.Column("seq", sa.BigInteger))
        op.execute("UPDATE runs SET seq = rowid")
        op.execute("""CREATE TRIGGER runs_seq AFTER INSERT ON runs FOR EACH ROW WHEN new.seq IS NULL BEGIN
                          UPDATE runs SET seq = (SELECT COALESCE(MAX(seq), 0) + 1 FROM runs) WHERE rowid = new.rowid;
                      END""")
    else:
        op.add_column("runs", sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False))
    op.create_index("runs_in_order", "runs", ["seq"], unique=True)
