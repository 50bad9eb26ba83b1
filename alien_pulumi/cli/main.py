"""``alien-pulumi``: the vendor's tool. Thin commands over the library; each prints a table or JSON."""

from __future__ import annotations

import sys

import typer
from rich.table import Table

from alien_pulumi.cli.build_cmd import build_command
from alien_pulumi.cli.common import JsonFlag, handles_errors, out, print_json, run, version_option
from alien_pulumi.cli.permissions_cmd import permissions
from alien_pulumi.cli.preflight_cmd import diff_command, preflight_command
from alien_pulumi.cli.registry_access_cmd import registry_access_command
from alien_pulumi.cli.release_cmd import (
    deployments_app,
    heartbeat_command,
    preview_command,
    release_command,
    rollout_command,
    worker_command,
)
from alien_pulumi.cli.request_cmd import setup_request_command
from alien_pulumi.cli.stack_files import StackArg, load
from alien_pulumi.cli.synth_cmd import synth_command
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import Lifecycle

app = typer.Typer(
    name="alien-pulumi",
    help="Deploy a stack into customers' clouds: validate, render permissions, synthesize, release.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

version_option(app, "alien-pulumi")
LIFECYCLE_STYLE = {Lifecycle.FROZEN: "cyan", Lifecycle.LIVE: "green"}


@app.command()
@handles_errors
def validate(stack: StackArg, json_out: JsonFlag = False) -> None:
    """Check a stack; list every problem (exit 1) or say it is valid."""
    spec = load(stack)
    if json_out:
        print_json({"stack": spec.name, "valid": True, "digest": spec.digest(), "frozen_digest": spec.frozen_digest()})
        return
    frozen = len(spec.by_lifecycle(Lifecycle.FROZEN))
    out.print(f"stack '{spec.name}' is valid: {len(spec.resources)} resources ({frozen} frozen, "
              f"{len(spec.resources) - frozen} live) on {', '.join(p.value for p in spec.platforms)}")


def summary_rows(spec: StackSpec) -> list[dict[str, object]]:
    return [
        {
            "id": r.id,
            "type": r.kind.value,
            "lifecycle": r.lifecycle.value,
            "links": [ref for field, ref in r.references() if field == "links"],
            "profile": r.profile,
        }
        for r in spec.resources
    ]


@app.command()
@handles_errors
def show(stack: StackArg, json_out: JsonFlag = False) -> None:
    """Show a stack's resources: id, type, lifecycle, links, profile."""
    spec = load(stack)
    rows = summary_rows(spec)
    if json_out:
        print_json({
            "stack": spec.name,
            "platforms": [p.value for p in spec.platforms],
            "digest": spec.digest(),
            "frozen_digest": spec.frozen_digest(),
            "resources": rows,
            "spec": spec.model_dump(mode="json"),
        })
        return
    table = Table(title=f"stack {spec.name} ({', '.join(p.value for p in spec.platforms)})")
    for column in ("id", "type", "lifecycle", "links", "profile"):
        table.add_column(column)
    for row, res in zip(rows, spec.resources, strict=True):
        style = LIFECYCLE_STYLE[res.lifecycle]
        table.add_row(
            str(row["id"]), str(row["type"]), f"[{style}]{row['lifecycle']}[/]",
            ", ".join(row["links"]) or "-",  # type: ignore[arg-type]
            str(row["profile"] or "-"),
        )
    out.print(table)
    out.print(f"digest {spec.digest()[:16]}  frozen digest {spec.frozen_digest()[:16]}")


@app.command()
def schema() -> None:
    """Print the JSON Schema of a serialized stack spec."""
    print_json(StackSpec.model_json_schema())


app.command("build")(handles_errors(build_command))
app.command()(handles_errors(permissions))
app.command("synth")(handles_errors(synth_command))
app.command("preflight")(handles_errors(preflight_command))
app.command("diff")(handles_errors(diff_command))
app.add_typer(deployments_app, name="deployments")
app.command("release")(handles_errors(release_command))
app.command("preview")(handles_errors(preview_command))
app.command("heartbeat")(handles_errors(heartbeat_command))
app.command("rollout")(handles_errors(rollout_command))
app.command("registry-access")(handles_errors(registry_access_command))
app.command("worker")(handles_errors(worker_command))
app.command("setup-request")(handles_errors(setup_request_command))


def main() -> None:
    sys.exit(run(app))
