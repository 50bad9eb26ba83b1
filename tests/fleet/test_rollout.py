"""Rollouts against the simulated engine: waves, parallelism, halting, lock retries, executors, and resuming
a rollout whose process was killed."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest
import tenacity

import alien_pulumi as alien
from alien_pulumi.automation.run import RunInput, RunKind, RunResult, RunStatus
from alien_pulumi.fleet.executor import ExecutorError, InProcessExecutor, OnDone, ProcessExecutor, ShouldStop, never
from alien_pulumi.fleet.registry import Registry, RolloutStatus, RunState
from alien_pulumi.fleet.rollout import (
    ProgressEvent,
    ProgressKind,
    RetryPolicy,
    RolloutBusyError,
    RolloutSpecError,
    parse_waves,
    resume,
    rollout,
)
from alien_pulumi.model.record import ReleaseRecord

ECR = "111122223333.dkr.ecr.us-east-1.amazonaws.com"  # AWS runs ECR images only (DESIGN.md §4b)

FAST_RETRY = RetryPolicy(stop=tenacity.stop_after_attempt(5), wait=tenacity.wait_fixed(0.01))


def spec() -> alien.StackSpec:
    return alien.Stack("s").platforms("aws").add(alien.Function("f", image=f"{ECR}/i"), "live").build()


def inputs(count: int, state: Path, engine: str = "simulated:10", release: str = "v1") -> dict[str, RunInput]:
    stack = spec()
    return {f"d{i}": RunInput(run_id="planned", kind=RunKind.RELEASE, deployment=f"d{i}", release=release,
                              spec=stack, context=alien.DeploymentContext.example_context("aws", "s", prefix=f"d{i}"),
                              state_dir=str(state), engine=engine, targets=["urn:f"])
            for i in range(count)}


def one(deployment: str, state: Path, engine: str = "simulated:10") -> RunInput:
    return inputs(1, state, engine)["d0"].model_copy(update={"deployment": deployment, "run_id": f"run-{deployment}"})


class Recording:
    """An executor wrapper that remembers which runs it was given, and checks the lazy-pull contract."""

    def __init__(self, inner: InProcessExecutor | ProcessExecutor) -> None:
        self.inner = inner
        self.started: list[str] = []
        self.most_in_flight = 0

    def run_all(self, runs: Iterable[RunInput], parallel: int, on_done: OnDone,
                should_stop: ShouldStop = never) -> None:
        in_flight = 0

        def pulled() -> Iterator[RunInput]:
            nonlocal in_flight
            for run in runs:
                in_flight += 1
                self.most_in_flight = max(self.most_in_flight, in_flight)
                self.started.append(run.deployment)
                yield run

        def done(result: RunResult) -> float | None:
            nonlocal in_flight
            delay = on_done(result)
            if delay is None:
                in_flight -= 1
            return delay

        self.inner.run_all(pulled(), parallel, done, should_stop)


@pytest.fixture
def reg(tmp_path: Path) -> Iterator[Registry]:
    with Registry(tmp_path) as opened:
        yield opened


# Waves ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("spec_", "count", "sizes"), [
    ("1,10,100%", 25, [1, 9, 15]),
    ("100%", 7, [7]),
    ("10%,50%,100%", 25, [3, 10, 12]),  # percentages round up: 2.5 -> 3, 12.5 -> 13
    ("10%,100%", 30, [3, 27]),  # exactly 3, not 4 from 3.0000000000000004
    ("1,10,100%", 5, [1, 4]),  # 10 is cut to the 5 deployments; the last wave has nobody left
    ("2, 5 ,100", 5, [2, 3]),
])
def test_wave_sizes(spec_: str, count: int, sizes: list[int]) -> None:
    assert parse_waves(spec_, count) == sizes


@pytest.mark.parametrize(("spec_", "message"), [
    ("", "a wave is empty"),
    ("1,,100%", "a wave is empty"),
    ("0,100%", "must release at least one"),
    ("ten,100%", "neither a count"),
    ("150%", "not a percentage"),
    ("0%,100%", "not a percentage"),
    ("x%", "not a percentage"),
    ("50%,10,100%", "fewer than wave 1"),
    ("1,10", "reach 10 of the 25 deployments"),
])
def test_invalid_waves_are_refused_with_a_reason(spec_: str, message: str) -> None:
    with pytest.raises(RolloutSpecError, match=message):
        parse_waves(spec_, 25)


def test_a_wave_starts_only_after_the_previous_one_finished(reg: Registry, tmp_path: Path) -> None:
    events: list[ProgressEvent] = []
    result = rollout(reg, "v1", inputs(25, tmp_path), "1,10,100%", parallel=8, executor=InProcessExecutor(),
                     on_progress=events.append)
    assert result.status is RolloutStatus.COMPLETED and result.ok
    assert [(w.wave, w.size) for w in result.waves] == [(1, 1), (2, 9), (3, 15)]
    assert [d for d, o in result.deployments.items() if o.wave == 1] == ["d0"]
    assert [d for d, o in result.deployments.items() if o.wave == 2] == [f"d{i}" for i in range(1, 10)]
    for wave in (1, 2):
        last_finish = max(i for i, e in enumerate(events) if e.kind is ProgressKind.RUN_FINISHED and e.wave == wave)
        first_start = min(i for i, e in enumerate(events) if e.kind is ProgressKind.RUN_STARTED and e.wave == wave + 1)
        assert last_finish < first_start
        # And in the registry's own timestamps.
        before, after = result.waves[wave - 1], result.waves[wave]
        assert before.finished_at is not None and after.started_at is not None
        assert before.finished_at <= after.started_at
    assert result.counts["succeeded"] == 25


# Parallelism and halting -----------------------------------------------------------------------------------------


class Rendezvous(InProcessExecutor):
    """Each run starts only once ``parties`` runs are executing at once (a barrier): runs executed one at a time
    never get there, and fail when the barrier gives up (its timeout bounds a failure, it times nothing)."""

    def __init__(self, parties: int) -> None:
        super().__init__()
        self.barrier = threading.Barrier(parties, timeout=120)

    def _execute(self, run: RunInput, emit: Callable[[str], None]) -> RunResult:
        self.barrier.wait()
        return super()._execute(run, emit)


def test_parallel_runs_at_most_n_at_once_and_uses_the_slots(reg: Registry, tmp_path: Path) -> None:
    executor = Recording(Rendezvous(4))
    result = rollout(reg, "v1", inputs(12, tmp_path, "simulated:5"), parallel=4, executor=executor)
    assert result.counts["succeeded"] == 12, result.deployments  # every run met three others executing
    assert executor.most_in_flight == 4


def test_the_rollout_halts_after_k_failures(reg: Registry, tmp_path: Path) -> None:
    executor = Recording(InProcessExecutor())
    result = rollout(reg, "v1", inputs(20, tmp_path, "simulated:5;fail=d3,d5,d9"), parallel=1,
                     halt_after_failures=2, executor=executor)
    assert result.status is RolloutStatus.HALTED and not result.ok
    assert executor.started == [f"d{i}" for i in range(6)]  # d5 is the 2nd failure: nothing starts after it
    assert {d for d, o in result.deployments.items() if o.status is RunState.FAILED} == {"d3", "d5"}
    skipped = {d for d, o in result.deployments.items() if o.status is RunState.SKIPPED}
    assert skipped == {f"d{i}" for i in range(6, 20)}
    assert result.counts == {"pending": 0, "running": 0, "succeeded": 4, "failed": 2, "skipped": 14,
                             "awaiting-setup": 0, "revoked": 0, "not-set-up": 0}
    assert all(o.error and "halted after 2 failure" in o.error for d, o in result.deployments.items() if d in skipped)


def test_no_run_starts_after_the_halt_but_runs_in_flight_finish(reg: Registry, tmp_path: Path) -> None:
    events: list[ProgressEvent] = []
    failing = ",".join(f"d{i}" for i in range(0, 30, 3))
    result = rollout(reg, "v1", inputs(30, tmp_path, f"simulated:30;fail={failing}"), parallel=4,
                     halt_after_failures=3, executor=InProcessExecutor(), on_progress=events.append)
    assert result.status is RolloutStatus.HALTED
    finished = [e for e in events if e.kind is ProgressKind.RUN_FINISHED]
    third_failure = [i for i, e in enumerate(events) if e.kind is ProgressKind.RUN_FINISHED
                     and e.status is RunState.FAILED][2]
    assert not [e for e in events[third_failure:] if e.kind is ProgressKind.RUN_STARTED]
    started = [e.deployment for e in events if e.kind is ProgressKind.RUN_STARTED]
    assert len(finished) == len(started)  # every run that started has its result recorded
    assert result.counts["failed"] >= 3
    assert result.counts["skipped"] == 30 - len(started) > 0
    assert events[-1].kind is ProgressKind.HALTED


# Lock retries --------------------------------------------------------------------------------------------------


def test_a_locked_stack_is_retried_until_it_succeeds(reg: Registry, tmp_path: Path) -> None:
    events: list[ProgressEvent] = []
    policy = RetryPolicy.exponential(attempts=5, first=0.02, longest=1, jitter=0)
    result = rollout(reg, "v1", inputs(3, tmp_path, "simulated:5;locked=2"), parallel=3,
                     executor=InProcessExecutor(), retry=policy, on_progress=events.append)
    assert result.ok
    for name, outcome in result.deployments.items():
        assert (outcome.status, outcome.attempts) == (RunState.SUCCEEDED, 3)
        assert [a.status for a in reg.attempts(f"{result.rollout_id}:{name}")] == ["locked", "locked", "succeeded"]
    retries = [e for e in events if e.kind is ProgressKind.RUN_RETRYING and e.deployment == "d0"]
    assert [(e.attempt, e.delay) for e in retries] == [(2, pytest.approx(0.02)), (3, pytest.approx(0.04))]


def test_a_stack_still_locked_when_the_policy_gives_up_fails(reg: Registry, tmp_path: Path) -> None:
    policy = RetryPolicy(stop=tenacity.stop_after_attempt(3), wait=tenacity.wait_fixed(0.01))
    result = rollout(reg, "v1", inputs(1, tmp_path, "simulated:5;locked=5"), executor=InProcessExecutor(),
                     retry=policy)
    outcome = result.deployments["d0"]
    assert (outcome.status, outcome.attempts) == (RunState.FAILED, 3)
    assert outcome.error is not None and outcome.error.startswith("still locked after 3 attempt(s)")


# Resume --------------------------------------------------------------------------------------------------------

KILLED_ROLLOUT = textwrap.dedent("""
    import sys
    from alien_pulumi.fleet.executor import InProcessExecutor, ProcessExecutor
    from alien_pulumi.fleet.registry import Registry
    from alien_pulumi.fleet.rollout import ProgressKind, rollout
    from tests.fleet.test_rollout import inputs

    state, kind, engine = sys.argv[1], sys.argv[2], sys.argv[3]

    def progress(event):
        if event.kind is ProgressKind.RUN_FINISHED:
            print(event.deployment, event.status.value, flush=True)

    executor = InProcessExecutor() if kind == "inprocess" else ProcessExecutor()
    rollout(Registry(state), "v1", inputs(40, state, engine), "4,100%", parallel=4, executor=executor,
            rollout_id="ro-killed", on_progress=progress)
    print("COMPLETED", flush=True)
""")


@pytest.mark.parametrize(("kind", "kill_after"), [("inprocess", 12), ("process", 6)])
def test_a_killed_rollout_resumes_without_losing_or_repeating_a_run(tmp_path: Path, kind: str,
                                                                    kill_after: int) -> None:
    root = Path(__file__).resolve().parents[2]
    # The runs after the first kill_after are held (they never end in this process): the kill catches runs in
    # flight however fast or slow the machine is, where a latency made it a race with the rest of the rollout.
    held = ",".join(f"d{i}" for i in range(kill_after, 40))
    # A session of its own: the kill takes the rollout's worker processes with it, like a crashed machine would.
    proc = subprocess.Popen([sys.executable, "-c", KILLED_ROLLOUT, str(tmp_path), kind, f"simulated:20;hold={held}"],
                            cwd=root, stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdout is not None
    reported: list[str] = []
    deadline = time.monotonic() + 300  # bounds a failure: each line is an event
    while len(reported) < kill_after and time.monotonic() < deadline:
        line = proc.stdout.readline()
        assert line and line != "COMPLETED\n", "the rollout ended before it could be killed"
        name, status = line.split()
        assert status == "succeeded"
        reported.append(name)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(reported) == kill_after

    with Registry(tmp_path) as reg:
        before = {r.deployment: r for r in reg.runs(rollout_id="ro-killed")}
        assert reg.get_rollout("ro-killed").status is RolloutStatus.RUNNING
        succeeded = {d for d, r in before.items() if r.status is RunState.SUCCEEDED}
        interrupted = {d for d, r in before.items() if r.status is RunState.RUNNING}
        # Nothing lost: every result the dead process reported is committed.
        assert set(reported) == succeeded
        # In flight: the held runs claimed when the last success was reported (the next one may be claimed too).
        assert {f"d{i}" for i in range(kill_after, kill_after + 3)} <= interrupted <= {
            f"d{i}" for i in range(kill_after, kill_after + 4)}, interrupted

        executor = Recording(InProcessExecutor())
        result = resume(reg, "ro-killed", inputs(40, tmp_path, "simulated:5"), parallel=8, executor=executor)

        assert result.status is RolloutStatus.COMPLETED and result.resumed
        assert set(executor.started) == set(before) - succeeded  # pending and interrupted runs, nothing else
        assert len(executor.started) == len(set(executor.started)) == result.executed
        runs = reg.runs(rollout_id="ro-killed")
        assert sorted(r.deployment for r in runs) == sorted(f"d{i}" for i in range(40))
        for run in runs:
            assert run.status is RunState.SUCCEEDED
            assert [a.status for a in reg.attempts(run.id)].count("succeeded") == 1
            if run.deployment in succeeded:  # untouched by the resume
                old = before[run.deployment]
                assert (run.attempt, run.finished_at, run.result) == (old.attempt, old.finished_at, old.result)
            elif run.deployment in interrupted:  # its first attempt died with the process
                assert run.attempt == 2
        # Wave 2 was not started while wave 1 (4 deployments) was unfinished, in either session.
        assert result.waves[0].finished_at is not None and result.waves[1].started_at is not None
        assert result.waves[0].finished_at <= result.waves[1].started_at


def test_resuming_a_finished_rollout_runs_nothing(reg: Registry, tmp_path: Path) -> None:
    first = rollout(reg, "v1", inputs(5, tmp_path), executor=InProcessExecutor())
    executor = Recording(InProcessExecutor())
    again = resume(reg, first.rollout_id, inputs(5, tmp_path), executor=executor)
    assert executor.started == [] and again.executed == 0 and again.status is RolloutStatus.COMPLETED
    assert again.deployments == first.deployments


def test_a_resume_must_follow_the_stored_plan(reg: Registry, tmp_path: Path) -> None:
    rollout(reg, "v1", inputs(5, tmp_path), "1,100%", halt_after_failures=2, executor=InProcessExecutor(),
            rollout_id="ro-1")
    with pytest.raises(RolloutSpecError, match="planned with waves '1,100%', not '2,100%'"):
        rollout(reg, "v1", inputs(5, tmp_path), "2,100%", executor=InProcessExecutor(), rollout_id="ro-1")
    with pytest.raises(RolloutSpecError, match="halt after 2"):
        rollout(reg, "v1", inputs(5, tmp_path), halt_after_failures=3, executor=InProcessExecutor(),
                rollout_id="ro-1")
    with pytest.raises(RolloutSpecError, match="releases 'v1', not 'v2'"):
        rollout(reg, "v2", inputs(5, tmp_path, release="v2"), executor=InProcessExecutor(), rollout_id="ro-1")


def test_one_process_per_rollout(reg: Registry, tmp_path: Path) -> None:
    errors: list[Exception] = []

    def meddle(event: ProgressEvent) -> None:
        if event.kind is ProgressKind.RUN_FINISHED and not errors:
            try:
                resume(reg, "ro-busy", inputs(3, tmp_path), executor=InProcessExecutor())
            except RolloutBusyError as exc:
                errors.append(exc)

    result = rollout(reg, "v1", inputs(3, tmp_path), executor=InProcessExecutor(), rollout_id="ro-busy",
                     on_progress=meddle)
    assert result.ok
    assert len(errors) == 1 and "being run by another process" in str(errors[0])


def test_inputs_must_match_the_release_and_their_deployment(reg: Registry, tmp_path: Path) -> None:
    runs = inputs(2, tmp_path)
    with pytest.raises(RolloutSpecError, match="for release 'v1', not 'v9'"):
        rollout(reg, "v9", runs, executor=InProcessExecutor())
    with pytest.raises(RolloutSpecError, match="listed as 'x' is for deployment 'd0'"):
        rollout(reg, "v1", {"x": runs["d0"]}, executor=InProcessExecutor())
    other_stack = alien.Stack("other").platforms("aws").add(alien.Function("f", image=f"{ECR}/i"), "live").build()
    reg.record_release("v2", other_stack)
    with pytest.raises(RolloutSpecError, match="deploys another stack than release v2"):
        rollout(reg, "v2", inputs(2, tmp_path, release="v2"), executor=InProcessExecutor())
    other = alien.Stack("s").platforms("aws").add(alien.Function("f", image=f"{ECR}/j"), "live").build()
    mixed = {**runs, "d1": runs["d1"].model_copy(update={"spec": other})}
    with pytest.raises(RolloutSpecError, match="the input of d1 deploys another stack than release v1"):
        rollout(reg, "v1", mixed, executor=InProcessExecutor())
    assert not reg.has_release("v1")  # nothing recorded for a rollout that was refused
    with pytest.raises(RolloutSpecError, match="parallel must be at least 1"):
        rollout(reg, "v1", runs, parallel=0, executor=InProcessExecutor())
    assert reg.rollouts() == []


def test_a_succeeded_release_becomes_the_deployed_record(reg: Registry, tmp_path: Path) -> None:
    runs = inputs(2, tmp_path, "simulated:5;fail=d1")
    for run in runs.values():
        reg.add_deployment(ReleaseRecord(release="setup", deployment=run.deployment, program="provision",
                                         context=run.context, spec=run.spec, digest=run.spec.digest(),
                                         frozen_digest=run.spec.frozen_digest(), permissions={}))

    def record(run: RunInput, result: RunResult) -> ReleaseRecord:
        return ReleaseRecord(release=run.release, deployment=run.deployment, program="manage", context=run.context,
                             spec=run.spec, digest=run.spec.digest(), frozen_digest=run.spec.frozen_digest(),
                             permissions={}, targets=run.targets, operations=result.summary)

    rollout(reg, "v1", runs, executor=InProcessExecutor(), record=record)
    deployed = {d.name: d.record for d in reg.list_deployments()}
    assert deployed["d0"] is not None and (deployed["d0"].release, deployed["d0"].operations) == ("v1", {"update": 1})
    assert deployed["d1"] is not None and deployed["d1"].release == "setup"  # its run failed


# Executors -----------------------------------------------------------------------------------------------------


def collect(executor: InProcessExecutor | ProcessExecutor, runs: list[RunInput], parallel: int = 4
            ) -> dict[str, RunResult]:
    results: dict[str, RunResult] = {}

    def done(result: RunResult) -> None:
        results[result.deployment] = result

    executor.run_all(runs, parallel, done)
    return results


def script(body: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(body)]


def test_process_executor_runs_real_workers_and_a_crash_fails_only_its_run(tmp_path: Path) -> None:
    results = collect(ProcessExecutor(), [one("ok", tmp_path), one("bad", tmp_path, "simulated:oops"),
                                          one("failing", tmp_path, "simulated:5;fail=failing")])
    assert results["ok"].status is RunStatus.SUCCEEDED and results["ok"].operations == {"urn:f": "update"}
    assert results["failing"].status is RunStatus.FAILED and results["failing"].error == "simulated failure"
    crashed = results["bad"]
    assert crashed.status is RunStatus.FAILED and crashed.error is not None
    assert crashed.error.startswith("the worker exited with code 1: ValueError")
    assert "\n" not in crashed.error and crashed.run_id == "run-bad"


@pytest.mark.parametrize(("body", "message"), [
    ("import os, signal; os.kill(os.getpid(), signal.SIGKILL)", "the worker was killed by SIGKILL"),
    ("print('hello')", "the worker's last output line is not a result: 'hello'"),
    ("import sys; sys.stdin.read()", "the worker printed no result"),
    ("import sys; sys.stderr.write('Traceback\\n  boom\\nRuntimeError: disk full\\n'); sys.exit(2)",
     "the worker exited with code 2: RuntimeError: disk full"),
])
def test_a_worker_that_dies_or_talks_nonsense_is_a_failed_run(tmp_path: Path, body: str, message: str) -> None:
    results = collect(ProcessExecutor(command=script(body)), [one("x", tmp_path)])
    assert results["x"].status is RunStatus.FAILED
    assert results["x"].error == message


def test_a_hung_worker_is_killed_after_the_timeout(tmp_path: Path) -> None:
    # A worker left to end on its own would be "the worker printed no result": this message is the kill's alone.
    results = collect(ProcessExecutor(timeout=0.5, command=script("import time; time.sleep(30)")), [one("x", tmp_path)])
    assert results["x"].error == "the worker timed out after 0.5 s and was killed"


def test_worker_stderr_lines_reach_the_callback_on_the_calling_thread(tmp_path: Path) -> None:
    body = """
        import json, sys
        run = json.loads(sys.stdin.read())
        print("[live]   update aws:lambda/function:Function f", file=sys.stderr, flush=True)
        print(json.dumps({"run_id": run["run_id"], "deployment": run["deployment"], "kind": run["kind"],
                          "status": "succeeded"}))
    """
    lines: list[tuple[str, str, bool]] = []
    caller = threading.current_thread()
    executor = ProcessExecutor(lambda d, line: lines.append((d, line, threading.current_thread() is caller)),
                               command=script(body))
    results = collect(executor, [one("a", tmp_path), one("b", tmp_path)])
    assert {r.status for r in results.values()} == {RunStatus.SUCCEEDED}
    assert sorted(lines) == [("a", "[live]   update aws:lambda/function:Function f", True),
                             ("b", "[live]   update aws:lambda/function:Function f", True)]


def test_a_worker_answering_for_another_run_is_a_failure(tmp_path: Path) -> None:
    body = """
        import json, sys
        sys.stdin.read()
        print(json.dumps({"run_id": "someone-else", "deployment": "x", "kind": "release", "status": "succeeded"}))
    """
    results = collect(ProcessExecutor(command=script(body)), [one("x", tmp_path)])
    assert results["x"].status is RunStatus.FAILED
    assert results["x"].error is not None and "answered for run someone-else" in results["x"].error


def test_executors_pull_runs_lazily_and_stop_pulling_when_told(tmp_path: Path) -> None:
    pulled: list[str] = []
    done: list[str] = []

    def runs() -> Iterator[RunInput]:
        for i in range(20):
            assert len(pulled) - len(done) < 3, "a run was pulled while every slot was busy"
            pulled.append(f"r{i}")
            yield one(f"r{i}", tmp_path, "simulated:5")

    def on_done(result: RunResult) -> None:
        done.append(result.deployment)

    def stop() -> bool:
        return len(done) >= 5

    InProcessExecutor().run_all(runs(), 3, on_done, stop)
    assert sorted(done) == sorted(pulled)  # every pulled run was finished and reported
    assert 5 <= len(pulled) <= 5 + 2  # the runs in flight at the stop, nothing after it


def test_in_process_executor_refuses_real_engines(tmp_path: Path) -> None:
    with pytest.raises(ExecutorError, match="only simulated engines"):
        collect(InProcessExecutor(), [one("x", tmp_path, "pulumi")])
    with pytest.raises(ExecutorError, match="parallel must be at least 1"):
        collect(InProcessExecutor(), [one("x", tmp_path)], parallel=0)


def test_a_retry_keeps_its_slot_and_runs_the_same_input_again(tmp_path: Path) -> None:
    seen: list[RunStatus] = []

    def on_done(result: RunResult) -> float | None:
        seen.append(result.status)
        return 0.01 if result.status is RunStatus.LOCKED else None

    InProcessExecutor().run_all([one("x", tmp_path, "simulated:5;locked=2")], 1, on_done)
    assert seen == [RunStatus.LOCKED, RunStatus.LOCKED, RunStatus.SUCCEEDED]


def test_retry_policy_follows_tenacity_strategies() -> None:
    policy = RetryPolicy.exponential(attempts=4, first=1, longest=3, jitter=0)
    state = policy.begin()
    locked = RunResult(run_id="r", deployment="d", kind=RunKind.RELEASE, status=RunStatus.LOCKED)
    assert [policy.next_delay(state, locked) for _ in range(4)] == [1, 2, 3, None]
    jittered = RetryPolicy.exponential(attempts=2, first=1, jitter=0.5)
    assert 1 <= (jittered.next_delay(jittered.begin(), locked) or 0) <= 1.5


# Rendering ------------------------------------------------------------------------------------------------------


def test_the_rich_renderer_draws_waves_failures_and_the_halt(reg: Registry, tmp_path: Path) -> None:
    from rich.console import Console

    from alien_pulumi.fleet.progress import RolloutProgress, render_result

    console = Console(file=io.StringIO(), width=160, force_terminal=False)
    with RolloutProgress(console) as progress:
        result = rollout(reg, "v1", inputs(12, tmp_path, "simulated:5;fail=d1,d2;locked=1"), "1,100%", parallel=2,
                         halt_after_failures=2, executor=InProcessExecutor(), retry=FAST_RETRY,
                         on_progress=progress)
    assert set(progress.tasks) == {1, 2}
    assert progress.failed == {2: 2} and progress.retrying[2] == set()
    render_result(result, console)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "d1 failed: simulated failure" in text
    assert f"rollout {result.rollout_id} halted: halted after 2 failure(s)" in text
    assert "deployments that did not succeed" in text and "skipped" in text
    assert text.rstrip().splitlines()[-1].startswith("halted: ")
