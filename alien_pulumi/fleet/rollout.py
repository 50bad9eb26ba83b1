"""Rollouts: one release to many deployments, in waves, N at once, halting after K failures, resumable.

Every decision is recorded in the registry as it is taken (a run is claimed when it starts, its result is
committed when it ends), so a rollout whose process died is resumed by calling ``rollout`` again with its
id: succeeded runs are not repeated, runs that were in flight are run again (a Pulumi update is idempotent),
pending runs start as planned.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import secrets
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from enum import Enum
from pathlib import Path
from typing import Any

import tenacity

from alien_pulumi.automation.run import RunInput, RunKind, RunResult, RunStatus
from alien_pulumi.errors import AlienError
from alien_pulumi.fleet.executor import Executor, ProcessExecutor
from alien_pulumi.fleet.gate import absence_problem, gate_failure, gate_reason
from alien_pulumi.fleet.registry import (
    FINAL,
    Registry,
    Rollout,
    RolloutStatus,
    RunRecord,
    RunState,
)
from alien_pulumi.model.record import ReleaseRecord

DEFAULT_WAVES = "100%"


class RolloutError(AlienError):
    """A rollout cannot start or go on (bad plan, inputs that do not match it, another process on it)."""


class RolloutSpecError(RolloutError):
    """The waves, parallelism, halt threshold or inputs of a rollout are invalid."""


class RolloutBusyError(RolloutError):
    """Another process is running this rollout right now."""


# Waves ----------------------------------------------------------------------------------------------------


def parse_waves(spec: str, count: int) -> list[int]:
    """Sizes of the waves of ``spec`` over ``count`` deployments.

    The spec lists cumulative sizes, each a count (``10``) or a percentage of the deployments (``10%``):
    wave k releases the deployments up to its cumulative size. ``1,10,100%`` over 25 deployments gives
    waves of 1, 9 and 15. A percentage rounds up (a wave of 10% of 5 deployments releases one), counts
    beyond the deployment list are cut to it, and waves left with nobody to release are dropped.
    """
    if count < 1:
        raise RolloutSpecError("a rollout needs at least one deployment")
    tokens = [token.strip() for token in spec.split(",")]
    if not spec.strip() or not all(tokens):
        raise RolloutSpecError(f"waves {spec!r}: a wave is empty; write cumulative sizes such as 1,10,100%")
    cumulative: list[int] = []
    for index, token in enumerate(tokens, start=1):
        size = _wave_size(token, index, count)
        if cumulative and size < cumulative[-1]:
            raise RolloutSpecError(
                f"waves {spec!r}: wave {index} ({token}) reaches {size} deployments, fewer than wave {index - 1} "
                f"({cumulative[-1]}); sizes are cumulative, so each wave must reach at least as far as the one "
                "before")
        cumulative.append(size)
    if cumulative[-1] < count:
        raise RolloutSpecError(f"waves {spec!r} reach {cumulative[-1]} of the {count} deployments; end them with "
                               "100% so that every deployment is released")
    edges = [0, *cumulative]
    return [b - a for a, b in itertools.pairwise(edges) if b > a]


def _wave_size(token: str, index: int, count: int) -> int:
    if token.endswith("%"):
        try:
            percent = Decimal(token[:-1].strip())  # exact: 10% of 30 is 3, not 3.0000000000000004 rounded up
        except InvalidOperation:
            percent = Decimal("NaN")
        if not percent.is_finite() or not 0 < percent <= 100:
            raise RolloutSpecError(f"wave {index}: {token!r} is not a percentage above 0% and at most 100%")
        return max(1, math.ceil(percent * count / 100))
    try:
        value = int(token)
    except ValueError:
        raise RolloutSpecError(f"wave {index}: {token!r} is neither a count (10) nor a percentage (10%)") from None
    if value < 1:
        raise RolloutSpecError(f"wave {index}: {token!r} must release at least one deployment")
    return min(value, count)


# Retries --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """When a run that found its stack LOCKED (another update holds it) is tried again, in tenacity's terms:
    ``stop`` decides when to give up, ``wait`` how long to back off before the next attempt.

    The executor keeps the run's slot during the backoff, so the other runs are not held up. Attempts are
    counted per process: a resumed rollout gives a locked stack the whole policy again.
    """

    stop: Callable[[tenacity.RetryCallState], bool] = field(
        default_factory=lambda: tenacity.stop_after_attempt(8))
    wait: Callable[[tenacity.RetryCallState], float] = field(
        default_factory=lambda: tenacity.wait_exponential(multiplier=2, max=120) + tenacity.wait_random(0, 1))

    @classmethod
    def exponential(cls, attempts: int = 8, first: float = 2.0, longest: float = 120.0,
                    jitter: float = 1.0) -> RetryPolicy:
        """``attempts`` in all, waiting first, 2*first, 4*first... seconds (at most ``longest``), plus up to
        ``jitter`` seconds at random so that runs locked together do not retry together."""
        if attempts < 1:
            raise RolloutSpecError(f"retry attempts must be at least 1, not {attempts}")
        wait: Any = tenacity.wait_exponential(multiplier=first, max=longest)
        if jitter > 0:
            wait = wait + tenacity.wait_random(0, jitter)
        return cls(stop=tenacity.stop_after_attempt(attempts), wait=wait)

    def begin(self) -> tenacity.RetryCallState:
        """The retry state of one run, as tenacity's own retry loop would keep it."""
        return tenacity.RetryCallState(tenacity.Retrying(stop=self.stop, wait=self.wait), None, (), {})

    def next_delay(self, state: tenacity.RetryCallState, result: RunResult) -> float | None:
        """Seconds to wait before the next attempt, or None to give up. The rollout is event driven (no
        thread sleeps through a backoff), so it steps tenacity's strategies itself instead of wrapping a call."""
        state.set_result(result)
        if self.stop(state):
            return None
        delay = float(self.wait(state))
        state.idle_for += delay
        state.prepare_for_next_attempt()
        return delay


# Progress and results ---------------------------------------------------------------------------------------


class ProgressKind(str, Enum):
    WAVE_STARTED = "wave-started"
    RUN_STARTED = "run-started"
    RUN_RETRYING = "run-retrying"
    RUN_FINISHED = "run-finished"
    WAVE_FINISHED = "wave-finished"
    HALTED = "halted"


@dataclass(frozen=True)
class ProgressEvent:
    kind: ProgressKind
    rollout_id: str
    wave: int  # 1-based
    waves: int
    wave_size: int
    done: int  # runs of this wave with a final state (those of an earlier, interrupted session included)
    deployment: str | None = None
    status: RunState | None = None  # RUN_FINISHED: the run's final state
    attempt: int = 0
    delay: float | None = None  # RUN_RETRYING: seconds until the next attempt
    error: str | None = None
    awaiting_setup: int = 0  # WAVE_STARTED: runs of this wave awaiting their admin's setup (never run)
    not_set_up: int = 0  # WAVE_STARTED: runs of this wave whose deployment has no setup record yet (never run)


OnProgress = Callable[[ProgressEvent], None]
# The health gate: (wave, its deployments) -> the reason to halt, or None to go on.
HealthGate = Callable[[int, list[str]], "str | None"]
RecordBuilder = Callable[[RunInput, RunResult], "ReleaseRecord | None"]


@dataclass(frozen=True)
class DeploymentOutcome:
    deployment: str
    wave: int
    status: RunState
    attempts: int
    seconds: float | None  # the last attempt's duration, as the worker measured it
    error: str | None


@dataclass(frozen=True)
class WaveSummary:
    wave: int
    size: int
    counts: dict[str, int]
    started_at: str | None
    finished_at: str | None
    seconds: float | None  # first start to last finish, over every session of the rollout


@dataclass(frozen=True)
class RolloutResult:
    rollout_id: str
    release_id: str
    status: RolloutStatus
    deployments: dict[str, DeploymentOutcome]  # in plan order
    waves: list[WaveSummary]
    counts: dict[str, int]  # run state -> deployments
    seconds: float  # wall time of this call
    executed: int  # runs finished by this call (a resume executes only what was left)
    resumed: bool

    @property
    def ok(self) -> bool:
        return self.status is RolloutStatus.COMPLETED and self.counts.get(RunState.FAILED.value, 0) == 0

    @property
    def outcome(self) -> str:
        """What the rollout came to, in one word: its status, but ``failed`` for one that ran every run and some
        failed (a one-deployment release whose run failed did not complete anything)."""
        if self.status is RolloutStatus.COMPLETED and not self.ok:
            return "failed"
        return self.status.value


# The rollout --------------------------------------------------------------------------------------------------


def new_rollout_id() -> str:
    return f"ro-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def rollout(registry: Registry, release_id: str, inputs_by_deployment: Mapping[str, RunInput],
            waves: str | None = None, parallel: int = 8, halt_after_failures: int | None = None,
            executor: Executor | None = None, *, retry: RetryPolicy | None = None,
            on_progress: OnProgress | None = None, rollout_id: str | None = None,
            record: RecordBuilder | None = None, gate: HealthGate | None = None,
            awaiting: Mapping[str, str] | None = None, not_set_up: Mapping[str, str] | None = None
            ) -> RolloutResult:
    """Release ``release_id`` to the deployments of ``inputs_by_deployment`` (in its order: the waves take
    them from the front) and return what happened to each.

    - ``waves``: cumulative sizes, e.g. ``1,10,100%`` (default 100%: one wave); wave k+1 starts only after
      every run of wave k is final.
    - ``parallel``: runs at once within a wave.
    - ``halt_after_failures``: once K runs failed, no new run starts; runs in flight finish, the others are
      skipped, the rollout is halted (None: never halt).
    - ``retry``: how a LOCKED stack is retried (default: exponential backoff, 8 attempts).
    - ``rollout_id``: an existing, unfinished rollout is resumed (its stored plan applies; waves and halt
      given here must match it, None means "as planned"); a new id names the new rollout.
    - ``record``: builds the new release record of a deployment from its succeeded run; it is stored with
      the run's result in one transaction.
    - ``gate``: after each wave, called with its deployments; a reason returned halts the rollout, and so does a
      gate that raises, or a deployment of the wave not set up any more or removed (the gate fails closed).
    - ``awaiting``: deployments whose release waits for their admin's setup (the reason each): a new rollout
      plans them awaiting setup (final, never run, not failures).
    - ``not_set_up``: deployments without a setup record yet, which have no run input (the reason each): a new
      rollout plans them after the others, not set up (final, never run, not failures).

    The RunInputs' ``run_id`` is replaced by the registry's run id.
    """
    if parallel < 1:
        raise RolloutSpecError(f"parallel must be at least 1, not {parallel}")
    if halt_after_failures is not None and halt_after_failures < 1:
        raise RolloutSpecError(f"halt after failures must be at least 1 (or none), not {halt_after_failures}")
    rollout_id = rollout_id or new_rollout_id()
    with _exclusive(registry.state_dir, rollout_id):
        existing = registry.find_rollout(rollout_id)
        if existing is None:
            planned = plan(registry, rollout_id, release_id, inputs_by_deployment, waves or DEFAULT_WAVES,
                           halt_after_failures, awaiting, not_set_up)
        else:
            planned = _check_resume(existing, release_id, waves, halt_after_failures)
        runner = _Runner(registry, planned, inputs_by_deployment, parallel, executor or ProcessExecutor(),
                         retry or RetryPolicy(), on_progress, record, resumed=existing is not None, gate=gate)
        return runner.run()


def resume(registry: Registry, rollout_id: str, inputs_by_deployment: Mapping[str, RunInput], parallel: int = 8,
           executor: Executor | None = None, *, retry: RetryPolicy | None = None,
           on_progress: OnProgress | None = None, record: RecordBuilder | None = None) -> RolloutResult:
    """Resume a rollout by id with its stored plan (``rollout`` with that id and no waves/halt given)."""
    existing = registry.get_rollout(rollout_id)
    return rollout(registry, existing.release_id, inputs_by_deployment, None, parallel, None, executor,
                   retry=retry, on_progress=on_progress, rollout_id=rollout_id, record=record)


def plan(registry: Registry, rollout_id: str, release_id: str, inputs: Mapping[str, RunInput], waves: str,
         halt: int | None, awaiting: Mapping[str, str] | None = None,
         not_set_up: Mapping[str, str] | None = None) -> Rollout:
    """Record a new rollout and its pending runs (those of ``awaiting`` deployments awaiting setup; those of
    ``not_set_up`` deployments, which have no input, not set up and planned last), after checking the inputs
    against the release."""
    absent = {name: why for name, why in (not_set_up or {}).items() if name not in inputs}
    runnable = list(inputs)
    names = [*runnable, *absent]
    sizes = parse_waves(waves, len(names))
    _check_inputs(release_id, inputs, runnable)
    kinds = {run.kind for run in inputs.values()}
    if len(kinds) > 1:
        raise RolloutSpecError(f"the runs of one rollout must be of one kind, not {sorted(k.value for k in kinds)}")
    known = registry.has_release(release_id)
    first = inputs[runnable[0]] if runnable else None
    kind = first.kind if first is not None else RunKind.RELEASE
    if known:
        digest = registry.get_release(release_id).digest
    elif first is not None:
        digest = first.spec.digest()
    else:
        raise RolloutSpecError(f"release {release_id} is not recorded and no deployment has a run input to record "
                               "it from: record the release first")
    seen: set[int] = set()
    for name in runnable:
        spec = inputs[name].spec
        if id(spec) not in seen:  # one spec object is usually shared by every input: hash it once
            seen.add(id(spec))
            if spec.digest() != digest:
                raise RolloutSpecError(f"the input of {name} deploys another stack than release {release_id} "
                                       f"(digest {spec.digest()[:12]}, release {digest[:12]})")
    if not known and first is not None:
        registry.record_release(release_id, first.spec)
    plan = {"waves": waves, "sizes": sizes, "halt_after_failures": halt, "kind": kind.value,
            "deployments": len(names)}
    groups, start = [], 0
    for size in sizes:
        groups.append(names[start:start + size])
        start += size
    return registry.create_rollout(rollout_id, release_id, plan, groups, kind, awaiting, absent)


def _check_inputs(release_id: str, inputs: Mapping[str, RunInput], names: Sequence[str]) -> None:
    missing = [name for name in names if name not in inputs]
    if missing:
        shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        raise RolloutSpecError(f"no run input for {len(missing)} planned deployment(s): {shown}")
    for name in names:
        run = inputs[name]
        if run.deployment != name:
            raise RolloutSpecError(f"the input listed as {name!r} is for deployment {run.deployment!r}")
        if run.release != release_id:
            raise RolloutSpecError(f"the input of {name} is for release {run.release!r}, not {release_id!r}")


def _check_resume(existing: Rollout, release_id: str, waves: str | None, halt: int | None) -> Rollout:
    plan = existing.plan
    if existing.release_id != release_id:
        raise RolloutSpecError(f"rollout {existing.id} releases {existing.release_id!r}, not {release_id!r}")
    if waves is not None and waves != plan["waves"]:
        raise RolloutSpecError(f"rollout {existing.id} was planned with waves {plan['waves']!r}, not {waves!r}; "
                               "resume it as planned or start a new rollout")
    if halt is not None and halt != plan["halt_after_failures"]:
        raise RolloutSpecError(f"rollout {existing.id} was planned to halt after {plan['halt_after_failures']} "
                               f"failure(s), not {halt}; resume it as planned or start a new rollout")
    return existing


class _Runner:
    """One session of a rollout: runs what is left, wave after wave, recording every step."""

    def __init__(self, registry: Registry, planned: Rollout, inputs: Mapping[str, RunInput], parallel: int,
                 executor: Executor, retry: RetryPolicy, on_progress: OnProgress | None,
                 record: RecordBuilder | None, resumed: bool, gate: HealthGate | None = None) -> None:
        self.registry = registry
        self.rollout = planned
        self.inputs = inputs
        self.parallel = parallel
        self.executor = executor
        self.retry = retry
        self.on_progress = on_progress
        self.record = record
        self.resumed = resumed
        self.gate = gate
        self.reason: str | None = None  # why the rollout halts, once it must
        self.halt: int | None = planned.plan["halt_after_failures"]
        self.sizes: list[int] = planned.plan["sizes"]
        self.failures = 0
        self.executed = 0
        self.retry_states: dict[str, tenacity.RetryCallState] = {}
        self.inflight: dict[str, RunInput] = {}
        self.wave = 0
        self.done = 0

    def should_stop(self) -> bool:
        return self.reason is not None or (self.halt is not None and self.failures >= self.halt)

    def emit(self, kind: ProgressKind, **fields: Any) -> None:
        if self.on_progress is not None:
            size = self.sizes[self.wave - 1] if self.wave else 0
            self.on_progress(ProgressEvent(kind, self.rollout.id, self.wave, len(self.sizes), size, self.done,
                                           **fields))

    def run(self) -> RolloutResult:
        start = time.perf_counter()
        runs = self.registry.runs(rollout_id=self.rollout.id)
        if self.rollout.status is RolloutStatus.RUNNING:
            todo = [r.deployment for r in runs if r.status not in FINAL]
            _check_inputs(self.rollout.release_id, self.inputs, todo)
            self.failures = sum(r.status is RunState.FAILED for r in runs)
            for wave in range(1, len(self.sizes) + 1):
                if self.should_stop():
                    break
                members = [r for r in runs if r.wave == wave]
                self._wave(wave, members)
                if self.gate is not None and not self.should_stop():
                    self.reason = self._gate(self.gate, wave, members)
            if self.should_stop():
                reason = self.reason or f"halted after {self.failures} failure(s)"
                # Nothing is in flight any more: runs still 'running' were interrupted in an earlier session.
                self.registry.skip_unfinished(self.rollout.id, reason)
                self.registry.finish_rollout(self.rollout.id, RolloutStatus.HALTED)
                self.emit(ProgressKind.HALTED, error=reason)
            else:
                self.registry.finish_rollout(self.rollout.id, RolloutStatus.COMPLETED)
        return self._result(time.perf_counter() - start)

    def _gate(self, gate: HealthGate, wave: int, members: list[RunRecord]) -> str | None:
        """The health gate after ``wave``: None to go on, else why the rollout halts. It fails closed (gate.py): a
        deployment not set up any more or removed since it was planned halts it (the others are not heartbeaten:
        the rollout halts anyway), and so does a gate that could not run, with its error as the reason."""
        # Planned not set up: never run, so nothing to heartbeat; they are counted apart and never halt a rollout.
        checked = [r.deployment for r in members if r.status is not RunState.NOT_SET_UP]
        if not checked:
            return None
        absent = [(name, problem) for name in checked if (problem := absence_problem(self.registry, name))]
        if absent:
            return gate_reason(wave, absent)
        try:
            return gate(wave, checked)
        except Exception as exc:  # a heartbeat that could not run is no positive answer: halt, with the error
            return gate_failure(wave, checked, exc)

    def _wave(self, wave: int, runs: list[RunRecord]) -> None:
        self.wave = wave
        todo = [r for r in runs if r.status not in FINAL]
        self.done = len(runs) - len(todo)
        self.emit(ProgressKind.WAVE_STARTED,
                  awaiting_setup=sum(r.status is RunState.AWAITING_SETUP for r in runs),
                  not_set_up=sum(r.status is RunState.NOT_SET_UP for r in runs))
        if todo:
            self.executor.run_all(self._claim(todo), self.parallel, self._finished, self.should_stop)
        self.emit(ProgressKind.WAVE_FINISHED)

    def _claim(self, todo: list[RunRecord]) -> Iterator[RunInput]:
        """Runs are claimed one by one as the executor takes them, so 'running' in the registry means
        started, and a halt leaves the unclaimed ones pending (then skipped)."""
        for planned in todo:
            if self.should_stop():
                return
            attempt = self.registry.start_run(planned.id)
            run = self.inputs[planned.deployment].model_copy(update={"run_id": planned.id})
            self.inflight[planned.id] = run
            self.retry_states[planned.id] = self.retry.begin()
            self.emit(ProgressKind.RUN_STARTED, deployment=planned.deployment, attempt=attempt)
            yield run

    def _finished(self, result: RunResult) -> float | None:
        run = self.inflight[result.run_id]
        status: RunState | None = None
        error: str | None = None
        if result.status is RunStatus.LOCKED:
            if self.should_stop():
                status, error = RunState.SKIPPED, f"{result.error} (not retried: the rollout halted)"
            else:
                delay = self.retry.next_delay(self.retry_states[result.run_id], result)
                if delay is not None:
                    attempt = self.registry.retry_run(result.run_id, result)
                    self.emit(ProgressKind.RUN_RETRYING, deployment=run.deployment, attempt=attempt, delay=delay,
                              error=result.error)
                    return delay
                tries = self.retry_states[result.run_id].attempt_number
                error = f"still locked after {tries} attempt(s): {result.error}"
        deployed = None
        if result.status is RunStatus.SUCCEEDED and self.record is not None:
            deployed = self.record(run, result)
        state = self.registry.finish_run(result.run_id, result, status=status, error=error, record=deployed)
        del self.inflight[result.run_id]
        self.retry_states.pop(result.run_id, None)
        self.executed += 1
        self.done += 1
        if state is RunState.FAILED:
            self.failures += 1
        self.emit(ProgressKind.RUN_FINISHED, deployment=run.deployment, status=state,
                  error=error or result.error)
        return None

    def _result(self, seconds: float) -> RolloutResult:
        return summarize(self.registry, self.rollout.id, seconds, self.executed, self.resumed)


def summarize(registry: Registry, rollout_id: str, seconds: float, executed: int, resumed: bool) -> RolloutResult:
    """A rollout's result as the registry records it, whichever executor ran it."""
    current = registry.get_rollout(rollout_id)
    runs = registry.runs(rollout_id=rollout_id)
    outcomes = {r.deployment: DeploymentOutcome(r.deployment, r.wave or 0, r.status, r.attempt,
                                                r.result.seconds if r.result else None, r.error) for r in runs}
    counts = {state.value: 0 for state in RunState}
    counts.update(Counter(r.status.value for r in runs))
    summaries = []
    for wave, size in enumerate(current.plan["sizes"], start=1):
        members = [r for r in runs if r.wave == wave]
        started = min((r.started_at for r in members if r.started_at), default=None)
        finished = max((r.finished_at for r in members if r.finished_at), default=None)
        span = (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds() \
            if started and finished else None
        summaries.append(WaveSummary(wave, size, dict(Counter(r.status.value for r in members)), started,
                                     finished, span))
    return RolloutResult(current.id, current.release_id, current.status, outcomes, summaries, counts, seconds,
                         executed, resumed)


@contextlib.contextmanager
def _exclusive(state: Path, rollout_id: str) -> Iterator[None]:
    """One process per rollout: an OS file lock, released by the OS when its holder dies (even SIGKILL), so a
    resume after a crash never waits for a stale lock, and two resumes never run the same deployments."""
    directory = state / "locks"
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / f"{rollout_id}.lock", "a+b") as handle:
        try:
            _lock(handle)
        except OSError:
            raise RolloutBusyError(f"rollout {rollout_id} is being run by another process; wait for it to end "
                                   "or stop it, then resume") from None
        try:
            yield
        finally:
            _unlock(handle)


if sys.platform == "win32":
    import msvcrt

    def _lock(handle: Any) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(handle: Any) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(handle: Any) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(handle: Any) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


__all__ = [
    "DeploymentOutcome",
    "ProgressEvent",
    "ProgressKind",
    "RetryPolicy",
    "RolloutBusyError",
    "RolloutError",
    "RolloutResult",
    "RolloutSpecError",
    "WaveSummary",
    "new_rollout_id",
    "parse_waves",
    "plan",
    "resume",
    "rollout",
    "summarize",
]
