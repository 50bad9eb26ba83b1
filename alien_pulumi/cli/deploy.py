"""``alien-deploy``: the customer admin's tool (setup runs of the provisioning program)."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="alien-deploy",
    help="Set up a vendor's stack in your own cloud account with your own credentials.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def main() -> None:
    app()


@app.callback(invoke_without_command=True)
def _root(ctx: typer.Context) -> None:
    """Set up a vendor's stack in your own cloud account with your own credentials."""
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
