"""What the commands of both sides share: deployment-context flags, error handling, consoles. Nothing here loads
a stack file (the vendor's commands do that in ``stack_files``)."""

from __future__ import annotations

import functools
import inspect
import json
import sys
from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from alien_pulumi.errors import AlienError, StackLoadError, StackValidationError
from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import Platform

# Wide when piped (CI logs, files): trees and tables are read whole there, not cropped at 80 columns.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, highlight=False, soft_wrap=True)

# Exit codes, the same for every command (README "Exit codes"): 4 is a failed run, 5 a declined confirmation, 6 a
# run the customer's cloud refused as revoked (not retried).
EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_BLOCKED, EXIT_FAILED, EXIT_DECLINED, EXIT_REVOKED = 0, 1, 2, 3, 4, 5, 6
EXIT_INTERRUPTED = 130  # Ctrl-C, as a shell reports SIGINT (cli/entry.py keeps its own copy: it imports nothing)

F = TypeVar("F", bound=Callable[..., Any])


class UsageError(AlienError):
    """A command was given a wrong combination of arguments (exit 2)."""

    exit_code = EXIT_USAGE


def handles_errors(func: F) -> F:
    """Turn an ``AlienError`` into one clear message on stderr and the documented exit code; with ``--json``
    also one JSON document on stdout, ``{"error": {"code", "message", "exit_code"[, "problems"]}}``."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AlienError as exc:
            err.print(f"[red]error:[/] {escape(str(exc))}", markup=True, highlight=False)
            invalid = isinstance(exc, (StackValidationError, StackLoadError))
            code = EXIT_INVALID if invalid else getattr(exc, "exit_code", EXIT_USAGE)
            if kwargs.get("json_out"):
                error: dict[str, Any] = {"code": type(exc).__name__, "message": str(exc), "exit_code": code}
                problems = getattr(exc, "problems", ())
                if problems:
                    error["problems"] = [{"where": p.where, "field": p.field, "message": p.message, "code": p.code}
                                         for p in problems]
                print_json({"error": error})
            raise typer.Exit(code) from None

    return wrapper  # type: ignore[return-value]




def run(app: typer.Typer, args: list[str] | None = None) -> int:
    """Run a CLI as its console script does and return its exit code. Beyond the commands' own handling
    (``handles_errors``): a usage error (a missing file, an unknown flag) prints, with ``--json``, one JSON document
    on stdout as well; a confirmation with no terminal to answer it is a declined one (exit 5), not "Aborted!";
    Ctrl-C exits 130 wherever it lands."""
    argv = sys.argv[1:] if args is None else args
    try:
        code = app(args=argv, standalone_mode=False, prog_name=getattr(app.info, "name", None))
    except typer.Abort:  # EOF at a prompt (typer turns Ctrl-C into exit 130 itself)
        return _failed(argv, "Declined", "nothing confirmed the change (no terminal to ask on): pass --yes to "
                                         "confirm without asking", EXIT_DECLINED)
    except typer.TyperException as exc:  # usage: click's own message, then its exit code
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            err.print(f"[red]error:[/] {escape(exc.format_message())}")
        if "--json" in argv:
            print_json({"error": {"code": type(exc).__name__, "message": exc.format_message(),
                                  "exit_code": exc.exit_code}})
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("interrupted")
        return EXIT_INTERRUPTED
    except OSError as exc:  # a path the system refused (a file where a directory belongs, no permission...)
        where = f"{exc.filename}: " if exc.filename else ""
        return _failed(argv, type(exc).__name__, f"{where}{exc.strerror or exc}", EXIT_USAGE)
    return code if isinstance(code, int) else EXIT_OK


def _failed(argv: list[str], code: str, message: str, exit_code: int) -> int:
    err.print(f"[red]error:[/] {escape(message)}")
    if "--json" in argv:
        print_json({"error": {"code": code, "message": message, "exit_code": exit_code}})
    return exit_code


def version_option(app: typer.Typer, name: str) -> None:
    """``--version`` on an app: the package version, then exit."""
    from importlib.metadata import version

    def show(value: bool) -> None:
        if value:
            out.print(f"{name} {version('alien-pulumi')}")
            raise typer.Exit(EXIT_OK)

    @app.callback()
    def _root(_version: bool = typer.Option(False, "--version", callback=show, is_eager=True,
                                            help="Print the version and exit.")) -> None:
        """Exit codes: 0 ok, 1 invalid input (stack, spec, bundle, record, request), 2 usage or context error, 3
        blocked, 4 a run failed, 5 a confirmation was declined, 6 the customer's cloud refused the run as revoked,
        130 interrupted."""


JsonFlag = Annotated[bool, typer.Option("--json", help="Print pure JSON on stdout.")]
PlatformOpt = Annotated[Platform, typer.Option("--platform", "-p", help="Target cloud.", case_sensitive=False)]


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")


# Deployment-context flags, shared by every command that renders for one deployment.
Prefix = Annotated[str | None, typer.Option(help="Physical-name prefix, 1-24 characters (default: the deployment's "
                                                 "name for `deployments new`, the bundle's for setup, else the stack "
                                                 "name cut to 24 characters).")]
Region = Annotated[str | None, typer.Option(help="AWS region, GCP region or Azure location.")]
Partition = Annotated[str | None, typer.Option(help="AWS partition (default: the region's).")]
AccountId = Annotated[str | None, typer.Option("--account-id", help="AWS account id.")]
Project = Annotated[str | None, typer.Option(help="GCP project id.")]
SubscriptionId = Annotated[str | None, typer.Option("--subscription-id", help="Azure subscription id.")]
ResourceGroup = Annotated[str | None, typer.Option("--resource-group", help="Azure resource group.")]
VendorPrincipal = Annotated[
    str | None,
    typer.Option("--vendor-principal", help="AWS role ARN, GCP service-account email or Azure OIDC subject."),
]
ExternalId = Annotated[str | None, typer.Option("--external-id", help="AWS sts:ExternalId for the trust policy.")]
VendorIssuer = Annotated[str | None, typer.Option("--vendor-oidc-issuer", help="Azure: the vendor's OIDC issuer URL.")]
AccessUntil = Annotated[str | None, typer.Option("--access-until", help="End of the vendor's access, UTC (ISO 8601 "
                                                                       "date or date-time, e.g. 2027-03-31).")]


CONTEXT_FLAGS: dict[str, Any] = {
    "prefix": Prefix,
    "region": Region,
    "partition": Partition,
    "account_id": AccountId,
    "project": Project,
    "subscription_id": SubscriptionId,
    "resource_group": ResourceGroup,
    "vendor_principal": VendorPrincipal,
    "vendor_oidc_issuer": VendorIssuer,
    "external_id": ExternalId,
    "access_until": AccessUntil,
}
ContextFlags = Mapping[str, str | None]


def with_context_flags(func: F) -> F:
    """Give a command every deployment-context flag; it receives them as one ``context_flags`` mapping."""
    signature = inspect.signature(func, eval_str=True)  # real annotations: typer reads them from here
    params = [p for p in signature.parameters.values() if p.name != "context_flags"]
    extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
             for name, annotation in CONTEXT_FLAGS.items()]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        flags = {name: kwargs.pop(name, None) for name in CONTEXT_FLAGS}
        return func(*args, context_flags=flags, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=[*params, *extra])  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def check_platform(spec: StackSpec, platform: Platform) -> None:
    if platform not in spec.platforms:
        declared = ", ".join(p.value for p in spec.platforms)
        raise StackLoadError(f"stack '{spec.name}' does not declare platform {platform.value} (declared: {declared})")


def context_for(spec: StackSpec, platform: Platform, flags: ContextFlags | None = None, *,
                offline: bool = False) -> DeploymentContext:
    """The deployment context of one command: the stack must declare the platform. A real run refuses any
    missing or malformed flag; an ``offline`` command fills what is missing with example values."""
    check_platform(spec, platform)
    return DeploymentContext.from_fields(platform, spec.name, dict(flags or {}), naming="flag", example=offline)


EXAMPLE_NOTE = "example context: values not given are examples, not a customer's (give every context flag)"


def example_banner(example: bool) -> str:
    """The same note at the top of a markdown document."""
    return f"> **{EXAMPLE_NOTE}**\n\n" if example else ""


def note_example(example: bool) -> None:
    """The human line of an offline command that used example values (JSON says ``example_context``)."""
    if example:
        out.print(f"[yellow]{EXAMPLE_NOTE}[/]")
