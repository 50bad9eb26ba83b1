"""Engines execute one run. ``PulumiEngine`` drives the Pulumi CLI through the Automation API;
``SimulatedEngine`` sleeps a fixed latency and can inject failures and lock contention, so rollouts can
be tested and benchmarked on a machine without the CLI or a cloud."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from alien_pulumi.automation.run import RunInput, RunKind, RunResult, RunStatus
from alien_pulumi.errors import AccessRevokedError

OnLine = Callable[[str], None]


class Engine(Protocol):
    def execute(self, run: RunInput, on_line: OnLine | None = None) -> RunResult: ...


class SimulatedEngine:
    """``simulated:<ms>[;fail=<deployment>,...][;locked=<n>][;unhealthy=<deployment>,...][;revoked=<deployment>,...]``:
    every run takes ``ms``; listed deployments fail; each deployment's first ``n`` attempts find the stack locked
    (attempts are counted in files under the state dir, so they survive a worker process); heartbeats of unhealthy
    deployments find their first resource missing; revoked deployments' management credentials are refused, as
    the real engine's are (AccessRevokedError, before anything runs)."""

    def __init__(self, spec: str) -> None:
        parts = spec.split(";")
        self.latency = float(parts[0].split(":", 1)[1]) / 1000
        options = dict(p.split("=", 1) for p in parts[1:])
        self.failing = set(filter(None, options.get("fail", "").split(",")))
        self.locked = int(options.get("locked", "0"))
        self.unhealthy = set(filter(None, options.get("unhealthy", "").split(",")))
        self.revoked = set(filter(None, options.get("revoked", "").split(",")))

    def _attempt(self, run: RunInput) -> int:
        counter = Path(run.state_dir) / "simulated" / f"{run.deployment}.attempts"
        counter.parent.mkdir(parents=True, exist_ok=True)
        attempts = int(counter.read_text()) + 1 if counter.exists() else 1
        counter.write_text(str(attempts))
        return attempts

    def execute(self, run: RunInput, on_line: OnLine | None = None) -> RunResult:
        start = time.perf_counter()
        if run.deployment in self.revoked:
            raise AccessRevokedError(f"simulated refusal: the customer revoked the access of {run.deployment}")
        if self.locked and self._attempt(run) <= self.locked:
            return RunResult(run_id=run.run_id, deployment=run.deployment, kind=run.kind, status=RunStatus.LOCKED,
                             error="the stack is locked by another update", seconds=time.perf_counter() - start)
        time.sleep(self.latency)
        failed = run.deployment in self.failing
        if run.kind is RunKind.HEARTBEAT:
            health = {rid: {"state": "present", "fields": []} for rid in run.refresh_targets.values()}
            if run.deployment in self.unhealthy and health:
                health[min(health)] = {"state": "missing", "fields": []}
            return RunResult(run_id=run.run_id, deployment=run.deployment, kind=run.kind,
                             status=RunStatus.FAILED if failed else RunStatus.SUCCEEDED, health=health,
                             seconds=time.perf_counter() - start)
        ops = {urn: "update" for urn in run.targets}
        return RunResult(
            run_id=run.run_id,
            deployment=run.deployment,
            kind=run.kind,
            status=RunStatus.FAILED if failed else RunStatus.SUCCEEDED,
            operations={} if failed else ops,
            summary={} if failed else {"update": len(ops)},
            error="simulated failure" if failed else None,
            seconds=time.perf_counter() - start,
        )


def engine_for(run: RunInput) -> Engine:
    if run.engine.startswith("simulated:"):
        return SimulatedEngine(run.engine)
    from alien_pulumi.automation.pulumi_engine import PulumiEngine  # imports the Automation API only when used

    return PulumiEngine()
