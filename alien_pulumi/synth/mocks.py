"""Run a Pulumi program offline under mocks, recording every registration with its options.

The stock ``MockMonitor`` keeps only URN, id and state; the options (protect, ignore_changes,
retain_on_delete, parent, provider) are what the programs are about, so this monitor records them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime.settings import SETTINGS, reset_options
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await


@dataclass(frozen=True)
class Registration:
    """One resource as the program registered it."""

    urn: str  # as the mock engine made it (pulumi:pulumi:Stack$ prefix, immediate parent type only)
    type: str
    name: str
    custom: bool
    parent: str
    provider: str
    protect: bool
    retain_on_delete: bool
    ignore_changes: tuple[str, ...]
    dependencies: tuple[str, ...]
    inputs: dict[str, Any]


class SynthMocks(pulumi_mocks.Mocks):
    """Resources get a stable fake id and echo their inputs; commonly read outputs get placeholders."""

    _PLACEHOLDERS = ("arn", "url", "uri", "email", "principalId", "clientId", "tenantId", "selfLink",
                     "fqdn", "endpoint", "invokeArn", "qualifiedArn")

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        # azure-native takes user-assigned identities as a list of ids but returns a map keyed by id; an
        # echoed list breaks the SDK's output resolution.
        identity = state.get("identity")
        if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
            state["identity"] = {**identity,
                                 "userAssignedIdentities": {i: {} for i in identity["userAssignedIdentities"]}}
        for key in self._PLACEHOLDERS:
            state.setdefault(key, f"<{key} of {args.name}>")
        state.setdefault("name", args.name)
        return f"{args.name}-id", state

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        # Components make no invokes (everything derives from the deployment context); one would show here.
        raise RuntimeError(f"unexpected invoke {args.token}: components must not read the cloud at build time")


class RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: pulumi_mocks.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registrations.append(
                Registration(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    custom=bool(request.custom),
                    parent=request.parent,
                    provider=request.provider,
                    protect=bool(request.protect),
                    retain_on_delete=bool(request.retainOnDelete),
                    ignore_changes=tuple(request.ignoreChanges),
                    dependencies=tuple(request.dependencies),
                    inputs=rpc.deserialize_properties(request.object),
                )
            )
        return response


def run_program(program: Callable[[], None], project: str, stack: str) -> list[Registration]:
    """Run ``program`` under mocks (no CLI, no cloud, no credentials); return its registrations."""
    _ensure_event_loop()
    reset_options(project=project, stack=stack, preview=False)
    mocks = SynthMocks()
    monitor = RecordingMonitor(mocks)
    pulumi_mocks.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
    SETTINGS.rpc_manager.clear()
    SETTINGS.outputs.clear()
    _sync_await(run_pulumi_func(program))
    return monitor.registrations


def _ensure_event_loop() -> None:
    """Pulumi's mock runtime awaits on the thread's current loop; ``asyncio.run`` elsewhere in the process (the
    Temporal client, a worker thread) leaves the thread with none, so give it one rather than fail."""
    try:
        asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())
