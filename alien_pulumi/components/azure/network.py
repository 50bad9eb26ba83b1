"""Azure Network: a virtual network and its subnets (separate Subnet resources).

- ``default``: general purpose (private endpoints, anything the customer adds);
- ``apps`` (when the stack has compute): the Container Apps environment's infrastructure subnet, delegated
  to Microsoft.App/environments as workload-profiles environments require (the Foundation places the
  environment in it).

Address plan, deterministic from the spec's CIDR: blocks of /23 (the VNet's next smaller prefix when the
VNet is /23 or /24, still at least the /27 a workload-profiles environment needs): ``apps`` is the first
block, ``default`` the second, whether or not the stack has compute, so adding compute later never moves a
subnet. Azure VNets and subnets are regional (they span every availability zone), so ``zones`` needs no
per-zone subnets; see the package report for ``nat``.
"""

from __future__ import annotations

import ipaddress

import pulumi
import pulumi_azure_native as azure

from alien_pulumi.components.azure._shared import ENVIRONMENT_DELEGATION, after
from alien_pulumi.components.base import Env, ResourceComponent
from alien_pulumi.model.resources import NetworkSpec
from alien_pulumi.model.types import COMPUTE_TYPES, Platform, ResourceType

SUBNET_PREFIX = 23  # largest subnet size used (512 addresses: room for the environment to scale out)
APPS_SUBNET = "apps"
DEFAULT_SUBNET = "default"


def subnet_plan(cidr: str) -> dict[str, str]:
    """Subnet name -> address prefix for a VNet CIDR (/16 to /24)."""
    network = ipaddress.IPv4Network(cidr)
    blocks = network.subnets(new_prefix=max(network.prefixlen + 1, SUBNET_PREFIX))
    return {APPS_SUBNET: str(next(blocks)), DEFAULT_SUBNET: str(next(blocks))}


class Network(ResourceComponent):
    cloud = Platform.AZURE
    type_name = "Network"
    kind = ResourceType.NETWORK

    def __init__(self, res: NetworkSpec, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(res, env, opts)
        rg_name = env.foundation.rg_name
        name = self.names["name"]
        plan = subnet_plan(res.cidr)
        # No inline `subnets`: the subnets are their own resources, and the provider keeps them when it
        # updates the VNet.
        self.vnet = azure.network.VirtualNetwork(
            self.child_name("vnet"),
            virtual_network_name=name,
            resource_group_name=rg_name,
            location=env.ctx.location,
            address_space=azure.network.AddressSpaceArgs(address_prefixes=[res.cidr]),
            tags=self.tags,
            opts=self.child_opts(),
        )
        vnet_name = after(self.vnet, name)
        self.default_subnet = azure.network.Subnet(
            self.child_name("subnet-default"),
            subnet_name=DEFAULT_SUBNET,
            virtual_network_name=vnet_name,
            resource_group_name=rg_name,
            address_prefix=plan[DEFAULT_SUBNET],
            opts=self.child_opts(),
        )
        self.apps_subnet: azure.network.Subnet | None = None
        if any(r.kind in COMPUTE_TYPES for r in env.spec.resources):
            self.apps_subnet = azure.network.Subnet(
                self.child_name("subnet-apps"),
                subnet_name=APPS_SUBNET,
                virtual_network_name=vnet_name,
                resource_group_name=rg_name,
                address_prefix=plan[APPS_SUBNET],
                delegations=[azure.network.DelegationArgs(name="container-apps",
                                                          service_name=ENVIRONMENT_DELEGATION)],
                # One subnet operation per VNet at a time: ARM rejects concurrent subnet PUTs on a VNet.
                opts=self.child_opts(depends_on=[self.default_subnet]),
            )
        self.register_outputs({"vnet": name, "id": self.vnet.id, "subnets": plan})
