"""AWS Container: an ECS service on Fargate in the deployment's cluster (Foundation).

Children: the CloudWatch log group ``/alien/<prefix>/<id>``, the task definition (family = the service
name, ``skip_destroy`` so a replaced revision is never deregistered: DeregisterTaskDefinition has no
resource-level permission, so no set grants it), the service, and for a public container an ingress rule
on its port in the compute security group. The service runs in the stack's Network (or the Foundation's
VPC when the stack declares none) with that security group; its runtime role is both the task role and
the execution role (image pull, log writing).
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from alien_pulumi.components.aws.network import ANYWHERE, VpcParts
from alien_pulumi.components.base import Env, ResourceComponent
from alien_pulumi.model.resources import ContainerSpec
from alien_pulumi.model.types import Platform, ResourceType
from alien_pulumi.permissions.plan import profile_of

# Fargate's valid task sizes: CPU units -> the memory (MiB) it accepts.
FARGATE_SIZES: list[tuple[int, list[int]]] = [
    (256, [512, 1024, 2048]),
    (512, list(range(1024, 4097, 1024))),
    (1024, list(range(2048, 8193, 1024))),
    (2048, list(range(4096, 16385, 1024))),
    (4096, list(range(8192, 30721, 1024))),
]


def fargate_size(cpu: float, memory_mb: int) -> tuple[int, int]:
    """The smallest valid Fargate (cpu units, memory MiB) that gives at least ``cpu`` vCPUs and
    ``memory_mb``: Fargate accepts only fixed combinations, and a spec valid on every cloud (0.5 vCPU
    with 512 MiB, 1 vCPU with 1 GiB) would otherwise fail at deployment."""
    wanted = round(cpu * 1024)
    for units, memories in FARGATE_SIZES:
        fitting = [m for m in memories if m >= memory_mb]
        if units >= wanted and fitting:
            return units, fitting[0]
    raise ValueError(f"no Fargate size offers {cpu} vCPU and {memory_mb} MiB")


def log_group_name(prefix: str, resource_id: str) -> str:
    """The container's log group; container/{provision,heartbeat,runtime} name the same path."""
    return f"/alien/{prefix}/{resource_id}"


class Container(ResourceComponent):
    cloud = Platform.AWS
    type_name = "Container"
    kind = ResourceType.CONTAINER

    def __init__(self, res: ContainerSpec, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(res, env, opts)
        ctx = env.ctx
        name = self.names["name"]
        profile = profile_of(res)
        role_arn = env.identities.runtime[profile]
        network_component = env.network()
        network: VpcParts = network_component.parts if network_component else env.foundation.network  # type: ignore[attr-defined]

        self.log_group = aws.cloudwatch.LogGroup(self.child_name("logs"), name=log_group_name(ctx.prefix, res.id),
                                                 tags=self.tags, opts=self.child_opts())

        variables: dict[str, pulumi.Input[str]] = dict(res.environment)
        for link in res.link_ids():
            variables.update(env.built[link].link_env)
        container: dict[str, Any] = {
            "name": res.id,
            "image": self.image_uri(),
            "essential": True,
            "portMappings": [{"containerPort": res.port, "protocol": "tcp"}],
            "environment": [{"name": key, "value": variables[key]} for key in sorted(variables)],
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": self.log_group.name,
                    "awslogs-region": ctx.region,
                    "awslogs-stream-prefix": res.id,
                },
            },
        }
        cpu, memory = fargate_size(res.cpu, res.memory_mb)
        self.task_definition = aws.ecs.TaskDefinition(
            self.child_name("task"),
            family=name,
            cpu=str(cpu),
            memory=str(memory),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            runtime_platform={"operating_system_family": "LINUX", "cpu_architecture": "X86_64"},
            execution_role_arn=role_arn,
            task_role_arn=role_arn,
            container_definitions=pulumi.Output.json_dumps([container]),
            skip_destroy=True,
            tags=self.tags,
            # The execution role must hold its log and image-pull rights before tasks start.
            opts=self.child_opts(depends_on=[*env.identities.runtime_ready[profile], *self.image_ready()]),
        )

        self.ingress: aws.vpc.SecurityGroupIngressRule | None = None
        if res.public:
            self.ingress = aws.vpc.SecurityGroupIngressRule(
                self.child_name("ingress"),
                security_group_id=network.security_group.id,
                description=f"{res.id}: public port {res.port}",
                ip_protocol="tcp",
                from_port=res.port,
                to_port=res.port,
                cidr_ipv4=ANYWHERE,
                tags=self.tags,
                opts=self.child_opts(),
            )

        subnets, public_ip = network.placement(res.public)
        self.service = aws.ecs.Service(
            self.child_name("service"),
            name=name,
            cluster=env.foundation.cluster.arn,
            task_definition=self.task_definition.arn,
            launch_type="FARGATE",
            # No autoscaling is declared (no set grants application-autoscaling): the service runs
            # min_replicas tasks, at least one (ECS does not scale a service up from zero on traffic).
            desired_count=max(res.min_replicas, 1),
            network_configuration={
                "subnets": subnets,
                "security_groups": [network.security_group.id],
                "assign_public_ip": public_ip,
            },
            # A release whose tasks never become healthy rolls back to the previous revision.
            deployment_circuit_breaker={"enable": True, "rollback": True},
            enable_execute_command=False,  # ECS Exec would be a shell into the customer's data
            tags=self.tags,
            opts=self.child_opts(depends_on=[self.ingress] if self.ingress else None),
        )
        self.register_outputs({
            "service": self.service.name,
            "cluster": env.foundation.cluster.name,
            "task_definition": self.task_definition.arn,
            "log_group": self.log_group.name,
        })
