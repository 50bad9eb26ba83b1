"""GCP Vault: the Secret Manager secrets whose id starts with ``{name}-`` (every vault grant is a project
binding with a condition on that prefix).

The program never manages values: it declares one metadata-only anchor secret ``{name}-alien-vault`` (labels,
automatic replication, no version) so the vault is a resource the heartbeat can find present, drifted or
missing. The application's secrets ``{name}-<key>`` are created by the customer's admin; the key
``alien-vault`` is reserved.
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from alien_pulumi.components.base import Env, ResourceComponent
from alien_pulumi.model.resources import VaultSpec
from alien_pulumi.model.types import Platform, ResourceType

ANCHOR_KEY = "alien-vault"


class Vault(ResourceComponent):
    cloud = Platform.GCP
    type_name = "Vault"
    kind = ResourceType.VAULT

    def __init__(self, res: VaultSpec, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(res, env, opts)
        project = env.ctx.project
        prefix = f"{self.names['name']}-"
        self.anchor = gcp.secretmanager.Secret(
            self.child_name("anchor"),
            secret_id=f"{prefix}{ANCHOR_KEY}",
            project=project,
            replication=gcp.secretmanager.SecretReplicationArgs(auto=gcp.secretmanager.SecretReplicationAutoArgs()),
            labels=self.tags,
            annotations={"alien-vault-prefix": prefix},
            opts=self.child_opts(),
        )
        # The application reads f"{prefix}{key}/versions/latest".
        self.link_env = {self.env_key("SECRET_PREFIX"): f"projects/{project}/secrets/{prefix}"}
        self.register_outputs({"prefix": prefix, "anchor": self.anchor.secret_id})
