"""Helpers the Azure components share: deterministic ids, ARM scopes, durations and Output plumbing.

Nothing here reads the cloud: every value derives from the deployment context, so both programs compute
the same inputs and the permission templates can name every scope before anything exists.
"""

from __future__ import annotations

import uuid
from typing import TypeVar

import pulumi

from alien_pulumi.model.context import DeploymentContext

T = TypeVar("T")

# Name of the management identity's federated credential (unique per identity only).
FEDERATED_CREDENTIAL = "alien-vendor"

# Namespace of every GUID name this package derives (role definitions, role assignments). Fixed forever:
# changing it would rename (replace) every role definition and assignment of every deployment.
GUID_NAMESPACE = uuid.UUID("6f1d7c1e-3b0a-5c55-9a47-0a11e4b1f0a1")

# The only workload profile the Container Apps environment has: serverless, billed per use, and (unlike a
# consumption-only environment, which needs a /23) placeable in a subnet as small as /27, which a /24 VNet
# can hold.
WORKLOAD_PROFILE = "Consumption"
# What the environment's subnet must be delegated to (workload-profiles environments require it).
ENVIRONMENT_DELEGATION = "Microsoft.App/environments"


def guid(*parts: str) -> str:
    """A GUID that only depends on ``parts``: role definition and assignment names must be GUIDs, and both
    programs (and every re-run) must derive the same one, so it is a uuid5, never a random uuid4."""
    return str(uuid.uuid5(GUID_NAMESPACE, "|".join(parts)))


def role_guid(ctx: DeploymentContext, role_name: str) -> str:
    """The GUID name of a custom role: stable per subscription, resource group and role name."""
    return guid("role-definition", ctx.scope_id, ctx.rg, role_name)


def assignment_guid(ctx: DeploymentContext, scope: str, role: str, principal: str) -> str:
    """The GUID name of a role assignment: stable per (scope, role, principal)."""
    return guid("role-assignment", ctx.scope_id, scope, role, principal)


def role_definition_resource_id(ctx: DeploymentContext, role_guid: str) -> str:
    """The id role assignments use for a custom role (subscription form, the one ARM returns and expects)."""
    return f"/subscriptions/{ctx.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role_guid}"


def after(resource: pulumi.Resource, value: T) -> pulumi.Output[T]:
    """``value`` as an Output that depends on ``resource``: the physical name is known (it comes from
    naming.py), the dependency orders creation. Reading the name back from the resource would give the
    same value on a real engine, but the mocks echo the logical name for ``name``."""
    if isinstance(resource, pulumi.CustomResource):
        return resource.id.apply(lambda _: value)
    return pulumi.Output.from_input(value)


def iso_duration(seconds: int) -> str:
    """ISO 8601 duration in its compact form (P4D, PT2M, P1DT30S), the form Service Bus reports back, so a
    refresh shows no spurious drift."""
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    time = "".join(f"{v}{unit}" for v, unit in ((hours, "H"), (minutes, "M"), (secs, "S")) if v)
    date = f"{days}D" if days else ""
    return f"P{date}T{time}" if time else (f"P{date}" if date else "PT0S")
