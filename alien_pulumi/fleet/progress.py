"""Rich rendering of a rollout: a progress bar per wave while it runs, tables when it is done.

    with RolloutProgress(console) as progress:
        result = rollout(..., on_progress=progress)
    render_result(result, console)
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from alien_pulumi.fleet.registry import RolloutStatus, RunState
from alien_pulumi.fleet.rollout import ProgressEvent, ProgressKind, RolloutResult

STYLE = {RunState.SUCCEEDED: "green", RunState.FAILED: "red", RunState.SKIPPED: "yellow",
         RunState.RUNNING: "cyan", RunState.PENDING: "dim", RunState.AWAITING_SETUP: "magenta",
         RunState.REVOKED: "blue", RunState.NOT_SET_UP: "magenta"}
# The columns of the waves table: every final state, awaiting setup, revoked and not set up apart from failures.
COUNTED = (RunState.SUCCEEDED, RunState.FAILED, RunState.AWAITING_SETUP, RunState.REVOKED, RunState.NOT_SET_UP,
           RunState.SKIPPED)


class RolloutProgress:
    """Use as ``on_progress``: one bar per wave, counting runs with a final state; runs in flight, runs
    waiting to retry a locked stack, deployments awaiting their admin's setup or not set up at all, revoked ones
    and failures show in the bar's description. Each failure and revocation is also printed above the bars, so
    that it stays on screen."""

    def __init__(self, console: Console | None = None, *, transient: bool = False) -> None:
        self.console = console or Console(stderr=True)
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TimeElapsedColumn(), console=self.console, transient=transient)
        self.tasks: dict[int, TaskID] = {}
        self.failed: dict[int, int] = {}
        self.running: dict[int, int] = {}
        self.retrying: dict[int, set[str]] = {}
        self.awaiting: dict[int, int] = {}
        self.not_set_up: dict[int, int] = {}
        self.revoked: dict[int, int] = {}

    def __enter__(self) -> RolloutProgress:
        self.progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.progress.stop()

    def _describe(self, wave: int, waves: int) -> str:
        text = f"wave {wave}/{waves}"
        if self.running.get(wave):
            text += f" [cyan]{self.running[wave]} running[/]"
        if self.retrying.get(wave):
            text += f" [yellow]{len(self.retrying[wave])} locked, retrying[/]"
        if self.awaiting.get(wave):
            text += f" [magenta]{self.awaiting[wave]} awaiting setup[/]"
        if self.not_set_up.get(wave):
            text += f" [magenta]{self.not_set_up[wave]} not set up[/]"
        if self.revoked.get(wave):
            text += f" [blue]{self.revoked[wave]} revoked[/]"
        if self.failed.get(wave):
            text += f" [red]{self.failed[wave]} failed[/]"
        return text

    def __call__(self, event: ProgressEvent) -> None:
        wave = event.wave
        if event.kind is ProgressKind.WAVE_STARTED:
            self.awaiting[wave] = event.awaiting_setup
            self.not_set_up[wave] = event.not_set_up
            self.tasks[wave] = self.progress.add_task(self._describe(wave, event.waves), total=event.wave_size,
                                                      completed=event.done)
            return
        if event.kind is ProgressKind.HALTED:
            self.console.print(f"[bold red]rollout {event.rollout_id} halted[/]: {event.error}")
            return
        task = self.tasks.get(wave)
        if task is None:
            return
        if event.kind is ProgressKind.RUN_STARTED:
            self.running[wave] = self.running.get(wave, 0) + 1
        elif event.kind is ProgressKind.RUN_RETRYING and event.deployment:
            # Counted in the bar, not printed: thousands of deployments can be locked by one shared backend.
            self.retrying.setdefault(wave, set()).add(event.deployment)
        elif event.kind is ProgressKind.RUN_FINISHED:
            self.running[wave] = max(0, self.running.get(wave, 0) - 1)
            self.retrying.get(wave, set()).discard(event.deployment or "")
            if event.status is RunState.FAILED:
                self.failed[wave] = self.failed.get(wave, 0) + 1
                self.console.print(f"[red]{event.deployment} failed[/]: {event.error}")
            elif event.status is RunState.REVOKED:
                self.revoked[wave] = self.revoked.get(wave, 0) + 1
                self.console.print(f"[blue]{event.deployment} revoked[/]: {event.error}")
            self.progress.advance(task)
        self.progress.update(task, description=self._describe(wave, event.waves))


def waves_table(result: RolloutResult) -> Table:
    table = Table(title=f"rollout {result.rollout_id} of {result.release_id}: {result.outcome}")
    for column in ("wave", "deployments", *(s.value.replace("-", " ") for s in COUNTED), "duration"):
        table.add_column(column, justify="right" if column != "wave" else "left")
    for wave in result.waves:
        duration = f"{wave.seconds:.1f} s" if wave.seconds is not None else "-"
        table.add_row(str(wave.wave), str(wave.size), *(str(wave.counts.get(s.value, 0)) for s in COUNTED),
                      duration)
    return table


def deployments_table(result: RolloutResult, *, everyone: bool = False, limit: int = 50) -> Table | None:
    """Deployments that did not succeed (or every deployment), at most ``limit`` rows."""
    rows = [o for o in result.deployments.values() if everyone or o.status is not RunState.SUCCEEDED]
    if not rows:
        return None
    table = Table(title="deployments" if everyone else "deployments that did not succeed")
    for column in ("deployment", "wave", "status", "attempts", "seconds", "error"):
        table.add_column(column)
    for outcome in rows[:limit]:
        style = STYLE.get(outcome.status, "")
        table.add_row(outcome.deployment, str(outcome.wave), f"[{style}]{outcome.status.value}[/]",
                      str(outcome.attempts), f"{outcome.seconds:.1f}" if outcome.seconds is not None else "-",
                      outcome.error or "")
    if len(rows) > limit:
        table.caption = f"{len(rows) - limit} more not shown"
    return table


def render_result(result: RolloutResult, console: Console | None = None, *, everyone: bool = False) -> None:
    console = console or Console()
    console.print(waves_table(result))
    table = deployments_table(result, everyone=everyone)
    if table is not None:
        console.print(table)
    counts = ", ".join(f"{n} {state}" for state, n in result.counts.items() if n)
    verb = "resumed" if result.resumed else "ran"
    colour = "green" if result.ok else ("red" if result.outcome in ("failed", RolloutStatus.HALTED.value) else "yellow")
    console.print(f"[{colour}]{result.outcome}[/]: {counts}; {verb} {result.executed} run(s) in "
                  f"{result.seconds:.1f} s")
