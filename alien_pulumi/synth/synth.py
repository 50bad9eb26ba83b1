"""Offline synth: run both programs under mocks and report the graph, the options per program, the
management targets and the permission layers. No CLI, no cloud, no credentials."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pulumi.runtime import rpc

from alien_pulumi.errors import AlienError
from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import Lifecycle
from alien_pulumi.permissions.plan import PermissionPlan, derive_plan
from alien_pulumi.permissions.render import render_all
from alien_pulumi.programs.build import PROJECT, management_program, provisioning_program
from alien_pulumi.synth.graph import Graph, Node, component_lifecycle, management_targets
from alien_pulumi.synth.mocks import run_program

SECRET = "[secret]"


def masked(value: Any) -> Any:
    """Inputs as JSON, every secret value replaced: synth output goes to CI logs and PR comments."""
    if rpc.is_rpc_secret(value):
        return SECRET
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


class SynthError(AlienError):
    """The two programs disagree (a bug in a component), or a program failed under mocks."""


@dataclass(frozen=True)
class SynthResult:
    spec: StackSpec
    context: DeploymentContext
    provision: Graph
    manage: Graph
    targets: list[str]
    plan: PermissionPlan

    def component_rows(self) -> list[tuple[Node, Lifecycle, list[Node]]]:
        """Components in a stable order: foundation and identities, the resources as the stack lists
        them, then grants."""
        order = ["foundation", "identities", *(r.id for r in self.spec.resources), "grants"]
        components = sorted(self.provision.components(),
                            key=lambda c: (order.index(c.name) if c.name in order else len(order), c.urn))
        return [(c, component_lifecycle(self.spec, c), self.provision.descendants(c.urn)) for c in components]

    def to_json(self) -> dict[str, Any]:
        resources = []
        for component, lifecycle, children in self.component_rows():
            resources.append({
                "id": component.name,
                "type": component.type,
                "lifecycle": lifecycle.value,
                "urn": component.urn,
                "children": [
                    {
                        "type": child.type,
                        "name": child.name,
                        "urn": child.urn,
                        "provision": child.options.to_json(),
                        "manage": self.manage.nodes[child.urn].options.to_json(),
                        "inputs": masked(child.inputs),
                    }
                    for child in children
                ],
            })
        return {
            "stack": self.spec.name,
            "platform": self.context.platform.value,
            "prefix": self.context.prefix,
            "region": self.context.region,
            "providers": [{"type": n.type, "name": n.name, "inputs": masked(n.inputs)}
                          for n in self.provision.nodes.values() if n.type.startswith("pulumi:providers:")],
            "resources": resources,
            "targets": self.targets,
            "permissions": render_all(self.plan),
        }


def synth(spec: StackSpec, ctx: DeploymentContext) -> SynthResult:
    """Run the provisioning and the management program of ``spec`` for ``ctx`` under mocks."""
    graphs = []
    for program in (provisioning_program(spec, ctx), management_program(spec, ctx)):
        try:
            registrations = run_program(program, PROJECT, ctx.prefix)
        except AlienError:
            raise
        except Exception as exc:
            raise SynthError(f"{ctx.platform.value} program of '{spec.name}' failed under mocks: "
                             f"{type(exc).__name__}: {exc}") from exc
        graphs.append(Graph(registrations, PROJECT, ctx.prefix))
    provision, manage = graphs
    if provision.urns() != manage.urns():
        only = sorted(provision.urns() ^ manage.urns())
        raise SynthError(f"the two programs declare different resources: {only[:5]}")
    return SynthResult(spec, ctx, provision, manage, management_targets(spec, manage), derive_plan(spec, ctx))
