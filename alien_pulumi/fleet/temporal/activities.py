"""The activities: every side effect of a Temporal rollout. Each deployment run is one activity that reads
what it needs from the registry, claims the run, executes it through the local executor (its own process,
the scrubbed management environment), heartbeats Temporal while it runs, and records the result.

Runs are idempotent per rollout, deployment and attempt: the registry's attempt number is Temporal's, a run
already final is answered from the registry without running again, and an execution given up on (its worker
stopped heartbeating, a later attempt owns the run) records nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from alien_pulumi.automation.run import RunInput, RunResult, RunStatus
from alien_pulumi.errors import AlienError
from alien_pulumi.fleet import service
from alien_pulumi.fleet.executor import Executor, InProcessExecutor, ProcessExecutor, failed
from alien_pulumi.fleet.gate import absence_problem, health_problem
from alien_pulumi.fleet.registry import FINAL, Registry, RolloutStatus, RunState, RunSupersededError, rollout_run_id
from alien_pulumi.fleet.temporal.types import (
    STACK_LOCKED,
    VERSION,
    VERSION_MISMATCH,
    WRONG_REGISTRY,
    FinishTask,
    HealthOutcome,
    HealthTask,
    RunOutcome,
    RunTask,
)

T = TypeVar("T")
EXECUTORS: dict[str, Callable[[], Executor]] = {"process": ProcessExecutor, "in-process": InProcessExecutor}


def refuse_other_version(version: str) -> None:
    if version != VERSION:
        raise ApplicationError(f"this worker runs alien-pulumi {VERSION}, the workflow was started by alien-pulumi "
                               f"{version}: run workers of the same version as the release service",
                               type=VERSION_MISMATCH, non_retryable=True)


class Activities:
    """The activities of one worker: its registry (the state dir's) and executor."""

    def __init__(self, state: Path, parallel: int, executor: str = "process") -> None:
        # One registry for every activity of this worker: it serialises its threads' writes itself, where
        # connections of their own would contend through SQLite's busy timeout, which sleeps up to 100 ms a try.
        self.registry = Registry(state)
        self.new_executor = EXECUTORS[executor]
        # Runs block a thread each (waiting for their process): one thread per activity slot. Synth gives its
        # thread the event loop Pulumi's mock runtime needs (synth/mocks.py).
        self.threads = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="alien-run")

    def all(self) -> list[Callable[..., object]]:
        return [self.run_deployment, self.check_health, self.finish_rollout, self.list_deployments]

    async def _beating(self, every: float, work: Callable[[], T]) -> T:
        """Run ``work`` on a thread, heartbeating Temporal every ``every`` seconds until it ends. A cancellation
        (the worker shutting down) does not interrupt the run: it ends and is recorded."""
        future = asyncio.get_running_loop().run_in_executor(self.threads, work)
        while True:
            try:
                return await asyncio.wait_for(asyncio.shield(future), timeout=every)
            except asyncio.TimeoutError:
                activity.heartbeat()
            except asyncio.CancelledError:
                return await future

    # Runs --------------------------------------------------------------------------------------------------

    @activity.defn(name="alien-pulumi.run-deployment")
    async def run_deployment(self, task: RunTask) -> RunOutcome:
        refuse_other_version(task.version)
        attempt = activity.info().attempt
        return await self._beating(task.heartbeat_every, lambda: self._run(task, attempt))

    def _run(self, task: RunTask, attempt: int) -> RunOutcome:
        run_id = rollout_run_id(task.rollout_id, task.deployment)
        registry = self.registry
        if registry.find_rollout(task.rollout_id) is None:
            raise ApplicationError(f"the registry of this worker ({registry.where}) has no rollout "
                                   f"{task.rollout_id}: point the worker at the release service's registry "
                                   "(the same --state-dir)", type=WRONG_REGISTRY,
                                   non_retryable=True)
        planned = registry.get_run(run_id)
        if planned.status in FINAL:  # an earlier attempt recorded it: never run twice
            return RunOutcome(task.deployment, planned.status.value, planned.error)
        try:
            checked = (task.checked.fingerprint, task.checked.pending) if task.checked else None
            run, build = service.release_run(registry, task.release_id, task.deployment, registry.state_dir,
                                             allow_frozen_changes=task.allow_frozen_changes, backend=task.backend,
                                             engine=task.engine, checked=checked)
        except service.AwaitingSetupError as exc:  # its record changed, and the release now needs setup
            registry.await_setup(run_id, str(exc))
            return RunOutcome(task.deployment, RunState.AWAITING_SETUP.value, str(exc))
        except AlienError as exc:  # e.g. the deployment was removed, or its preflight now blocks
            registry.start_run(run_id, attempt)
            bad = RunInput.model_construct(run_id=run_id, deployment=task.deployment, kind=planned.kind)
            state = registry.finish_run(run_id, failed(bad, str(exc)), attempt=attempt)
            return RunOutcome(task.deployment, state.value, str(exc))
        registry.start_run(run_id, attempt)
        run = run.model_copy(update={"run_id": run_id})
        result = self._execute(run)
        error = None
        if result.status is RunStatus.LOCKED:
            if attempt < task.attempts:
                registry.retry_run(run_id, result)
                raise ApplicationError(f"{task.deployment}: {result.error}", type=STACK_LOCKED)
            error = f"still locked after {attempt} attempt(s): {result.error}"
        deployed = build(run, result) if result.status is RunStatus.SUCCEEDED else None
        try:
            state = registry.finish_run(run_id, result, error=error, record=deployed, attempt=attempt)
        except RunSupersededError as exc:
            raise ApplicationError(str(exc), non_retryable=True) from None
        return RunOutcome(task.deployment, state.value, error or result.error)

    def _execute(self, run: RunInput) -> RunResult:
        results: list[RunResult] = []
        self.new_executor().run_all([run], 1, lambda result: results.append(result))
        return results[0]

    # Health ------------------------------------------------------------------------------------------------

    @activity.defn(name="alien-pulumi.check-health")
    async def check_health(self, task: HealthTask) -> HealthOutcome:
        refuse_other_version(task.version)
        return await self._beating(task.heartbeat_every, lambda: self._health(task))

    def _health(self, task: HealthTask) -> HealthOutcome:
        """Healthy only on a positive answer (gate.py): a deployment not set up any more or removed, a heartbeat
        that could not run or gave no result, is unhealthy, with the reason."""
        absent = absence_problem(self.registry, task.deployment)
        if absent is not None:
            return HealthOutcome(task.deployment, False, absent)
        try:
            results = service.heartbeat(self.registry, [task.deployment], self.registry.state_dir, parallel=1,
                                        backend=task.backend, engine=task.engine, executor=self.new_executor())
        except AlienError as exc:
            return HealthOutcome(task.deployment, False, f"the heartbeat could not run: {exc}")
        problem = health_problem(results.get(task.deployment))
        return HealthOutcome(task.deployment, problem is None, problem)

    @activity.defn(name="alien-pulumi.list-deployments")
    async def list_deployments(self) -> list[str]:
        return await asyncio.get_running_loop().run_in_executor(self.threads, self._names)

    def _names(self) -> list[str]:
        return [d.name for d in self.registry.list_deployments() if d.record is not None]

    # Bookkeeping -------------------------------------------------------------------------------------------

    @activity.defn(name="alien-pulumi.finish-rollout")
    async def finish_rollout(self, task: FinishTask) -> None:
        await asyncio.get_running_loop().run_in_executor(self.threads, self._finish, task)

    def _finish(self, task: FinishTask) -> None:
        registry = self.registry
        for name, error in task.failed.items():  # runs whose activity gave up (timeouts, dead workers)
            run_id = rollout_run_id(task.rollout_id, name)
            planned = registry.get_run(run_id)
            if planned.status not in FINAL:
                bad = RunInput.model_construct(run_id=run_id, deployment=name, kind=planned.kind)
                registry.finish_run(run_id, failed(bad, error), status=RunState.FAILED)
        if task.status != RolloutStatus.COMPLETED.value:
            registry.skip_unfinished(task.rollout_id, task.reason or f"the rollout was {task.status}")
        registry.finish_rollout(task.rollout_id, RolloutStatus(task.status))
