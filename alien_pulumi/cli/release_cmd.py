"""The vendor's release service commands: deployments, release, preview, heartbeat, rollout, worker.

``--temporal HOST:PORT`` (or ALIEN_PULUMI_TEMPORAL_ADDRESS) runs rollouts and heartbeats on Temporal workers
instead of local processes; the output, JSON and exit codes are the same."""

from __future__ import annotations

import contextlib
import json
import re
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from alien_pulumi.automation.digests import Resolver, pin_images
from alien_pulumi.automation.run import RunKind, RunResult, RunStatus
from alien_pulumi.cli.common import (
    EXIT_BLOCKED,
    EXIT_DECLINED,
    EXIT_FAILED,
    EXIT_REVOKED,
    ContextFlags,
    JsonFlag,
    PlatformOpt,
    UsageError,
    err,
    handles_errors,
    out,
    print_json,
    with_context_flags,
)
from alien_pulumi.cli.stack_files import StackArg, load
from alien_pulumi.deploy import handoff
from alien_pulumi.deploy.bundle import SetupBundle, new_bundle
from alien_pulumi.fleet import service
from alien_pulumi.fleet.gate import health_problem
from alien_pulumi.fleet.progress import RolloutProgress, render_result
from alien_pulumi.fleet.registry import Deployment, Heartbeat, Registry, RunState, SetupRequestStatus, state_dir
from alien_pulumi.fleet.rollout import RolloutResult
from alien_pulumi.model.spec import StackSpec

if TYPE_CHECKING:
    from alien_pulumi.fleet.temporal.client import TemporalSettings
    from alien_pulumi.fleet.temporal.types import HealthOutcome

StateDir = Annotated[Path | None, typer.Option("--state-dir", help="Registry, workspaces and local state.")]
Backend = Annotated[str | None, typer.Option(help="Override the backend of the deployment's setup record (which "
                                                "every run uses by default).")]
Engine = Annotated[str, typer.Option(hidden=True, help="pulumi, or simulated:<ms> for demonstrations.")]
ReleaseId = Annotated[str | None, typer.Option("--release-id", help="Release id (default: a timestamp).")]
AllowFrozen = Annotated[bool, typer.Option("--allow-frozen-changes",
                                           help="Let frozen changes pass; they stay pending setup.")]
DeploymentName = Annotated[str, typer.Option("--deployment", "-d", help="Deployment name in the registry.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
NoResolve = Annotated[bool, typer.Option("--no-resolve", help="Deploy image tags as written (offline runs): "
                                                           "no digest is resolved or recorded.")]
# Temporal: imported only when used (the local executor needs no server and no SDK start-up).
Temporal = Annotated[str | None, typer.Option("--temporal", envvar="ALIEN_PULUMI_TEMPORAL_ADDRESS",
                                              help="Temporal frontend HOST:PORT: run on Temporal workers.")]
Namespace = Annotated[str, typer.Option("--namespace", envvar="ALIEN_PULUMI_TEMPORAL_NAMESPACE",
                                        help="Temporal namespace.")]
TaskQueue = Annotated[str, typer.Option("--task-queue", envvar="ALIEN_PULUMI_TEMPORAL_TASK_QUEUE",
                                        help="Temporal task queue the workers poll.")]

deployments_app = typer.Typer(help="The registry of customer deployments.", no_args_is_help=True)


def _registry(state: Path | None) -> tuple[Registry, Path]:
    root = state_dir(state)
    return Registry(root), root


def _pinned(spec: StackSpec, registry: Registry, names: list[str], no_resolve: bool) -> StackSpec:
    """The release's spec with every compute image pinned to its digest, frozen ones too (before any run starts: a
    tag that does not resolve stops the release here; a frozen pin unlike the deployed one is a frozen change)."""
    if no_resolve:
        return spec
    contexts = [registry.get_deployment(name).context for name in names]
    targets = sorted({(c.platform, c.region) for c in contexts}, key=lambda t: (t[0].value, t[1]))
    pinned, changes = pin_images(spec, targets, Resolver())
    for change in changes:
        err.print(f"image {change}")
    return pinned


def _temporal(address: str | None, namespace: str, task_queue: str) -> TemporalSettings | None:
    if address is None:
        return None
    from alien_pulumi.fleet.temporal.client import TemporalSettings

    return TemporalSettings(address, namespace, task_queue)


def _every(text: str) -> timedelta:
    match = re.fullmatch(r"\s*(\d+)\s*([smhd])\s*", text)
    if not match or int(match[1]) == 0:
        raise UsageError(f"--every {text!r}: give a duration such as 30s, 15m, 1h or 1d")
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[match[2]]
    return timedelta(**{unit: int(match[1])})


def _release_id(given: str | None) -> str:
    return given or datetime.now(timezone.utc).strftime("r%Y%m%dT%H%M%SZ")


@deployments_app.command("new")
@handles_errors
@with_context_flags
def deployments_new(
    name: Annotated[str, typer.Argument(help="The deployment's name in the registry (default prefix).")],
    platform: PlatformOpt,
    out_file: Annotated[Path | None, typer.Option("--out", dir_okay=False,
                                                  help="Write the setup bundle here (default <name>.bundle.json).")
                        ] = None,
    backend: Annotated[str | None, typer.Option(help="A backend you run instead of the customer's state store "
                                                     "(e.g. https://api.pulumi.com).")] = None,
    state: StateDir = None, json_out: JsonFlag = False, *, context_flags: ContextFlags,
) -> None:
    """Register a deployment (awaiting setup) and write the setup bundle for the customer's admin."""
    bundle, ctx = new_bundle(name, platform, context_flags, backend=backend)
    registry, _ = _registry(state)
    registered = registry.register_deployment(name, ctx, bundle.model_dump(mode="json"))
    bundle = SetupBundle.model_validate(registered.bundle)  # the registered one: re-registering keeps its id
    path = out_file or Path(f"{name}.bundle.json")
    bundle.write(path)
    if json_out:
        print_json({**_deployment_json(registered), "bundle_file": str(path)})
        return
    out.print(f"deployment {name} ({platform.value} {ctx.scope_id}, region {ctx.region}, prefix {ctx.prefix}) "
              f"registered, awaiting setup")
    out.print(f"setup bundle: {path} (give it to the customer's admin: alien-deploy up STACK --bundle {path.name})")


@deployments_app.command("add")
@handles_errors
def deployments_add(
    record: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The setup's release record JSON.")],
    state: StateDir = None, json_out: JsonFlag = False,
) -> None:
    """Import the setup record the admin's setup wrote into its registered deployment. Refused, the registry
    unchanged: a record on local state (file://), one whose stack is not the one its digests name, one of a newer
    record version than this tool reads."""
    imported = handoff.vendor_record(record)  # checked before the registry is even opened
    registry, _ = _registry(state)
    added = registry.add_deployment(imported, registered=True)
    if json_out:
        print_json(_deployment_json(added))
        return
    out.print(f"deployment {added.name} ({added.platform.value}, prefix {added.context.prefix}) imported: "
              f"release {added.record.release if added.record else '-'}")
    answer = imported.setup_request
    entry = next((r for r in registry.setup_requests(added.name) if answer and r.id == answer.id), None)
    if entry is not None and entry.status is SetupRequestStatus.APPLIED:
        out.print(f"setup request {entry.id} applied: release {entry.release_id} can go on "
                  f"(alien-pulumi release STACK -d {added.name} --release-id {entry.release_id})")
    elif entry is not None:
        err.print(f"[yellow]warning:[/] the record names setup request {entry.id}, but it is {entry.status.value}: "
                  "the record's stack is not the request's")


@deployments_app.command("show")
@handles_errors
def deployments_show(name: Annotated[str, typer.Argument(help="Deployment name.")], state: StateDir = None,
                     json_out: JsonFlag = False,
                     record: Annotated[bool, typer.Option("--record", help="Print the deployment's release record "
                                                          "(what is deployed), e.g. > deployed/release.json for "
                                                          "the pull-request check.")] = False) -> None:
    """One deployment: state, facts, management identity, backend, deployed release."""
    registry, _ = _registry(state)
    deployment = registry.get_deployment(name)
    if record:
        if deployment.record is None:
            raise UsageError(f"deployment {name} has no release record yet (it awaits its first setup): nothing is "
                             "deployed to compare with")
        sys.stdout.write(deployment.record.model_dump_json(indent=2) + "\n")
        return
    data = _deployment_json(deployment, registry.revoked_since(name))
    if json_out:
        print_json(data)
        return
    table = Table(title=f"deployment {name}", show_header=False)
    table.add_column("key")
    table.add_column("value")
    for key, value in data.items():
        if isinstance(value, dict):
            for sub, item in value.items():
                table.add_row(f"{key}.{sub}", str(item))
        else:
            table.add_row(key, str(value if value is not None else "-"))
    out.print(table)


@deployments_app.command("remove")
@handles_errors
def deployments_remove(name: Annotated[str, typer.Argument(help="Deployment name.")], yes: Yes = False,
                       state: StateDir = None, json_out: JsonFlag = False) -> None:
    """Forget a deployment (its cloud resources stay; releases to it stop). Asks unless --yes."""
    registry, _ = _registry(state)
    registry.get_deployment(name)
    if not yes and not typer.confirm(f"Remove deployment {name} from the registry?", default=False, err=True):
        declined(json_out, f"deployment {name} kept")
    registry.remove_deployment(name)
    if json_out:
        print_json({"removed": name})
    else:
        out.print(f"deployment {name} removed from the registry")


def declined(json_out: bool, message: str) -> None:
    """A declined confirmation: its own exit code, and one JSON document with --json."""
    if json_out:
        print_json({"error": {"code": "DECLINED", "message": message, "exit_code": EXIT_DECLINED}})
    else:
        out.print(message)
    raise typer.Exit(EXIT_DECLINED)


def _deployment_json(dep: Deployment, revoked: dict[str, str] | None = None) -> dict[str, object]:
    """``revoked``: Registry.revoked_since; a deployment whose latest run was refused as revoked is ``revoked``."""
    record = dep.record
    revoked = revoked or {}
    return {
        "name": dep.name, "platform": dep.platform.value,
        "state": RunState.REVOKED.value if dep.name in revoked else dep.state.value,
        "revoked_since": revoked.get(dep.name),
        "context": dep.context.facts(),
        "management": dep.management,
        "backend": record.backend if record else (dep.bundle or {}).get("backend"),
        "secrets_provider": record.secrets_provider if record else None,
        "release": record.release if record else None,
        "setup_request": dep.open_request,
        "updated_at": dep.updated_at,
    }


@deployments_app.command("list")
@handles_errors
def deployments_list(state: StateDir = None, json_out: JsonFlag = False) -> None:
    """Every deployment: platform, prefix, deployed release, last heartbeat."""
    registry, _ = _registry(state)
    beats = registry.latest_heartbeats()
    revoked = registry.revoked_since()
    rows = [{
        "name": d.name, "platform": d.platform.value, "prefix": d.context.prefix,
        "release": d.record.release if d.record else None,
        "heartbeat": beats[d.name].checked_at if d.name in beats else None,
        "state": RunState.REVOKED.value if d.name in revoked else d.state.value, "revoked_since": revoked.get(d.name),
    } for d in registry.list_deployments()]
    if json_out:
        print_json(rows)
        return
    table = Table(title="deployments")
    columns = ("name", "platform", "prefix", "release", "heartbeat", "state")
    for column in columns:
        table.add_column(column)
    for row in rows:
        since = f" since {row['revoked_since']}" if row["revoked_since"] else ""
        table.add_row(*(str(row[c] or "-") for c in columns[:-1]), f"{row['state']}{since}")
    out.print(table)


# Operations that leave a resource as it was; the others are listed as what the release did to it.
UNCHANGED = {"same", "read", "refresh"}
DONE = {"create": "created", "update": "updated", "delete": "deleted", "discard": "discarded", "import": "imported"}


def _changes(registry: Registry, result: RolloutResult) -> dict[str, dict[str, str]]:
    """Per deployment, what its release run changed: URN -> the run record's operation (a replacement once, as
    ``replaced``: automation/events.py)."""
    found: dict[str, dict[str, str]] = {}
    for run in registry.runs(rollout_id=result.rollout_id):
        if run.kind is RunKind.RELEASE and run.result is not None:
            found[run.deployment] = {urn: op for urn, op in sorted(run.result.operations.items())
                                     if op not in UNCHANGED}
    return found


def _finish(result: RolloutResult, json_out: bool, *, awaiting_blocks: bool = False,
            changes: dict[str, dict[str, str]] | None = None) -> None:
    """The result, and its exit code: a failed run fails the command (4); ``awaiting_blocks``: so does a deployment
    awaiting its admin's setup (3) or revoked (6) (a one-deployment release), which a rollout counts apart instead,
    as it does deployments not set up yet (exit 0 when nothing else went wrong). JSON: ``status`` is the
    rollout's, ``outcome`` says ``failed`` when it completed with a failed run. ``changes`` (a release): what each
    deployment's run did to the resources it changed, ``changes`` in JSON (URN -> operation), a line each in text."""
    if json_out:
        print_json({
            "rollout": result.rollout_id, "release": result.release_id, "status": result.status.value,
            "outcome": result.outcome, "counts": result.counts,
            "deployments": {n: {"status": o.status.value, "wave": o.wave, "attempts": o.attempts, "error": o.error,
                                **({"changes": changes.get(n, {})} if changes is not None else {})}
                            for n, o in result.deployments.items()},
        })
    else:
        render_result(result, out)
        for name, done in (changes or {}).items():
            if done:
                listed = sorted((DONE.get(op, op), urn.rsplit("::", 1)[-1]) for urn, op in done.items())
                out.print(f"{name}: " + "; ".join(f"{op} {resource}" for op, resource in listed))
    if not result.ok:
        raise typer.Exit(EXIT_FAILED)
    if awaiting_blocks and result.counts.get(RunState.AWAITING_SETUP.value):
        raise typer.Exit(EXIT_BLOCKED)
    revoked = [n for n, o in result.deployments.items() if o.status is RunState.REVOKED]
    if awaiting_blocks and revoked:
        err.print(f"{', '.join(revoked)}: revoked: the customer's cloud refused the management identity (access "
                  "revoked or its window over: alien-deploy access on their side shows which); not retried, release "
                  "again after their admin runs alien-deploy restore")
        raise typer.Exit(EXIT_REVOKED)


def release_command(
    stack: StackArg, deployment: DeploymentName, release_id: ReleaseId = None,
    allow_frozen_changes: AllowFrozen = False, state: StateDir = None, backend: Backend = None,
    engine: Engine = "pulumi", json_out: JsonFlag = False, no_resolve: NoResolve = False,
) -> None:
    """Release to one deployment: image digests, preflight, management credentials, targeted management run,
    record."""
    registry, root = _registry(state)
    service.deployed_record(registry.get_deployment(deployment))  # not set up: one clear error, nothing recorded
    spec = _pinned(load(stack), registry, [deployment], no_resolve)
    result = service.release(registry, spec, [deployment], _release_id(release_id), root, parallel=1,
                             allow_frozen_changes=allow_frozen_changes, backend=backend, engine=engine)
    _finish(result, json_out, awaiting_blocks=True, changes=_changes(registry, result))


def preview_command(
    stack: StackArg, deployment: DeploymentName, allow_frozen_changes: AllowFrozen = False,
    state: StateDir = None, backend: Backend = None, engine: Engine = "pulumi", json_out: JsonFlag = False,
    no_resolve: NoResolve = False,
) -> None:
    """The release as a preview, as the management identity (for pull requests where credentials exist). Exit 4
    when the preview failed, 6 when the customer's cloud refused it as revoked, else 3 when preflight blocks."""
    registry, root = _registry(state)
    spec = _pinned(load(stack), registry, [deployment], no_resolve)
    report, result = service.preview(spec, registry.get_deployment(deployment), root,
                                     allow_frozen_changes=allow_frozen_changes, backend=backend, engine=engine)
    if json_out:
        print_json({"preflight": report.to_json(), "preview": json.loads(result.model_dump_json())})
    else:
        for finding in report.findings:
            out.print(f"{finding.code.value}: {finding.message}")
        counts = ", ".join(f"{n} {op}" for op, n in sorted(result.summary.items())) or "no changes"
        out.print(f"preview of {deployment}: {result.status.value}: {counts}" +
                  (f" ({result.error})" if result.error else ""))
    if result.status is RunStatus.REVOKED:
        raise typer.Exit(EXIT_REVOKED)
    if result.status is not RunStatus.SUCCEEDED:
        raise typer.Exit(EXIT_FAILED)
    if report.blocked:
        raise typer.Exit(EXIT_BLOCKED)


def heartbeat_command(
    deployment: Annotated[str | None, typer.Option("--deployment", "-d", help="One deployment.")] = None,
    all_deployments: Annotated[bool, typer.Option("--all", help="Every registered deployment.")] = False,
    parallel: Annotated[int, typer.Option(min=1, help="Deployments checked at once.")] = 8,
    every: Annotated[str | None, typer.Option(help="With --temporal --all: a Temporal schedule heartbeating the "
                                                   "fleet this often (30s, 15m, 1h...).")] = None,
    temporal: Temporal = None, namespace: Namespace = "default", task_queue: TaskQueue = "alien-pulumi",
    state: StateDir = None, backend: Backend = None, engine: Engine = "pulumi", json_out: JsonFlag = False,
) -> None:
    """Health of every resource (present, drifted with fields, missing), as the management identity. With --all,
    deployments not set up yet are listed apart and the others checked. Exit 4 if any heartbeat failed; one
    deployment's heartbeat refused as revoked exits 6 (with --all, revoked ones are listed, not failures)."""
    if (deployment is None) == (not all_deployments):
        raise UsageError("name one deployment with --deployment, or use --all")
    settings = _temporal(temporal, namespace, task_queue)
    registry, root = _registry(state)
    if every is not None:
        if settings is None or not all_deployments:
            raise UsageError("--every schedules the whole fleet on Temporal: give it with --all and --temporal")
        from alien_pulumi.fleet.temporal import client

        schedule = client.schedule_heartbeats(_every(every), settings, parallel=parallel, engine=engine,
                                              backend=backend)
        if json_out:
            print_json({"schedule": schedule, "every": every, "temporal": settings.address})
        else:
            out.print(f"schedule {schedule} heartbeats every deployment every {every} on {settings.address}")
        return
    # One named deployment not set up is an error (exit 2, from the heartbeat); the fleet lists them apart.
    names, absent = ([deployment], {}) if deployment else \
        service.split_set_up(registry, [d.name for d in registry.list_deployments()])
    if settings is not None and names:
        from alien_pulumi.fleet.temporal import client

        outcomes = {o.deployment: o for o in client.heartbeat(names, settings, parallel=parallel, engine=engine,
                                                              backend=backend)}
        beats = registry.latest_heartbeats()  # each recorded by its activity, on whichever worker
        results = {n: _recorded_beat(n, beats.get(n), outcomes.get(n)) for n in names}
    elif names:
        results = service.heartbeat(registry, names, root, parallel=parallel, backend=backend, engine=engine)
    else:
        results = {}
    failed = [n for n, r in results.items() if r.status not in (RunStatus.SUCCEEDED, RunStatus.REVOKED)]
    revoked = [n for n, r in results.items() if r.status is RunStatus.REVOKED]
    if json_out:
        print_json({**{name: {"status": r.status.value, "error": r.error, "resources": r.health}
                       for name, r in results.items()},
                    **{name: {"status": RunState.NOT_SET_UP.value, "error": why, "resources": {}}
                       for name, why in absent.items()}})
    else:
        _heartbeat_table(registry, results, absent)
    if failed:
        err.print(f"heartbeat failed for {len(failed)} of {len(results)} deployment(s): {', '.join(failed)}")
        raise typer.Exit(EXIT_FAILED)
    if deployment is not None and revoked:
        err.print(f"{deployment}: revoked: the customer's cloud refused the management identity (access revoked or "
                  "its window over: alien-deploy access on their side shows which)")
        raise typer.Exit(EXIT_REVOKED)


def _recorded_beat(name: str, beat: Heartbeat | None, outcome: HealthOutcome | None) -> RunResult:
    """A heartbeat a Temporal worker recorded, as a run result; none recorded (its activity gave up, or found the
    deployment gone) is a failed one, with the activity's reason."""
    failed = RunResult(run_id=f"heartbeat-{name}", deployment=name, kind=RunKind.HEARTBEAT, status=RunStatus.FAILED,
                       error=(outcome.problem if outcome else None) or "no heartbeat was recorded by the workers")
    if beat is None:
        return failed
    result = RunResult(run_id=f"heartbeat-{name}", deployment=name, kind=RunKind.HEARTBEAT,
                       status=RunStatus(beat.health["status"]), error=beat.health.get("error"),
                       health=beat.health.get("resources", {}))
    # An unhealthy outcome over a healthy recorded heartbeat: that one is an earlier heartbeat's, this one gave up.
    return failed if outcome is not None and not outcome.healthy and health_problem(result) is None else result


def _heartbeat_table(registry: Registry, results: dict[str, RunResult], absent: dict[str, str]) -> None:
    table = Table(title="heartbeat")
    for column in ("deployment", "resource", "lifecycle", "health", "fields"):
        table.add_column(column)
    for name, result in results.items():
        record = registry.get_deployment(name).record
        lifecycles = {r.id: r.lifecycle.value for r in record.spec.resources} if record else {}
        if result.status is not RunStatus.SUCCEEDED or result.error:
            style = "blue" if result.status is RunStatus.REVOKED else "red"
            table.add_row(name, "-", "-", f"[{style}]{result.status.value}[/]", result.error or "-")
        for rid, health in sorted(result.health.items()):
            style = {"present": "green", "unknown": "magenta", "drifted": "yellow", "missing": "red"}[health["state"]]
            table.add_row(name, rid, lifecycles.get(rid, "-"), f"[{style}]{health['state']}[/]",
                          ", ".join(health["fields"]) or "-")
    for name in absent:
        table.add_row(name, "-", "-", "[magenta]not set up[/]", "-")
    out.print(table)
    if absent:
        out.print(f"{len(absent)} not set up (no setup record imported yet; not checked): {', '.join(absent)}")


def rollout_command(
    stack: Annotated[Path | None, typer.Argument(exists=True, dir_okay=False, help="Stack file (not needed to "
                                                 "attach to, cancel or show a Temporal rollout).")] = None,
    deployments_file: Annotated[Path | None, typer.Option("--deployments", exists=True, dir_okay=False,
                                                          help="File with one deployment name per line.")] = None,
    all_deployments: Annotated[bool, typer.Option("--all", help="Every registered deployment of the stack's "
                                                                "platforms.")] = False,
    parallel: Annotated[int, typer.Option(min=1, help="Deployments released at once.")] = 8,
    waves: Annotated[str | None, typer.Option(help="Cumulative wave sizes, e.g. 1,10,100%.")] = None,
    halt_after_failures: Annotated[int | None, typer.Option(min=1, help="Halt when this many failed.")] = None,
    health_gate: Annotated[bool, typer.Option("--health-gate", help="After each wave, heartbeat its deployments; "
                                                                    "halt if any is unhealthy.")]
    = False,
    resume: Annotated[str | None, typer.Option(help="Resume this unfinished rollout id (with --temporal: attach "
                                                    "to its workflow).")] = None,
    cancel: Annotated[str | None, typer.Option(help="With --temporal: cancel this rollout (no new run starts; "
                                                    "runs in flight end and are recorded).")] = None,
    status: Annotated[str | None, typer.Option(help="Show this rollout's result as recorded so far.")] = None,
    temporal: Temporal = None, namespace: Namespace = "default", task_queue: TaskQueue = "alien-pulumi",
    release_id: ReleaseId = None, allow_frozen_changes: AllowFrozen = False, state: StateDir = None,
    backend: Backend = None, engine: Engine = "pulumi", yes: Yes = False, json_out: JsonFlag = False,
    no_resolve: NoResolve = False,
) -> None:
    """Release to many deployments in waves, N at once, halting after K failures; resumable."""
    settings = _temporal(temporal, namespace, task_queue)
    registry, root = _registry(state)
    if status is not None:
        from alien_pulumi.fleet.rollout import summarize

        _finish(summarize(registry, status, 0.0, 0, True), json_out)
        return
    if cancel is not None:
        if settings is None:
            raise UsageError("--cancel stops a rollout on Temporal: give --temporal HOST:PORT (a local rollout "
                             "stops with its process)")
        from alien_pulumi.fleet.temporal import client

        registry.get_rollout(cancel)
        client.cancel(cancel, settings)
        out.print(f"rollout {cancel}: cancellation requested; runs in flight finish and are recorded")
        return
    progress = RolloutProgress(out) if not json_out else None
    if settings is not None and resume is not None:
        from alien_pulumi.fleet.temporal import client

        with progress if progress else contextlib.nullcontext():
            result = client.follow(registry, resume, settings, on_progress=progress)
        _finish(result, json_out)
        return
    if stack is None:
        raise UsageError("give the stack file")
    if (deployments_file is None) == (not all_deployments):
        raise UsageError("give --deployments FILE or --all")
    if settings is not None:
        from alien_pulumi.fleet.temporal import client

        client.check(settings)  # an unreachable server fails here, before the release is even recorded
    spec = load(stack)
    if deployments_file is not None:
        names = [ln.strip() for ln in deployments_file.read_text().splitlines()
                 if ln.strip() and not ln.startswith("#")]
    else:
        names = [d.name for d in registry.list_deployments() if d.platform in spec.platforms]
    spec = _pinned(spec, registry, names, no_resolve)
    release = release_id or (registry.get_rollout(resume).release_id if resume else _release_id(None))
    if all_deployments and not yes and not resume and not typer.confirm(
            f"Release {spec.name} to all {len(names)} deployments?", default=False, err=True):
        declined(json_out, "nothing released")
    with progress if progress else contextlib.nullcontext():
        if settings is not None:
            prepared = service.prepare(registry, spec, names, release, root,
                                       allow_frozen_changes=allow_frozen_changes, backend=backend, engine=engine)
            result = client.rollout(registry, release, prepared, settings, waves=waves, parallel=parallel,
                                    halt_after_failures=halt_after_failures, health_gate=health_gate,
                                    allow_frozen_changes=allow_frozen_changes, engine=engine, backend=backend,
                                    on_progress=progress)
        else:
            result = service.release(
                registry, spec, names, release, root, waves=waves, parallel=parallel,
                halt_after_failures=halt_after_failures, allow_frozen_changes=allow_frozen_changes,
                backend=backend, engine=engine, on_progress=progress, rollout_id=resume, health_gate=health_gate)
    _finish(result, json_out)


def worker_command(
    temporal: Annotated[str, typer.Option("--temporal", envvar="ALIEN_PULUMI_TEMPORAL_ADDRESS",
                                          help="Temporal frontend HOST:PORT.")],
    namespace: Namespace = "default", task_queue: TaskQueue = "alien-pulumi",
    parallel: Annotated[int, typer.Option(min=1, help="Runs this worker executes at once.")] = 4,
    executor: Annotated[str, typer.Option(hidden=True, help="process, or in-process (simulated engines only).")]
    = "process",
    state: StateDir = None,
) -> None:
    """A Temporal worker: runs rollouts' deployments and heartbeats, each run in its own process. Start any
    number, on machines sharing the release service's registry (its --state-dir: the registry is SQLite)."""
    from alien_pulumi.fleet.temporal import worker
    from alien_pulumi.fleet.temporal.activities import EXECUTORS

    if executor not in EXECUTORS:
        raise UsageError(f"--executor {executor!r}: one of {', '.join(EXECUTORS)}")
    settings = _temporal(temporal, namespace, task_queue)
    assert settings is not None
    worker.run(settings, state_dir(state), parallel, executor,
               on_ready=f"worker polling {settings.task_queue} on {settings.address} ({settings.namespace})")
