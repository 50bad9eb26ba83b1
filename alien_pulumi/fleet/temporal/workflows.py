"""The workflows: deterministic and small, as Temporal requires. They only decide what runs next; every
side effect (a Pulumi run, a registry write) is an activity.

A rollout: wave after wave, at most ``parallel`` runs at once; once K runs failed no new run starts; after a
wave, the health gate heartbeats its deployments and halts on any unhealthy one. Cancelling the workflow stops
new runs; runs in flight are not interrupted (a Pulumi update killed halfway leaves a locked stack) and are
recorded when they end.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.exceptions import TimeoutError as ActivityTimeout

with workflow.unsafe.imports_passed_through():
    from alien_pulumi.fleet.gate import gate_reason
    from alien_pulumi.fleet.temporal.types import (
        HEARTBEAT_WORKFLOW,
        ROLLOUT_WORKFLOW,
        VERSION,
        VERSION_MISMATCH,
        WRONG_REGISTRY,
        FinishTask,
        HealthOutcome,
        HealthTask,
        HeartbeatParams,
        RolloutOutcome,
        RolloutParams,
        RunOutcome,
        RunTask,
        Timing,
    )

FAILED, SUCCEEDED = "failed", "succeeded"
COMPLETED, HALTED, CANCELLED = "completed", "halted", "cancelled"
BOOKKEEPING = timedelta(minutes=2)  # registry writes: short, retried until the registry answers


def _check_version(version: str) -> None:
    if version != VERSION:
        raise ApplicationError(f"this worker runs alien-pulumi {VERSION}, the workflow was started by alien-pulumi "
                               f"{version}: run workers of the same version as the release service",
                               type=VERSION_MISMATCH, non_retryable=True)


def _run_options(timing: Timing) -> dict[str, Any]:
    return {
        "start_to_close_timeout": timedelta(seconds=timing.run_timeout),
        "heartbeat_timeout": timedelta(seconds=timing.heartbeat_timeout),
        "retry_policy": RetryPolicy(initial_interval=timedelta(seconds=timing.first_wait), backoff_coefficient=2.0,
                                    maximum_interval=timedelta(seconds=timing.longest_wait),
                                    maximum_attempts=timing.attempts,
                                    non_retryable_error_types=[VERSION_MISMATCH, WRONG_REGISTRY]),
    }


def _refusal(exc: BaseException) -> str | None:
    """The message of a refusal that must stop the whole rollout (a worker of another version, a worker on
    another registry), else None."""
    cause = exc.cause if isinstance(exc, ActivityError) else None
    if isinstance(cause, ApplicationError) and cause.type in (VERSION_MISMATCH, WRONG_REGISTRY):
        return cause.message
    return None


@workflow.defn(name=ROLLOUT_WORKFLOW)
class RolloutWorkflow:
    def __init__(self) -> None:
        self.failures = 0
        self.reason: str | None = None
        self.gave_up: dict[str, str] = {}
        self.inflight: dict[asyncio.Future[Any], str] = {}

    def stopping(self, params: RolloutParams) -> bool:
        k = params.halt_after_failures
        return self.reason is not None or (k is not None and self.failures >= k)

    @workflow.run
    async def run(self, params: RolloutParams) -> RolloutOutcome:
        _check_version(params.version)
        status = COMPLETED
        try:
            for wave, names in enumerate(params.waves, start=1):
                await self._wave(params, names)
                if self.stopping(params):
                    break
                if params.health_gate:
                    await self._gate(params, wave, names)
                    if self.reason is not None:
                        break
            if self.stopping(params):
                status = HALTED
                self.reason = self.reason or f"halted after {self.failures} failure(s)"
        except asyncio.CancelledError:
            # Only this task is cancelled, not the activities it started: runs in flight finish and are recorded.
            status, self.reason = CANCELLED, "the rollout was cancelled"
            await asyncio.shield(asyncio.ensure_future(self._drain(params)))
        await asyncio.shield(asyncio.ensure_future(self._finish(params, status)))
        if status == CANCELLED:
            raise asyncio.CancelledError(self.reason)
        return RolloutOutcome(status, self.reason, self.failures)

    async def _wave(self, params: RolloutParams, names: list[str]) -> None:
        pending = list(names)
        while pending or self.inflight:
            while pending and len(self.inflight) < params.parallel and not self.stopping(params):
                name = pending.pop(0)
                task = RunTask(params.rollout_id, params.release_id, name, params.engine, params.backend,
                               params.allow_frozen_changes, params.version, params.timing.attempts,
                               params.timing.heartbeat_every, params.checked.get(name))
                handle = workflow.start_activity("alien-pulumi.run-deployment", task, result_type=RunOutcome,
                                                 **_run_options(params.timing))
                self.inflight[handle] = name
            if not self.inflight:
                return
            await self._collect()

    async def _collect(self) -> None:
        done, _ = await workflow.wait(list(self.inflight), return_when=asyncio.FIRST_COMPLETED)
        for future in done:
            name = self.inflight.pop(future)
            try:
                outcome: RunOutcome = future.result()
            except ActivityError as exc:
                refusal = _refusal(exc)
                if refusal is not None:
                    self.reason = self.reason or refusal
                    continue
                self.gave_up[name] = str(exc.cause or exc)
                self.failures += 1
                continue
            if outcome.status == FAILED:
                self.failures += 1

    async def _drain(self, params: RolloutParams) -> None:
        while self.inflight:
            await self._collect()

    async def _gate(self, params: RolloutParams, wave: int, names: list[str]) -> None:
        tasks = [HealthTask(name, params.engine, params.backend, params.version, params.timing.heartbeat_every)
                 for name in names]
        outcomes = await _bounded(tasks, params.parallel, params.timing)
        # Fail closed: only an outcome healthy and without a problem lets a deployment through.
        self.reason = gate_reason(wave, [(o.deployment, o.problem or "unhealthy") for o in outcomes
                                         if not o.healthy or o.problem])

    async def _finish(self, params: RolloutParams, status: str) -> None:
        await workflow.execute_activity("alien-pulumi.finish-rollout",
                                        FinishTask(params.rollout_id, status, self.reason, self.gave_up),
                                        start_to_close_timeout=BOOKKEEPING)


async def _bounded(tasks: list[HealthTask], parallel: int, timing: Timing) -> list[HealthOutcome]:
    """Heartbeat activities, at most ``parallel`` at once, outcomes in task order. A heartbeat whose activity
    gave up counts as unhealthy, with the reason."""
    outcomes: dict[str, HealthOutcome] = {}
    pending = list(tasks)
    inflight: dict[asyncio.Future[Any], str] = {}
    options = _run_options(timing)
    options["retry_policy"] = RetryPolicy(maximum_attempts=3, non_retryable_error_types=[VERSION_MISMATCH,
                                                                                          WRONG_REGISTRY])
    while pending or inflight:
        while pending and len(inflight) < parallel:
            task = pending.pop(0)
            inflight[workflow.start_activity("alien-pulumi.check-health", task, result_type=HealthOutcome,
                                             **options)] = task.deployment
        done, _ = await workflow.wait(list(inflight), return_when=asyncio.FIRST_COMPLETED)
        for future in done:
            name = inflight.pop(future)
            try:
                outcomes[name] = future.result()
            except ActivityError as exc:
                outcomes[name] = HealthOutcome(name, False, _refusal(exc) or _gave_up(exc))
    return [outcomes[t.deployment] for t in tasks]


def _gave_up(exc: ActivityError) -> str:
    """Why a heartbeat's activity gave up, its outcome first: ``timed out`` (its worker never answered in time),
    else ``failed``."""
    cause = exc.cause
    if isinstance(cause, ActivityTimeout):
        kind = cause.type.name.lower().replace("_", "-") if cause.type is not None else "activity"
        return f"timed out: no answer from the workers within the heartbeat's {kind} timeout"
    return f"failed: {cause or exc}"


@workflow.defn(name=HEARTBEAT_WORKFLOW)
class HeartbeatWorkflow:
    """Heartbeats of many deployments (the whole fleet when none are named); each is recorded by its activity.
    Started by a Temporal schedule for ``heartbeat --all --every``."""

    @workflow.run
    async def run(self, params: HeartbeatParams) -> list[HealthOutcome]:
        _check_version(params.version)
        names = params.deployments
        if names is None:
            names = await workflow.execute_activity("alien-pulumi.list-deployments", start_to_close_timeout=BOOKKEEPING,
                                                    result_type=list[str])
        tasks = [HealthTask(n, params.engine, params.backend, params.version, params.timing.heartbeat_every)
                 for n in names]
        return await _bounded(tasks, params.parallel, params.timing)
