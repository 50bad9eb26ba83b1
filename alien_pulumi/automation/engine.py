"""Engines execute one run. ``PulumiEngine`` drives the Pulumi CLI through the Automation API;
``SimulatedEngine`` sleeps a fixed latency and can inject failures and lock contention, so rollouts can
be tested and benchmarked on a machine without the CLI or a cloud."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from alien_pulumi.automation.run import RunInput, RunKind, RunResult, RunStatus
from alien_pulumi.errors import AccessRevokedError, StackLockedError

OnLine = Callable[[str], None]


class Engine(Protocol):
    def execute(self, run: RunInput, on_line: OnLine | None = None) -> RunResult: ...


class SimulatedEngine:
    """``simulated:<ms>[;fail=<deployment>,...][;locked=<n>][;unhealthy=<deployment>,...][;revoked=<deployment>,...]``
    ``[;heartbeat-fails=<deployment>,...][;heartbeat-locked=<deployment>,...][;heartbeat-hangs=<deployment>,...]``
    ``[;hold=<deployment>,...]``:
    every run takes ``ms``; listed deployments fail; each deployment's first ``n`` attempts find the stack locked
    (attempts are counted in files under the state dir, so they survive a worker process); heartbeats of unhealthy
    deployments find their first resource missing; revoked deployments' management credentials are refused, as
    the real engine's are (AccessRevokedError, before anything runs).

    The ``heartbeat-*`` knobs touch heartbeats only (releases succeed): a heartbeat fails, finds the stack locked by
    another update (StackLockedError, as the real engine raises it), or never answers: it waits (at most
    ``HANG_LIMIT`` seconds, then fails) until the file ``<state dir>/simulated/<deployment>.answer`` appears, so
    that a test can let a worker nobody waits for any more end.

    ``hold``: every run of the listed deployments waits for that same file before it starts (at most ``HANG_LIMIT``
    seconds, then it fails), then goes on as usual: a test holds runs in flight for as long as it needs them there
    (to cancel or kill what runs them), whatever the machine's load, instead of counting on a latency."""

    HANG_LIMIT = 600.0

    def __init__(self, spec: str) -> None:
        parts = spec.split(";")
        self.latency = float(parts[0].split(":", 1)[1]) / 1000
        options = dict(p.split("=", 1) for p in parts[1:])
        self.failing = self._names(options, "fail")
        self.locked = int(options.get("locked", "0"))
        self.unhealthy = self._names(options, "unhealthy")
        self.revoked = self._names(options, "revoked")
        self.beat_failing = self._names(options, "heartbeat-fails")
        self.beat_locked = self._names(options, "heartbeat-locked")
        self.beat_hanging = self._names(options, "heartbeat-hangs")
        self.held = self._names(options, "hold")

    @staticmethod
    def _names(options: dict[str, str], knob: str) -> set[str]:
        return set(filter(None, options.get(knob, "").split(",")))

    @staticmethod
    def answer_file(state_dir: str | Path, deployment: str) -> Path:
        """The file that ends the hanging heartbeats of ``deployment`` (``heartbeat-hangs``)."""
        return Path(state_dir) / "simulated" / f"{deployment}.answer"

    @classmethod
    def answer(cls, state_dir: str | Path, *deployments: str) -> None:
        """Let the held and hanging runs of ``deployments`` go on (``hold``, ``heartbeat-hangs``)."""
        for deployment in deployments:
            path = cls.answer_file(state_dir, deployment)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()

    def _answered(self, run: RunInput, start: float) -> bool:
        """Wait for the answer file of the run's deployment: True once it appears, False after HANG_LIMIT."""
        answer = self.answer_file(run.state_dir, run.deployment)
        while not answer.exists():
            if time.perf_counter() - start > self.HANG_LIMIT:
                return False
            time.sleep(0.05)
        return True

    def _hang(self, run: RunInput, start: float) -> RunResult:
        error = "simulated hang: answered too late" if self._answered(run, start) \
            else f"simulated hang: no answer in {self.HANG_LIMIT:g} s"
        return RunResult(run_id=run.run_id, deployment=run.deployment, kind=run.kind, status=RunStatus.FAILED,
                         error=error, seconds=time.perf_counter() - start)

    def _attempt(self, run: RunInput) -> int:
        counter = Path(run.state_dir) / "simulated" / f"{run.deployment}.attempts"
        counter.parent.mkdir(parents=True, exist_ok=True)
        attempts = int(counter.read_text()) + 1 if counter.exists() else 1
        counter.write_text(str(attempts))
        return attempts

    def execute(self, run: RunInput, on_line: OnLine | None = None) -> RunResult:
        start = time.perf_counter()
        if run.deployment in self.held and not self._answered(run, start):
            return RunResult(run_id=run.run_id, deployment=run.deployment, kind=run.kind, status=RunStatus.FAILED,
                             error=f"simulated hold: not released in {self.HANG_LIMIT:g} s",
                             seconds=time.perf_counter() - start)
        if run.deployment in self.revoked:
            raise AccessRevokedError(f"simulated refusal: the customer revoked the access of {run.deployment}")
        if self.locked and self._attempt(run) <= self.locked:
            return RunResult(run_id=run.run_id, deployment=run.deployment, kind=run.kind, status=RunStatus.LOCKED,
                             error="the stack is locked by another update", seconds=time.perf_counter() - start)
        if run.kind is RunKind.HEARTBEAT:
            if run.deployment in self.beat_hanging:
                return self._hang(run, start)
            if run.deployment in self.beat_locked:  # as the real engine says it (the worker makes it LOCKED)
                raise StackLockedError(f"stack {run.context.prefix} of {run.deployment} is locked by another update; "
                                       "retry later (or `pulumi cancel` a stuck update)")
        time.sleep(self.latency)
        failed = run.deployment in self.failing
        if run.kind is RunKind.HEARTBEAT:
            if run.deployment in self.beat_failing:
                return RunResult(run_id=run.run_id, deployment=run.deployment, kind=run.kind,
                                 status=RunStatus.FAILED, error="simulated heartbeat failure",
                                 seconds=time.perf_counter() - start)
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
