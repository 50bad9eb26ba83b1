"""The resource graph of a program run: engine-format URNs, components and their descendants, and the
management run's targets.

Mock URNs carry a ``pulumi:pulumi:Stack$`` prefix and only the immediate parent's type; the engine's
URN type is the chain of parent types below the root stack. Targets are computed from the chain here,
never taken from mock URNs.
"""

from __future__ import annotations

from dataclasses import dataclass

from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import Lifecycle
from alien_pulumi.synth.mocks import Registration

STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass(frozen=True)
class Options:
    protect: bool
    ignore_changes: tuple[str, ...]
    retain_on_delete: bool

    def to_json(self) -> dict[str, object]:
        return {"protect": self.protect, "ignore_changes": list(self.ignore_changes),
                "retain_on_delete": self.retain_on_delete}


@dataclass(frozen=True)
class Node:
    """A resource of the graph, with its engine URN and its parent's."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    provider: str
    options: Options
    inputs: dict[str, object]


class Graph:
    """One program run's resources by engine URN, in registration order."""

    def __init__(self, registrations: list[Registration], project: str, stack: str) -> None:
        qualified: dict[str, str] = {}
        engine: dict[str, str] = {}
        self.nodes: dict[str, Node] = {}
        for reg in registrations:
            parent_type = qualified.get(reg.parent)  # None for the root stack's children
            qualified[reg.urn] = f"{parent_type}${reg.type}" if parent_type else reg.type
            engine[reg.urn] = f"urn:pulumi:{stack}::{project}::{qualified[reg.urn]}::{reg.name}"
            node = Node(
                urn=engine[reg.urn],
                type=reg.type,
                name=reg.name,
                custom=reg.custom,
                parent=engine.get(reg.parent),
                provider=_provider_urn(reg.provider, engine),
                options=Options(reg.protect, reg.ignore_changes, reg.retain_on_delete),
                inputs=reg.inputs,
            )
            self.nodes[node.urn] = node
        # Children by parent URN, sorted: registration order depends on async completion, output must not.
        self.children: dict[str | None, list[Node]] = {}
        for node in sorted(self.nodes.values(), key=lambda n: n.urn):
            self.children.setdefault(node.parent, []).append(node)

    def urns(self) -> set[str]:
        return set(self.nodes)

    def components(self) -> list[Node]:
        """The alien components (direct children of the stack)."""
        return [n for n in self.children.get(None, []) if n.type.startswith("alien:")]

    def descendants(self, urn: str) -> list[Node]:
        out: list[Node] = []
        frontier = [urn]
        while frontier:
            children = self.children.get(frontier.pop(0), [])
            out.extend(children)
            frontier.extend(c.urn for c in children)
        return out


def _provider_urn(reference: str, engine: dict[str, str]) -> str:
    """A provider reference is ``<urn>::<id>``; map its URN part to the engine's format."""
    if not reference:
        return ""
    urn, _, ident = reference.rpartition("::")
    return f"{engine.get(urn, urn)}::{ident}"


def component_lifecycle(spec: StackSpec, component: Node) -> Lifecycle:
    """A resource component has its resource's lifecycle; deployment-wide components are setup-owned."""
    for res in spec.resources:
        if res.id == component.name and component.type.endswith(":" + type(res).__name__.removesuffix("Spec")):
            return res.lifecycle
    return Lifecycle.FROZEN


def management_targets(spec: StackSpec, graph: Graph) -> list[str]:
    """Every live component and all its descendants: the management run's ``--target`` list."""
    targets: list[str] = []
    for component in graph.components():
        if component_lifecycle(spec, component) is Lifecycle.LIVE:
            targets.append(component.urn)
            targets.extend(n.urn for n in graph.descendants(component.urn))
    return targets
