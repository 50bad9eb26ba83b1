"""Setup requests on both sides: the vendor writes a deployment's open request (``alien-pulumi setup-request``),
the admin reviews it (``alien-deploy review``) before applying it (``alien-deploy up --request``). What the admin
sees is computed by alien-deploy against their own last setup record (``verify_request``), never the request's word."""

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
from alien_pulumi.deploy.request import (
    VerifiedRequest,
    read_request,
    read_setup_record,
    review_json,
    review_markdown,
    review_rows,
    verify_request,
)
from alien_pulumi.deploy.setup import record_path
from alien_pulumi.fleet.registry import Registry, state_dir

RequestFile = Annotated[Path, typer.Argument(exists=True, dir_okay=False, metavar="REQUEST",
                                                    help="The vendor's setup request JSON.")]
SetupRecordOpt = Annotated[Path | None, typer.Option("--record", dir_okay=False,
                                                    help="Your last setup record (the JSON alien-deploy up wrote).")]
AdminStateDir = Annotated[Path | None, typer.Option("--state-dir", help="Where alien-deploy keeps your setup records "
                                                    "(records/<deployment>.json); without --record, its default.")]


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
    record: SetupRecordOpt = None,
    state: AdminStateDir = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="Markdown, for a ticket.")] = False,
    json_out: JsonFlag = False,
) -> None:
    """Show what a setup request changes, computed against your last setup record: permissions per identity (grants
    first), frozen changes, resources; the vendor's reasons as its explanation. A request that states anything else,
    is for another deployment, was built on another setup or was already applied is refused."""
    if markdown and json_out:
        raise UsageError("give --markdown or --json, not both")
    if record is not None and state is not None:
        raise UsageError("give --record or --state-dir, not both")
    request = read_request(request_file)
    verified = verify_request(request, read_setup_record(record or record_path(state_dir(state), request.deployment)))
    if json_out:
        sys.stdout.write(json.dumps(review_json(verified), indent=2) + "\n")
    elif markdown:
        sys.stdout.write(review_markdown(verified))
    else:
        show_review(verified, out)


def show_review(verified: VerifiedRequest, console: Console) -> None:
    """A verified request's computed review as tables, like `cdk diff`'s security changes: + grants (broadening)
    first, - revocations; then frozen changes, resources, and the vendor's explanation, marked as not checked."""
    request, review, setup = verified.request, verified.review, verified.setup
    # The request's words are the vendor's: escaped, so that none of them can restyle or hide what is shown.
    console.print(f"[bold]setup request {escape(request.id)}[/]: deployment {escape(request.deployment)} "
                  f"({request.platform.value}), release {escape(request.release)}; stack digest "
                  f"{escape(request.digest)}")
    console.print(f"computed by alien-deploy from its stack and your last setup record {setup.release} (digest "
                  f"{setup.digest[:12]}); the request states the same", markup=False)
    rows = review_rows(review)
    permissions = Table(title="permission changes (+ granted first, - revoked)")
    for column in ("", "identity", "action", "resource (and condition)"):
        permissions.add_column(column, overflow="fold")
    for sign, identity, action, resource, condition in rows:
        colour = "green" if sign == "+" else "red"
        # A condition is rare and long: under its resource, so that resources are read whole.
        where = escape(resource) + (f"\n  if {escape(condition)}" if condition else "")
        permissions.add_row(f"[{colour}]{sign}[/]", escape(identity), escape(action), where)
    console.print(permissions if rows else "permission changes: none")
    if review.frozen_changes:
        frozen = Table(title="frozen changes")
        for column in ("resource", "field", "old", "new"):
            frozen.add_column(column)
        for change in review.frozen_changes:
            frozen.add_row(*map(escape, (change.resource, change.field, json.dumps(change.old),
                                         json.dumps(change.new))))
        console.print(frozen)
    else:
        console.print("frozen changes: none")
    if review.resources:
        resources = Table(title="resources")
        for column in ("resource", "type", "lifecycle", "change"):
            resources.add_column(column)
        for res in review.resources:
            resources.add_row(*map(escape, (res.resource, res.type, res.lifecycle, res.change)))
        console.print(resources)
    else:
        console.print("resources: none")
    console.print(f"the vendor's explanation (not checked; it checked the release against its record "
                  f"{request.deployed.release}):", markup=False)
    for reason in request.reasons:
        console.print(f"  - {reason}", markup=False)
