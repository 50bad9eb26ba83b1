"""Azure Container: a long-running Container App that keeps ``min_replicas`` replicas.

Ingress on the spec's port (external when public, else internal to the environment), liveness and
readiness probes on ``health_check_path``, HTTP-based scale-out up to ``max_replicas``; it runs as its
profile's runtime identity. The spec's CPU is rounded up to a size Container Apps accepts with enough
memory (2 GiB per vCPU).
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure

from alien_pulumi.components.azure.compute import container_app, environment_variables, runtime_identity, sizing
from alien_pulumi.components.base import Env, ResourceComponent
from alien_pulumi.model.resources import ContainerSpec
from alien_pulumi.model.types import Platform, ResourceType

# Concurrent requests per replica before the HTTP rule adds one (the Container Apps default).
HTTP_CONCURRENCY = 10


class Container(ResourceComponent):
    cloud = Platform.AZURE
    type_name = "Container"
    kind = ResourceType.CONTAINER

    def __init__(self, res: ContainerSpec, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(res, env, opts)
        identity = runtime_identity(self)
        cpu, memory = sizing(res.memory_mb, res.cpu)
        probe = azure.app.ContainerAppProbeHttpGetArgs(path=res.health_check_path, port=res.port)
        container = azure.app.ContainerArgs(
            name=res.id,
            image=self.image_uri(),
            env=environment_variables(self, identity),
            resources=azure.app.ContainerResourcesArgs(cpu=cpu, memory=memory),
            probes=[
                azure.app.ContainerAppProbeArgs(type=azure.app.Type.LIVENESS, http_get=probe),
                azure.app.ContainerAppProbeArgs(type=azure.app.Type.READINESS, http_get=probe),
            ],
        )
        rules = [azure.app.ScaleRuleArgs(
            name="http", http=azure.app.HttpScaleRuleArgs(metadata={"concurrentRequests": str(HTTP_CONCURRENCY)}),
        )]
        self.app = container_app(self, port=res.port, min_replicas=res.min_replicas, max_replicas=res.max_replicas,
                                 containers=[container], rules=rules, identity=identity)
        self.register_outputs({"app": self.names["name"], "id": self.app.id})
