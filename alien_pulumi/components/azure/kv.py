"""Azure Kv: a storage account and one table in it.

The account is the same locked-down account as Storage's (Entra ID only, no shared keys, no public
access): the app reads and writes entities with its runtime identity (kv data sets); nothing here lists
keys. A release may only update the table resource; account changes are setup changes.
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure

from alien_pulumi.components.azure._shared import after
from alien_pulumi.components.azure.storage import storage_account
from alien_pulumi.components.base import Env, ResourceComponent
from alien_pulumi.model.resources import KvSpec
from alien_pulumi.model.types import Platform, ResourceType


class Kv(ResourceComponent):
    cloud = Platform.AZURE
    type_name = "Kv"
    kind = ResourceType.KV

    def __init__(self, res: KvSpec, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(res, env, opts)
        rg_name = env.foundation.rg_name
        self.account = storage_account(self, env.ctx, rg_name)
        account_name = after(self.account, self.names["name"])
        self.table = azure.storage.Table(
            self.child_name("table"),
            table_name=self.names["table"],
            account_name=account_name,
            resource_group_name=rg_name,
            opts=self.child_opts(),
        )
        self.link_env = {
            self.env_key("ACCOUNT"): account_name,
            self.env_key("TABLE"): after(self.table, self.names["table"]),
        }
        self.register_outputs({"account": account_name, "table": self.names["table"], "id": self.account.id})
