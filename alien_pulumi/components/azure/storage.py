"""Azure Storage: a storage account and one blob container; versioning and retention in sub-resources.

The account allows neither shared-key (account key / SAS) access nor public blob access, so contents are
reachable only with Entra ID tokens (the runtime identities' data sets); nothing here lists keys. What a
release may change lives in sub-resources whose reads and writes are configuration only (storage sets):
versioning in the blob service properties, retention in the lifecycle management policy. A change to the
account itself is a setup change (``storageAccounts/write`` is never in management: it could re-enable
shared keys or public access).
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure

from alien_pulumi.components.azure._shared import after
from alien_pulumi.components.base import Env, ResourceComponent
from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.resources import StorageSpec
from alien_pulumi.model.types import Platform, ResourceType


def storage_account(component: ResourceComponent, ctx: DeploymentContext,
                    rg_name: pulumi.Input[str]) -> azure.storage.StorageAccount:
    """A locked-down StorageV2 account named ``component.names["name"]`` (Storage and Kv share it)."""
    return azure.storage.StorageAccount(
        component.child_name("account"),
        account_name=component.names["name"],
        resource_group_name=rg_name,
        location=ctx.location,
        kind="StorageV2",
        sku=azure.storage.SkuArgs(name="Standard_LRS"),
        access_tier="Hot",
        # Entra ID only: no account keys, no SAS; the portal and tools default to OAuth too.
        allow_shared_key_access=False,
        default_to_o_auth_authentication=True,
        allow_blob_public_access=False,
        allow_cross_tenant_replication=False,
        minimum_tls_version="TLS1_2",
        enable_https_traffic_only=True,
        tags=component.tags,
        opts=component.child_opts(),
    )


# The (disabled) rule's age when the spec sets no retention: the spec's maximum, never applied.
DISABLED_RETENTION_DAYS = 3650


class Storage(ResourceComponent):
    cloud = Platform.AZURE
    type_name = "Storage"
    kind = ResourceType.STORAGE

    def __init__(self, res: StorageSpec, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(res, env, opts)
        rg_name = env.foundation.rg_name
        self.account = storage_account(self, env.ctx, rg_name)
        account_name = after(self.account, self.names["name"])
        self.container = azure.storage.BlobContainer(
            self.child_name("container"),
            container_name=self.names["container"],
            account_name=account_name,
            resource_group_name=rg_name,
            public_access=azure.storage.PublicAccess.NONE,
            opts=self.child_opts(),
        )
        # Always declared (like the AWS versioning sub-resource), so turning versioning on or off is an update
        # of this resource, which a live storage's management set may make.
        self.blob_service = azure.storage.BlobServiceProperties(
            self.child_name("blob-service"),
            blob_services_name="default",
            account_name=account_name,
            resource_group_name=rg_name,
            is_versioning_enabled=res.versioning,
            opts=self.child_opts(),
        )
        # Always declared, like the blob service properties: without retention_days its rule is disabled, so
        # turning retention on or off on a live storage is an update (managementPolicies/write), never a
        # create or delete (delete is setup-only).
        days = res.retention_days or DISABLED_RETENTION_DAYS
        self.lifecycle_policy = azure.storage.ManagementPolicy(
            self.child_name("lifecycle"),
            management_policy_name="default",
            account_name=account_name,
            resource_group_name=rg_name,
            policy=azure.storage.ManagementPolicySchemaArgs(rules=[azure.storage.ManagementPolicyRuleArgs(
                name="retention",
                type="Lifecycle",
                enabled=res.retention_days is not None,
                definition=azure.storage.ManagementPolicyDefinitionArgs(
                    # Block blobs: what the SDKs upload; every action below is valid for them.
                    filters=azure.storage.ManagementPolicyFilterArgs(blob_types=["blockBlob"]),
                    actions=azure.storage.ManagementPolicyActionArgs(
                        base_blob=azure.storage.ManagementPolicyBaseBlobArgs(
                            delete=azure.storage.DateAfterModificationArgs(days_after_modification_greater_than=days),
                        ),
                        # Previous versions expire too (the AWS noncurrent-version expiration).
                        version=azure.storage.ManagementPolicyVersionArgs(
                            delete=azure.storage.DateAfterCreationArgs(days_after_creation_greater_than=days),
                        ) if res.versioning else None,
                    ),
                ),
            )]),
            opts=self.child_opts(depends_on=[self.blob_service]),
        )
        self.link_env = {
            self.env_key("ACCOUNT"): account_name,
            self.env_key("CONTAINER"): after(self.container, self.names["container"]),
        }
        self.register_outputs({"account": account_name, "container": self.names["container"],
                               "id": self.account.id})
