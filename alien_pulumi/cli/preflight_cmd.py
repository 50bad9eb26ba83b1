"""``preflight`` (may this release roll out?) and ``diff`` (the pull-request report)."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from alien_pulumi.cli.common import EXIT_BLOCKED, JsonFlag, UsageError, example_banner, note_example, out, print_json
from alien_pulumi.cli.release_cmd import StateDir
from alien_pulumi.cli.stack_files import StackArg, load, load_deployed
from alien_pulumi.fleet import service
from alien_pulumi.fleet.registry import Registry, state_dir
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import Platform
from alien_pulumi.preflight import PreflightReport, Severity, from_record, preflight
from alien_pulumi.preflight.deployed import Deployed
from alien_pulumi.preflight.live import LiveResult
from alien_pulumi.preflight.report import diff_json, diff_markdown

DeployedPath = Annotated[Path, typer.Option("--against", exists=True, dir_okay=False,
                                            help="What is deployed: a release record JSON or a stack file.")]
AgainstOpt = Annotated[Path | None, typer.Option("--against", exists=True, dir_okay=False,
                                                 help="What is deployed: a release record JSON or a stack file.")]
DeploymentOpt = Annotated[str | None, typer.Option("--deployment", "-d", help="Check against this deployment's "
                                                   "record in the registry instead of --against.")]
Live = Annotated[bool, typer.Option("--live", help="With -d: ask the customer's cloud, as the management identity, "
                                                   "whether it may do what this release does.")]
OptionalPlatform = Annotated[Platform | None, typer.Option("--platform", "-p", case_sensitive=False,
                                                           help="Check one cloud (default: every deployed one).")]
AllowFrozen = Annotated[bool, typer.Option("--allow-frozen-changes",
                                           help="Let frozen changes pass; they are reported as pending setup.")]
STYLE = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "dim"}


class Format(str, Enum):
    markdown = "markdown"
    json = "json"


def _not_deployed(deployed: Deployed, platform: Platform | None, json_out: bool) -> bool:
    """A cloud the deployed record does not hold: reported as not deployed (nothing to compare), exit 0."""
    if platform is None or platform in deployed.contexts:
        return False
    held = ", ".join(p.value for p in deployed.contexts) or "none"
    if json_out:
        print_json({"platform": platform.value, "deployed": False, "deployed_platforms": sorted(
            p.value for p in deployed.contexts), "blocked": False, "findings": []})
    else:
        out.print(f"not deployed on {platform.value} (the deployed record holds: {held}): nothing to check")
    return True


def _example(deployed: Deployed) -> bool:
    return any(ctx.example for ctx in deployed.contexts.values())


def _against_deployment(spec: StackSpec, name: str, platform: Platform | None, allow_frozen_changes: bool,
                        live: bool, state: Path | None) -> tuple[PreflightReport, Deployed, LiveResult | None]:
    """Preflight against a registered deployment's record; with ``live``, also as its management identity."""
    deployment = Registry(state_dir(state)).get_deployment(name)
    if platform is not None and platform is not deployment.platform:
        raise UsageError(f"deployment {name} is on {deployment.platform.value}, not {platform.value}")
    deployed = from_record(service.deployed_record(deployment))
    if live:
        report, result = service.live_check(spec, deployment, allow_frozen_changes)
        return report, deployed, result
    return service.check(spec, deployment, allow_frozen_changes), deployed, None


def preflight_command(stack: StackArg, against: AgainstOpt = None, deployment: DeploymentOpt = None,
                      live: Live = False, platform: OptionalPlatform = None,
                      allow_frozen_changes: AllowFrozen = False, state: StateDir = None,
                      json_out: JsonFlag = False) -> None:
    """Check a release against what is deployed (--against FILE, or -d NAME from the registry; --live asks the
    customer's cloud too): exit 0 when it may roll out, 3 when a finding blocks it."""
    if (against is None) == (deployment is None):
        raise UsageError("give what is deployed: --against FILE or --deployment NAME (one of them)")
    if live and deployment is None:
        raise UsageError("--live asks a registered deployment's cloud: give --deployment NAME")
    new = load(stack)
    result: LiveResult | None = None
    if deployment is not None:
        report, deployed, result = _against_deployment(new, deployment, platform, allow_frozen_changes, live, state)
    else:
        assert against is not None
        deployed = load_deployed(against)
        if _not_deployed(deployed, platform, json_out):
            return
        report = preflight(new, deployed, platform, allow_frozen_changes)
    extra: dict[str, object] = {} if deployment is None else {"deployment": deployment}
    if result is not None:
        extra["live"] = result.to_json()
    if json_out:
        print_json({**report.to_json(), **extra, "example_context": _example(deployed)})
    else:
        note_example(_example(deployed))
        table = Table(title=f"preflight {new.name}: {len(report.findings)} findings")
        for column in ("code", "severity", "blocks", "setup", "message"):
            table.add_column(column)
        for f in report.findings:
            style = STYLE[f.severity]
            table.add_row(f.code.value, f"[{style}]{f.severity.value}[/]", "yes" if f.blocks else "-",
                          "yes" if f.needs_setup else "-", f.message)
        out.print(table)
        if result is not None:
            out.print(f"live: {result.to_json()['checked']} permission(s) checked as the management identity of "
                      f"{deployment} in {result.calls} call(s), {len(result.denials)} denied, "
                      f"{len(result.unchecked)} not checkable")
        verdict = "[red]blocked[/]" if report.blocked else "[green]may roll out[/]"
        out.print(f"release {verdict}" + (f"; {len(report.pending_setup)} change(s) pending setup"
                                          if report.pending_setup else ""))
    if report.blocked:
        raise typer.Exit(EXIT_BLOCKED)


def diff_command(
    stack: StackArg,
    against: DeployedPath,
    platform: Annotated[Platform, typer.Option("--platform", "-p", case_sensitive=False, help="Cloud.")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="markdown (PR comment) or json.")] = Format.markdown,
    allow_frozen_changes: AllowFrozen = False, json_out: JsonFlag = False,
) -> None:
    """The pull-request report: what changes, which permissions, what needs the customer's admin."""
    new = load(stack)
    current = load_deployed(against)
    as_json = json_out or fmt is Format.json
    if _not_deployed(current, platform, as_json):
        return
    report = preflight(new, current, platform, allow_frozen_changes)
    if as_json:
        print_json({**diff_json(report, current, new), "example_context": _example(current)})
    else:
        marker, _, body = diff_markdown(report, current, new).partition("\n")  # the marker stays first
        sys.stdout.write(f"{marker}\n{example_banner(_example(current))}{body}")
