"""Azure Vault: a Key Vault in RBAC mode, without secrets.

The program never creates secrets, keys or access policies: the app stores and reads its secrets with its
runtime identity (vault data sets, Key Vault data actions). RBAC mode means access policies play no part,
so only role assignments decide who reads a secret. Every vault change is a setup change (vaults/write
could leave RBAC mode). The tenant id comes from the management identity, which lives in the same
subscription and therefore the same tenant: nothing to configure, nothing to look up.
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure

from alien_pulumi.components.base import Env, ResourceComponent
from alien_pulumi.model.resources import VaultSpec
from alien_pulumi.model.types import Platform, ResourceType

# The public cloud's Key Vault DNS suffix (the vault URI the app's SDK takes).
VAULT_SUFFIX = "vault.azure.net"
SOFT_DELETE_DAYS = 90


class Vault(ResourceComponent):
    cloud = Platform.AZURE
    type_name = "Vault"
    kind = ResourceType.VAULT

    def __init__(self, res: VaultSpec, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(res, env, opts)
        name = self.names["name"]
        self.vault = azure.keyvault.Vault(
            self.child_name("vault"),
            vault_name=name,
            resource_group_name=env.foundation.rg_name,
            location=env.ctx.location,
            properties=azure.keyvault.VaultPropertiesArgs(
                tenant_id=env.identities.management.tenant_id,
                sku=azure.keyvault.SkuArgs(family="A", name=azure.keyvault.SkuName.STANDARD),
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=SOFT_DELETE_DAYS,
                # Purge protection stays off: once on it can never be turned off and blocks re-creating the
                # vault's name for the retention period; the customer's admin may turn it on.
                enabled_for_deployment=False,
                enabled_for_disk_encryption=False,
                enabled_for_template_deployment=False,
            ),
            tags=self.tags,
            opts=self.child_opts(),
        )
        self.link_env = {
            self.env_key("VAULT_URL"): self.vault.id.apply(lambda _: f"https://{name}.{VAULT_SUFFIX}/"),
        }
        self.register_outputs({"vault": name, "id": self.vault.id})
