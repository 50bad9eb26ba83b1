"""Azure Grants (setup-owned): every role assignment the management and runtime layers render, each one
a custom role (Identities) given to one identity at one ARM scope.

Assignments are exactly ``render_layer(plan, layer)["assignments"]``: the scope is the rendered one (a
resource, or the resource group for stack-wide grants), the principal is the identity's principal id
(``principal_type=ServicePrincipal``, so ARM does not wait for directory replication of a new identity),
an ABAC condition is passed through when a grant has one. They come after every resource component
(the program makes Grants depend on them): ARM refuses an assignment on a scope that does not exist.

Assignment names are GUIDs derived from (scope, role, principal), so both programs declare the same.
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure

from alien_pulumi.components.azure._shared import assignment_guid, role_definition_resource_id
from alien_pulumi.components.azure.identities import slug
from alien_pulumi.components.base import AlienComponent, Env
from alien_pulumi.model.types import Lifecycle, Platform
from alien_pulumi.permissions.render import render_layer

CONDITION_VERSION = "2.0"


def rendered_assignments(env: Env) -> list[dict[str, object]]:
    """The assignments of the management layer (none while access is revoked) and of every runtime profile, in a
    stable order."""
    out = [] if env.ctx.revoked_at else list(render_layer(env.plan, "management")["assignments"])
    for profile in sorted(env.plan.runtime):
        out += render_layer(env.plan, "runtime", profile)["assignments"]
    return out


class Grants(AlienComponent):
    cloud = Platform.AZURE
    type_name = "Grants"
    protected = False  # setup-owned permissions: the next setup must be able to revoke them

    def __init__(self, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("grants", Lifecycle.FROZEN, env, opts)
        ctx = env.ctx
        identities = env.identities
        # An assignment waits for its role, the identities (a few: the scope may be one), the Foundation (the
        # Container Apps environment and workspace are scopes too) and the one resource component at its scope.
        # Not for every component, nor every role: Pulumi expands a component into each of its children, and
        # every assignment would keep them all in its state, which the engine rewrites after each step.
        after = [env.foundation, *identities.by_name.values()]
        self.assignments: list[azure.authorization.RoleAssignment] = []
        for entry in rendered_assignments(env):
            role = str(entry["role"])
            principal = str(entry["principal"])
            scope = str(entry["scope"])
            if role not in identities.roles:
                continue  # an empty role (a runtime set without grants) has nothing to assign
            identity = identities.by_name[principal]
            name = assignment_guid(ctx, scope, role, principal)
            condition = entry.get("condition")
            target = env.built.get(str(entry.get("resource") or ""))
            who = principal.removeprefix(f"{ctx.prefix}-")
            self.assignments.append(azure.authorization.RoleAssignment(
                self.child_name(f"{who}-{slug(role.split(' ', 2)[-1])}-{name[:8]}"),
                role_assignment_name=name,
                scope=scope,
                principal_id=identity.principal_id,
                principal_type="ServicePrincipal",
                role_definition_id=role_definition_resource_id(ctx, identities.role_guids[role]),
                condition=condition if condition else None,
                condition_version=CONDITION_VERSION if condition else None,
                opts=self.child_opts(depends_on=[identities.roles[role], *after, *([target] if target else [])]),
            ))
        self.register_outputs({"assignments": len(self.assignments)})
