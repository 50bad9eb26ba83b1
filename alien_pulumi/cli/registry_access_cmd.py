"""``registry-access``: what the vendor must allow on its own registry for one deployment's images to be pulled."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from alien_pulumi.cli.common import (
    EXIT_BLOCKED,
    ContextFlags,
    JsonFlag,
    UsageError,
    context_for,
    note_example,
    out,
    print_json,
    with_context_flags,
)
from alien_pulumi.cli.stack_files import load
from alien_pulumi.fleet.registry import Registry, state_dir
from alien_pulumi.model.types import Platform
from alien_pulumi.permissions.registry_access import RegistryAccess, registry_access

EXAMPLE_PROJECT_NUMBER = "123456789012"


StackOpt = Annotated[Path | None, typer.Argument(exists=True, dir_okay=False, metavar="STACK",
                                                 help="Stack file (default with -d: the deployed stack).")]
DeploymentOpt = Annotated[str | None, typer.Option("--deployment", "-d", help="Deployment name in the registry.")]
PlatformFlag = Annotated[Platform | None, typer.Option("--platform", "-p", case_sensitive=False,
                                                       help="Target cloud (without -d).")]
StateDir = Annotated[Path | None, typer.Option("--state-dir", help="Registry, workspaces and local state.")]
ProjectNumber = Annotated[str | None, typer.Option(
    "--project-number", help="GCP: the customer project's number (names its Cloud Run service agent).")]


@with_context_flags
def registry_access_command(
    stack: StackOpt = None,
    deployment: DeploymentOpt = None,
    platform: PlatformFlag = None,
    project_number: ProjectNumber = None,
    state: StateDir = None,
    json_out: JsonFlag = False,
    *,
    context_flags: ContextFlags,
) -> None:
    """Print exactly what to allow on the vendor's registry for a deployment: ECR repository policy statements,
    Artifact Registry bindings; images that need only anonymous pull are listed too."""
    example = False
    if deployment is not None:
        if platform is not None or any(v is not None for v in context_flags.values()):
            raise UsageError("-d takes the platform and context from the registry: drop --platform and context flags")
        with Registry(state_dir(state)) as registry:
            found = registry.get_deployment(deployment)
        if stack is not None:
            spec = load(stack)
        elif found.record is not None:
            spec = found.record.spec
        else:
            raise UsageError(f"deployment {deployment} has no deployed stack yet: give the stack file")
        ctx = found.context
    else:
        if stack is None or platform is None:
            raise UsageError("give -d NAME, or a stack file and --platform (with context flags)")
        spec = load(stack)
        ctx = context_for(spec, platform, context_flags, offline=True)
        example = ctx.example
        if example and project_number is None and platform is Platform.GCP:
            project_number = EXAMPLE_PROJECT_NUMBER
    access = registry_access(spec, ctx, project_number)
    if json_out:
        print_json({"deployment": deployment, "stack": spec.name, "prefix": ctx.prefix, "example_context": example,
                    **access.to_json()})
    else:
        _print(access, deployment or f"{spec.name} (prefix {ctx.prefix})", example)
    if access.problems:  # the deployment cannot pull an image whatever the vendor allows
        raise typer.Exit(EXIT_BLOCKED)


def _print(access: RegistryAccess, what: str, example: bool) -> None:
    note_example(example)
    out.print(f"[bold]registry access for {what} on {access.platform.value}[/]")
    for grant in access.grants:
        out.print(f"\n{grant.kind} on {grant.registry}/{grant.repository} (for {', '.join(grant.resources)}):")
        out.print_json(data=grant.document)
        out.print(f"  {grant.command}")
    for item in access.public:
        out.print(f"\n{item['resource']}: {item['image']} needs {item['needs']}, nothing to grant")
    for problem in access.problems:
        out.print(f"\n[red]problem:[/] {problem}")
    if not access.grants and not access.public:
        out.print("no compute: nothing to allow")
