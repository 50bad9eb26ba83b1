"""``permissions``: render one layer for one cloud, as the cloud's JSON or the reviewer's markdown."""

from __future__ import annotations

import sys
from enum import Enum
from typing import Annotated

import typer

from alien_pulumi.cli.common import (
    ContextFlags,
    PlatformOpt,
    UsageError,
    context_for,
    example_banner,
    print_json,
    with_context_flags,
)
from alien_pulumi.cli.stack_files import StackArg, load
from alien_pulumi.permissions import derive_plan, render_layer, render_markdown


class LayerName(str, Enum):
    provisioning = "provisioning"
    management = "management"
    runtime = "runtime"


class Format(str, Enum):
    json = "json"
    markdown = "markdown"


LayerOpt = Annotated[LayerName | None, typer.Option("--layer", "-l", help="Layer (default: all, markdown only).")]
ProfileOpt = Annotated[str | None, typer.Option(help="Runtime profile (runtime layer).")]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="json (the cloud's shape) or markdown.")]


@with_context_flags
def permissions(
    stack: StackArg,
    platform: PlatformOpt,
    layer: LayerOpt = None,
    profile: ProfileOpt = None,
    fmt: FormatOpt = Format.json,
    *,
    context_flags: ContextFlags,
) -> None:
    """Render the provisioning, management or runtime permissions of a stack for one cloud."""
    spec = load(stack)
    ctx = context_for(spec, platform, context_flags, offline=True)
    plan = derive_plan(spec, ctx)
    if profile is not None and profile not in plan.runtime:
        known = ", ".join(plan.runtime) or "none"
        raise UsageError(f"stack '{spec.name}' has no runtime profile {profile!r} (profiles: {known})")
    if fmt is Format.markdown:
        sys.stdout.write(example_banner(ctx.example) + render_markdown(plan, [layer.value] if layer else None, profile))
        return
    if layer is None:
        raise UsageError("--layer is required with --format json")
    if layer is LayerName.runtime:
        if profile is None:
            if len(plan.runtime) != 1:
                raise UsageError(f"--profile is required: profiles are {', '.join(plan.runtime)}")
            profile = next(iter(plan.runtime))
    print_json({**render_layer(plan, layer.value, profile), "example_context": ctx.example})
