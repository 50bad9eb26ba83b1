"""``preflight`` (may this release roll out?) and ``diff`` (the pull-request report)."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from alien_pulumi.cli.common import EXIT_BLOCKED, JsonFlag, StackArg, load, out, print_json
from alien_pulumi.model.types import Platform
from alien_pulumi.preflight import Severity, load_deployed, preflight
from alien_pulumi.preflight.report import diff_json, diff_markdown

DeployedPath = Annotated[Path, typer.Option("--against", exists=True, dir_okay=False,
                                            help="What is deployed: a release record JSON or a stack file.")]
DeployedArg = Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                             help="What is deployed: a release record JSON or a stack file.")]
OptionalPlatform = Annotated[Platform | None, typer.Option("--platform", "-p", case_sensitive=False,
                                                           help="Check one cloud (default: every deployed one).")]
AllowFrozen = Annotated[bool, typer.Option("--allow-frozen-changes",
                                           help="Let frozen changes pass; they are reported as pending setup.")]
STYLE = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "dim"}


class Format(str, Enum):
    markdown = "markdown"
    json = "json"


def preflight_command(stack: StackArg, against: DeployedPath, platform: OptionalPlatform = None,
                      allow_frozen_changes: AllowFrozen = False, json_out: JsonFlag = False) -> None:
    """Check a release against what is deployed: exit 0 when it may roll out, 3 when a finding blocks it."""
    new = load(stack)
    report = preflight(new, load_deployed(against), platform, allow_frozen_changes)
    if json_out:
        print_json(report.to_json())
    else:
        table = Table(title=f"preflight {new.name}: {len(report.findings)} findings")
        for column in ("code", "severity", "blocks", "setup", "message"):
            table.add_column(column)
        for f in report.findings:
            style = STYLE[f.severity]
            table.add_row(f.code.value, f"[{style}]{f.severity.value}[/]", "yes" if f.blocks else "-",
                          "yes" if f.needs_setup else "-", f.message)
        out.print(table)
        verdict = "[red]blocked[/]" if report.blocked else "[green]may roll out[/]"
        out.print(f"release {verdict}" + (f"; {len(report.pending_setup)} change(s) pending setup"
                                          if report.pending_setup else ""))
    if report.blocked:
        raise typer.Exit(EXIT_BLOCKED)


def diff_command(
    deployed: DeployedArg,
    stack: StackArg,
    platform: Annotated[Platform, typer.Option("--platform", "-p", case_sensitive=False, help="Cloud.")],
    fmt: Annotated[Format, typer.Option("--format", "-f", help="markdown (PR comment) or json.")] = Format.markdown,
    allow_frozen_changes: AllowFrozen = False,
) -> None:
    """The pull-request report: what changes, which permissions, what needs the customer's admin."""
    new = load(stack)
    current = load_deployed(deployed)
    report = preflight(new, current, platform, allow_frozen_changes)
    if fmt is Format.json:
        print_json(diff_json(report, current, new))
    else:
        sys.stdout.write(diff_markdown(report, current, new))
