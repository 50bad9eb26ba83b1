"""GCP Kv: a named Firestore database in native mode, in the deployment's region.

Its read (GET database) returns configuration only, never documents. Firestore databases take no labels;
the database name carries the deployment prefix.
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from alien_pulumi.components.base import Env, ResourceComponent
from alien_pulumi.model.resources import KvSpec
from alien_pulumi.model.types import Platform, ResourceType


class Kv(ResourceComponent):
    cloud = Platform.GCP
    type_name = "Kv"
    kind = ResourceType.KV

    def __init__(self, res: KvSpec, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(res, env, opts)
        self.database = gcp.firestore.Database(
            self.child_name("database"),
            name=self.names["name"],
            project=env.ctx.project,
            location_id=env.ctx.gcp_region,
            type="FIRESTORE_NATIVE",
            # The provider's default ABANDON would make a planned deletion (a live kv removed through
            # management.extend provision) a silent no-op; frozen databases are retained by Pulumi anyway.
            deletion_policy="DELETE",
            opts=self.child_opts(),
        )
        self.link_env = {self.env_key("DATABASE"): self.database.name}
        self.register_outputs({"database": self.database.name})
