"""Derive and render all three permission layers for 10, 100 and 500-resource stacks on each cloud.

Run: python -m benchmarks.bench_permissions [--repeat N] [--json]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import alien_pulumi as alien
from alien_pulumi.permissions import derive_plan, render_all, render_markdown
from benchmarks.report import add_json_flag, emit
from benchmarks.stacks import stack_of

SIZES = (10, 100, 500)


def timed(fn: Callable[[], Any], repeat: int) -> float:
    """Median seconds of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    add_json_flag(parser)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    print(f"{'cloud':<6} {'resources':>9} {'derive ms':>10} {'render json ms':>15} {'markdown ms':>12} "
          f"{'mgmt actions':>12} {'policies/bindings':>18}")
    for platform in ("aws", "gcp", "azure"):
        for n in SIZES:
            spec = stack_of(n)
            ctx = alien.DeploymentContext.example_context(platform, spec.name)
            derive_plan(spec, ctx)  # warm the set library cache: measured runs are per stack, not per process
            derive = timed(partial(derive_plan, spec, ctx), args.repeat)
            plan = derive_plan(spec, ctx)
            render = timed(partial(render_all, plan), args.repeat)
            markdown = timed(partial(render_markdown, plan), args.repeat)
            rendered = render_all(plan)["management"]
            size = len(rendered.get("policies") or rendered.get("bindings") or rendered.get("assignments") or [])
            actions = len(plan.management.actions())
            # render time over derive time: comparable across machines, it rises if rendering outgrows the plan
            rows.append({"cloud": platform, "resources": n, "derive_ms": derive * 1000, "render_json_ms": render * 1000,
                         "markdown_ms": markdown * 1000, "mgmt_actions": actions, "policies_bindings": size,
                         "render_ratio": render / derive})
            print(f"{platform:<6} {n:>9} {derive * 1000:>10.1f} {render * 1000:>15.1f} {markdown * 1000:>12.1f} "
                  f"{actions:>12} {size:>18}")
    emit(args, "bench_permissions", rows)


if __name__ == "__main__":
    main()
