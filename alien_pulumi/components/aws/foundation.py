"""AWS Foundation: what the whole deployment shares.

- the ECS cluster ``deployment_names(...)["cluster"]`` when the stack has containers;
- when the stack has containers but declares no Network: a small VPC for them (public subnets in two
  zones, internet gateway, compute security group). Fargate tasks need subnets, and the account's
  default VPC cannot be found without reading the cloud at build time (no invokes) nor adopted without
  rewriting shared subnets' attributes and tags; a VPC of the deployment's own keeps everything
  deterministic and owned. Its permissions are in the container sets.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from alien_pulumi.components.aws.network import VpcParts, declare_vpc
from alien_pulumi.components.base import AlienComponent, Env
from alien_pulumi.model.naming import deployment_names
from alien_pulumi.model.types import Lifecycle, Platform, ResourceType

# The implicit network of containers in a stack without a Network: private address space of its own,
# never peered, so any block will do.
IMPLICIT_CIDR = "10.0.0.0/16"
IMPLICIT_ZONES = 2


class Foundation(AlienComponent):
    cloud = Platform.AWS
    type_name = "Foundation"

    def __init__(self, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("foundation", Lifecycle.FROZEN, env, opts)
        kinds = {r.kind for r in env.spec.resources}
        names = deployment_names(Platform.AWS, env.ctx.prefix)
        self.cluster: aws.ecs.Cluster | None = None
        # The network containers run in when the stack declares none (None otherwise).
        self.network: VpcParts | None = None
        if ResourceType.CONTAINER in kinds:
            self.cluster = aws.ecs.Cluster(self.child_name("cluster"), name=names["cluster"], tags=self.tags,
                                           opts=self.child_opts())
            if ResourceType.NETWORK not in kinds:
                self.network = declare_vpc(self, names["cluster"], IMPLICIT_CIDR, IMPLICIT_ZONES, nat=False)
        self.register_outputs({
            "cluster": self.cluster.name if self.cluster else None,
            "vpc_id": self.network.vpc.id if self.network else None,
        })
