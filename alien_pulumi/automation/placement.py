"""Heartbeat placement: a compute's runtime identity, network placement and ingress as the cloud has them, checked
against what the spec and the deployment context dictate, never against the state.

The vendor may update live compute and may write the Pulumi state, so a refresh (the cloud compared with the state)
says nothing of a change made by the vendor's own ``pulumi up``, or by an API call followed by a state write: the
state then agrees with the cloud. What a compute runs as, where it runs and who may reach it are instead derived
here from the spec (``public``, the profile, the network) and the context (``ctx.identity("rt-<profile>")``,
account, project, subscription), as the components derive them, and compared with the outputs the refresh read
from the cloud (the ``ResOutputsEvent`` of each refreshed resource: its pre-event's ``new`` is still the state).

Expectations are data: per cloud, per resource type token, the output paths and the function giving each one's
expected value (``EXPECTATIONS``). A value that is an id the cloud assigned (an AWS subnet, a security group, a task
definition revision) is taken from the outputs of the resource that owns it, as the same refresh read them, else
as the state records them (resources a heartbeat does not refresh: the Foundation's VPC).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from alien_pulumi.automation.events import EventRecorder
from alien_pulumi.automation.health import DRIFTED, PRESENT, UNKNOWN, worse
from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.naming import deployment_names, resource_names
from alien_pulumi.model.resources import ComputeSpec, FunctionSpec, NetworkSpec
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import Platform, ResourceType
from alien_pulumi.permissions.placement import FOUNDATION, aws_public_ip, network_of
from alien_pulumi.permissions.plan import profile_of

State = Callable[[], Mapping[str, Any] | None]  # the stack's exported deployment (``resources``), read only when needed


class Unresolved(Exception):
    """An expected value that cannot be known (the resource holding it is neither refreshed nor in the state)."""


class Peers:
    """Other resources' outputs by type and logical name: as the refresh read them, else as the state has them."""

    def __init__(self, read: Mapping[str, Mapping[str, Any]], state: State | None = None) -> None:
        self.read = read
        self.state = state
        self._state_rows: list[Mapping[str, Any]] | None = None

    def _rows(self, token: str, name: re.Pattern[str]) -> list[Mapping[str, Any]]:
        def matching(rows: Iterable[tuple[str, Mapping[str, Any]]]) -> list[Mapping[str, Any]]:
            return [row for urn, row in rows if row.get("type") == token and name.fullmatch(urn_name(urn))]

        found = matching(self.read.items())
        if found or self.state is None:
            return found
        if self._state_rows is None:
            self._state_rows = list((self.state() or {}).get("resources") or [])
        return matching((str(r.get("urn", "")), r) for r in self._state_rows)

    def ids(self, token: str, name: str) -> list[str]:
        """The ids of the resources of type ``token`` whose logical name matches the regular expression ``name``."""
        rows = self._rows(token, re.compile(name))
        if not rows:
            raise Unresolved(f"no {token.rsplit(':', 1)[-1]} named {name} refreshed or in the state")
        return sorted(str(row.get("id")) for row in rows)

    def output(self, token: str, name: str, key: str) -> Any:
        rows = self._rows(token, re.compile(re.escape(name)))
        if len(rows) != 1:
            raise Unresolved(f"{len(rows)} {token.rsplit(':', 1)[-1]} named {name} refreshed or in the state")
        return (rows[0].get("outputs") or {}).get(key)


@dataclass(frozen=True)
class Facts:
    """What an expected value is computed from: the spec, the deployment, the compute, and other resources' ids."""

    spec: StackSpec
    ctx: DeploymentContext
    res: ComputeSpec
    peers: Peers

    @property
    def identity(self) -> str:
        """The runtime identity's name (GCP: its email), as Identities names it."""
        return self.ctx.identity(f"rt-{profile_of(self.res)}")

    @property
    def network(self) -> NetworkSpec | None:
        """The network compute runs in: the stack's first Network (``Env.network()``), if any."""
        return network_of(self.spec)


Expected = Callable[[Facts], Any]


def _same(value: Any) -> Any:
    return value


def _flag(value: Any) -> bool:
    """A boolean an absent field means false of."""
    return bool(value) and value not in ("false", "DISABLED")


def _folded(value: Any) -> Any:
    """ARM ids and emails compare case-insensitively."""
    return value.casefold() if isinstance(value, str) else value


def _members(value: Any) -> list[str]:
    """An unordered collection (absent = empty); a map counts by its keys (ARM's userAssignedIdentities)."""
    if value is None:
        return []
    items = value.keys() if isinstance(value, Mapping) else value if isinstance(value, list) else [value]
    return sorted({str(item) for item in items})


def _folded_members(value: Any) -> list[str]:
    return sorted({m.casefold() for m in _members(value)})


def _tails(value: Any) -> list[str]:
    """Resource references by their last path segment (``projects/p/global/networks/n`` and ``n`` are the same)."""
    return sorted({m.rsplit("/", 1)[-1] for m in _members(value)})


def _any(value: Any) -> bool:
    return any(_flag(v) for v in (value if isinstance(value, list) else [value]))


@dataclass(frozen=True)
class Expect:
    """One output path of a resource type and its expected value; ``norm`` makes found and expected comparable."""

    path: str  # dotted; ``name[*]`` collects over a list
    expected: Expected
    norm: Callable[[Any], Any] = _same


def lookup(outputs: Mapping[str, Any], path: str) -> Any:
    """The value at ``path``; None when absent. A ``[*]`` segment makes the result the list of what every item holds
    (absent ones left out)."""
    values: list[Any] = [outputs]
    many = False
    for part in path.split("."):
        key, star = part.removesuffix("[*]"), part.endswith("[*]")
        found = [v.get(key) if isinstance(v, Mapping) else None for v in values]
        if star:
            many = True
            values = [item for v in found if isinstance(v, list) for item in v]
        else:
            values = found
    if many:
        return [v for v in values if v is not None]
    return values[0]


# --- expected values, per cloud ---

def _aws_role(f: Facts) -> str:
    return f"arn:{f.ctx.partition}:iam::{f.ctx.account_id}:role/{f.identity}"


def _aws_owner(f: Facts) -> str:
    network = f.network
    return network.id if network is not None else FOUNDATION


def _aws_public_ip(f: Facts) -> bool:
    """components/aws/network.py ``VpcParts.placement``: public subnets and a public IP when the compute is public
    or the network has no private subnets (no NAT; the Foundation's VPC has none)."""
    return aws_public_ip(f.res.public, f.network)


def _aws_subnets(f: Facts) -> list[str]:
    tier = "public" if _aws_public_ip(f) else "private"
    return f.peers.ids("aws:ec2/subnet:Subnet", rf"{re.escape(_aws_owner(f))}-{tier}-[a-z]")


def _aws_security_groups(f: Facts) -> list[str]:
    return f.peers.ids("aws:ec2/securityGroup:SecurityGroup", re.escape(f"{_aws_owner(f)}-compute-sg"))


def _aws_task_definition(f: Facts) -> Any:
    arn = f.peers.output("aws:ecs/taskDefinition:TaskDefinition", f"{f.res.id}-task", "arn")
    if arn is None:
        raise Unresolved(f"no arn of {f.res.id}-task")
    return arn


def _gcp_network(f: Facts) -> list[str]:
    """The network and the subnetwork compute's Direct VPC egress joins: both named like the Network resource
    (components/gcp/network.py, cloudrun.py ``vpc_access``); none without a Network."""
    network = f.network
    return [] if network is None else [resource_names(Platform.GCP, ResourceType.NETWORK, f.ctx.prefix,
                                                      network.id)["name"]]


def _gcp_egress(f: Facts) -> str | None:
    network = f.network
    return None if network is None else "ALL_TRAFFIC" if network.nat else "PRIVATE_RANGES_ONLY"


def _azure_scope(f: Facts) -> str:
    return f"/subscriptions/{f.ctx.subscription_id}/resourceGroups/{f.ctx.rg}/providers"


def _azure_identity(f: Facts) -> str:
    return f"{_azure_scope(f)}/Microsoft.ManagedIdentity/userAssignedIdentities/{f.identity}"


def _azure_environment(f: Facts) -> str:
    name = deployment_names(Platform.AZURE, f.ctx.prefix)["environment"]
    return f"{_azure_scope(f)}/Microsoft.App/managedEnvironments/{name}"


def _azure_scalers(f: Facts) -> list[str]:
    """The identity each queue trigger's scale rule authenticates with (components/azure/function.py)."""
    queued = isinstance(f.res, FunctionSpec) and any(t.queue is not None for t in f.res.triggers)
    return [_azure_identity(f)] if queued else []


def _value(value: Any) -> Expected:
    return lambda _: value


_AZURE_IDENTITY = (
    Expect("identity.type", _value("UserAssigned")),
    Expect("identity.userAssignedIdentities", lambda f: [_azure_identity(f)], _folded_members),
)

# Platform -> resource type -> what its outputs must hold. Only children of compute components are looked up.
EXPECTATIONS: Mapping[Platform, Mapping[str, tuple[Expect, ...]]] = {
    Platform.AWS: {
        "aws:lambda/function:Function": (Expect("role", _aws_role),),
        # Exists only for a public function (components/aws/function.py): anyone may call it, by design.
        "aws:lambda/functionUrl:FunctionUrl": (Expect("authorizationType", _value("NONE")),),
        "aws:ecs/taskDefinition:TaskDefinition": (Expect("taskRoleArn", _aws_role),
                                                  Expect("executionRoleArn", _aws_role)),
        "aws:ecs/service:Service": (
            Expect("taskDefinition", _aws_task_definition),
            Expect("networkConfiguration.assignPublicIp", _aws_public_ip, _flag),
            Expect("networkConfiguration.subnets", _aws_subnets, _members),
            Expect("networkConfiguration.securityGroups", _aws_security_groups, _members),
        ),
    },
    Platform.GCP: {
        "gcp:cloudrunv2/service:Service": (
            Expect("template.serviceAccount", lambda f: f.identity, _folded),
            Expect("ingress", _value("INGRESS_TRAFFIC_ALL")),
            # True lets anyone invoke the service, whatever its IAM policy says (public is an allUsers binding).
            Expect("invokerIamDisabled", _value(False), _flag),
            Expect("template.vpcAccess.networkInterfaces[*].network", _gcp_network, _tails),
            Expect("template.vpcAccess.networkInterfaces[*].subnetwork", _gcp_network, _tails),
            Expect("template.vpcAccess.egress", _gcp_egress),
        ),
    },
    Platform.AZURE: {
        "azure-native:app:ContainerApp": (
            *_AZURE_IDENTITY,
            Expect("template.scale.rules[*].custom.identity", _azure_scalers, _folded_members),
            Expect("configuration.ingress.external", lambda f: f.res.public, _flag),
            Expect("configuration.ingress.additionalPortMappings[*].external", _value(False), _any),
            Expect("managedEnvironmentId", _azure_environment, _folded),
        ),
        "azure-native:app:Job": (*_AZURE_IDENTITY, Expect("environmentId", _azure_environment, _folded)),
    },
}


def urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def urn_type(urn: str) -> str:
    return urn.split("::")[-2].split("$")[-1] if urn.count("::") >= 3 else ""


def show(value: Any) -> str:
    if value is None:
        return "absent"
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        value = sorted(value)
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return json.dumps(value)


def check(outputs: Mapping[str, Any], expectations: Iterable[Expect], facts: Facts,
          child: str) -> tuple[str, list[str]]:
    """(state, fields) of one resource's outputs against its expectations."""
    state, fields = PRESENT, []
    for expect in expectations:
        found = lookup(outputs, expect.path)
        try:
            wanted = expect.expected(facts)
        except Unresolved as exc:
            state = worse(state, UNKNOWN)
            fields.append(f"{child}.{expect.path}: not checked ({exc})")
            continue
        if expect.norm(found) != expect.norm(wanted):
            state = worse(state, DRIFTED)
            fields.append(f"{child}.{expect.path}: {show(found)} (spec: {show(wanted)})")
    return state, fields


def placement_health(spec: StackSpec, ctx: DeploymentContext, recorder: EventRecorder, targets: Mapping[str, str],
                     state: State | None = None) -> dict[str, dict[str, Any]]:
    """Resource id -> placement health of every compute whose children the refresh read. A child the refresh reported
    without outputs is unknown; one it did not report at all, or found gone, is ``health_from_refresh``'s to tell."""
    table = EXPECTATIONS.get(ctx.platform, {})
    computes = {r.id: r for r in spec.resources if isinstance(r, ComputeSpec)}
    peers = Peers(recorder.read, state)
    health: dict[str, dict[str, Any]] = {}
    for urn, rid in targets.items():
        res, expectations = computes.get(rid), table.get(urn_type(urn))
        if res is None or not expectations or urn in recorder.gone or urn not in recorder.operations:
            continue
        entry = health.setdefault(rid, {"state": PRESENT, "fields": []})
        if urn not in recorder.read:
            found, fields = UNKNOWN, [f"{urn_name(urn)}: outputs not reported by the refresh"]
        else:
            outputs = recorder.read[urn].get("outputs") or {}
            found, fields = check(outputs, expectations, Facts(spec, ctx, res, peers), urn_name(urn))
        entry["state"] = worse(entry["state"], found)
        entry["fields"] += fields
    return health
