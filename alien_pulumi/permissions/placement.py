"""Permission template values of a compute's network placement (AWS ECS: the subnets and public IP setup gives
its service), for the conditions that keep a release from moving it.

An ECS service runs (components/aws/network.py ``VpcParts.placement``) in the public subnets with a public IP when
it is public or its network has no private subnets (no NAT; the Foundation's VPC for a stack without a Network has
none), else in the private subnets without one. The network is the stack's first Network, or the Foundation's VPC.

- ``{public_ip}``: ``true`` or ``false``, the value IAM gives ``ecs:auto-assign-public-ip`` (the ECS developer
  guide, "How Amazon ECS works with IAM": ``"true"`` or ``"false"``; the API's ENABLED / DISABLED is not what the
  condition sees).
- ``{subnets}``: EC2 assigns subnet ids at setup, so no template can hold them. The value is a sentinel naming the
  subnets, ``alien:subnets/<network id>/<public|private>`` (``foundation`` for the Foundation's VPC): what the
  offline render and the customer's document show. The AWS Identities component replaces it, in the policy it
  attaches, by the list of those subnets' ids (``fill_subnets``). Left unfilled it matches no subnet id (they are
  ``subnet-<hex>``), so a policy holding it refuses every network change instead of allowing any.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.resources import ContainerSpec, NetworkSpec, ResourceSpec
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import Platform

FOUNDATION = "foundation"  # the owner of the implicit VPC (components/aws/foundation.py), in the sentinel
SENTINEL_PREFIX = "alien:subnets/"
_SENTINEL = re.compile(r'"(alien:subnets/[^"/]+/(?:public|private))"')
# The most subnets a placement has (NetworkSpec.zones <= 3; the Foundation's VPC has 2) and the longest subnet id
# (``subnet-`` and 17 hex digits): what a sentinel can grow to once filled, for the policy size limit.
MAX_SUBNETS = 3
_LONGEST_FILL = len(json.dumps(["subnet-" + "f" * 17] * MAX_SUBNETS, separators=(",", ":")))


def network_of(spec: StackSpec) -> NetworkSpec | None:
    """The network the stack's containers run in (the components' ``env.network()``: the first one built)."""
    return next((r for r in spec.resources if isinstance(r, NetworkSpec)), None)


def subnets_sentinel(owner: str, tier: str) -> str:
    return f"{SENTINEL_PREFIX}{owner}/{tier}"


def placement_values(spec: StackSpec, res: ResourceSpec, ctx: DeploymentContext) -> dict[str, str]:
    """Template values of ``res``'s placement: ``{public_ip}`` and ``{subnets}`` for an AWS container (none for
    other computes or clouds)."""
    if ctx.platform is not Platform.AWS or not isinstance(res, ContainerSpec):
        return {}
    network = network_of(spec)
    public_ip = aws_public_ip(res.public, network)
    owner = network.id if network is not None else FOUNDATION
    return {"public_ip": "true" if public_ip else "false",
            "subnets": subnets_sentinel(owner, "public" if public_ip else "private")}


def aws_public_ip(public: bool, network: NetworkSpec | None) -> bool:
    """Whether an ECS service gets a public IP (and the public subnets): the one rule of components/aws/network.py
    ``VpcParts.placement``, which the IAM conditions and the heartbeat's placement check both follow."""
    return public or network is None or not network.nat


def sentinels(document: Any) -> list[str]:
    """The subnet sentinels ``document`` holds, sorted, each once."""
    return sorted(set(_SENTINEL.findall(json.dumps(document))))


def sentinel_growth(text: str) -> int:
    """How many characters the sentinels in ``text`` (compact JSON) may add once filled with subnet ids."""
    return sum(max(0, _LONGEST_FILL - len(found) - 2) for found in _SENTINEL.findall(text))


def fill_subnets(document: Any, subnets: Mapping[str, Sequence[str]]) -> Any:
    """``document`` with every sentinel replaced by its subnets' ids: a value that is one sentinel becomes the list
    of ids, a list holding sentinels gets their ids in their place. A sentinel without ids is an error: setup must
    never attach a policy that names a subnet it does not place the service in."""

    def ids(value: str) -> list[str]:
        if value not in subnets:
            raise ValueError(f"no subnets for {value!r} (placed: {sorted(subnets)})")
        return list(subnets[value])

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            out: list[Any] = []
            for item in node:
                out += ids(item) if isinstance(item, str) and item.startswith(SENTINEL_PREFIX) else [walk(item)]
            return out
        if isinstance(node, str) and node.startswith(SENTINEL_PREFIX):
            return ids(node)
        return node

    return walk(document)
