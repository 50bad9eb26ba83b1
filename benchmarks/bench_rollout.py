"""Rollout orchestration against the simulated engine: what a rollout costs beyond the runs themselves.

Every run sleeps a fixed latency (default 50 ms), so a perfect orchestrator finishes n runs at parallel p in
n * latency / p. The table shows, per executor and parallelism:

- achieved wall time of ``rollout()`` (planning the rollout in the registry included) against that ideal;
- parallel efficiency = ideal / achieved;
- overhead per deployment = (achieved - ideal) * p / n: the slot time each deployment costs beyond its run
  (registry writes, scheduling, for the process executor the worker's start-up).

A last row runs at latency 0 to give the pure orchestration cost per deployment (registry: claim + result,
two commits per run).

Run: python benchmarks/bench_rollout.py [--quick] [--n 1000] [--latency-ms 50] [--process-n 160]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass

import alien_pulumi as alien
from alien_pulumi.automation.run import RunInput, RunKind
from alien_pulumi.fleet.executor import Executor, InProcessExecutor, ProcessExecutor
from alien_pulumi.fleet.registry import Registry
from alien_pulumi.fleet.rollout import rollout


@dataclass(frozen=True)
class Figure:
    executor: str
    n: int
    parallel: int
    latency: float
    achieved: float

    @property
    def ideal(self) -> float:
        return self.n * self.latency / self.parallel

    @property
    def efficiency(self) -> float:
        return self.ideal / self.achieved if self.achieved else 0.0

    @property
    def overhead_ms(self) -> float:
        return (self.achieved - self.ideal) * self.parallel / self.n * 1000


def inputs(n: int, state: str, latency_ms: float) -> dict[str, RunInput]:
    image = "111122223333.dkr.ecr.us-east-1.amazonaws.com/i"  # AWS runs ECR images only
    spec = alien.Stack("bench").platforms("aws").add(alien.Function("f", image=image), "live").build()
    return {f"c{i:05d}": RunInput(run_id="planned", kind=RunKind.RELEASE, deployment=f"c{i:05d}", release="v1",
                                  spec=spec,
                                  context=alien.DeploymentContext.example_context("aws", "bench", prefix=f"c{i}"),
                                  state_dir=state, engine=f"simulated:{latency_ms:g}")
            for i in range(n)}


def measure(name: str, executor: Executor, n: int, parallel: int, latency_ms: float) -> Figure:
    with tempfile.TemporaryDirectory(prefix="alien-bench-") as state, Registry(state) as registry:
        runs = inputs(n, state, latency_ms)  # built before the clock starts: the CLI's work, not the rollout's
        start = time.perf_counter()
        result = rollout(registry, "v1", runs, "100%", parallel, executor=executor)
        achieved = time.perf_counter() - start
        if result.counts["succeeded"] != n:
            raise SystemExit(f"{name} p={parallel}: not every run succeeded: {result.counts}")
    return Figure(name, n, parallel, latency_ms / 1000, achieved)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small n (100 in-process, 24 process) for a fast look")
    parser.add_argument("--n", type=int, default=1000, help="deployments for the in-process executor")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--process-n", type=int, default=160,
                        help="deployments for the process executor (one Python start-up per run)")
    args = parser.parse_args()
    n, process_n = (100, 24) if args.quick else (args.n, args.process_n)
    latency = args.latency_ms
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} CPUs, load average {load:.2f}; simulated latency {latency:g} ms; waves 100%; "
          f"in-process n={n}, process n={process_n} (each run starts a Python worker process)")
    figures = []
    for parallel in (1, 8, 32):
        figures.append(measure("in-process", InProcessExecutor(), n, parallel, latency))
    for parallel in (8, 32):
        figures.append(measure("process", ProcessExecutor(), process_n, parallel, latency))
    figures.append(measure("in-process", InProcessExecutor(), n, 8, 0.0))

    print(f"{'executor':<11} {'n':>5} {'parallel':>8} {'latency ms':>10} {'ideal s':>8} {'achieved s':>10} "
          f"{'efficiency':>10} {'overhead ms/deployment':>22}")
    for f in figures:
        efficiency = f"{f.efficiency:>10.1%}" if f.latency else f"{'-':>10}"
        overhead = f.overhead_ms if f.latency else f.achieved / f.n * 1000  # latency 0: all of it is overhead
        print(f"{f.executor:<11} {f.n:>5} {f.parallel:>8} {f.latency * 1000:>10g} {f.ideal:>8.2f} {f.achieved:>10.2f} "
              f"{efficiency} {overhead:>22.2f}")


if __name__ == "__main__":
    main()
