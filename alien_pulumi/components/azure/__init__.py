"""Azure components: one per resource type, plus the deployment-wide Foundation, Identities and Grants.

Importing this package imports pulumi_azure_native only.
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure

from alien_pulumi.components.azure.container import Container
from alien_pulumi.components.azure.foundation import Foundation
from alien_pulumi.components.azure.function import Function
from alien_pulumi.components.azure.grants import Grants
from alien_pulumi.components.azure.identities import Identities
from alien_pulumi.components.azure.kv import Kv
from alien_pulumi.components.azure.network import Network
from alien_pulumi.components.azure.queue import Queue
from alien_pulumi.components.azure.storage import Storage
from alien_pulumi.components.azure.vault import Vault
from alien_pulumi.components.base import Env, components_by_kind

__all__ = ["COMPONENTS", "Container", "Foundation", "Function", "Grants", "Identities", "Kv", "Network", "Queue",
           "Storage", "Vault", "provider"]


def provider(env: Env) -> pulumi.ProviderResource:
    """The explicit provider both programs share: subscription and location from the context only.
    Credentials (the admin's login, or the vendor's OIDC token for the management identity) come from the
    environment (ARM_* variables), never provider inputs, so who runs a program never causes a diff.
    The public cloud, explicitly (the SDK's default): the DNS suffixes the components hand to apps
    (servicebus.windows.net, vault.azure.net) are the public cloud's."""
    return azure.Provider("azure", subscription_id=env.ctx.subscription_id, location=env.ctx.location,
                          environment="public")


COMPONENTS = components_by_kind(Storage, Function, Container, Queue, Kv, Vault, Network)
