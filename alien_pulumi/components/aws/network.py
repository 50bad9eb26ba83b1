"""AWS Network: a VPC with one public subnet per zone (and a private one per zone when ``nat``), an
internet gateway, route tables, one NAT gateway with its Elastic IP when ``nat``, and the security group
the stack's compute runs in.

EC2 assigns every id, so nothing here can be bound by name in IAM: the vendor's only network writes
(security group rules) are bound by the ``alien-stack`` tag, which is why every child carries the tags.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from alien_pulumi.components.base import AlienComponent, Env, ResourceComponent
from alien_pulumi.model.resources import NetworkSpec
from alien_pulumi.model.types import Platform, ResourceType

ANYWHERE = "0.0.0.0/0"
# Subnets are carved as 1/8 of the VPC each: public subnets take slots 0..2, private ones 4..6, so the
# layout of an existing network never moves when zones or nat change. /24 networks give /27 subnets,
# still above AWS's /28 minimum.
_SUBNET_BITS = 3
_PRIVATE_OFFSET = 4


def zones(region: str, count: int) -> list[str]:
    """Availability zones derived from the region (no invoke): ``<region>a``, ``<region>b``..."""
    return [f"{region}{letter}" for letter in "abc"[:count]]


@dataclass
class VpcParts:
    """What compute needs from a network: where to run, and the security group it runs in."""

    vpc: aws.ec2.Vpc
    security_group: aws.ec2.SecurityGroup
    public_subnets: list[aws.ec2.Subnet] = field(default_factory=list)
    private_subnets: list[aws.ec2.Subnet] = field(default_factory=list)

    def placement(self, public: bool) -> tuple[list[pulumi.Output[str]], bool]:
        """(subnet ids, assign a public IP) for a task. A public service needs a public address; a
        private one runs in the private subnets behind the NAT when there are some, else in the public
        subnets with a public IP (Fargate needs a route out to pull its image), reachable by nobody
        because the security group admits no inbound traffic but the public ports."""
        if public or not self.private_subnets:
            return [s.id for s in self.public_subnets], True
        return [s.id for s in self.private_subnets], False


def declare_vpc(owner: AlienComponent, name: str, cidr: str, zone_count: int, nat: bool) -> VpcParts:
    """Declare a VPC and its parts as children of ``owner`` (the Network component, or the Foundation
    when containers run in a stack that declares no network). ``name`` is the Name tag and the
    security group's name."""
    region = owner.env.ctx.region

    def tags(part: str) -> dict[str, str]:
        return {**owner.tags, "Name": f"{name}-{part}" if part else name}

    net = ipaddress.IPv4Network(cidr)
    slots = list(net.subnets(prefixlen_diff=_SUBNET_BITS))
    vpc = aws.ec2.Vpc(owner.child_name("vpc"), cidr_block=cidr, enable_dns_support=True,
                      enable_dns_hostnames=True, tags=tags(""), opts=owner.child_opts())
    igw = aws.ec2.InternetGateway(owner.child_name("igw"), vpc_id=vpc.id, tags=tags("igw"),
                                  opts=owner.child_opts())
    public_rt = aws.ec2.RouteTable(owner.child_name("public-routes"), vpc_id=vpc.id, tags=tags("public"),
                                   opts=owner.child_opts())
    aws.ec2.Route(owner.child_name("public-default-route"), route_table_id=public_rt.id,
                  destination_cidr_block=ANYWHERE, gateway_id=igw.id, opts=owner.child_opts())

    public_subnets: list[aws.ec2.Subnet] = []
    for index, zone in enumerate(zones(region, zone_count)):
        letter = zone[-1]
        subnet = aws.ec2.Subnet(owner.child_name(f"public-{letter}"), vpc_id=vpc.id, availability_zone=zone,
                                cidr_block=str(slots[index]), map_public_ip_on_launch=False,
                                tags=tags(f"public-{letter}"), opts=owner.child_opts())
        aws.ec2.RouteTableAssociation(owner.child_name(f"public-{letter}-routes"), subnet_id=subnet.id,
                                      route_table_id=public_rt.id, opts=owner.child_opts())
        public_subnets.append(subnet)

    private_subnets: list[aws.ec2.Subnet] = []
    if nat:
        # One NAT gateway (in the first zone): private compute reaches out; a NAT per zone would
        # triple the standing cost for zone-failure egress only.
        eip = aws.ec2.Eip(owner.child_name("nat-ip"), domain="vpc", tags=tags("nat"), opts=owner.child_opts())
        gateway = aws.ec2.NatGateway(owner.child_name("nat"), allocation_id=eip.id, subnet_id=public_subnets[0].id,
                                     tags=tags("nat"), opts=owner.child_opts(depends_on=[igw]))
        private_rt = aws.ec2.RouteTable(owner.child_name("private-routes"), vpc_id=vpc.id,
                                        tags=tags("private"), opts=owner.child_opts())
        aws.ec2.Route(owner.child_name("private-default-route"), route_table_id=private_rt.id,
                      destination_cidr_block=ANYWHERE, nat_gateway_id=gateway.id, opts=owner.child_opts())
        for index, zone in enumerate(zones(region, zone_count)):
            letter = zone[-1]
            subnet = aws.ec2.Subnet(owner.child_name(f"private-{letter}"), vpc_id=vpc.id, availability_zone=zone,
                                    cidr_block=str(slots[_PRIVATE_OFFSET + index]), map_public_ip_on_launch=False,
                                    tags=tags(f"private-{letter}"), opts=owner.child_opts())
            aws.ec2.RouteTableAssociation(owner.child_name(f"private-{letter}-routes"), subnet_id=subnet.id,
                                          route_table_id=private_rt.id, opts=owner.child_opts())
            private_subnets.append(subnet)

    # The compute security group: all egress, no ingress. A public container adds its own ingress rule
    # (a separate resource owned by that container); the ingress list is left unset here so this
    # resource never removes those rules.
    security_group = aws.ec2.SecurityGroup(
        owner.child_name("compute-sg"),
        name=name,
        description=f"alien-pulumi compute of stack {owner.env.spec.name}",
        vpc_id=vpc.id,
        egress=[{"protocol": "-1", "from_port": 0, "to_port": 0, "cidr_blocks": [ANYWHERE],
                 "description": "all outbound"}],
        tags=tags("compute"),
        opts=owner.child_opts(),
    )
    return VpcParts(vpc=vpc, security_group=security_group, public_subnets=public_subnets,
                    private_subnets=private_subnets)


class Network(ResourceComponent):
    cloud = Platform.AWS
    type_name = "Network"
    kind = ResourceType.NETWORK

    def __init__(self, res: NetworkSpec, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(res, env, opts)
        self.parts = declare_vpc(self, self.names["name"], res.cidr, res.zones, res.nat)
        self.register_outputs({
            "vpc_id": self.parts.vpc.id,
            "public_subnet_ids": [s.id for s in self.parts.public_subnets],
            "private_subnet_ids": [s.id for s in self.parts.private_subnets],
            "security_group_id": self.parts.security_group.id,
        })
