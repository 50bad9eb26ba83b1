"""Engine events -> progress lines (each marked frozen or live) and the per-resource operations record.

A replacement is several engine steps on one resource (create-replacement, replace, delete-replaced; with
delete-before-replace delete-replaced comes first): the record names the resource once, ``replaced``, never by its last
step (``delete-replaced`` reads as deleted). The engine's summary counts it once, as ``replace``: recorded ``replaced``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from pulumi.automation import EngineEvent, OpType

# Operations that change nothing; not worth a progress line.
QUIET = {OpType.SAME, OpType.READ}
# The engine's steps of a replacement, and what the record calls the resource they replaced.
REPLACEMENT = {OpType.CREATE_REPLACEMENT.value, OpType.REPLACE.value, OpType.DELETE_REPLACED.value,
               OpType.DISCARD_REPLACED.value, OpType.READ_REPLACEMENT.value, OpType.IMPORT_REPLACEMENT.value}
REPLACED = "replaced"


class EventRecorder:
    """Feed it engine events (``on_event``); it prints progress and keeps each resource's operation."""

    def __init__(self, live_urns: set[str], on_line: Callable[[str], None] | None = None) -> None:
        self.live = live_urns
        self.on_line = on_line
        self.operations: dict[str, str] = {}  # the engine's last step per URN (what the admin's guards check)
        self.replaced: set[str] = set()  # URNs a replacement's steps acted on
        self.failed: dict[str, str] = {}
        self.diffs: dict[str, list[str]] = {}
        self.gone: set[str] = set()  # refresh found the resource missing
        # What a refresh read from the cloud, by URN: type, id and outputs (its outputs event's ``new``; the pre-event's
        # ``new`` is the state's). The heartbeat checks compute against the spec with it (automation/placement.py).
        self.read: dict[str, dict[str, Any]] = {}
        self.summary: dict[str, int] = {}
        self.errors: list[str] = []
        self.events = 0  # none: the run failed before the engine started (stack lock, state store)

    def mark(self, urn: str) -> str:
        return "live" if urn in self.live else "frozen"

    def _say(self, line: str) -> None:
        if self.on_line:
            self.on_line(line)

    def __call__(self, event: EngineEvent) -> None:
        # Every event log ends with a cancel event, also when the run failed before the engine started.
        self.events += event.cancel_event is None
        if event.resource_pre_event and event.resource_pre_event.metadata:
            meta = event.resource_pre_event.metadata
            if meta.type == "pulumi:pulumi:Stack":
                return
            self.operations[meta.urn] = meta.op.value
            if meta.op.value in REPLACEMENT:
                self.replaced.add(meta.urn)
            if meta.diffs:
                self.diffs[meta.urn] = list(meta.diffs)
            if meta.op in (OpType.DELETE, OpType.DISCARD) or (meta.op is OpType.REFRESH and meta.new is None):
                self.gone.add(meta.urn)
            if meta.op not in QUIET:
                self._say(f"[{self.mark(meta.urn)}] {meta.op.value:>8} {meta.type} {meta.urn.rsplit('::', 1)[-1]}")
        elif event.res_outputs_event and event.res_outputs_event.metadata:
            # The real engine diffs a refreshed resource only once it has read it: the refresh's pre-event
            # carries no diffs, its outputs event carries them with the resulting op (same, update, or delete
            # when the read found nothing).
            meta = event.res_outputs_event.metadata
            if self.operations.get(meta.urn) == OpType.REFRESH.value:
                if meta.op is OpType.DELETE or meta.new is None:
                    self.gone.add(meta.urn)
                    return
                self.read[meta.urn] = {"type": meta.type, "id": meta.new.id, "outputs": dict(meta.new.outputs or {})}
                if meta.diffs:
                    self.diffs[meta.urn] = list(meta.diffs)
        elif event.res_op_failed_event and event.res_op_failed_event.metadata:
            meta = event.res_op_failed_event.metadata
            self.failed[meta.urn] = meta.op.value
            self._say(f"[{self.mark(meta.urn)}]   failed {meta.type} {meta.urn.rsplit('::', 1)[-1]}")
        elif event.diagnostic_event and event.diagnostic_event.severity == "error":
            message = event.diagnostic_event.message.strip()
            self.errors.append(message)
            self._say(f"error: {message}")
        elif event.summary_event:
            self.summary = {str(k): int(v) for k, v in event.summary_event.resource_changes.items()}

    def steps(self) -> dict[str, str]:
        """What the run did to each resource: the engine's operation, one ``replaced`` for a replacement's steps."""
        return {urn: REPLACED if urn in self.replaced else op for urn, op in self.operations.items()}

    def counts(self) -> dict[str, int]:
        """Resources per operation: the engine's summary (a replacement counted once), ``replace`` named
        ``replaced`` as in ``steps``."""
        if self.summary:
            return {REPLACED if op == OpType.REPLACE.value else op: n for op, n in self.summary.items()}
        return dict(Counter(self.steps().values()))
