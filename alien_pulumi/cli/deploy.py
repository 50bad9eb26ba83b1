"""``alien-deploy``: the customer admin's tool. Setup runs of the provisioning program with the admin's
own credentials; the permissions document to review before."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from alien_pulumi.automation.run import RunKind, RunResult, RunStatus
from alien_pulumi.cli.common import (
    EXIT_BLOCKED,
    ContextFlags,
    PlatformOpt,
    StackArg,
    context_for,
    handles_errors,
    load,
    out,
    with_context_flags,
)
from alien_pulumi.deploy.setup import SetupPlan, execute, plan_setup, write_record
from alien_pulumi.errors import AutomationError
from alien_pulumi.fleet.registry import state_dir
from alien_pulumi.model.types import Platform
from alien_pulumi.permissions import derive_plan, render_markdown

app = typer.Typer(
    name="alien-deploy",
    help="Set up a vendor's stack in your own cloud account with your own credentials.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

Backend = Annotated[str | None, typer.Option(help="Pulumi backend URL (default: a local file:// state directory).")]
StateDir = Annotated[Path | None, typer.Option("--state-dir", help="Where workspaces, state and records live.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking after the preview.")]
AllowFrozen = Annotated[bool, typer.Option("--allow-frozen-changes", help="Apply changes to frozen resources.")]
Engine = Annotated[str, typer.Option(hidden=True, help="Engine: pulumi, or simulated:<ms> for demonstrations.")]
WHAT_THE_VENDOR_NEEDS = {
    Platform.AWS: ("role_arn", "external_id"),
    Platform.GCP: ("service_account",),
    Platform.AZURE: ("client_id", "tenant_id", "principal_id"),
}


def _plan(stack: Path, platform: Platform, flags: ContextFlags, backend: str | None,
          state: Path | None, allow_frozen: bool, engine: str) -> SetupPlan:
    spec = load(stack)
    ctx = context_for(spec, platform, flags)
    plan = plan_setup(spec, ctx, state_dir(state), backend, allow_frozen, engine)
    if plan.report is not None and plan.report.findings:
        for finding in plan.report.findings:
            out.print(f"[{'red' if finding.blocks else 'yellow'}]{finding.code.value}[/] {finding.message}")
        if plan.report.blocked:
            out.print("[red]setup stopped:[/] these changes need --allow-frozen-changes or a fixed stack")
            raise typer.Exit(EXIT_BLOCKED)
    return plan


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
    stack: StackArg, platform: PlatformOpt, backend: Backend = None, state: StateDir = None,
    allow_frozen_changes: AllowFrozen = False, yes: Yes = False, engine: Engine = "pulumi", *,
    context_flags: ContextFlags,
) -> None:
    """Run setup: preview, confirm, apply; then print what the vendor needs and write the release record."""
    plan = _plan(stack, platform, context_flags, backend, state, allow_frozen_changes, engine)
    _summary("preview", execute(plan.run, RunKind.SETUP_PREVIEW, _progress))
    if not yes and not typer.confirm("Apply these changes with your credentials?", default=False):
        out.print("nothing applied")
        raise typer.Exit(1)
    result = execute(plan.run, RunKind.SETUP, _progress)
    _summary("setup", result)
    record = write_record(plan, result)
    identity = record.outputs.get("management_identity") or {}
    table = Table(title="what the vendor needs (send them the release record)")
    table.add_column("key")
    table.add_column("value")
    for key in WHAT_THE_VENDOR_NEEDS[platform]:
        table.add_row(key, str(identity.get(key, "-")))
    table.add_row("release record", str(plan.record_path))
    out.print(table)


@app.command()
@handles_errors
@with_context_flags
def preview(
    stack: StackArg, platform: PlatformOpt, backend: Backend = None, state: StateDir = None,
    allow_frozen_changes: AllowFrozen = False, engine: Engine = "pulumi", *, context_flags: ContextFlags,
) -> None:
    """Preview setup: what would be created or changed, nothing applied."""
    plan = _plan(stack, platform, context_flags, backend, state, allow_frozen_changes, engine)
    _summary("preview", execute(plan.run, RunKind.SETUP_PREVIEW, _progress))


@app.command()
@handles_errors
@with_context_flags
def permissions(stack: StackArg, platform: PlatformOpt, *, context_flags: ContextFlags) -> None:
    """The permissions document to review before setup: every layer, who holds it, what it allows."""
    spec = load(stack)
    ctx = context_for(spec, platform, context_flags)
    sys.stdout.write(render_markdown(derive_plan(spec, ctx)))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
