"""Executors run deployment runs, N at once, and report each result.

The interface is small on purpose so that a distributed engine (a job queue worked by remote workers, for
vendors with thousands of customers) can replace the local ones without touching the rollout:

- ``runs`` is pulled lazily: the next run is taken only when a slot is free and ``should_stop()`` is false.
  The caller therefore claims a run (marks it running in the registry) exactly when it starts, and a halt
  stops new runs without discarding any.
- ``on_done(result)`` is called once per finished execution, always on the thread that called ``run_all``
  (so the caller's SQLite connection is only ever used from one thread). Returning a number of seconds
  asks for the same run to be executed again after that delay; the run keeps its slot meanwhile. That is
  how a stack found locked is retried with backoff without the executor knowing any retry policy.
- ``run_all`` returns when every pulled run has a final result. Runs already started are always finished
  and reported, even after ``should_stop()`` turned true: their effects are real and must be recorded.

``ProcessExecutor`` (the default) runs one worker process per run; ``InProcessExecutor`` runs threads in
this process, for tests and for measuring the orchestration alone.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Protocol

from alien_pulumi.automation.run import RunInput, RunResult, RunStatus
from alien_pulumi.errors import AlienError
from alien_pulumi.fleet import worker

OnDone = Callable[[RunResult], float | None]
ShouldStop = Callable[[], bool]
OnRunLine = Callable[[str, str], None]  # (deployment, line): a worker's progress line

WORKER_COMMAND: tuple[str, ...] = (sys.executable, "-m", "alien_pulumi.fleet.worker")
# The directory holding the alien_pulumi package. When it is a checkout (not site-packages, which must not go
# ahead of the standard library) it goes on the worker's PYTHONPATH, so that the worker imports the same code
# as this process even when the package is not installed.
PACKAGE_ROOT = Path(__file__).resolve().parents[2]
ERROR_LENGTH = 400


class ExecutorError(AlienError):
    """An executor was asked to do something it cannot do (not a run's failure: those are results)."""


def never() -> bool:
    return False


class Executor(Protocol):
    def run_all(self, runs: Iterable[RunInput], parallel: int, on_done: OnDone,
                should_stop: ShouldStop = never) -> None:
        """Execute ``runs``, at most ``parallel`` at once; see the module docstring for the contract."""
        ...


def one_line(text: str) -> str:
    """Errors are stored and shown as one line: collapse whitespace, cut long messages."""
    line = " ".join(text.split())
    return line if len(line) <= ERROR_LENGTH else line[:ERROR_LENGTH - 1] + "…"


def failed(run: RunInput, error: str, seconds: float = 0.0) -> RunResult:
    return RunResult(run_id=run.run_id, deployment=run.deployment, kind=run.kind, status=RunStatus.FAILED,
                     error=one_line(error), seconds=seconds)


Event = tuple[str, RunInput, object]  # ("line" | "done" | "retry", run, line | result | None)


class _ThreadedExecutor:
    """The scheduling loop shared by the local executors: up to ``parallel`` long-lived threads execute
    runs and post their lines and results to a queue; the calling thread owns every callback. (A thread
    started per run costs more than the whole registry bookkeeping of that run.)"""

    def __init__(self, on_line: OnRunLine | None = None) -> None:
        self.on_line = on_line

    def _execute(self, run: RunInput, emit: Callable[[str], None]) -> RunResult:
        raise NotImplementedError

    def _check(self, run: RunInput) -> None:
        """Refuse a run before it is started (raises ExecutorError)."""

    def _abort(self) -> None:
        """The caller is leaving run_all abnormally (an exception, Ctrl-C): stop what can be stopped."""

    def _one(self, run: RunInput, events: queue.SimpleQueue[Event]) -> RunResult:
        start = time.perf_counter()
        try:
            result = self._execute(run, lambda line: events.put(("line", run, line)))
        except Exception as exc:  # a bug in an engine must not take the whole rollout down
            return failed(run, f"{type(exc).__name__}: {exc}", time.perf_counter() - start)
        if result.run_id != run.run_id or result.deployment != run.deployment:
            return failed(run, f"the worker answered for run {result.run_id} ({result.deployment}), "
                               f"not {run.run_id}", time.perf_counter() - start)
        return result

    def _work(self, jobs: queue.SimpleQueue[RunInput | None], events: queue.SimpleQueue[Event]) -> None:
        while (run := jobs.get()) is not None:
            events.put(("done", run, self._one(run, events)))

    def run_all(self, runs: Iterable[RunInput], parallel: int, on_done: OnDone,
                should_stop: ShouldStop = never) -> None:
        if parallel < 1:
            raise ExecutorError(f"parallel must be at least 1, not {parallel}")
        events: queue.SimpleQueue[Event] = queue.SimpleQueue()
        jobs: queue.SimpleQueue[RunInput | None] = queue.SimpleQueue()
        threads: list[threading.Thread] = []
        pending = iter(runs)
        exhausted = False
        active = 0  # runs pulled and not final yet (running or waiting for a retry): at most one per thread
        timers: list[threading.Timer] = []
        try:
            while True:
                while not exhausted and active < parallel and not should_stop():
                    run = next(pending, None)
                    if run is None:
                        exhausted = True
                        break
                    self._check(run)
                    active += 1
                    if len(threads) < active:
                        thread = threading.Thread(target=self._work, args=(jobs, events), daemon=True,
                                                  name=f"executor-{len(threads) + 1}")
                        thread.start()
                        threads.append(thread)
                    jobs.put(run)
                if active == 0:
                    return
                kind, run, payload = events.get()
                if kind == "line":
                    if self.on_line is not None:
                        self.on_line(run.deployment, str(payload))
                elif kind == "retry":
                    jobs.put(run)
                else:
                    assert isinstance(payload, RunResult)
                    delay = on_done(payload)
                    if delay is None:
                        active -= 1
                    else:
                        timer = threading.Timer(max(0.0, delay), events.put, args=(("retry", run, None),))
                        timer.daemon = True
                        timer.start()
                        timers.append(timer)
        except BaseException:
            self._abort()
            raise
        finally:
            for timer in timers:
                timer.cancel()
            for _ in threads:
                jobs.put(None)


class InProcessExecutor(_ThreadedExecutor):
    """Threads calling ``worker.execute``: no process start-up, so it measures the orchestration alone.

    Only simulated engines: the Pulumi engine swaps the whole process environment for the management
    credentials of its run, which threads sharing one process cannot do safely.
    """

    def _check(self, run: RunInput) -> None:
        if not run.engine.startswith("simulated:"):
            raise ExecutorError(f"InProcessExecutor runs only simulated engines, not {run.engine!r} "
                                f"(deployment {run.deployment}); use ProcessExecutor")

    def _execute(self, run: RunInput, emit: Callable[[str], None]) -> RunResult:
        return worker.execute(run, emit)


class ProcessExecutor(_ThreadedExecutor):
    """One worker process per run (``python -m alien_pulumi.fleet.worker``): RunInput JSON on stdin, the
    RunResult JSON as the last stdout line, progress lines on stderr (forwarded to ``on_line``).

    A worker that crashes, is killed, times out or prints no parsable result becomes a FAILED result with a
    one-line error; it never stops the other runs.
    """

    def __init__(self, on_line: OnRunLine | None = None, *, timeout: float | None = None,
                 command: Sequence[str] = WORKER_COMMAND, env: dict[str, str] | None = None) -> None:
        super().__init__(on_line)
        self.timeout = timeout
        self.command = list(command)
        base = dict(os.environ if env is None else env)
        if PACKAGE_ROOT.name not in ("site-packages", "dist-packages"):
            path = base.get("PYTHONPATH")
            base["PYTHONPATH"] = str(PACKAGE_ROOT) + (os.pathsep + path if path else "")
        base["PYTHONUNBUFFERED"] = "1"  # stderr lines arrive while the run is going, not at its end
        base["PYTHONIOENCODING"] = "utf-8"  # the pipes are UTF-8 on both ends, whatever the locale
        self.env = base
        self._procs: set[subprocess.Popen[str]] = set()
        self._lock = threading.Lock()

    def _abort(self) -> None:
        # Leaving runs behind with nobody to record their results is worse than stopping them: the registry
        # keeps them 'running', and a resume runs them again.
        with self._lock:
            for proc in self._procs:
                if proc.poll() is None:
                    proc.terminate()

    def _execute(self, run: RunInput, emit: Callable[[str], None]) -> RunResult:
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=self.env, text=True, encoding="utf-8",
                                    errors="replace")
        except OSError as exc:
            return failed(run, f"could not start the worker {self.command[0]}: {exc}")
        with self._lock:
            self._procs.add(proc)
        stderr_tail: deque[str] = deque(maxlen=20)
        stdout: list[str] = []
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        err, out = proc.stderr, proc.stdout

        def pump_stderr() -> None:
            for line in err:
                line = line.rstrip("\n")
                stderr_tail.append(line)
                emit(line)

        # Both pipes are drained by threads of their own: a result bigger than a pipe buffer while stderr
        # is being read line by line would otherwise deadlock the worker.
        readers = [threading.Thread(target=pump_stderr, daemon=True),
                   threading.Thread(target=lambda: stdout.append(out.read()), daemon=True)]
        for reader in readers:
            reader.start()
        timed_out = False
        try:
            try:
                proc.stdin.write(run.model_dump_json())
                proc.stdin.close()
            except OSError:
                pass  # the worker died before reading its input: its exit status says why
            try:
                code = proc.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
                proc.kill()
                code = proc.wait()
            for reader in readers:
                reader.join(timeout=10)  # a grandchild still holding a pipe must not hang the rollout
        finally:
            with self._lock:
                self._procs.discard(proc)
        seconds = time.perf_counter() - start
        if timed_out:
            return failed(run, f"the worker timed out after {self.timeout:g} s and was killed", seconds)
        if code != 0:
            last = _last(stderr_tail)
            return failed(run, f"{_exit_reason(code)}: {last}" if last else _exit_reason(code), seconds)
        lines = [line for line in "".join(stdout).splitlines() if line.strip()]
        if not lines:
            return failed(run, "the worker printed no result", seconds)
        try:
            return RunResult.model_validate_json(lines[-1])
        except ValueError:
            return failed(run, f"the worker's last output line is not a result: {lines[-1][:120]!r}", seconds)


def _exit_reason(code: int) -> str:
    if code < 0:
        try:
            return f"the worker was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"the worker was killed by signal {-code}"
    return f"the worker exited with code {code}"


def _last(lines: Iterable[str]) -> str:
    """The last non-blank stderr line: for a Python traceback, the exception and its message."""
    meaningful = [line for line in lines if line.strip()]
    return meaningful[-1].strip() if meaningful else ""
