"""``alien-deploy``: the customer admin's tool. Setup runs of the provisioning program with the admin's
own credentials; the permissions document to review before. It reads the vendor's spec artifacts and never
imports or runs a Python stack file (DESIGN.md §1a)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from alien_pulumi.automation.run import RunKind, RunResult, RunStatus
from alien_pulumi.cli.common import (
    EXIT_BLOCKED,
    EXIT_DECLINED,
    EXIT_FAILED,
    ContextFlags,
    JsonFlag,
    UsageError,
    check_platform,
    context_for,
    example_banner,
    handles_errors,
    out,
    print_json,
    run,
    version_option,
    with_context_flags,
)
from alien_pulumi.cli.request_cmd import review_command, show_review
from alien_pulumi.deploy.access import from_bundle as access_from_bundle
from alien_pulumi.deploy.access import from_record as access_from_record
from alien_pulumi.deploy.bundle import SetupBundle
from alien_pulumi.deploy.handoff import import_record
from alien_pulumi.deploy.request import (
    SetupRequest,
    SetupRequestError,
    VerifiedRequest,
    read_request,
    read_setup_record,
    verify_request,
)
from alien_pulumi.deploy.revocation import NOT_STOPPED, Revocation, TrustSource, mark_records, trust_source
from alien_pulumi.deploy.revocation import restore as restore_access
from alien_pulumi.deploy.revocation import revoke as revoke_access
from alien_pulumi.deploy.setup import (
    SetupPlan,
    config_lines,
    execute,
    external_backend,
    keep_record,
    plan_setup,
    read_outputs,
    record_path,
    resolve_state,
    revocation_in_force,
    write_record,
)
from alien_pulumi.deploy.setup_copy import keeps_copy, last_setup
from alien_pulumi.deploy.state_store import StateStore, StateStoreError, store_urls
from alien_pulumi.errors import AutomationError
from alien_pulumi.fleet.registry import state_dir
from alien_pulumi.model.artifact import read_artifact, require_pinned
from alien_pulumi.model.context import DeploymentContext, field_name, refuse_past_access
from alien_pulumi.model.deployment_name import check_deployment_name
from alien_pulumi.model.record import ReleaseRecord, RequestAnswer
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import Platform
from alien_pulumi.permissions import derive_plan, render_markdown
from alien_pulumi.preflight.findings import Code, Finding

app = typer.Typer(
    name="alien-deploy",
    help="Set up a vendor's stack in your own cloud account with your own credentials.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

Backend = Annotated[str | None, typer.Option(help="A Pulumi backend to use instead of the deployment's state store "
                                                "(default: the store, bootstrapped in your cloud).")]
SecretsProvider = Annotated[str | None, typer.Option("--secrets-provider",
                                                     help="With --backend: awskms://, gcpkms://, azurekeyvault://")]
StateDir = Annotated[Path | None, typer.Option("--state-dir", help="Where workspaces, state and records live.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking after the preview.")]
AllowExternal = Annotated[bool, typer.Option("--allow-external-backend", help="Accept a backend (from the bundle or "
                                             "--backend) outside the state store in your cloud.")]
BUNDLE_BACKEND = "the vendor's bundle (backend)"  # how a refusal names the backend the vendor chose
AllowFrozen = Annotated[bool, typer.Option("--allow-frozen-changes", help="Apply changes to frozen resources.")]
Engine = Annotated[str, typer.Option(hidden=True, help="Engine: pulumi, or simulated:<ms> for demonstrations.")]
WHAT_THE_VENDOR_NEEDS = {
    Platform.AWS: ("role_arn", "external_id"),
    Platform.GCP: ("service_account",),
    Platform.AZURE: ("client_id", "tenant_id", "principal_id"),
}


version_option(app, "alien-deploy")
BundleOpt = Annotated[Path | None, typer.Option("--bundle", exists=True, dir_okay=False,
                                                help="The setup bundle from the vendor (flags override it).")]
MaybePlatform = Annotated[Platform | None, typer.Option("--platform", "-p", case_sensitive=False,
                                                        help="Target cloud (default: the bundle's).")]
ARTIFACT_HELP = "The vendor's spec artifact (NAME.spec.json, from `alien-pulumi build`); never a Python file."
SpecArg = Annotated[Path, typer.Argument(dir_okay=False, metavar="SPEC", help=ARTIFACT_HELP)]
MaybeSpec = Annotated[Path | None, typer.Argument(dir_okay=False, metavar="SPEC", help=ARTIFACT_HELP +
                                                  " None with --request: it holds the stack.")]
RequestOpt = Annotated[Path | None, typer.Option("--request", exists=True, dir_okay=False,
                                                 help="The vendor's setup request: apply exactly its stack.")]


def setup_context(stack: Path | StackSpec, bundle_file: Path | None, platform: Platform | None,
                  flags: ContextFlags, *, pinned: bool = True
                  ) -> tuple[StackSpec, DeploymentContext, SetupBundle | None]:
    """The real context of setup: the bundle's facts, each flag given overriding it (shown), or flags alone.
    ``stack``: a spec artifact, or a setup request's stack, verified (with ``pinned``, every image a digest: what a
    setup deploys). An access window already over is refused here, before the state store exists."""
    if isinstance(stack, StackSpec):
        spec = stack
        if pinned:
            require_pinned(spec, "the setup request's stack")
    else:
        spec = read_artifact(stack, pinned=pinned).spec
    if bundle_file is None:
        if platform is None:
            raise UsageError("give the vendor's setup bundle (--bundle FILE) or the platform (-p) and every "
                             "context flag")
        ctx = context_for(spec, platform, flags)
        refuse_past_access(ctx, "flag")
        return spec, ctx, None
    bundle = SetupBundle.read(bundle_file)
    if platform is not None and platform is not bundle.platform:
        raise UsageError(f"the bundle is for {bundle.platform.value}, not {platform.value}")
    check_platform(spec, bundle.platform)
    ctx = bundle.to_context(spec.name, flags)
    for field, (was, now) in bundle.overridden(flags, ctx).items():
        out.print(f"[yellow]{field_name(field, 'flag')} overrides the bundle:[/] {was} -> {now}")
    refuse_past_access(ctx, "flag")
    return spec, ctx, bundle


def _store(ctx: DeploymentContext, bundle: SetupBundle | None, backend: str | None, secrets: str | None,
           create: bool, allow_external: bool) -> StateStore:
    named_by = "--backend" if backend else BUNDLE_BACKEND
    store = resolve_state(ctx, backend or (bundle.backend if bundle else None), secrets, create=create,
                          allow_external=allow_external, named_by=named_by)
    if external_backend(ctx, store.backend_url):
        out.print(f"[yellow]state outside your cloud:[/] {store.backend_url} ({named_by}; accepted with "
                  "--allow-external-backend)")
    for what in store.created:
        out.print(f"[green]state store:[/] created {what}")
    for what in store.kept:
        out.print(f"state store: {what} exists, kept")
    out.print(f"state: {store.backend_url} · secrets: {store.secrets_provider}")
    if store.backend_url.startswith("file:"):
        out.print("[yellow]local state (file://): for tests and demonstrations only; the vendor cannot release on "
                  "it[/]")
    return store


def _plan(stack: Path | VerifiedRequest, bundle_file: Path | None, platform: Platform | None, flags: ContextFlags,
          backend: str | None, secrets: str | None, state: Path | None, allow_frozen: bool, engine: str,
          create: bool, allow_external: bool) -> SetupPlan:
    """``stack``: a spec artifact, or a verified setup request, whose stack is applied as it is: its frozen changes
    (computed against the admin's own last setup record) are the ones the admin allows by applying it (any other
    stops setup)."""
    request = stack if isinstance(stack, VerifiedRequest) else None
    spec, ctx, bundle = setup_context(stack.spec if isinstance(stack, VerifiedRequest) else stack, bundle_file,
                                      platform, flags)
    if request is not None:
        _check_request(request.request, bundle.deployment if bundle else ctx.prefix, ctx)
    store = _store(ctx, bundle, backend, secrets, create, allow_external)
    allowed = allow_frozen or bool(request and request.review.frozen_changes)
    plan = plan_setup(spec, ctx, state_dir(state), store, allowed, engine,
                      deployment=bundle.deployment if bundle else None)
    if plan.baseline.record is not None:
        out.print(f"state checked against the setup record {plan.baseline.source} (release "
                  f"{plan.baseline.record.release})")
    if plan.run.context.revoked_at:
        out.print(f"[yellow]the vendor's access is revoked since {plan.run.context.revoked_at}:[/] this setup keeps "
                  "it revoked (alien-deploy restore gives it back)")
    if plan.report is not None and plan.report.findings:
        listed = {(c.resource, c.field) for c in request.review.frozen_changes} if request else None
        stopping = [f for f in plan.report.findings if f in plan.report.blocks_setup or (
            listed is not None and f.code is Code.FROZEN_CHANGED and (f.resource, f.field) not in listed)]
        for finding in plan.report.findings:
            out.print(f"[{'red' if finding in stopping else 'yellow'}]{finding.code.value}[/] {finding.message}")
        if stopping:
            hint = (_blocked_hint(stopping, allow_frozen) if listed is None else
                    "the setup request does not list these changes: ask the vendor for a request against your "
                    "last setup")
            out.print(f"[red]setup stopped:[/] {hint}")
            raise typer.Exit(EXIT_BLOCKED)
    return plan


def _check_request(request: SetupRequest, deployment: str, ctx: DeploymentContext) -> None:
    """A request is applied to the deployment it was written for, before anything is created."""
    if request.deployment != deployment or request.platform is not ctx.platform:
        raise SetupRequestError(f"setup request {request.id} is for deployment {request.deployment} "
                                f"({request.platform.value}), not {deployment} ({ctx.platform.value}): nothing was "
                                "applied")


def _blocked_hint(findings: Sequence[Finding], allow_frozen: bool) -> str:
    """What lets setup go on: the flag only helps frozen changes; anything else the flag cannot apply (a removed
    frozen resource stays protected and retained) needs the stack fixed, so it is never offered there."""
    if not allow_frozen and all(f.code is Code.FROZEN_CHANGED for f in findings if f.blocks):
        return "these changes need --allow-frozen-changes or a fixed stack"
    return "setup cannot apply these changes (frozen resources are protected and retained): fix the stack"


def _progress(line: str) -> None:
    style = "green" if line.startswith("[live]") else "cyan" if line.startswith("[frozen]") else "red"
    out.print(f"[{style}]{escape(line)}[/]", markup=True, highlight=False)


def _summary(title: str, result: RunResult) -> None:
    counts = ", ".join(f"{n} {op}" for op, n in sorted(result.summary.items())) or "no changes"
    out.print(f"[bold]{title}:[/] {counts}")
    if result.status is not RunStatus.SUCCEEDED:
        raise AutomationError(result.error or f"{title} failed")


@app.command()
@handles_errors
@with_context_flags
def up(
    stack: MaybeSpec = None, bundle: BundleOpt = None, request: RequestOpt = None, platform: MaybePlatform = None,
    backend: Backend = None, secrets_provider: SecretsProvider = None, state: StateDir = None,
    allow_frozen_changes: AllowFrozen = False, yes: Yes = False, allow_external_backend: AllowExternal = False,
    engine: Engine = "pulumi", *, context_flags: ContextFlags,
) -> None:
    """Run setup: bootstrap the state store, preview, confirm, apply; then write the setup record. With
    --request, the stack of the vendor's setup request (its digest checked), shown for review first."""
    if (stack is None) == (request is None):
        raise UsageError("give the spec artifact, or --request FILE (the vendor's setup request, which holds the "
                         "stack)")
    verified = None
    if request is not None:  # reviewed as computed against the admin's own last setup record, never as stated
        stated = read_request(request)
        verified = verify_request(stated, _request_baseline(stated, bundle, context_flags, backend, state, engine))
        show_review(verified, out)
    setup_request = verified.request if verified is not None else None
    source = verified or stack
    assert source is not None  # one of them, checked above
    plan = _plan(source, bundle, platform, context_flags, backend, secrets_provider, state, allow_frozen_changes,
                 engine, create=True, allow_external=allow_external_backend)
    previewed = execute(plan.run, RunKind.SETUP_PREVIEW, _progress)
    _summary("preview", previewed)
    if not yes and not typer.confirm("Apply these changes with your credentials?", default=False):
        out.print("nothing applied")
        raise typer.Exit(EXIT_DECLINED)
    reviewed = None if yes else datetime.now(timezone.utc).isoformat(timespec="seconds")
    result = execute(plan.run, RunKind.SETUP, _progress, previewed=previewed)
    _summary("setup", result)
    answer = RequestAnswer(id=setup_request.id, digest=setup_request.digest, reviewed_at=reviewed) \
        if setup_request is not None else None
    record = write_record(plan, result, answer)
    _keep(plan, record)
    if setup_request is not None:
        out.print(f"setup request {setup_request.id} applied (release {setup_request.release}): once the vendor "
                  "imports the record (alien-pulumi deployments add), the release goes on")
    identity = record.outputs.get("management_identity") or {}
    table = Table(title="what the vendor needs (send them the release record)")
    table.add_column("key")
    table.add_column("value")
    for key in WHAT_THE_VENDOR_NEEDS[plan.run.context.platform]:
        table.add_row(key, str(identity.get(key, "-")))
    table.add_row("release record", str(plan.record_path))
    out.print(table)


def _request_baseline(stated: SetupRequest, bundle_file: Path | None, flags: ContextFlags, backend: str | None,
                      state: Path | None, engine: str) -> ReleaseRecord:
    """The admin's last setup record a request is verified against: the later of the local record and, with the
    bundle, the copy kept in the deployment's store (a fresh machine, a CI runner, has only the copy)."""
    local = record_path(state_dir(state), stated.deployment)
    if bundle_file is not None:
        setup_bundle = SetupBundle.read(bundle_file)
        ctx = setup_bundle.to_context(stated.spec().name, flags)
        url = backend or setup_bundle.backend or store_urls(ctx)[0]
        baseline = last_setup(ctx, local, cloud=keeps_copy(ctx, StateStore(url, ""), engine))
        if baseline.record is not None:
            return baseline.record
    return read_setup_record(local)


app.command("review")(handles_errors(review_command))


@app.command()
@handles_errors
@with_context_flags
def preview(
    stack: SpecArg, bundle: BundleOpt = None, platform: MaybePlatform = None, backend: Backend = None,
    secrets_provider: SecretsProvider = None, state: StateDir = None, allow_frozen_changes: AllowFrozen = False,
    allow_external_backend: AllowExternal = False, engine: Engine = "pulumi", *, context_flags: ContextFlags,
) -> None:
    """Preview setup on the deployment's state store (nothing created: run `bootstrap` first), nothing applied."""
    plan = _plan(stack, bundle, platform, context_flags, backend, secrets_provider, state, allow_frozen_changes,
                 engine, create=False, allow_external=allow_external_backend)
    _summary("preview", execute(plan.run, RunKind.SETUP_PREVIEW, _progress))


@app.command()
@handles_errors
@with_context_flags
def bootstrap(
    bundle: Annotated[Path, typer.Option("--bundle", exists=True, dir_okay=False, help="The vendor's setup bundle.")],
    stack: Annotated[Path, typer.Option("--spec", dir_okay=False, help="The vendor's spec artifact the program "
                                        "deploys (alien:stack).")],
    allow_external_backend: AllowExternal = False, *, context_flags: ContextFlags,
) -> None:
    """Create the state store alone (idempotent) and print what to run for a plain `pulumi up`."""
    _spec, ctx, setup_bundle = setup_context(stack, bundle, None, context_flags)
    store = _store(ctx, setup_bundle, None, None, create=True, allow_external=allow_external_backend)
    # A revocation in force goes into the config too, so that a plain `pulumi up` keeps it.
    ctx = ctx.model_copy(update={"revoked_at": revocation_in_force(ctx, None, store, "pulumi")})
    out.print("\n[bold]then, in the project directory:[/]")
    for line in [*store.login_lines(ctx.prefix), *config_lines(ctx, stack)]:
        out.print(f"  {line}", markup=False, highlight=False)
    out.print("  pulumi up")
    out.print(f"  alien-deploy record {stack} --bundle {bundle}")


@app.command()
@handles_errors
@with_context_flags
def record(
    stack: SpecArg, bundle: Annotated[Path, typer.Option("--bundle", exists=True, dir_okay=False,
                                                          help="The vendor's setup bundle.")],
    state: StateDir = None, allow_external_backend: AllowExternal = False, engine: Engine = "pulumi", *,
    context_flags: ContextFlags,
) -> None:
    """Write the setup record from the stack a plain `pulumi up` set up on the state store."""
    spec, ctx, setup_bundle = setup_context(stack, bundle, None, context_flags)
    store = resolve_state(ctx, setup_bundle.backend if setup_bundle else None, None, create=False,
                          allow_external=allow_external_backend, named_by=BUNDLE_BACKEND)
    plan = plan_setup(spec, ctx, state_dir(state), store, True, engine,
                      deployment=setup_bundle.deployment if setup_bundle else None)
    written = write_record(plan, read_outputs(plan.run))
    out.print(f"setup record {plan.record_path} written (release {written.release}); send it to the vendor")
    _keep(plan, written)


def _keep(plan: SetupPlan, record: ReleaseRecord) -> None:
    """The record's copy in the store: a setup from any machine checks the state against it. A failure is said
    plainly, never hidden: the setup itself is applied and the local record written."""
    try:
        kept = keep_record(plan, record)
    except StateStoreError as exc:
        out.print(f"[red]setup record not kept in your cloud:[/] {exc}. The local record {plan.record_path} is the "
                  "only baseline: run the next setup from this machine, or run `alien-deploy record` to keep it")
        raise typer.Exit(EXIT_FAILED) from None
    if kept:
        out.print(f"setup record kept at {kept} (the management identity cannot write there)")


@app.command()
@handles_errors
@with_context_flags
def permissions(stack: SpecArg, bundle: BundleOpt = None, platform: MaybePlatform = None, *,
                context_flags: ContextFlags) -> None:
    """The permissions document to review before setup: every layer, who holds it, what it allows. With the
    bundle, the deployment's own; without it, an example context fills what the flags do not give. An artifact
    built with --no-resolve may be reviewed; setup refuses it."""
    external = None
    if bundle is not None:
        spec, ctx, setup_bundle = setup_context(stack, bundle, platform, context_flags, pinned=False)
        external = external_backend(ctx, setup_bundle.backend if setup_bundle else None)
    else:
        spec = read_artifact(stack).spec
        if platform is None:
            raise UsageError("give the vendor's setup bundle (--bundle FILE) or the platform (-p)")
        ctx = context_for(spec, platform, context_flags, offline=True)
    sys.stdout.write(example_banner(ctx.example) + render_markdown(derive_plan(spec, ctx), external_backend=external))


@app.command()
@handles_errors
def access(
    record: Annotated[Path | None, typer.Option("--record", dir_okay=False, help="A setup record: what its setup "
                                                "created.")] = None,
    bundle: Annotated[Path | None, typer.Option("--bundle", dir_okay=False, help="A setup bundle: what a setup "
                                                "with it will create.")] = None,
    json_out: JsonFlag = False,
) -> None:
    """What trust is in force for the vendor: its principal, the external id, and the access window with how
    your cloud enforces it (or no expiry)."""
    if (record is None) == (bundle is None):
        raise UsageError("give the setup record (--record FILE) or the setup bundle (--bundle FILE), one of them")
    path = record or bundle
    assert path is not None
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    found = access_from_record(import_record(path)) if record else access_from_bundle(SetupBundle.read(path))
    if json_out:
        print_json(found.to_json())
        return
    table = Table(title=f"vendor access to {found.deployment} ({found.platform}, from the {found.source})")
    table.add_column("")
    table.add_column("in force")
    table.add_row("vendor principal", found.principal)
    if found.issuer:
        table.add_row("vendor OIDC issuer", found.issuer)
    table.add_row("acts as", found.management_identity)
    table.add_row("external id", found.external_id)
    table.add_row("access until", (found.access_until or "no expiry") + (" (over)" if found.expired else ""))
    table.add_row("enforced by", found.enforced_by)
    if found.revoked_at:
        table.add_row("revoked", f"since {found.revoked_at} (alien-deploy restore gives it back)")
    out.print(table)


RecordOpt = Annotated[Path | None, typer.Option("--record", dir_okay=False, help="The deployment's setup record.")]
BundleSource = Annotated[Path | None, typer.Option("--bundle", dir_okay=False, help="The deployment's setup bundle.")]
DeploymentOpt = Annotated[str | None, typer.Option("--deployment", "-d", help="The deployment whose setup record is "
                                                   "in --state-dir.")]


def _trust_source(record: Path | None, bundle: Path | None, deployment: str | None, state: Path | None
                  ) -> tuple[TrustSource, list[Path]]:
    if sum(x is not None for x in (record, bundle, deployment)) != 1:
        raise UsageError("give the setup record (--record FILE), the setup bundle (--bundle FILE) or the deployment "
                         "(-d NAME, its record in --state-dir): one of them")
    for path in (record, bundle):
        if path is not None and not path.is_file():
            raise UsageError(f"{path}: no such file")
    if deployment is not None:
        check_deployment_name(deployment, "--deployment")  # it names a file of the state directory
    return trust_source(state_dir(state), record=record, bundle=bundle, deployment=deployment)


def _show_trust(result: Revocation, updated: list[Path], json_out: bool) -> None:
    if json_out:
        print_json({**result.to_json(), "records_updated": [str(p) for p in updated]})
        return
    for step in result.steps:
        out.print(f"[green]done:[/] {escape(step)}")
    if not result.trust_changed:
        out.print(f"{result.deployment}: access already {result.state}"
                  + (f" (since {result.revoked_at})" if result.revoked_at else "")
                  + ("" if result.changed else "; nothing was changed in the cloud"))
    elif result.state == "revoked":
        out.print(f"[bold]{result.deployment}: the vendor's access is revoked since {result.revoked_at}[/]; "
                  f"{result.issued}. Every setup keeps it revoked until `alien-deploy restore`.")
    else:
        out.print(f"[bold]{result.deployment}: the vendor's access is restored[/] as setup creates it "
                  "(alien-deploy access shows it)")
    if result.runtime:
        running = result.state == "revoked" and any(c.state == NOT_STOPPED for c in result.compute or [])
        out.print(f"[yellow]{escape(result.runtime)}[/]" if running or result.compute is None else
                  escape(result.runtime))
    for path in updated:
        out.print(f"setup record {path} updated")


Stop = Annotated[bool, typer.Option("--stop", help="Also stop every live compute of the deployment (its containers "
                                    "and functions whose lifecycle is live) with your credentials: ECS desired count "
                                    "0 and Lambda reserved concurrency 0; Cloud Run manual scaling to 0 instances; "
                                    "Azure Container Apps stopped and their jobs suspended. Each is marked "
                                    "(alien-stopped-at), and `alien-deploy restore` starts exactly those again. "
                                    "Needs the setup record (--record or -d): its stack names the computes. A "
                                    "deployment without live compute: access is revoked all the same and the output "
                                    "says there was nothing to stop (exit 0).")]


@app.command()
@handles_errors
def revoke(record: RecordOpt = None, bundle: BundleSource = None, deployment: DeploymentOpt = None,
           state: StateDir = None, stop: Stop = False, json_out: JsonFlag = False) -> None:
    """Revoke the vendor's access now, with your credentials: no new credentials, and those already issued
    stopped where your cloud allows it. Every later setup keeps it revoked until `alien-deploy restore`.
    Revoking changes the trust only: code already running in the live computes keeps its runtime access (the
    output names them) unless --stop stops them too. Exit 2 when it is refused (bad input, or your cloud refused
    a call: the message says whether anything was changed and which steps were done; running it again completes
    them)."""
    source, paths = _trust_source(record, bundle, deployment, state)
    result = revoke_access(source.deployment, source.context, source.outputs, stop=stop, spec=source.spec)
    _show_trust(result, mark_records(paths, result.revoked_at), json_out)  # also one revoked elsewhere


@app.command()
@handles_errors
def restore(record: RecordOpt = None, bundle: BundleSource = None, deployment: DeploymentOpt = None,
            state: StateDir = None, json_out: JsonFlag = False) -> None:
    """Give the vendor back the access setup creates (its access window included), after `alien-deploy revoke`,
    and start again the live computes `revoke --stop` stopped (only those). What is put back is derived from the
    setup record's stack and context; a record whose permissions disagree with them is refused (exit 2, nothing
    changed)."""
    source, paths = _trust_source(record, bundle, deployment, state)
    result = restore_access(source.deployment, source.context, source.outputs, spec=source.spec,
                            recorded=source.recorded)
    _show_trust(result, mark_records(paths, None), json_out)


def main() -> None:
    sys.exit(run(app))


if __name__ == "__main__":
    main()
