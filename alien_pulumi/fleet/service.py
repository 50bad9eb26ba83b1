"""The vendor's release service for one or many deployments: preflight each against its deployed record,
build the self-contained runs (targets from the program's own graph), execute them through an executor,
and keep the records in the registry."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

from alien_pulumi.automation.health import refresh_targets
from alien_pulumi.automation.run import RunInput, RunKind, RunResult
from alien_pulumi.errors import AlienError, PreflightBlockedError
from alien_pulumi.fleet.executor import Executor, ProcessExecutor
from alien_pulumi.fleet.registry import Deployment, Registry
from alien_pulumi.fleet.rollout import OnProgress, RolloutResult, rollout
from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.record import ReleaseRecord
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import Lifecycle, Platform
from alien_pulumi.model.validation import parse_spec
from alien_pulumi.preflight import PreflightReport, from_record, preflight
from alien_pulumi.synth import synth

CANONICAL = "alien-canonical"  # the stack name graphs are synthesized under, then renamed per deployment


class NotDeployedError(AlienError):
    """A deployment has no release record: the admin's setup has not been registered yet."""


@cache
def _graph(spec_json: str, platform: Platform) -> tuple[list[str], dict[str, str]]:
    """Targets and heartbeat refresh targets of a spec on a platform. URNs differ between deployments only
    in the stack name, so one synth serves every deployment of a platform."""
    spec = parse_spec(StackSpec.model_validate_json(spec_json).model_dump(mode="json"))
    result = synth(spec, DeploymentContext.example_context(platform, spec.name, prefix=CANONICAL))
    return result.targets, refresh_targets(result)


def _rename(urn: str, stack: str) -> str:
    return urn.replace(f"urn:pulumi:{CANONICAL}::", f"urn:pulumi:{stack}::", 1)


def run_input(spec: StackSpec, deployment: Deployment, kind: RunKind, release_id: str, state: Path,
              backend: str | None = None, engine: str = "pulumi") -> RunInput:
    """The run on the deployment's own state: the backend and secrets provider its setup record names."""
    targets, refresh = _graph(spec.to_json(indent=None), deployment.platform)
    stack = deployment.context.prefix
    record = deployed_record(deployment)
    return RunInput(
        run_id=f"{release_id}-{deployment.name}-{kind.value}",
        kind=kind,
        deployment=deployment.name,
        release=release_id,
        spec=spec,
        context=deployment.context,
        targets=[_rename(u, stack) for u in targets],
        refresh_targets={_rename(u, stack): rid for u, rid in refresh.items()} if kind is RunKind.HEARTBEAT else {},
        backend_url=backend or record.backend,
        secrets_provider=record.secrets_provider,
        state_dir=str(state),
        management=deployment.management,
        engine=engine,
    )


def deployed_record(deployment: Deployment) -> ReleaseRecord:
    if deployment.record is None:
        raise NotDeployedError(f"deployment {deployment.name} has no release record: register the admin's setup "
                               "record with `alien-pulumi deployments add RECORD`")
    return deployment.record


def check(spec: StackSpec, deployment: Deployment, allow_frozen_changes: bool) -> PreflightReport:
    record = deployed_record(deployment)
    return preflight(spec, from_record(record), deployment.platform, allow_frozen_changes)


def blocked_message(reports: dict[str, PreflightReport]) -> str:
    lines = [f"{name}: {f.code.value} {f.message}" for name, report in reports.items()
             for f in report.findings if f.blocks]
    return "preflight blocks the release:\n  " + "\n  ".join(lines)


def as_deployed(new: StackSpec, old: StackSpec) -> StackSpec:
    """What runs after a release: the new live resources, and the frozen ones as they were (a frozen
    change allowed through is pending setup, so later preflights keep reporting it)."""
    before = {r.id: r for r in old.resources}
    data = new.model_dump(mode="json")
    for index, res in enumerate(new.resources):
        prev = before.get(res.id)
        if res.lifecycle is Lifecycle.FROZEN and prev is not None and prev.kind is res.kind \
                and prev.lifecycle is Lifecycle.FROZEN:
            data["resources"][index] = prev.model_dump(mode="json")
    return parse_spec(data)


def record_builder(spec: StackSpec, reports: dict[str, PreflightReport],
                   deployments: dict[str, Deployment]) -> Callable[[RunInput, RunResult], ReleaseRecord]:
    """The release record after a succeeded release: permissions stay what setup created (releases never
    change identities), pending setup changes are carried."""
    def build(run: RunInput, result: RunResult) -> ReleaseRecord:
        old = deployed_record(deployments[run.deployment])
        deployed = as_deployed(spec, old.spec)
        pending = [f.message for f in reports[run.deployment].pending_setup]
        return ReleaseRecord(
            release=run.release, deployment=run.deployment, program="manage", context=old.context,
            spec=deployed, digest=deployed.digest(), frozen_digest=deployed.frozen_digest(),
            permissions=old.permissions, targets=run.targets,
            outputs={**old.outputs, **result.outputs}, operations=result.summary,
            pending_setup=sorted(set(old.pending_setup) | set(pending)),
        )
    return build


def release(registry: Registry, spec: StackSpec, names: Iterable[str], release_id: str, state: Path, *,
            waves: str | None = None, parallel: int = 8, halt_after_failures: int | None = None,
            executor: Executor | None = None, allow_frozen_changes: bool = False, backend: str | None = None,
            engine: str = "pulumi", on_progress: OnProgress | None = None,
            rollout_id: str | None = None) -> RolloutResult:
    """Preflight every deployment (any blocking finding stops everything before a run starts), then
    roll the release out through the management program."""
    deployments = {name: registry.get_deployment(name) for name in names}
    reports = {name: check(spec, dep, allow_frozen_changes) for name, dep in deployments.items()}
    blocked = {name: r for name, r in reports.items() if r.blocked}
    if blocked:
        raise PreflightBlockedError(blocked_message(blocked))
    if not registry.has_release(release_id):
        registry.record_release(release_id, spec)
    inputs = {name: run_input(spec, dep, RunKind.RELEASE, release_id, state, backend, engine)
              for name, dep in deployments.items()}
    return rollout(registry, release_id, inputs, waves, parallel, halt_after_failures,
                   executor or ProcessExecutor(), on_progress=on_progress, rollout_id=rollout_id,
                   record=record_builder(spec, reports, deployments))


def run_each(runs: list[RunInput], parallel: int, executor: Executor | None = None) -> list[RunResult]:
    """Execute runs that keep no rollout state (previews, heartbeats)."""
    results: list[RunResult] = []

    def done(result: RunResult) -> None:
        results.append(result)

    (executor or ProcessExecutor()).run_all(runs, parallel, done)
    return results


def preview(spec: StackSpec, deployment: Deployment, state: Path, *, release_id: str = "preview",
            allow_frozen_changes: bool = False, backend: str | None = None, engine: str = "pulumi",
            executor: Executor | None = None) -> tuple[PreflightReport, RunResult]:
    report = check(spec, deployment, allow_frozen_changes)
    (result,) = run_each([run_input(spec, deployment, RunKind.PREVIEW, release_id, state, backend, engine)], 1,
                         executor)
    return report, result


def heartbeat(registry: Registry, names: Iterable[str], state: Path, *, parallel: int = 8,
              backend: str | None = None, engine: str = "pulumi",
              executor: Executor | None = None) -> dict[str, RunResult]:
    """Health of every resource of each deployment, checked as the management identity; recorded."""
    runs = []
    for name in names:
        dep = registry.get_deployment(name)
        record = deployed_record(dep)
        runs.append(run_input(record.spec, dep, RunKind.HEARTBEAT, f"heartbeat-{record.release}", state, backend,
                              engine))
    results = {r.deployment: r for r in run_each(runs, parallel, executor)}
    for name, result in results.items():
        registry.record_heartbeat(name, {"status": result.status.value, "error": result.error,
                                         "resources": result.health})
    return results
