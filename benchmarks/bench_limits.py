"""Identities against cloud limits, per layer, for 10/100/300/500-resource stacks: before (one statement /
role binding / assignment per grant, exact ARNs only - the strategy before packing, kept here only to compare)
and after (the renderer: ARNs packed on the deployment prefix when a role would exceed its policy quota, one
role per scope with the union of its actions, GCP conditions joined).

Run: python -m benchmarks.bench_limits [--json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
from typing import Any

import alien_pulumi as alien
from alien_pulumi.permissions import derive_plan, render_all
from alien_pulumi.permissions.plan import Layer
from alien_pulumi.permissions.render.aws import split_documents, statements
from alien_pulumi.preflight.limits import limit_findings
from benchmarks.report import add_json_flag, emit
from benchmarks.stacks import stack_of

SIZES = (10, 100, 300, 500)


def _before_bindings(layer: Layer) -> tuple[int, int]:
    """(distinct roles, bindings) with one role per grant's actions, bound on each scope of the grant."""
    roles, bindings = set(), set()
    for grant in layer.grants:
        key = hashlib.sha256(" ".join((*sorted(grant.actions), "|", *sorted(grant.data_actions))).encode()).hexdigest()
        roles.add((grant.set_id, key))
        for scope in grant.resources:
            bindings.add((grant.set_id, key, scope, json.dumps(grant.condition, sort_keys=True)))
    return len(roles), len(bindings)


def _layers(plan: Any) -> list[tuple[str, Layer]]:
    return [("mgmt", plan.management), *((f"rt-{p}", layer) for p, layer in sorted(plan.runtime.items()))]


def row(platform: str, n: int) -> dict[str, Any]:
    """One cloud and size: what is counted, before and after per layer, their totals and the limit findings."""
    spec = stack_of(n)
    plan = derive_plan(spec, alien.DeploymentContext.example_context(platform, spec.name))
    rendered = render_all(plan)
    after_layers = [("mgmt", rendered["management"]), *((f"rt-{p}", r) for p, r in sorted(rendered["runtime"].items()))]
    if platform == "aws":
        before = [len(split_documents(statements(layer))) for _, layer in _layers(plan)]
        after = [len(r["policies"]) for _, r in after_layers]
        what = "managed policies per role (quota 10)"
    elif platform == "gcp":
        before = [_before_bindings(layer)[1] for _, layer in _layers(plan)]
        after = [len(r["bindings"]) for _, r in after_layers]
        what = "role bindings"
    else:
        before = [_before_bindings(layer)[1] for _, layer in _layers(plan)]
        after = [len(r["assignments"]) for _, r in after_layers]
        what = "role assignments (4,000 per subscription)"
    return {"cloud": platform, "resources": n, "measure": what,
            "layers": {name: {"before": b, "after": a} for (name, _), b, a in zip(after_layers, before, after,
                                                                                     strict=True)},
            "before": sum(before), "after": sum(after), "total_ratio": sum(before) / max(1, sum(after)),
            "findings": [f.code.value for f in limit_findings(alien.Platform(platform), rendered)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_json_flag(parser)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    print(f"{'cloud':<6} {'resources':>9}  {'measure':<42} before->after per layer   | limit findings after")
    for platform in ("aws", "gcp", "azure"):
        for n in SIZES:
            figures = row(platform, n)
            rows.append(figures)
            per = " ".join(f"{name}:{layer['before']}->{layer['after']}" for name, layer in figures["layers"].items())
            print(f"{platform:<6} {n:>9}  {figures['measure']:<42} {per}  total {figures['before']}->"
                  f"{figures['after']} ({figures['total_ratio']:.2f}x)  | {','.join(figures['findings']) or 'none'}")
        if platform == "gcp":  # only GCP caps custom roles (300 per project)
            roles = {r["id"] for r in render_all(derive_plan(stack_of(500), alien.DeploymentContext.example_context(
                platform, "bench-500")))["management"].get("roles", [])}
            rows.append({"cloud": platform, "resources": 500, "measure": "custom roles of the management layer",
                         "custom_roles": len(roles), "quota": 300})
            print(f"{'':<6} {'':>9}  custom roles of the management layer at 500: {len(roles)} (300 per project)")
    emit(args, "bench_limits", rows)


if __name__ == "__main__":
    main()
