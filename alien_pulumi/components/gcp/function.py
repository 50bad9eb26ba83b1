"""GCP Function: a Cloud Run v2 service that scales to zero and bills per request.

Triggers (Pub/Sub push subscriptions, Cloud Scheduler jobs) and the public invoker binding are setup-owned and
declared by the Grants component: Cloud Scheduler and Pub/Sub cannot be narrowed to one job/subscription by an
IAM condition, so the management identity never holds their permissions (sets/gcp/function.yaml).
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from alien_pulumi.components.base import Env, ResourceComponent
from alien_pulumi.components.gcp import cloudrun
from alien_pulumi.model.resources import FunctionSpec
from alien_pulumi.model.types import Platform, ResourceType


def function_cpu(memory_mb: int) -> str:
    """Cloud Run needs 2 vCPUs above 4 GiB (up to 8 GiB); 1 vCPU covers 128 MiB to 4 GiB."""
    return "1" if memory_mb <= 4096 else "2"


class Function(ResourceComponent):
    cloud = Platform.GCP
    type_name = "Function"
    kind = ResourceType.FUNCTION

    def __init__(self, res: FunctionSpec, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(res, env, opts)
        self.spec = res  # typed: self.res is a ResourceSpec
        self.service = cloudrun.service(
            self,
            container=gcp.cloudrunv2.ServiceTemplateContainerArgs(
                image=self.image_uri(),
                envs=cloudrun.environment(self, res),
                resources=gcp.cloudrunv2.ServiceTemplateContainerResourcesArgs(
                    limits={"cpu": function_cpu(res.memory_mb), "memory": f"{res.memory_mb}Mi"},
                    # Request-based billing: CPU only while handling a request, like a function.
                    cpu_idle=True,
                ),
            ),
            # A function scales to zero between events.
            scaling=gcp.cloudrunv2.ServiceTemplateScalingArgs(min_instance_count=0),
            # One event per instance at a time, as a function's code expects (Lambda semantics).
            concurrency=1,
            timeout=f"{res.timeout_s}s",
        )
        self.register_outputs({"service": self.service.name, "uri": self.service.uri})
