"""What Function and Container share: one Cloud Run v2 service running the resource's image as its profile's
runtime service account, with the environment of its links, in the stack's network when there is one.

The public invoker binding and the function triggers are not here: they are setup-owned on GCP and live in the
Grants component (see grants.py and sets/gcp/function.yaml), so the compute component holds exactly what its
heartbeat/management sets cover: the service (run.services.get/update + actAs on its runtime account).
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from alien_pulumi.components.base import ResourceComponent
from alien_pulumi.components.gcp.network import Network
from alien_pulumi.model.resources import ContainerSpec, FunctionSpec
from alien_pulumi.permissions.plan import profile_of

# Cloud Run sets these itself (PORT = the container port) and rejects a service that sets them.
RESERVED_ENV = frozenset({"PORT", "K_SERVICE", "K_REVISION", "K_CONFIGURATION"})


def environment(component: ResourceComponent, spec: FunctionSpec | ContainerSpec,
                ) -> list[gcp.cloudrunv2.ServiceTemplateContainerEnvArgs]:
    """The resource's environment plus the link_env of every linked resource (sorted: stable revisions)."""
    values: dict[str, pulumi.Input[str]] = dict(spec.environment)
    for link in spec.link_ids():
        values.update(component.env.built[link].link_env)
    return [gcp.cloudrunv2.ServiceTemplateContainerEnvArgs(name=key, value=value)
            for key, value in sorted(values.items()) if key not in RESERVED_ENV]


def vpc_access(component: ResourceComponent) -> gcp.cloudrunv2.ServiceTemplateVpcAccessArgs | None:
    """Direct VPC egress into the stack's subnetwork (no connector to manage). With NAT every egress goes through
    the VPC (stable egress IPs via Cloud NAT); without it only private ranges do, the internet directly."""
    network = component.env.network()
    if network is None:
        return None
    assert isinstance(network, Network)
    return gcp.cloudrunv2.ServiceTemplateVpcAccessArgs(
        network_interfaces=[gcp.cloudrunv2.ServiceTemplateVpcAccessNetworkInterfaceArgs(
            network=network.network.name, subnetwork=network.subnetwork.name)],
        egress="ALL_TRAFFIC" if network.spec.nat else "PRIVATE_RANGES_ONLY",
    )


def service(component: ResourceComponent, *, container: gcp.cloudrunv2.ServiceTemplateContainerArgs,
            scaling: gcp.cloudrunv2.ServiceTemplateScalingArgs, concurrency: int | None = None,
            timeout: str | None = None) -> gcp.cloudrunv2.Service:
    env = component.env
    return gcp.cloudrunv2.Service(
        component.child_name("service"),
        name=component.names["name"],
        project=env.ctx.project,
        location=env.ctx.gcp_region,
        # Reachable from anywhere, but only with run.invoker (IAM) unless public (allUsers, in Grants); the
        # Pub/Sub push and Cloud Scheduler triggers call it with an OIDC token of the runtime account.
        ingress="INGRESS_TRAFFIC_ALL",
        # Frozen services are protected by Pulumi (protect/retain_on_delete); the provider's own flag would only
        # block a live service's planned deletion (management.extend provision).
        deletion_protection=False,
        labels=component.tags,
        template=gcp.cloudrunv2.ServiceTemplateArgs(
            service_account=env.identities.runtime[profile_of(component.res)],
            containers=[container],
            scaling=scaling,
            max_instance_request_concurrency=concurrency,
            timeout=timeout,
            vpc_access=vpc_access(component),
        ),
        opts=component.child_opts(depends_on=component.image_ready()),
    )
