"""Synth time and peak memory for 10, 100 and 300-resource stacks per cloud, beside a plain Pulumi program
that registers the same cloud resources with the provider SDKs' classes (benchmarks/plain.py: same types, names
and inputs, no components, no lifecycle options, no permission plan) under the same mocks; and the import time of
one cloud's management program.

Run: python -m benchmarks.bench_synth [--sizes 10,100,300] [--clouds aws,gcp,azure] [--json]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import alien_pulumi as alien
from alien_pulumi.programs import PROJECT, provisioning_program
from alien_pulumi.synth import run_program, synth
from alien_pulumi.synth.graph import Graph
from benchmarks.plain import plain_program
from benchmarks.report import add_json_flag, emit
from benchmarks.stacks import stack_of


def seconds(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def peak_mib(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def import_seconds(cloud: str) -> float:
    """Wall time of importing the management program of one cloud in a fresh interpreter, minus Python's."""
    def run(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - start

    base = min(run("pass") for _ in range(3))
    code = f"import alien_pulumi.programs.build, alien_pulumi.components.{cloud}"
    return min(run(code) for _ in range(3)) - base


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10,100,300")
    parser.add_argument("--clouds", default="aws,gcp,azure")
    add_json_flag(parser)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"{'cloud':<6} {'resources':>9} {'cloud res':>9} {'synth s':>8} {'provision s':>11} {'plain s':>8} "
          f"{'ratio':>6} {'peak MiB':>9}")
    for cloud in args.clouds.split(","):
        for n in sizes:
            spec = stack_of(n)
            ctx = alien.DeploymentContext.example_context(cloud, spec.name)
            synth(spec, ctx)  # warm: imports and caches are per process, not per stack
            total = seconds(lambda: synth(spec, ctx))  # noqa: B023 (used at once)
            program = provisioning_program(spec, ctx)
            registrations: list[object] = []
            provision = seconds(lambda: registrations.extend(run_program(program, PROJECT, ctx.prefix)))  # noqa: B023
            graph = Graph(registrations, PROJECT, ctx.prefix)  # type: ignore[arg-type]
            plain = plain_program(graph)
            baseline = seconds(lambda: run_program(plain, PROJECT, ctx.prefix))  # noqa: B023
            peak = peak_mib(lambda: synth(spec, ctx))  # noqa: B023
            custom = sum(1 for node in graph.nodes.values() if node.custom)
            rows.append({"cloud": cloud, "resources": n, "cloud_resources": custom, "synth_s": total,
                         "provision_s": provision, "plain_s": baseline, "plain_ratio": provision / baseline,
                         "peak_mib": peak})
            print(f"{cloud:<6} {n:>9} {custom:>9} {total:>8.2f} {provision:>11.2f} {baseline:>8.2f} "
                  f"{provision / baseline:>6.2f} {peak:>9.1f}")
    for cloud in args.clouds.split(","):
        imported = import_seconds(cloud)
        rows.append({"cloud": cloud, "import_s": imported})
        print(f"import of the {cloud} management program: {imported:.2f} s")
    emit(args, "bench_synth", rows)


if __name__ == "__main__":
    main()
