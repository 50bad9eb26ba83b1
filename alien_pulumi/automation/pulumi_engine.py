"""The real engine: one deployment run through the Pulumi Automation API (the ``pulumi`` CLI).

A management run replaces the process environment with the management one for its duration (no cloud
credential of the caller leaks into it); that is why one process runs one deployment at a time.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from alien_pulumi.automation.attribution import attribution
from alien_pulumi.automation.credentials import (
    aws_environment,
    gcp_access_token,
    management_environment,
    revoked_reasons,
)
from alien_pulumi.automation.engine import OnLine
from alien_pulumi.automation.events import EventRecorder
from alien_pulumi.automation.health import aws_bucket_health, health_from_refresh, merge
from alien_pulumi.automation.placement import placement_health
from alien_pulumi.automation.run import RunInput, RunKind, RunResult, RunStatus
from alien_pulumi.automation.state_guard import (
    StateRefusedError,
    checkpoint,
    state_digest,
    verify_state,
    verify_steps,
    where,
)
from alien_pulumi.automation.workspace import SETUP_KINDS, open_stack, pulumi_command, versions
from alien_pulumi.errors import AccessRevokedError, AutomationError, ProgramError, StackLockedError
from alien_pulumi.model.types import Platform


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@contextlib.contextmanager
def environment(env: Mapping[str, str] | None) -> Iterator[None]:
    """Run with exactly ``env`` as the process environment (None: leave it as it is)."""
    if env is None:
        yield
        return
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


# What the real engine says about the stack when any step failed; the cause is on another line.
GENERIC_ERRORS = ("error: update failed", "error: preview failed", "error: refresh failed",
                  "error: Resource monitor has terminated")
# Joined errors say only how many occurred; their causes follow on bullet lines: ``1) ...`` where the CLI
# flattens them (cmdutil's errorMessage), ``* ...`` in a hashicorp/go-multierror message.
MULTIERROR = re.compile(r"\d+ errors? occurred:$")
BULLET = re.compile(r"^(?:\* |\d+\) )")
STREAM = re.compile(r"^(?:stdout|stderr): ")
MESSAGE_LIMIT = 600


def _error(exc: auto.errors.CommandError) -> tuple[str, list[str]]:
    """The engine's first specific error line, and a joined error's causes (its bullet lines)."""
    # str(CommandError) is "code: ..., stdout: ..., stderr: ...", each stream on the line of its label.
    lines = [STREAM.sub("", ln.strip()) for ln in str(exc).splitlines()]
    errors = [i for i, ln in enumerate(lines) if ln.startswith(("error:", "Error:"))]
    errors = [i for i in errors if not lines[i].startswith(GENERIC_ERRORS)] or errors
    if not errors:
        return next((ln for ln in reversed(lines) if ln), "the Pulumi CLI failed"), []
    message = lines[errors[0]]
    if not MULTIERROR.search(message):
        return message, []
    bullets = itertools.takewhile(lambda ln: BULLET.match(ln) is not None, lines[errors[0] + 1:])
    return message, [BULLET.sub("", bullet) for bullet in bullets]


def _one_line(exc: auto.errors.CommandError) -> str:
    message, causes = _error(exc)
    if causes:
        message = f"{message} " + "; ".join(causes)
    return message if len(message) <= MESSAGE_LIMIT else message[:MESSAGE_LIMIT - 3] + "..."


# The diy backend's lock check lists the stack's lock files, then reads each one (backend/diy/lock.go): a lock
# released in between makes the read fail NotFound, returned bare, and the CLI flattens that gocloud error into
# its causes ("2 errors occurred: ... NoSuchKey ...; NotFound"), key and all lost. Before the engine's first
# event, nothing but the lock check reads a blob that can vanish: that is contention, like "currently locked by"
# (all the Automation API recognises).
VANISHED = "NotFound"


def _lock_contention(exc: auto.errors.CommandError, recorder: EventRecorder) -> bool:
    if isinstance(exc, auto.errors.ConcurrentUpdateError):
        return True
    return not recorder.events and VANISHED in _error(exc)[1]


# Azure's OIDC exchange happens inside the engine (the azure-native provider, DefaultAzureCredential for azblob://):
# Entra's refusals of a federated credential that is gone (``alien-deploy revoke`` deletes it) or of an identity
# deleted or disabled. AADSTS70021 and its issuer/audience/subject variants: no matching federated identity record;
# 700016: the application is not in the tenant; 7000112: it is disabled.
AZURE_REVOKED = re.compile(r"\bAADSTS(70021|700211|700212|700213|7002121|700016|7000112)\b")


def _azure_revoked(run: RunInput, exc: auto.errors.CommandError) -> str | None:
    """The AADSTS code of a management run's federated sign-in refused as a revocation refuses it, else None."""
    if run.kind in SETUP_KINDS or run.context.platform is not Platform.AZURE:
        return None
    found = AZURE_REVOKED.search(str(exc))  # anywhere: azidentity's errors span many lines
    return found.group(0) if found else None


class PulumiEngine:
    def __init__(self, command_factory: type[auto.PulumiCommand] = auto.PulumiCommand,
                 aws_sts: Callable[..., dict[str, str]] = aws_environment,
                 gcp_token: Callable[[str, Mapping[str, str]], str] = gcp_access_token) -> None:
        self.command_factory = command_factory
        self.aws_sts = aws_sts
        self.gcp_token = gcp_token

    def run_environment(self, run: RunInput, scratch: Path) -> dict[str, str] | None:
        """None for setup runs (the admin's own environment); the management environment otherwise."""
        if run.kind in SETUP_KINDS:
            return None
        return management_environment(run.context, run.management, run.release, run.deployment, scratch,
                                      aws_sts=self.aws_sts, gcp_token=self.gcp_token)

    def execute(self, run: RunInput, on_line: OnLine | None = None) -> RunResult:
        start = time.perf_counter()
        started_at = _now()
        base = RunResult(run_id=run.run_id, deployment=run.deployment, kind=run.kind, status=RunStatus.SUCCEEDED)
        if run.kind in (RunKind.RELEASE, RunKind.PREVIEW) and not run.targets:
            # No live resource: an untargeted run would touch frozen ones. Nothing to do.
            return base
        live = set(run.targets)
        recorder = EventRecorder(live, on_line)
        with tempfile.TemporaryDirectory(prefix="alien-run-") as scratch, \
                environment(self.run_environment(run, Path(scratch))):
            command = pulumi_command(self.command_factory)
            try:
                stack = open_stack(run, {}, command)
                exported = self._guard(run, stack)
                outputs = self._run(run, stack, recorder)
                if run.kind is RunKind.SETUP_PREVIEW and run.guard is not None:
                    verify_steps(recorder.operations, run.guard.recorded, exported, where(run))
                after = checkpoint(stack.export_stack().deployment, run.targets) if run.kind is RunKind.SETUP else None
                health = {}
                if run.kind is RunKind.HEARTBEAT:
                    # The state is exported only if an expected id is held by a resource the refresh did not read.
                    health = merge(health_from_refresh(recorder, run.refresh_targets),
                                   placement_health(run.spec, run.context, recorder, run.refresh_targets,
                                                    state=lambda: stack.export_stack().deployment),
                                   aws_bucket_health(run.spec, run.context, backend=run.backend_url))
            except auto.errors.CompilationError as exc:
                raise ProgramError(f"the program of {run.deployment} failed to compile: {_one_line(exc)}; check "
                                   "that alien-pulumi is installed in the Python the workspace uses") from None
            except auto.errors.CommandError as exc:
                if _lock_contention(exc, recorder):
                    raise StackLockedError(f"stack {run.context.prefix} of {run.deployment} is locked by another "
                                           "update; retry later (or `pulumi cancel` a stuck update)") from None
                code = _azure_revoked(run, exc)
                if code is not None:
                    client = run.management.get("client_id", "the management identity")
                    raise AccessRevokedError(
                        f"Azure refused the federated sign-in of {client} for {run.deployment} ({code}); "
                        f"{revoked_reasons('the federated credential, issuer, subject')}") from None
                raise AutomationError(f"{run.kind.value} of {run.deployment} failed: {_one_line(exc)}") from None
        failed = bool(recorder.failed) or bool(recorder.errors)
        return base.model_copy(update={
            "status": RunStatus.FAILED if failed else RunStatus.SUCCEEDED,
            "operations": recorder.steps(),
            "summary": recorder.counts(),
            "outputs": outputs,
            "health": health,
            "error": recorder.errors[0] if recorder.errors else None,
            "seconds": time.perf_counter() - start,
            "versions": versions(command, run.context.platform.value),
            "state_digest": state_digest(exported) if exported is not None else None,
            "checkpoint": after,
            "attribution": {} if run.kind in SETUP_KINDS else {
                **attribution(run.context, run.management, run.release, run.deployment),
                "started_at": started_at, "finished_at": _now()},
        })

    def _guard(self, run: RunInput, stack: auto.Stack) -> Mapping[str, Any] | None:
        """An admin's run: the state checked against the last setup record and the spec, before the engine starts
        any plugin (`pulumi stack export` starts none); ``up`` also against the state its confirmed preview saw."""
        if run.kind not in SETUP_KINDS or run.guard is None:
            return None
        exported = stack.export_stack().deployment
        verify_state(exported, run.guard.recorded, run.targets, where(run))
        if run.kind is RunKind.SETUP and run.guard.state_digest not in (None, state_digest(exported)):
            raise StateRefusedError(f"the state of {where(run)} changed since the preview you confirmed (a "
                                    "release ran in between?); nothing was applied: run setup again and review the "
                                    "new preview")
        return exported

    def _run(self, run: RunInput, stack: auto.Stack, recorder: EventRecorder) -> dict[str, Any]:
        common: dict[str, Any] = {"on_event": recorder, "color": "never"}
        targeted: dict[str, Any] = {"target": list(run.targets), "target_dependents": False}
        guard = run.guard
        if run.kind is RunKind.SETUP:  # after a confirmed preview: exactly the plan the admin saw, nothing else
            confirmed = guard.plan_file if guard is not None and guard.state_digest is not None else None
            result = stack.up(**common, plan=confirmed)
            return {k: v.value for k, v in result.outputs.items() if not v.secret}
        if run.kind is RunKind.SETUP_PREVIEW:
            stack.preview(**common, plan=guard.plan_file if guard is not None else None)
        elif run.kind is RunKind.RELEASE:
            result = stack.up(**common, **targeted)
            return {k: v.value for k, v in result.outputs.items() if not v.secret}
        elif run.kind is RunKind.PREVIEW:
            stack.preview(**common, **targeted)
        else:
            stack.preview_refresh(target=list(run.refresh_targets), **common)
        return {}
