"""``synth``: both programs under mocks — components, children with their options per program, the
management targets, and the permission layers. The project's main job on a machine with no cloud."""

from __future__ import annotations

from rich.table import Table
from rich.tree import Tree

from alien_pulumi.cli.common import (
    ContextFlags,
    JsonFlag,
    PlatformOpt,
    context_for,
    note_example,
    out,
    print_json,
    with_context_flags,
)
from alien_pulumi.cli.stack_files import StackArg, load
from alien_pulumi.model.types import Lifecycle
from alien_pulumi.synth import SynthResult, synth
from alien_pulumi.synth.graph import Options

MARK = {Lifecycle.FROZEN: "[bold cyan]❄ frozen[/]", Lifecycle.LIVE: "[bold green]● live[/]"}
LEGEND = ("[dim]legend:[/] ❄ frozen: created at setup, releases only monitor it · ● live: releases update it · "
          "[dim]setup[/] / [dim]release[/]: each child's options in the provisioning / management program: "
          "protect, retain (retain on delete), ignore=* (ignore every change)")


def _options(opts: Options) -> str:
    parts = [name for name, on in (("protect", opts.protect), ("retain", opts.retain_on_delete)) if on]
    if opts.ignore_changes:
        parts.append(f"ignore={','.join(opts.ignore_changes)}")
    return ",".join(parts) or "-"


def short_type(token: str) -> str:
    """``aws:s3/bucket:Bucket`` -> ``s3.Bucket`` (the full token is in --json)."""
    _, module, cls = token.split(":")
    return f"{module.split('/')[0]}.{cls}"


def render_tree(result: SynthResult) -> Tree:
    ctx = result.context
    tree = Tree(f"[bold]{result.spec.name}[/] on {ctx.platform.value} · prefix {ctx.prefix} · "
                f"{len(result.provision.nodes)} resources")
    for component, lifecycle, children in result.component_rows():
        style = "cyan" if lifecycle is Lifecycle.FROZEN else "green"
        branch = tree.add(f"[{style}]{component.name}[/] {component.type} {MARK[lifecycle]}")
        for child in children:
            manage = result.manage.nodes[child.urn].options
            branch.add(f"{short_type(child.type)} [bold]{child.name}[/] [dim]setup[/] {_options(child.options)} "
                       f"[dim]release[/] {_options(manage)}")
    return tree


def render_permissions(result: SynthResult) -> Table:
    plan = result.plan
    table = Table(title="permission layers")
    for column in ("layer", "identity", "sets", "actions", "data actions"):
        table.add_column(column)
    layers = [plan.provisioning, plan.management, *plan.runtime.values()]
    for layer in layers:
        name = layer.name if layer.name != "runtime" else f"runtime ({layer.identity})"
        table.add_row(name, layer.identity, str(len(layer.uses)), str(len(layer.actions())),
                      str(len(layer.data_actions())))
    return table


@with_context_flags
def synth_command(stack: StackArg, platform: PlatformOpt, json_out: JsonFlag = False, *,
                  context_flags: ContextFlags) -> None:
    """Run both programs offline under Pulumi mocks and show what each would declare."""
    spec = load(stack)
    ctx = context_for(spec, platform, context_flags, offline=True)
    result = synth(spec, ctx)
    if json_out:
        print_json({**result.to_json(), "example_context": ctx.example})
        return
    note_example(ctx.example)
    out.print(LEGEND)
    out.print(render_tree(result), soft_wrap=False)  # long lines wrap at the terminal's width, never cut
    out.print(f"\n[bold]management targets[/] ({len(result.targets)} URNs, --target each, no --target-dependents):")
    for urn in result.targets:
        out.print(f"  {urn}")
    out.print()
    out.print(render_permissions(result))
