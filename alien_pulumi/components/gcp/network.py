"""GCP Network: a custom-mode VPC network, one regional subnetwork with the spec's CIDR, and with ``nat`` a
Cloud Router carrying a Cloud NAT (auto-allocated IPs).

A GCP subnetwork is regional (it spans every zone), so ``zones`` needs no per-zone subnet. Compute joins it
with Cloud Run Direct VPC egress. Compute Engine networks, subnetworks and routers take no labels; their
names carry the deployment prefix. No firewall rule is declared: a VPC denies ingress and allows egress.
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from alien_pulumi.components.base import Env, ResourceComponent
from alien_pulumi.model.resources import NetworkSpec
from alien_pulumi.model.types import Platform, ResourceType


class Network(ResourceComponent):
    cloud = Platform.GCP
    type_name = "Network"
    kind = ResourceType.NETWORK

    def __init__(self, res: NetworkSpec, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(res, env, opts)
        self.spec = res  # typed: self.res is a ResourceSpec
        project, region, name = env.ctx.project, env.ctx.gcp_region, self.names["name"]
        # A network's description cannot change in place: it names only what never changes.
        description = f"alien-pulumi stack {env.spec.name}, resource {res.id}"
        self.network = gcp.compute.Network(
            self.child_name("network"),
            name=name,
            project=project,
            description=description,
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            # Keep the default internet route (deleting it needs compute.routes.*, which no set grants).
            delete_default_routes_on_create=False,
            opts=self.child_opts(),
        )
        self.subnetwork = gcp.compute.Subnetwork(
            self.child_name("subnetwork"),
            name=name,
            project=project,
            region=region,
            network=self.network.name,
            ip_cidr_range=res.cidr,
            description=description,
            # Compute without external IPs reaches Google APIs (Storage, Pub/Sub...) privately.
            private_ip_google_access=True,
            opts=self.child_opts(),
        )
        self.router: gcp.compute.Router | None = None
        self.nat: gcp.compute.RouterNat | None = None
        if res.nat:
            self.router = gcp.compute.Router(
                self.child_name("router"),
                name=name,
                project=project,
                region=region,
                network=self.network.name,
                description=description,
                opts=self.child_opts(),
            )
            self.nat = gcp.compute.RouterNat(
                self.child_name("nat"),
                name=name,
                project=project,
                region=region,
                router=self.router.name,
                # Auto-allocated IPs: manual NAT IPs would need compute.addresses.* (not granted).
                nat_ip_allocate_option="AUTO_ONLY",
                # The network is the stack's own, with this one subnetwork.
                source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
                opts=self.child_opts(),
            )
        self.register_outputs({"network": self.network.name, "subnetwork": self.subnetwork.name})
