"""A heartbeat reports a live compute's runtime identity, network placement and ingress that differ from what the spec
and the deployment context dictate, whatever the state says.

The vendor may update live compute and write the Pulumi state: here it changes a compute in the (fake) cloud behind
the release tool's back, then also writes that change into the state with its own `pulumi refresh`, after which the
refresh's own diff (cloud against state) is silent. One setup per cloud runs every step, as the lifecycle tests do."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from alien_pulumi.automation.placement import lookup
from alien_pulumi.automation.pulumi_engine import PulumiEngine, environment
from alien_pulumi.automation.run import RunKind
from alien_pulumi.automation.workspace import open_stack, pulumi_command
from alien_pulumi.fleet.registry import Registry
from alien_pulumi.fleet.service import run_input
from alien_pulumi.model.loader import load_stack
from tests.engine.fake_provider import FakeCloud
from tests.engine.fixtures import Engine
from tests.engine.flows import HERE, changed, registered, setup, stack_state, vendor_side
from tests.engine.test_lifecycle import heartbeat
from tests.gcp_token_server import TokenServer

PLACEMENT = HERE / "stacks" / "placement.py"
RG = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/acme-rg/providers"
VENDOR_IDENTITY = f"{RG}/Microsoft.ManagedIdentity/userAssignedIdentities/vendor-own"
Edit = Callable[[dict[str, Any]], dict[str, Any]]


def nested(path: str, value: Any) -> Edit:
    """The top-level field of ``path`` of a fake resource's outputs, with the value at ``path`` replaced."""
    def edit(outputs: dict[str, Any]) -> dict[str, Any]:
        head, *rest = path.split(".")
        top: Any = copy.deepcopy(outputs.get(head))
        if not rest:
            return {head: value}
        node: Any = top
        for key in rest[:-1]:
            node = node.setdefault(key, {})
        node[rest[-1]] = value
        return {head: top}
    return edit


# cloud -> (the public function's child, the identity path, the vendor's identity) and (the private container's
# child, the ingress path that makes it public, the public value).
IDENTITY = {
    "aws": ("api-function", "role", "arn:aws:iam::123456789012:role/vendor-own"),
    "gcp": ("api-service", "template.serviceAccount", "vendor-own@acme-prod.iam.gserviceaccount.com"),
    "azure": ("api-app", "identity.userAssignedIdentities",
              {VENDOR_IDENTITY: {"clientId": "vendor-client", "principalId": "vendor-principal"}}),
}
EXPECTED_IDENTITY = {
    "aws": "arn:aws:iam::123456789012:role/acme-rt-app",
    "gcp": "acme-rt-app@acme-prod.iam.gserviceaccount.com",
    "azure": f"[{RG}/Microsoft.ManagedIdentity/userAssignedIdentities/acme-rt-app]",
}
INGRESS = {
    "aws": ("worker-service", "networkConfiguration.assignPublicIp", True),
    "gcp": ("worker-service", "invokerIamDisabled", True),
    "azure": ("worker-app", "configuration.ingress.external", True),
}


def shown(value: Any) -> str:
    if isinstance(value, dict):
        return "[" + ", ".join(sorted(value)) + "]"
    return str(value).lower() if isinstance(value, bool) else str(value)


def drift(fake: FakeCloud, child: str, path: str, value: Any) -> None:
    fake.drift(f"::{child}", **nested(path, value)(fake.find(f"::{child}")["outputs"]))


def vendor_refresh(state: Path, tmp_path: Path, stack_file: Path, urn: str) -> None:
    """The vendor's own `pulumi refresh --yes` of one resource as the management identity: the state takes what the
    cloud has (what its own `pulumi up`, or an API call plus a state write, would leave)."""
    run = run_input(load_stack(stack_file), Registry(state).get_deployment("acme"), RunKind.HEARTBEAT, "vendor", state)
    with vendor_side(), environment(PulumiEngine().run_environment(run, tmp_path)):
        open_stack(run, {}, pulumi_command()).refresh(target=[urn], color="never")


def refresh_diffs(fields: list[str]) -> list[str]:
    """The fields the refresh's own diff gave (the spec comparison's name what the spec says)."""
    return [f for f in fields if "(spec: " not in f]


def state_value(state: Path, child: str, path: str) -> Any:
    (resource,) = [r for r in stack_state(state)["resources"] if r["urn"].endswith(f"::{child}")]
    return lookup(resource["outputs"], path)


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_heartbeat_reports_identity_and_ingress_against_the_spec(cloud: str, engine: Engine, management: TokenServer,
                                                                 tmp_path: Path) -> None:
    fake, state = engine.clouds[cloud], tmp_path / "state"
    up = setup(PLACEMENT, cloud, state)
    assert up.exit_code == 0, up.output
    registered(state)

    # (4) Unchanged: every compute is where the spec puts it; nothing drifted.
    assert heartbeat(state) == {rid: {"state": "present", "fields": []} for rid in ("api", "jobs", "net", "worker")}

    # (1) The function's runtime identity changed in the cloud behind the release tool's back.
    child, path, vendors = IDENTITY[cloud]
    drift(fake, child, path, vendors)
    api = heartbeat(state)["api"]
    spec_field = f"{child}.{path}: {shown(vendors)} (spec: {EXPECTED_IDENTITY[cloud]})"
    assert api["state"] == "drifted" and spec_field in api["fields"], api
    assert refresh_diffs(api["fields"]), "the refresh's diff sees it too, while the state still disagrees"

    # (2) The vendor writes it into the state: the refresh's diff is silent, the spec comparison is not.
    urn = next(r["urn"] for r in stack_state(state)["resources"] if r["urn"].endswith(f"::{child}"))
    vendor_refresh(state, tmp_path, PLACEMENT, urn)
    assert state_value(state, child, path) == vendors, "the state now says what the cloud has"
    api = heartbeat(state)["api"]
    assert api["state"] == "drifted" and spec_field in api["fields"], api
    assert refresh_diffs(api["fields"]) == [], "cloud and state agree: a plain refresh reports nothing"

    # (3) The private container's ingress made public.
    child, path, public = INGRESS[cloud]
    drift(fake, child, path, public)
    worker = heartbeat(state)["worker"]
    assert worker["state"] == "drifted", worker
    assert f"{child}.{path}: true (spec: false)" in worker["fields"], worker


def test_aws_container_placement_in_the_foundation_vpc_is_checked_against_its_subnets(
        engine: Engine, management: TokenServer, tmp_path: Path) -> None:
    """Without a Network the service runs in the Foundation's VPC, which a heartbeat does not refresh: the subnet
    and security group ids it must run in come from the state, the service's placement from the cloud."""
    fake, state = engine.clouds["aws"], tmp_path / "state"
    stack_file = changed(tmp_path, '.add(net, "frozen")', "", PLACEMENT)
    up = setup(stack_file, "aws", state)
    assert up.exit_code == 0, up.output
    registered(state)
    service = fake.find("::worker-service")["outputs"]["networkConfiguration"]
    assert service["assignPublicIp"] is True and len(service["subnets"]) == 2, "no NAT: the public subnets"
    assert heartbeat(state)["worker"] == {"state": "present", "fields": []}

    moved = {**service, "subnets": ["subnet-vendor"], "securityGroups": ["sg-vendor"]}
    fake.drift("::worker-service", networkConfiguration=moved)
    worker = heartbeat(state)["worker"]
    assert worker["state"] == "drifted", worker
    placed = ", ".join(sorted(service["subnets"]))
    assert f"worker-service.networkConfiguration.subnets: [subnet-vendor] (spec: [{placed}])" in worker["fields"]
    assert any(f.startswith("worker-service.networkConfiguration.securityGroups: [sg-vendor] (spec: [")
               for f in worker["fields"]), worker
