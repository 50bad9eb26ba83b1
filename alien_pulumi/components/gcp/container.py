"""GCP Container: a Cloud Run v2 service that keeps at least one instance running with CPU always allocated.

A container is a long-running service (it may work between requests, e.g. a queue worker), so it never
scales to zero and uses instance-based billing. The public invoker binding is setup-owned (Grants).
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from alien_pulumi.components.base import Env, ResourceComponent
from alien_pulumi.components.gcp import cloudrun
from alien_pulumi.model.resources import ContainerSpec
from alien_pulumi.model.types import Platform, ResourceType

# vCPU counts Cloud Run accepts at or above 1 (below 1 it forces request-based billing and concurrency 1).
CLOUD_RUN_CPUS = (1, 2, 4, 6, 8)


def container_size(cpu: float, memory_mb: int) -> tuple[str, int]:
    """The nearest Cloud Run size at or above the spec: CPU always allocated needs >= 1 vCPU, above 1 vCPU only
    whole counts exist, more than 4 GiB needs 2 vCPUs, and 4 vCPUs need at least 2 GiB."""
    needed = max(cpu, 1.0, 2.0 if memory_mb > 4096 else 1.0)
    vcpus = next(c for c in CLOUD_RUN_CPUS if c >= needed)
    return str(vcpus), max(memory_mb, 2048) if vcpus >= 4 else memory_mb


class Container(ResourceComponent):
    cloud = Platform.GCP
    type_name = "Container"
    kind = ResourceType.CONTAINER

    def __init__(self, res: ContainerSpec, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(res, env, opts)
        self.spec = res  # typed: self.res is a ResourceSpec
        cpu, memory_mb = container_size(res.cpu, res.memory_mb)
        probe = {"path": res.health_check_path, "port": res.port}
        self.service = cloudrun.service(
            self,
            container=gcp.cloudrunv2.ServiceTemplateContainerArgs(
                image=self.image_uri(),
                envs=cloudrun.environment(self, res),
                ports=gcp.cloudrunv2.ServiceTemplateContainerPortsArgs(container_port=res.port),
                resources=gcp.cloudrunv2.ServiceTemplateContainerResourcesArgs(
                    limits={"cpu": cpu, "memory": f"{memory_mb}Mi"},
                    cpu_idle=False,
                    startup_cpu_boost=True,
                ),
                startup_probe=gcp.cloudrunv2.ServiceTemplateContainerStartupProbeArgs(
                    http_get=gcp.cloudrunv2.ServiceTemplateContainerStartupProbeHttpGetArgs(**probe)),
                liveness_probe=gcp.cloudrunv2.ServiceTemplateContainerLivenessProbeArgs(
                    http_get=gcp.cloudrunv2.ServiceTemplateContainerLivenessProbeHttpGetArgs(**probe)),
            ),
            # Never scale to zero: a container keeps running (min_replicas 0 still means one instance).
            scaling=gcp.cloudrunv2.ServiceTemplateScalingArgs(
                min_instance_count=max(1, res.min_replicas), max_instance_count=res.max_replicas),
        )
        self.register_outputs({"service": self.service.name, "uri": self.service.uri})
