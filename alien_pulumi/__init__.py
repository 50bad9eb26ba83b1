"""alien-pulumi: deploy a vendor's application into its customers' clouds with least privilege.

The public surface is re-exported here; everything else is an implementation module.
"""

from typing import Any

from alien_pulumi.errors import (
    AlienError,
    ContextError,
    PermissionDataError,
    Problem,
    StackLoadError,
    StackValidationError,
)
from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.definition import (
    Container,
    Function,
    Kv,
    Link,
    Network,
    Queue,
    Registry,
    Resource,
    Stack,
    Storage,
    Vault,
    on_queue,
    on_schedule,
    read,
    write,
)
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import Lifecycle, Platform, ResourceType
from alien_pulumi.model.validation import parse_spec

__all__ = [
    "AlienError",
    "Container",
    "ContextError",
    "DeploymentContext",
    "Function",
    "Kv",
    "Lifecycle",
    "Link",
    "Network",
    "PermissionDataError",
    "Platform",
    "Problem",
    "Queue", "Registry",
    "Resource",
    "ResourceType",
    "Stack",
    "StackLoadError",
    "StackSpec",
    "StackValidationError",
    "Storage",
    "Vault",
    "load_stack",
    "on_queue",
    "on_schedule",
    "parse_spec",
    "read",
    "write",
]


def __getattr__(name: str) -> Any:
    # load_stack runs a stack's Python: imported on first use, so that importing the package on the customer's
    # side (alien-deploy, the provisioning program) never loads the module that runs vendor code.
    if name == "load_stack":
        from alien_pulumi.model.loader import load_stack

        return load_stack
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
