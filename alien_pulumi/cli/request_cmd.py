"""Setup requests on both sides: the vendor writes a deployment's open request (``alien-pulumi setup-request``),
the admin reviews it (``alien-deploy review``) before applying it (``alien-deploy up --request``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from alien_pulumi.cli.common import JsonFlag, UsageError, out
from alien_pulumi.deploy.request import SetupRequest, read_request, review_markdown, review_rows
from alien_pulumi.fleet.registry import Registry, state_dir

RequestFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The vendor's setup request JSON.")]


def setup_request_command(
    deployment: Annotated[str, typer.Option("--deployment", "-d", help="Deployment name in the registry.")],
    out_file: Annotated[Path | None, typer.Option("--out", dir_okay=False,
                                                  help="Write it here (default: JSON on stdout).")] = None,
    state: Annotated[Path | None, typer.Option("--state-dir", help="Registry, workspaces and local state.")] = None,
) -> None:
    """Write the deployment's open setup request (versioned JSON) for its admin to review and apply."""
    with Registry(state_dir(state)) as registry:
        entry = registry.open_setup_request(deployment)
    if out_file is None:
        sys.stdout.write(entry.request.to_json())
        return
    entry.request.write(out_file)
    out.print(f"setup request {entry.id} of {deployment} (release {entry.release_id}) written to {out_file}: give it "
              f"to the customer's admin (alien-deploy review {out_file.name}; alien-deploy up --request "
              f"{out_file.name} --bundle BUNDLE)")


def review_command(
    request_file: RequestFile,
    markdown: Annotated[bool, typer.Option("--markdown", help="Markdown, for a ticket.")] = False,
    json_out: JsonFlag = False,
) -> None:
    """Show what a setup request changes: permissions per identity (grants first), frozen changes, resources."""
    if markdown and json_out:
        raise UsageError("give --markdown or --json, not both")
    request = read_request(request_file)
    if json_out:
        sys.stdout.write(json.dumps(request.model_dump(mode="json", exclude={"stack"}), indent=2) + "\n")
    elif markdown:
        sys.stdout.write(review_markdown(request))
    else:
        show_review(request, out)


def show_review(request: SetupRequest, console: Console) -> None:
    """The request as tables, like `cdk diff`'s security changes: + grants (broadening) first, - revocations."""
    console.print(f"[bold]setup request {request.id}[/]: deployment {request.deployment} ({request.platform.value}), "
                  f"release {request.release} (deployed: {request.deployed.release}); stack digest {request.digest}")
    permissions = Table(title="permission changes (+ granted first, - revoked)")
    for column in ("", "identity", "action", "resource (and condition)"):
        permissions.add_column(column, overflow="fold")
    for sign, identity, action, resource, condition in review_rows(request):
        colour = "green" if sign == "+" else "red"
        # A condition is rare and long: under its resource, so that resources are read whole.
        where = escape(resource) + (f"\n  if {escape(condition)}" if condition else "")
        permissions.add_row(f"[{colour}]{sign}[/]", escape(identity), escape(action), where)
    console.print(permissions if request.permissions else "permission changes: none")
    if request.frozen_changes:
        frozen = Table(title="frozen changes")
        for column in ("resource", "field", "old", "new"):
            frozen.add_column(column)
        for change in request.frozen_changes:
            frozen.add_row(*map(escape, (change.resource, change.field, json.dumps(change.old),
                                         json.dumps(change.new))))
        console.print(frozen)
    else:
        console.print("frozen changes: none")
    if request.resources:
        resources = Table(title="resources")
        for column in ("resource", "type", "lifecycle", "change"):
            resources.add_column(column)
        for res in request.resources:
            resources.add_row(*map(escape, (res.resource, res.type, res.lifecycle, res.change)))
        console.print(resources)
    console.print("why:")
    for reason in request.reasons:
        console.print(f"  - {reason}", markup=False)
