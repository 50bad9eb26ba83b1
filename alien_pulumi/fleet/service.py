"""The vendor's release service for one or many deployments: preflight each against its deployed record,
build the self-contained runs (targets from the program's own graph), execute them through an executor,
and keep the records in the registry."""

from __future__ import annotations

import dataclasses
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from alien_pulumi.automation.credentials import check_release_id, management_environment, management_role_arn
from alien_pulumi.automation.health import refresh_targets
from alien_pulumi.automation.run import RunInput, RunKind, RunResult
from alien_pulumi.deploy.request import build_request
from alien_pulumi.errors import AlienError, PreflightBlockedError
from alien_pulumi.fleet.executor import Executor, ProcessExecutor
from alien_pulumi.fleet.gate import gate_reason, health_problem
from alien_pulumi.fleet.registry import Deployment, Registry
from alien_pulumi.fleet.rollout import OnProgress, RecordBuilder, RolloutResult, rollout
from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.record import ReleaseRecord
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import Lifecycle, Platform
from alien_pulumi.model.validation import parse_spec
from alien_pulumi.permissions import derive_plan
from alien_pulumi.preflight import PreflightReport, from_record, preflight
from alien_pulumi.preflight.live import LiveClients, LiveResult, check_live, clients_from_environment
from alien_pulumi.synth import synth

CANONICAL = "alien-canonical"  # the stack name graphs are synthesized under, then renamed per deployment


class NotDeployedError(AlienError):
    """A deployment has no release record: the admin's setup has not been registered yet."""


class AwaitingSetupError(AlienError):
    """A deployment's release needs its admin's setup first: a setup request is recorded for it."""


_SYNTH = threading.Lock()  # Pulumi's mock runtime is process-wide: one synth at a time (workers use threads)


def _graph(spec_json: str, platform: Platform) -> tuple[list[str], dict[str, str]]:
    """Targets and heartbeat refresh targets of a spec on a platform. URNs differ between deployments only
    in the stack name, so one synth serves every deployment of a platform."""
    with _SYNTH:
        return _synth_graph(spec_json, platform)


@cache
def _synth_graph(spec_json: str, platform: Platform) -> tuple[list[str], dict[str, str]]:
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


def not_set_up_reason(deployment: Deployment) -> str:
    """Why a deployment has nothing to run on: its admin's setup record was never imported."""
    return (f"not set up: no setup record of {deployment.name} imported yet (once its admin has run the setup: "
            "alien-pulumi deployments add RECORD)")


def not_set_up(deployments: Mapping[str, Deployment]) -> dict[str, str]:
    """Those of ``deployments`` without a setup record yet, with the reason each."""
    return {name: not_set_up_reason(dep) for name, dep in deployments.items() if dep.record is None}


def split_set_up(registry: Registry, names: Iterable[str]) -> tuple[list[str], dict[str, str]]:
    """The deployments of ``names`` that have a release record (in order), and those not set up yet (the reason
    each): a fleet command runs the first and lists the others apart, never failing as a whole for them."""
    listed = list(names)
    absent = not_set_up({name: registry.get_deployment(name) for name in listed})
    return [name for name in listed if name not in absent], absent


def deployed_record(deployment: Deployment) -> ReleaseRecord:
    if deployment.record is None:
        raise NotDeployedError(f"deployment {deployment.name} has no release record: register the admin's setup "
                               "record with `alien-pulumi deployments add RECORD`")
    return deployment.record


def check(spec: StackSpec, deployment: Deployment, allow_frozen_changes: bool) -> PreflightReport:
    record = deployed_record(deployment)
    return preflight(spec, from_record(record), deployment.platform, allow_frozen_changes)


def live_clients(deployment: Deployment, scratch: Path, environ: Mapping[str, str] | None = None) -> LiveClients:
    """SDK clients signed in as the deployment's management identity (tests replace this one factory).
    ``scratch``: a private directory that lives as long as the clients (Azure's federated token file)."""
    env = management_environment(deployment.context, deployment.management, "preflight", deployment.name, scratch,
                                 environ)
    return clients_from_environment(deployment.platform, env)


def live_check(spec: StackSpec, deployment: Deployment, allow_frozen_changes: bool = False
               ) -> tuple[PreflightReport, LiveResult]:
    """Preflight against the deployed record, then ask the customer's cloud, as the management identity, whether
    it may do what this release does (DESIGN.md §5 ``--live``); its denials are blocking findings."""
    report = check(spec, deployment, allow_frozen_changes)
    if not deployment.management:
        raise NotDeployedError(f"deployment {deployment.name} has no management identity in the registry: add the "
                               "setup's release record (alien-pulumi deployments add RECORD)")
    plan = derive_plan(spec, deployment.context)
    role = management_role_arn(deployment.context, deployment.management) \
        if deployment.platform is Platform.AWS else None
    with tempfile.TemporaryDirectory(prefix="alien-live-") as scratch:
        result = check_live(plan, live_clients(deployment, Path(scratch)), role)
    identity = role or deployment.management.get("service_account") or deployment.management.get("client_id") \
        or plan.management.identity
    findings = result.findings(deployment.platform, identity)
    return dataclasses.replace(report, findings=(*report.findings, *findings)), result


def request_setup(registry: Registry, spec: StackSpec, deployment: Deployment, report: PreflightReport,
                  release_id: str) -> str:
    """Record the setup request of a release that awaits the admin's setup, built on the deployment's last setup
    record (the admin's tool checks it against its own); the reason its run waits."""
    request = build_request(report, deployed_record(deployment), registry.setup_record(deployment.name), spec,
                            release_id)
    entry = registry.record_setup_request(request)
    return (f"awaiting setup: setup request {entry.id} ({len(report.needs_setup)} change(s) only setup applies); "
            f"hand it to the admin: alien-pulumi setup-request -d {deployment.name} --out FILE")


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


def record_builder(spec: StackSpec, pending: dict[str, list[str]],
                   deployments: dict[str, Deployment]) -> RecordBuilder:
    """The release record after a succeeded release: permissions stay what setup created (releases never
    change identities), pending setup changes are carried, and so are the backend and secrets provider."""
    def build(run: RunInput, result: RunResult) -> ReleaseRecord:
        old = deployed_record(deployments[run.deployment])
        deployed = as_deployed(spec, old.spec)
        return ReleaseRecord(
            release=run.release, deployment=run.deployment, program="manage", context=old.context,
            spec=deployed, digest=deployed.digest(), frozen_digest=deployed.frozen_digest(),
            permissions=old.permissions, targets=run.targets,
            outputs={**old.outputs, **result.outputs}, operations=result.summary,
            pending_setup=sorted(set(old.pending_setup) | set(pending[run.deployment])),
            # Where the state is: the next release runs on it (without it, it would find no stack at all).
            backend=run.backend_url, secrets_provider=run.secrets_provider, versions=result.versions,
        )
    return build


def fingerprint(record: ReleaseRecord) -> str:
    """Which record a preflight was taken against: a worker finding the same one need not take it again."""
    return f"{record.release}@{record.created_at}:{record.digest}"


@dataclass(frozen=True)
class Prepared:
    inputs: dict[str, RunInput]
    build: RecordBuilder
    checked: dict[str, tuple[str, list[str]]]  # deployment -> (fingerprint of the record checked, pending setup)
    awaiting: dict[str, str] = field(default_factory=dict)  # deployment -> why it waits (its setup request)
    not_set_up: dict[str, str] = field(default_factory=dict)  # deployment without a setup record -> the reason


def prepare(registry: Registry, spec: StackSpec, names: Iterable[str], release_id: str, state: Path, *,
            allow_frozen_changes: bool = False, backend: str | None = None, engine: str = "pulumi") -> Prepared:
    """Preflight every deployment (a blocking finding setup cannot apply stops everything before a run starts),
    record the release, record a setup request for each deployment that awaits its admin's setup, and build the
    runs of a rollout with the builder of their records. A deployment not set up yet (no setup record) has no run:
    it is listed in ``not_set_up``, and the others go on."""
    check_release_id(release_id)
    everyone = {name: registry.get_deployment(name) for name in names}
    absent = not_set_up(everyone)
    deployments = {name: dep for name, dep in everyone.items() if name not in absent}
    reports = {name: check(spec, dep, allow_frozen_changes) for name, dep in deployments.items()}
    blocked = {name: r for name, r in reports.items() if r.blocked and not r.awaits_setup}
    if blocked:
        raise PreflightBlockedError(blocked_message(blocked))
    if not registry.has_release(release_id):
        registry.record_release(release_id, spec)
    awaiting = {name: request_setup(registry, spec, deployments[name], report, release_id)
                for name, report in reports.items() if report.awaits_setup}
    inputs = {name: run_input(spec, dep, RunKind.RELEASE, release_id, state, backend, engine)
              for name, dep in deployments.items()}
    pending = {name: [f.message for f in report.pending_setup] for name, report in reports.items()}
    checked = {name: (fingerprint(deployed_record(dep)), pending[name]) for name, dep in deployments.items()}
    return Prepared(inputs, record_builder(spec, pending, deployments), checked, awaiting, absent)


def release(registry: Registry, spec: StackSpec, names: Iterable[str], release_id: str, state: Path, *,
            waves: str | None = None, parallel: int = 8, halt_after_failures: int | None = None,
            executor: Executor | None = None, allow_frozen_changes: bool = False, backend: str | None = None,
            engine: str = "pulumi", on_progress: OnProgress | None = None,
            rollout_id: str | None = None, health_gate: bool = False) -> RolloutResult:
    """Preflight every deployment, then roll the release out through the management program; with
    ``health_gate``, each wave's deployments are heartbeaten after it and an unhealthy one halts the rollout."""
    prepared = prepare(registry, spec, names, release_id, state, allow_frozen_changes=allow_frozen_changes,
                       backend=backend, engine=engine)
    runner = executor or ProcessExecutor()

    def gate(wave: int, members: list[str]) -> str | None:
        # The rollout has already halted on members removed or not set up (rollout._gate); no answer is no positive one.
        results = heartbeat(registry, members, state, parallel=parallel, backend=backend, engine=engine,
                            executor=runner)
        problems = [(name, problem) for name in members if (problem := health_problem(results.get(name))) is not None]
        return gate_reason(wave, problems)

    return rollout(registry, release_id, prepared.inputs, waves, parallel, halt_after_failures, runner,
                   on_progress=on_progress, rollout_id=rollout_id, record=prepared.build,
                   gate=gate if health_gate else None, awaiting=prepared.awaiting, not_set_up=prepared.not_set_up)


def release_run(registry: Registry, release_id: str, name: str, state: Path, *, allow_frozen_changes: bool = False,
                backend: str | None = None, engine: str = "pulumi",
                checked: tuple[str, list[str]] | None = None) -> tuple[RunInput, RecordBuilder]:
    """One deployment's run of a recorded release, as a remote worker builds it from the registry alone.
    ``checked`` is what the release service's preflight found ((record fingerprint, pending setup)): it stands
    while the deployment still runs that record; otherwise the preflight is taken again against what it runs
    now (AwaitingSetupError if it now needs the admin's setup: its setup request is recorded)."""
    spec = registry.get_release(release_id).spec
    deployment = registry.get_deployment(name)
    if checked is not None and deployment.record is not None and fingerprint(deployment.record) == checked[0]:
        run = run_input(spec, deployment, RunKind.RELEASE, release_id, state, backend, engine)
        return run, record_builder(spec, {name: checked[1]}, {name: deployment})
    prepared = prepare(registry, spec, [name], release_id, state, allow_frozen_changes=allow_frozen_changes,
                       backend=backend, engine=engine)
    if name in prepared.not_set_up:
        raise NotDeployedError(prepared.not_set_up[name])
    if name in prepared.awaiting:
        raise AwaitingSetupError(prepared.awaiting[name])
    return prepared.inputs[name], prepared.build


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
