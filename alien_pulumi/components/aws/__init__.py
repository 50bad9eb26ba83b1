"""AWS components: one per resource type, plus the deployment-wide Foundation, Identities and Grants.

Importing this package imports pulumi_aws only.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from alien_pulumi.components.aws.container import Container
from alien_pulumi.components.aws.foundation import Foundation
from alien_pulumi.components.aws.function import Function
from alien_pulumi.components.aws.grants import Grants
from alien_pulumi.components.aws.identities import Identities
from alien_pulumi.components.aws.kv import Kv
from alien_pulumi.components.aws.network import Network
from alien_pulumi.components.aws.queue import Queue
from alien_pulumi.components.aws.registry import Registry
from alien_pulumi.components.aws.storage import Storage
from alien_pulumi.components.aws.vault import Vault
from alien_pulumi.components.base import Env, components_by_kind

__all__ = ["COMPONENTS", "Container", "Foundation", "Function", "Grants", "Identities", "Kv", "Network", "Queue",
           "Registry", "Storage", "Vault", "provider"]


def provider(env: Env) -> pulumi.ProviderResource:
    """The explicit provider both programs share: region from the context, credentials from the
    environment (never in provider inputs, so who runs a program never causes a diff)."""
    return aws.Provider("aws", region=env.ctx.region, allowed_account_ids=[env.ctx.account_id])


COMPONENTS = components_by_kind(Storage, Function, Container, Queue, Kv, Vault, Network)
