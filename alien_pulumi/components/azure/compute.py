"""What Function and Container share: a Container App in the deployment's managed environment, running
as its profile's runtime identity, with env vars from the spec and the linked resources.

The app carries no secrets: data access uses the runtime identity (``AZURE_CLIENT_ID`` tells the Azure
SDKs' DefaultAzureCredential which user-assigned identity to use), and queue scale rules authenticate
with the same identity. So the app's GET (heartbeat) returns nothing secret, and no program calls
listSecrets.
"""

from __future__ import annotations

import math
from typing import Any

import pulumi
import pulumi_azure_native as azure

from alien_pulumi.components.azure._shared import WORKLOAD_PROFILE
from alien_pulumi.components.base import ResourceComponent
from alien_pulumi.permissions.plan import profile_of

# Container Apps (consumption profile) accepts CPU in steps of 0.25 vCPU with exactly 2 GiB per vCPU,
# from 0.25 vCPU / 0.5 GiB to 4 vCPU / 8 GiB.
CPU_STEP = 0.25
MAX_CPU = 4.0
GIB_PER_CPU = 2.0


def sizing(memory_mb: int, cpu: float = CPU_STEP) -> tuple[float, str]:
    """The smallest valid (cpu, memory) pair with at least ``cpu`` vCPU and ``memory_mb`` MiB."""
    wanted = max(cpu, memory_mb / 1024 / GIB_PER_CPU)
    cores = min(MAX_CPU, math.ceil(round(wanted / CPU_STEP, 6)) * CPU_STEP)
    return cores, f"{cores * GIB_PER_CPU:g}Gi"


def runtime_identity(component: ResourceComponent) -> azure.managedidentity.UserAssignedIdentity:
    """The user-assigned identity of the compute's permission profile (setup-owned, in Identities)."""
    return component.env.identities.runtime[profile_of(component.res)]


def environment_variables(component: ResourceComponent, identity: azure.managedidentity.UserAssignedIdentity,
                          defaults: dict[str, str] | None = None) -> list[azure.app.EnvironmentVarArgs]:
    """Platform defaults, then every linked resource's variables, then the spec's own (which win)."""
    res: Any = component.res
    values: dict[str, pulumi.Input[str]] = {"AZURE_CLIENT_ID": identity.client_id, **(defaults or {})}
    # A queue trigger only scales the app (KEDA): the app receives the messages itself, so it gets the
    # queue's variables like a link (its runtime identity has the queue's data-read set for the trigger).
    triggers = [t.queue for t in getattr(res, "triggers", ()) if t.queue is not None]
    for ref in [*res.link_ids(), *triggers]:
        values.update(component.env.built[ref].link_env)
    values.update(res.environment)
    return [azure.app.EnvironmentVarArgs(name=key, value=values[key]) for key in sorted(values)]


def app_identity(identity: azure.managedidentity.UserAssignedIdentity) -> azure.app.ManagedServiceIdentityArgs:
    return azure.app.ManagedServiceIdentityArgs(type="UserAssigned", user_assigned_identities=[identity.id])


def container_app(component: ResourceComponent, *, port: int, min_replicas: int, max_replicas: int,
                  containers: list[azure.app.ContainerArgs], rules: list[azure.app.ScaleRuleArgs],
                  identity: azure.managedidentity.UserAssignedIdentity) -> azure.app.ContainerApp:
    """The Container App ``component.names["name"]``: ingress on ``port`` (external when the spec is
    public, else reachable only inside the environment), single revision mode (a release replaces the
    running revision, like a Lambda/Cloud Run/ECS deploy)."""
    env = component.env
    res: Any = component.res
    return azure.app.ContainerApp(
        component.child_name("app"),
        container_app_name=component.names["name"],
        resource_group_name=env.foundation.rg_name,
        location=env.ctx.location,
        managed_environment_id=env.foundation.environment().id,
        workload_profile_name=WORKLOAD_PROFILE,
        identity=app_identity(identity),
        configuration=azure.app.ConfigurationArgs(
            active_revisions_mode=azure.app.ActiveRevisionsMode.SINGLE,
            ingress=azure.app.IngressArgs(external=res.public, target_port=port, transport="auto",
                                          allow_insecure=False),
        ),
        template=azure.app.TemplateArgs(
            containers=containers,
            scale=azure.app.ScaleArgs(min_replicas=min_replicas, max_replicas=max_replicas, rules=rules or None),
        ),
        tags=component.tags,
        opts=component.child_opts(),
    )
