"""Azure Foundation: what the whole deployment shares, owned by setup (frozen, never a management target).

- the resource group ``env.ctx.rg`` every other resource lives in;
- when the stack has compute: the Log Analytics workspace ``{prefix}-logs`` and the Container Apps managed
  environment ``{environment}`` with a diagnostic setting that sends its logs to the workspace.

Logs without a shared key: the environment's log destination is ``azure-monitor`` and a diagnostic setting
routes its log categories to the workspace. The ``log-analytics`` destination would need the workspace's
shared key in the environment's inputs, i.e. an invoke of ``operationalinsights.get_shared_keys`` in
both programs (the management identity must never hold ``sharedKeys/action``, and components make no
invokes). With the diagnostic setting no program reads a key: ARM checks ``workspaces/sharedKeys/action``
on the admin's own identity as a linked-access check of the setting's PUT (provision set), server side.

The environment is created on first use by a compute component, not in ``__init__``: when the stack has a
network, the environment's subnet comes from the Network component, which the program builds after the
Foundation (the resource group must exist first). Both programs build in the same order, so the children
and URNs are the same.
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure

from alien_pulumi.components.azure._shared import WORKLOAD_PROFILE, after
from alien_pulumi.components.base import AlienComponent, Env
from alien_pulumi.model.naming import deployment_names
from alien_pulumi.model.types import COMPUTE_TYPES, Lifecycle, Platform

# The workspace's name is the one the compute permission sets template as `{prefix}-logs`; fits the
# workspace rule (4-63 of [A-Za-z0-9-]) for every valid prefix (at most 24 characters).
WORKSPACE_TEMPLATE = "{prefix}-logs"
# Name of the environment's diagnostic setting (unique per environment only).
DIAGNOSTIC_SETTING = "alien-logs"
LOG_RETENTION_DAYS = 30


class Foundation(AlienComponent):
    cloud = Platform.AZURE
    type_name = "Foundation"

    def __init__(self, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("foundation", Lifecycle.FROZEN, env, opts)
        ctx = env.ctx
        self.resource_group = azure.resources.ResourceGroup(
            self.child_name("rg"),
            resource_group_name=ctx.rg,
            location=ctx.location,
            tags=self.tags,
            opts=self.child_opts(),
        )
        # Every resource takes its resource group name from here, so it is created after the group.
        self.rg_name: pulumi.Output[str] = after(self.resource_group, ctx.rg)
        self.environment_name = deployment_names(Platform.AZURE, ctx.prefix)["environment"]
        self.workspace_name = WORKSPACE_TEMPLATE.format(prefix=ctx.prefix)
        self.workspace: azure.operationalinsights.Workspace | None = None
        if any(r.kind in COMPUTE_TYPES for r in env.spec.resources):
            self.workspace = azure.operationalinsights.Workspace(
                self.child_name("logs"),
                workspace_name=self.workspace_name,
                resource_group_name=self.rg_name,
                location=ctx.location,
                sku=azure.operationalinsights.WorkspaceSkuArgs(name="PerGB2018"),
                retention_in_days=LOG_RETENTION_DAYS,
                tags=self.tags,
                opts=self.child_opts(),
            )
        self._environment: azure.app.ManagedEnvironment | None = None
        self.register_outputs({"resource_group": self.rg_name})

    def environment(self) -> azure.app.ManagedEnvironment:
        """The deployment's Container Apps environment, created on the first call (by a compute
        component, after the network is built)."""
        if self._environment is None:
            self._environment = self._create_environment()
        return self._environment

    def _create_environment(self) -> azure.app.ManagedEnvironment:
        if self.workspace is None:  # only compute asks, and compute makes the workspace exist
            raise RuntimeError("the Container Apps environment is only for stacks with compute")
        ctx = self.env.ctx
        network = self.env.network()
        subnet = getattr(network, "apps_subnet", None) if network is not None else None
        environment = azure.app.ManagedEnvironment(
            self.child_name("environment"),
            environment_name=self.environment_name,
            resource_group_name=self.rg_name,
            location=ctx.location,
            # No shared key anywhere: logs leave through the diagnostic setting below.
            app_logs_configuration=azure.app.AppLogsConfigurationArgs(destination="azure-monitor"),
            workload_profiles=[azure.app.WorkloadProfileArgs(name=WORKLOAD_PROFILE,
                                                             workload_profile_type=WORKLOAD_PROFILE)],
            # In the stack's network when it has one (the subnet is delegated to Microsoft.App/environments);
            # external: public apps get internet ingress, the others internal ingress only.
            vnet_configuration=azure.app.VnetConfigurationArgs(infrastructure_subnet_id=subnet.id, internal=False)
            if subnet is not None else None,
            tags=self.tags,
            opts=self.child_opts(),
        )
        azure.monitor.DiagnosticSetting(
            self.child_name("environment-logs"),
            name=DIAGNOSTIC_SETTING,
            resource_uri=environment.id,
            workspace_id=self.workspace.id,
            # Resource-specific tables (ContainerAppConsoleLogs, ContainerAppSystemLogs).
            log_analytics_destination_type="Dedicated",
            logs=[azure.monitor.DiagnosticsLogSettingsArgs(category_group="allLogs", enabled=True)],
            opts=self.child_opts(),
        )
        return environment
