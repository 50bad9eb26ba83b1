"""GCP components: one per resource type, plus the deployment-wide Foundation, Identities and Grants.

Importing this package imports pulumi_gcp only. Where things live, and why:
- a resource component holds exactly the cloud resources its heartbeat/management sets cover;
- Identities (frozen) holds the service accounts, the custom roles and the vendor's impersonation binding;
- Grants (frozen, after every resource) holds what needs the resources to exist and is setup-owned on GCP:
  every rendered IAM binding, the public invoker bindings and the function triggers (see grants.py).
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from alien_pulumi.components.base import Env, components_by_kind
from alien_pulumi.components.gcp.container import Container
from alien_pulumi.components.gcp.foundation import Foundation
from alien_pulumi.components.gcp.function import Function
from alien_pulumi.components.gcp.grants import Grants
from alien_pulumi.components.gcp.identities import Identities
from alien_pulumi.components.gcp.kv import Kv
from alien_pulumi.components.gcp.network import Network
from alien_pulumi.components.gcp.queue import Queue
from alien_pulumi.components.gcp.registry import Registry
from alien_pulumi.components.gcp.storage import Storage
from alien_pulumi.components.gcp.vault import Vault


def provider(env: Env) -> pulumi.ProviderResource:
    """The explicit provider both programs share: project and region from the context; credentials (the admin's,
    or the impersonated management service account) from the environment, never in provider inputs, so who
    runs a program never causes a provider diff."""
    return gcp.Provider("gcp", project=env.ctx.project, region=env.ctx.gcp_region)


COMPONENTS = components_by_kind(Storage, Function, Container, Queue, Kv, Vault, Network)

__all__ = ["COMPONENTS", "Foundation", "Grants", "Identities", "Registry", "provider"]
