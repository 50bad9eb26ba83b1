"""AWS Grants: nothing to bind after the resources exist.

On AWS every permission is an identity policy naming ARNs that are deterministic before anything exists
(Identities holds them), and the one resource policy the stack needs (Lambda's, for a function URL or a
schedule) belongs to the function that needs it. The component stays so all clouds share one graph
shape (DESIGN.md §4).
"""

from __future__ import annotations

import pulumi

from alien_pulumi.components.base import AlienComponent, Env
from alien_pulumi.model.types import Lifecycle, Platform


class Grants(AlienComponent):
    cloud = Platform.AWS
    type_name = "Grants"
    protected = False  # setup-owned permissions: the next setup must be able to revoke them

    def __init__(self, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("grants", Lifecycle.FROZEN, env, opts)
        self.register_outputs({})
