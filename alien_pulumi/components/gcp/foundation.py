"""GCP Foundation: nothing deployment-wide is needed.

Cloud Run needs no cluster or environment (unlike ECS or Container Apps), the project is the customer's own
and the identities live in the Identities component. The component exists so every cloud builds the same
program shape; it declares no child.
"""

from __future__ import annotations

import pulumi

from alien_pulumi.components.base import AlienComponent, Env
from alien_pulumi.model.types import Lifecycle, Platform


class Foundation(AlienComponent):
    cloud = Platform.GCP
    type_name = "Foundation"

    def __init__(self, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("foundation", Lifecycle.FROZEN, env, opts)
        self.register_outputs({})
