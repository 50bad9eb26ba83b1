"""Azure Identities (setup-owned): the management identity the vendor's release service federates into,
one runtime identity per permission profile, and the custom role definitions of both layers.

DESIGN.md §3: a user-assigned managed identity with a federated identity credential for the vendor's OIDC
issuer and subject, and custom roles with actions only (dataActions empty) assignable at the deployment's
resource group. The roles are exactly ``render_layer(plan, "management")["role_definitions"]`` (one per
permission set the layer uses) and, per profile, ``render_layer(plan, "runtime", profile)``; the
assignments that bind them to the identities are in Grants (they need the target resources to exist).

Role definition names are GUIDs derived from the role name (uuid5), so both programs declare the same.
A role that grants nothing (a compute ``runtime`` set with no grants) is not created: Azure has no use for
an empty role and nothing would be assigned with it.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_azure_native as azure

from alien_pulumi.components.azure._shared import FEDERATED_CREDENTIAL, after, role_guid
from alien_pulumi.components.base import AlienComponent, Env
from alien_pulumi.model.context import REVOKED_MARK
from alien_pulumi.model.types import Lifecycle, Platform
from alien_pulumi.permissions.render import render_layer


def slug(text: str) -> str:
    """A Pulumi logical-name part from a role or set name (``storage/data-read`` -> ``storage-data-read``)."""
    return "".join(c if c.isalnum() or c == "-" else "-" for c in text).strip("-")


class Identities(AlienComponent):
    cloud = Platform.AZURE
    type_name = "Identities"
    protected = False  # setup-owned permissions: the next setup must be able to revoke them

    def __init__(self, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("identities", Lifecycle.FROZEN, env, opts)
        ctx = env.ctx
        rg_name = env.foundation.rg_name
        self.management = azure.managedidentity.UserAssignedIdentity(
            self.child_name("management"),
            resource_name_=ctx.identity("management"),
            resource_group_name=rg_name,
            location=ctx.location,
            # While revoked (alien-deploy revoke): the mark a later setup finds, so that it keeps access revoked.
            tags={**self.tags, **({REVOKED_MARK: ctx.revoked_at} if ctx.revoked_at else {})},
            opts=self.child_opts(),
        )
        management = render_layer(env.plan, "management")
        federation = management["federated_credential"]
        if not ctx.revoked_at:  # revoked: no federated credential, so the vendor's tokens sign in to nothing
            azure.managedidentity.FederatedIdentityCredential(
                self.child_name("management-federation"),
                federated_identity_credential_resource_name=FEDERATED_CREDENTIAL,
                resource_name_=after(self.management, ctx.identity("management")),
                resource_group_name=rg_name,
                issuer=federation["issuer"],
                subject=federation["subject"],
                audiences=federation["audiences"],
                opts=self.child_opts(),
            )
        # Profile -> the user-assigned identity compute runs as (its id, client_id and principal_id).
        self.runtime: dict[str, azure.managedidentity.UserAssignedIdentity] = {}
        for profile in sorted(env.plan.runtime):
            self.runtime[profile] = azure.managedidentity.UserAssignedIdentity(
                self.child_name(f"rt-{profile}"),
                resource_name_=ctx.identity(f"rt-{profile}"),
                resource_group_name=rg_name,
                location=ctx.location,
                tags=self.tags,
                opts=self.child_opts(),
            )
        # Identity name (as the renderer names principals) -> identity resource.
        self.by_name: dict[str, azure.managedidentity.UserAssignedIdentity] = {
            ctx.identity("management"): self.management,
            **{ctx.identity(f"rt-{p}"): identity for p, identity in self.runtime.items()},
        }
        # Role name -> custom role. A permission set has one role per deployment whichever layer uses it.
        self.roles: dict[str, azure.authorization.RoleDefinition] = {}
        self.role_guids: dict[str, str] = {}
        definitions = list(management["role_definitions"])
        for profile in sorted(env.plan.runtime):
            definitions += render_layer(env.plan, "runtime", profile)["role_definitions"]
        seen: dict[str, dict[str, Any]] = {}
        for definition in definitions:
            name = definition["roleName"]
            if name in seen:
                if seen[name] != definition:  # the same set must render the same role in every layer
                    raise ValueError(f"role {name!r} renders differently in two layers")
                continue
            seen[name] = definition
            if not definition["actions"] and not definition["dataActions"]:
                continue
            self.role_guids[name] = role_guid(ctx, name)
            self.roles[name] = azure.authorization.RoleDefinition(
                self.child_name(f"role-{slug(name.split(' ', 2)[-1])}"),
                role_definition_id=self.role_guids[name],
                scope=definition["assignableScopes"][0],
                role_name=name,
                description=definition["description"],
                role_type="CustomRole",
                permissions=[azure.authorization.PermissionArgs(
                    actions=definition["actions"],
                    not_actions=definition["notActions"],
                    data_actions=definition["dataActions"],
                    not_data_actions=definition["notDataActions"],
                )],
                assignable_scopes=definition["assignableScopes"],
                opts=self.child_opts(),
            )
        self.register_outputs({"management_client_id": self.management.client_id,
                               "runtime": {p: i.id for p, i in self.runtime.items()}})

    def management_outputs(self) -> dict[str, pulumi.Input[str]]:
        """What the vendor configures its OIDC login with: the identity's client id, its tenant (read from
        the identity, not configured), and where it may act."""
        ctx = self.env.ctx
        return {
            "client_id": self.management.client_id,
            "tenant_id": self.management.tenant_id,
            "principal_id": self.management.principal_id,
            "identity_id": self.management.id,
            "subscription_id": ctx.scope_id,
            "resource_group": ctx.rg,
            "federated_credential_subject": ctx.principal,
        }
