"""The release service's side of Temporal: connect (refusing an unreachable server before anything is
recorded), start a rollout's workflow, follow it with the same progress events and result as the local
executor (read from the registry the activities write), attach to it again, cancel it, and schedule fleet
heartbeats."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
    WorkflowHandle,
)
from temporalio.service import RPCError

from alien_pulumi.errors import AlienError
from alien_pulumi.fleet.registry import FINAL, Registry, RolloutStatus, RunRecord, RunState
from alien_pulumi.fleet.rollout import (
    DEFAULT_WAVES,
    OnProgress,
    ProgressEvent,
    ProgressKind,
    RolloutResult,
    RolloutSpecError,
    new_rollout_id,
    plan,
    summarize,
)
from alien_pulumi.fleet.service import Prepared
from alien_pulumi.fleet.temporal.types import (
    DEFAULT_NAMESPACE,
    DEFAULT_TASK_QUEUE,
    HEARTBEAT_WORKFLOW,
    ROLLOUT_WORKFLOW,
    VERSION,
    Checked,
    HealthOutcome,
    HeartbeatParams,
    RolloutOutcome,
    RolloutParams,
    Timing,
)

T = TypeVar("T")
ADDRESS_ENV = "ALIEN_PULUMI_TEMPORAL_ADDRESS"
NAMESPACE_ENV = "ALIEN_PULUMI_TEMPORAL_NAMESPACE"
TASK_QUEUE_ENV = "ALIEN_PULUMI_TEMPORAL_TASK_QUEUE"
CONNECT_TIMEOUT = 10.0
OUTAGE = 300.0  # how long a follower waits through a Temporal outage (a server restart) before giving up


class TemporalError(AlienError):
    """Temporal cannot be used as asked (unreachable server, unknown namespace, failed workflow)."""


class TemporalUnavailableError(TemporalError):
    """The Temporal server cannot be reached: nothing was started."""


@dataclass(frozen=True)
class TemporalSettings:
    address: str
    namespace: str = DEFAULT_NAMESPACE
    task_queue: str = DEFAULT_TASK_QUEUE


async def connect(settings: TemporalSettings, timeout: float = CONNECT_TIMEOUT) -> Client:
    """A client, or TemporalUnavailableError naming the server and namespace; the namespace is checked too, so
    a typo fails here and not when the first workflow starts."""
    where = f"the Temporal server at {settings.address} (namespace {settings.namespace})"
    try:
        client = await asyncio.wait_for(Client.connect(settings.address, namespace=settings.namespace), timeout)
    except asyncio.TimeoutError:
        raise TemporalUnavailableError(f"cannot reach {where}: no answer in {timeout:g} s; nothing was started") \
            from None
    except (RuntimeError, OSError, RPCError) as exc:
        raise TemporalUnavailableError(f"cannot reach {where}: {_first_line(exc)}; nothing was started") from None
    try:
        from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest

        await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=settings.namespace),
                                                         timeout=timedelta(seconds=timeout))
    except RPCError as exc:
        raise TemporalUnavailableError(f"{where}: {_first_line(exc)}; nothing was started") from None
    return client


def run_async(work: Awaitable[T]) -> T:
    """Run a coroutine on a loop of its own, leaving the thread's event loop as it was (``asyncio.run`` clears
    it, and synth, which runs Pulumi's mock runtime on the thread's loop, would then find none)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(work)
    finally:
        loop.close()


def check(settings: TemporalSettings) -> None:
    """Fail now (TemporalUnavailableError) if the server or namespace cannot be reached."""
    run_async(connect(settings))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


# Rollouts ------------------------------------------------------------------------------------------------------


def rollout(registry: Registry, release_id: str, prepared: Prepared, settings: TemporalSettings, *,
            waves: str | None = None, parallel: int = 8, halt_after_failures: int | None = None,
            health_gate: bool = False, allow_frozen_changes: bool = False, engine: str = "pulumi",
            backend: str | None = None, on_progress: OnProgress | None = None, rollout_id: str | None = None,
            timing: Timing | None = None, version: str = VERSION) -> RolloutResult:
    """Start a rollout as a workflow and follow it to its end (see ``follow``). ``prepared``: the runs the
    release service prepared (preflight passed); the workers build their own from the registry, which must be
    theirs too, and take the preflight again where a deployment's record changed since. ``version``: the
    package version the workers must run."""
    if parallel < 1:
        raise RolloutSpecError(f"parallel must be at least 1, not {parallel}")
    if halt_after_failures is not None and halt_after_failures < 1:
        raise RolloutSpecError(f"halt after failures must be at least 1 (or none), not {halt_after_failures}")
    return run_async(_rollout(registry, release_id, prepared, settings, waves, parallel, halt_after_failures,
                                health_gate, allow_frozen_changes, engine, backend, on_progress,
                                rollout_id or new_rollout_id(), timing or Timing(), version))


async def _rollout(registry: Registry, release_id: str, prepared: Prepared, settings: TemporalSettings,
                   waves: str | None, parallel: int, halt: int | None, health_gate: bool, allow_frozen: bool,
                   engine: str, backend: str | None, on_progress: OnProgress | None, rollout_id: str,
                   timing: Timing, version: str) -> RolloutResult:
    client = await connect(settings)  # before anything is recorded
    if registry.find_rollout(rollout_id) is not None:
        raise RolloutSpecError(f"rollout {rollout_id} exists already: attach to it with --resume {rollout_id}")
    planned = plan(registry, rollout_id, release_id, prepared.inputs, waves or DEFAULT_WAVES, halt, prepared.awaiting,
                   prepared.not_set_up)
    groups: list[list[str]] = [[] for _ in planned.plan["sizes"]]
    for run in registry.runs(rollout_id=rollout_id):
        if run.status is not RunState.NOT_SET_UP:  # nothing to run or heartbeat: the workflow never sees them
            groups[(run.wave or 1) - 1].append(run.deployment)
    checked = {name: Checked(fp, pending) for name, (fp, pending) in prepared.checked.items()}
    params = RolloutParams(rollout_id, release_id, groups, parallel, halt, health_gate, engine, backend, allow_frozen,
                           version, timing, checked)
    try:
        await client.start_workflow(ROLLOUT_WORKFLOW, params, id=rollout_id, task_queue=settings.task_queue)
    except RPCError as exc:
        reason = f"the Temporal server refused the workflow: {_first_line(exc)}"
        registry.skip_unfinished(rollout_id, reason)
        registry.finish_rollout(rollout_id, RolloutStatus.HALTED)
        raise TemporalError(f"rollout {rollout_id}: {reason}; no run was started") from None
    return await _follow(client, registry, rollout_id, on_progress, resumed=False)


def follow(registry: Registry, rollout_id: str, settings: TemporalSettings,
           on_progress: OnProgress | None = None) -> RolloutResult:
    """Attach to a rollout's workflow (started by this or another process, still running or not) and follow
    it to its end. Killing the follower does not stop the rollout."""
    async def attach() -> RolloutResult:
        client = await connect(settings)
        registry.get_rollout(rollout_id)
        return await _follow(client, registry, rollout_id, on_progress, resumed=True)
    return run_async(attach())


def cancel(rollout_id: str, settings: TemporalSettings) -> None:
    """Ask a rollout's workflow to stop: no new run starts, runs in flight end and are recorded."""
    async def request() -> None:
        client = await connect(settings)
        try:
            await client.get_workflow_handle(rollout_id).cancel()
        except RPCError as exc:
            raise TemporalError(f"cannot cancel rollout {rollout_id}: {_first_line(exc)}") from None
    run_async(request())


async def _patient(call: Callable[[], Awaitable[T]], what: str) -> T:
    """``call`` retried through an outage of the server (a restart) of up to OUTAGE seconds."""
    deadline = time.monotonic() + OUTAGE
    while True:
        try:
            return await call()
        except RPCError as exc:
            if time.monotonic() > deadline:
                raise TemporalError(f"{what}: the Temporal server has not answered for {OUTAGE:g} s: "
                                    f"{_first_line(exc)}") from None
            await asyncio.sleep(1.0)


async def _follow(client: Client, registry: Registry, rollout_id: str, on_progress: OnProgress | None,
                  resumed: bool, poll: float = 0.5) -> RolloutResult:
    start = time.perf_counter()
    handle: WorkflowHandle[object, RolloutOutcome] = client.get_workflow_handle(rollout_id,
                                                                                result_type=RolloutOutcome)
    tracker = _Tracker(registry, rollout_id, on_progress)
    while True:
        described = await _patient(handle.describe, f"rollout {rollout_id}")
        tracker.update()
        if described.status != WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING:
            break
        await asyncio.sleep(poll)
    reason: str | None = None
    if described.status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED:
        outcome = await _patient(lambda: handle.result(), f"rollout {rollout_id}")
        reason = outcome.reason
    elif described.status == WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CANCELED:
        reason = "the rollout was cancelled"
    else:
        try:
            await handle.result()
        except Exception as exc:  # WorkflowFailureError: its cause says why (a refused worker version...)
            cause = getattr(exc, "cause", None) or exc
            raise TemporalError(f"rollout {rollout_id} failed: {_first_line(cause)}") from None
        raise TemporalError(f"rollout {rollout_id} ended as {described.status}")  # terminated, timed out
    tracker.update()
    if registry.get_rollout(rollout_id).status is RolloutStatus.RUNNING:  # the workers record elsewhere
        raise TemporalError(f"rollout {rollout_id} ended, but not in this registry ({registry.where}): "
                            f"{reason or 'its workers record their runs in another one'}")
    if reason is not None and registry.get_rollout(rollout_id).status is not RolloutStatus.COMPLETED:
        tracker.emit(ProgressKind.HALTED, max(tracker.started, default=1), 0, error=reason)
    return summarize(registry, rollout_id, time.perf_counter() - start, tracker.executed, resumed)


class _Tracker:
    """Progress events from the registry: what the local runner emits as it goes, derived here from the
    changes between two reads of the rollout's runs (runs final before the first read are not this call's)."""

    def __init__(self, registry: Registry, rollout_id: str, on_progress: OnProgress | None) -> None:
        self.registry = registry
        self.rollout = registry.get_rollout(rollout_id)
        self.sizes: list[int] = self.rollout.plan["sizes"]
        self.on_progress = on_progress
        self.seen: dict[str, RunRecord] | None = None
        self.started: set[int] = set()
        self.finished: set[int] = set()
        self.executed = 0

    def emit(self, kind: ProgressKind, wave: int, done: int, **fields: object) -> None:
        if self.on_progress is not None:
            self.on_progress(ProgressEvent(kind, self.rollout.id, wave, len(self.sizes), self.sizes[wave - 1], done,
                                           **fields))  # type: ignore[arg-type]

    def update(self) -> None:
        runs = self.registry.runs(rollout_id=self.rollout.id)
        seen = self.seen if self.seen is not None else {r.id: r for r in runs if r.status in FINAL}
        for wave in range(1, len(self.sizes) + 1):
            members = [r for r in runs if (r.wave or 1) == wave]
            done = sum(1 for r in members if r.id in seen and seen[r.id].status in FINAL)
            if wave not in self.started:
                if wave > 1 and not any(r.status in ACTIVE for r in members):
                    continue
                self.started.add(wave)
                self.emit(ProgressKind.WAVE_STARTED, wave, done,
                          awaiting_setup=sum(r.status is RunState.AWAITING_SETUP for r in members),
                          not_set_up=sum(r.status is RunState.NOT_SET_UP for r in members))
            for run in members:
                before = seen.get(run.id)
                if before is not None and before.status in FINAL:
                    continue
                if run.status is RunState.RUNNING and (before is None or before.status is not RunState.RUNNING):
                    self.emit(ProgressKind.RUN_STARTED, wave, done, deployment=run.deployment, attempt=run.attempt)
                elif run.status is RunState.RUNNING and before is not None and run.attempt > before.attempt:
                    self.emit(ProgressKind.RUN_RETRYING, wave, done, deployment=run.deployment, attempt=run.attempt,
                              error=run.error)
                elif run.status in FINAL:
                    done += 1
                    if run.status is RunState.SKIPPED:  # the local runner reports skips in its result only
                        continue
                    self.executed += 1
                    self.emit(ProgressKind.RUN_FINISHED, wave, done, deployment=run.deployment, status=run.status,
                              error=run.error)
            if wave not in self.finished and done == len(members):
                self.finished.add(wave)
                self.emit(ProgressKind.WAVE_FINISHED, wave, done)
        self.seen = {r.id: r for r in runs}


ACTIVE = frozenset({RunState.RUNNING, RunState.SUCCEEDED, RunState.FAILED, RunState.REVOKED})


# Heartbeats ------------------------------------------------------------------------------------------------


def heartbeat(names: list[str] | None, settings: TemporalSettings, *, parallel: int = 8, engine: str = "pulumi",
              backend: str | None = None, timing: Timing | None = None) -> list[HealthOutcome]:
    """Heartbeats of ``names`` (None: every deployment) through the workers, now; each is recorded."""
    async def go() -> list[HealthOutcome]:
        client = await connect(settings)
        params = HeartbeatParams(names, parallel, engine, backend, VERSION, timing or Timing())
        return await client.execute_workflow(HEARTBEAT_WORKFLOW, params, id=f"heartbeat-{new_rollout_id()[3:]}",
                                             task_queue=settings.task_queue, result_type=list[HealthOutcome])
    return run_async(go())


def schedule_heartbeats(every: timedelta, settings: TemporalSettings, *, parallel: int = 8, engine: str = "pulumi",
                        backend: str | None = None, schedule_id: str = "alien-pulumi-heartbeats",
                        timing: Timing | None = None) -> str:
    """A Temporal schedule that heartbeats the whole fleet every ``every`` (created, or updated if it exists);
    returns its id."""
    async def go() -> str:
        client = await connect(settings)
        params = HeartbeatParams(None, parallel, engine, backend, VERSION, timing or Timing())
        action = ScheduleActionStartWorkflow(HEARTBEAT_WORKFLOW, params, id=f"{schedule_id}-run",
                                             task_queue=settings.task_queue)
        schedule = Schedule(action=action, spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]))
        try:
            await client.create_schedule(schedule_id, schedule)
        except ScheduleAlreadyRunningError:
            def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=schedule)
            await client.get_schedule_handle(schedule_id).update(replace)
        except RPCError as exc:
            raise TemporalError(f"cannot create the heartbeat schedule {schedule_id}: {_first_line(exc)}") from None
        return schedule_id
    return run_async(go())


__all__ = ["TemporalError", "TemporalSettings", "TemporalUnavailableError", "cancel", "check", "connect", "follow",
           "heartbeat", "rollout", "schedule_heartbeats"]

