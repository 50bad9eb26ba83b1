"""The last setup record of each deployment, kept apart from the deployed record a release replaces: what a setup
request builds on; requests of version 1 brought to version 2 (version 6).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

deployments = sa.table("deployments", sa.column("name"), sa.column("record"), sa.column("setup_record"))
requests = sa.table("setup_requests", sa.column("id"), sa.column("deployment"), sa.column("status"),
                    sa.column("applied_at"), sa.column("request"), sa.column("record"), sa.column("superseded_by"))
REF = ("release", "digest", "frozen_digest")


def upgrade() -> None:
    op.add_column("deployments", sa.Column("setup_record", sa.Text))
    conn = op.get_bind()
    bases: dict[str, dict[str, Any]] = {}
    for name, record in conn.execute(sa.select(deployments.c.name, deployments.c.record)).all():
        # A release replaced the setup record: the one a request applied is the last known. If the admin set up
        # again since, their tool refuses requests built on it as stale, and nothing worse.
        setup = record if record and json.loads(record).get("program") == "provision" else conn.execute(
            sa.select(requests.c.record).where(requests.c.deployment == name, requests.c.status == "applied")
            .order_by(requests.c.applied_at.desc()).limit(1)).scalar()
        if setup:
            conn.execute(deployments.update().where(deployments.c.name == name).values(setup_record=setup))
            bases[name] = {k: json.loads(setup)[k] for k in REF}
    # A request of version 1 was built against the deployed record: that is its base, version 2's ``setup``. An
    # open one on another base than the setup record kept is superseded (the admin's tool would refuse it): the
    # next release asks again.
    for request_id, deployment, status, text in conn.execute(
            sa.select(requests.c.id, requests.c.deployment, requests.c.status, requests.c.request)).all():
        data = json.loads(text)
        if data.get("request_version") != 1:
            continue
        data.update(request_version=2, setup=data["deployed"])
        values = {"request": json.dumps(data)}
        if status == "open" and data["setup"] != bases.get(deployment):
            values.update(status="superseded", superseded_by="setup request version 2 (the next release asks again)")
        conn.execute(requests.update().where(requests.c.id == request_id).values(**values))
