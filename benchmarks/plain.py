"""The baseline of the benchmarks: the same cloud resources as a stack's program, declared directly as a
hand-written Pulumi program declares them, with the provider SDKs' own classes (``aws.iam.Role(...)``), and no
components, no lifecycle options, no permission plan.

The provider classes are the baseline, not bare ``CustomResource`` registrations: their constructors do work of
their own that every program using them pays (pulumi-azure-native gives each resource an alias per past API
version, about 30 for a storage account, each resolved to a URN on construction). Leaving it out would charge it
to this project.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable

import pulumi

from alien_pulumi.synth.graph import Graph, Node

PACKAGES = {"aws": "pulumi_aws", "gcp": "pulumi_gcp", "azure-native": "pulumi_azure_native"}
RENAMED = {"lambda": "lambda_"}  # Python keywords the SDKs suffix
# Inputs whose Python name clashes with the constructor's own parameters get a trailing underscore.
CLASHING = {"resource_name", "opts"}


def sdk_class(token: str) -> type:
    """``aws:iam/role:Role`` -> pulumi_aws.iam.Role."""
    package, module, name = token.split(":")
    sub = module.split("/")[0]
    path = PACKAGES[package] if sub == "index" else f"{PACKAGES[package]}.{RENAMED.get(sub, sub)}"
    return getattr(importlib.import_module(path), name)  # type: ignore[no-any-return]


def python_name(key: str) -> str:
    name = re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()
    return f"{name}_" if name in CLASHING else name


def declare(node: Node, opts: pulumi.ResourceOptions | None = None) -> pulumi.Resource:
    resource: pulumi.Resource = sdk_class(node.type)(node.name, opts=opts,
                                                     **{python_name(k): v for k, v in node.inputs.items()})
    return resource


def plain_program(graph: Graph, components: bool = False) -> Callable[[], None]:
    """The cloud resources of ``graph`` (its custom resources but the providers), each with its inputs.

    ``components``: also the graph's components, each resource parented as in the graph (the same URNs), each
    component's outputs registered last: what the component structure alone costs the engine, so a benchmark
    can tell it apart from the rest of a run's work."""
    nodes = [n for n in graph.nodes.values() if not n.type.startswith("pulumi:providers:")]
    if not components:
        nodes = [n for n in nodes if n.custom]

    def program() -> None:
        made: dict[str, pulumi.Resource] = {}
        for node in nodes:
            opts = pulumi.ResourceOptions(parent=made[node.parent]) if node.parent in made else None
            made[node.urn] = declare(node, opts) if node.custom else pulumi.ComponentResource(
                node.type, node.name, None, opts)
        for resource in made.values():
            if isinstance(resource, pulumi.ComponentResource):
                resource.register_outputs({})

    return program
