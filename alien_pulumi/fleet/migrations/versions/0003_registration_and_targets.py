"""Registration before setup (the bundle), one deployment per platform + account + prefix, and one region
field in every context (version 3).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# What each cloud's contexts kept of the fields they used to share: (platform, its region field, dropped). The
# contexts of that time took --resource-group on any cloud: an AWS context drops it too (today's refuses it).
CONTEXT_FIELDS = (
    ("aws", "region", ("gcp_region", "location", "project", "subscription_id", "resource_group",
                       "vendor_oidc_issuer")),
    ("gcp", "gcp_region", ("gcp_region", "location", "account_id", "partition", "subscription_id",
                           "resource_group", "vendor_oidc_issuer", "external_id")),
    ("azure", "location", ("gcp_region", "location", "account_id", "partition", "project", "external_id")),
)


def upgrade() -> None:
    op.add_column("deployments", sa.Column("target", sa.Text))
    op.add_column("deployments", sa.Column("bundle", sa.Text))
    # The rows to rewrite exist only in SQLite registries: a PostgreSQL registry starts at this code's schema.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("""UPDATE deployments SET target = platform || ':' || CASE platform
                          WHEN 'aws' THEN json_extract(context, '$.account_id')
                          WHEN 'gcp' THEN json_extract(context, '$.project')
                          ELSE json_extract(context, '$.subscription_id') END
                      || ':' || json_extract(context, '$.prefix')""")
        for column, path in (("context", "$."), ("record", "$.context.")):
            for platform, region, drop in CONTEXT_FIELDS:
                dropped = ", ".join(f"'{path}{k}'" for k in drop)
                op.execute(f"""UPDATE deployments SET {column} = json_remove(json_set({column}, '{path}region',
                                   COALESCE(json_extract({column}, '{path}{region}'),
                                            json_extract({column}, '{path}region'))), {dropped})
                               WHERE platform = '{platform}' AND {column} IS NOT NULL""")
    op.create_index("deployments_by_target", "deployments", ["target"], unique=True)
