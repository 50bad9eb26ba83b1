"""Entry point of ``programs/provision`` and ``programs/manage``: read the vendor's spec artifact and the
deployment context from Pulumi config (namespace ``alien``) and build the program. The customer's side: it reads
the artifact as data and never runs a Python stack file (DESIGN.md §1a)."""

from __future__ import annotations

from pathlib import Path

import pulumi

from alien_pulumi.components.base import ProgramKind
from alien_pulumi.errors import AlienError, ContextError
from alien_pulumi.model.artifact import read_artifact
from alien_pulumi.model.context import FIELDS, DeploymentContext, refuse_past_access
from alien_pulumi.programs.build import PROJECT, build

# Pulumi config key (camelCase, as Pulumi config keys are written) -> DeploymentContext field.
CONTEXT_KEYS = {config.split(":", 1)[1]: field for field, (_flag, config) in FIELDS.items()}


def context_from_config(config: pulumi.Config, stack_name: str) -> DeploymentContext:
    """The real context from config; every missing or malformed key is named (``alien:accountId``...)."""
    fields = {name: config.get(key) for key, name in CONTEXT_KEYS.items()}
    return DeploymentContext.from_fields(config.require("platform"), stack_name, fields, naming="config")


def run(kind: ProgramKind) -> None:
    """Build the ``kind`` program from config: ``alien:stack`` (the spec artifact's path, relative to the project
    root), ``alien:platform`` and the context keys above. A setup deploys digests only: the provisioning program
    refuses an artifact with an image still a tag."""
    config = pulumi.Config(PROJECT)
    path = Path(config.require("stack"))
    if not path.is_absolute():
        path = Path(pulumi.get_root_directory()) / path
    try:
        spec = read_artifact(path, pinned=kind is ProgramKind.PROVISION).spec
    except AlienError as exc:
        raise pulumi.RunError(f"alien:stack: {exc}") from None
    try:
        ctx = context_from_config(config, spec.name)
        if kind is ProgramKind.PROVISION:  # a plain `pulumi up` of setup: never grant a window already over
            refuse_past_access(ctx, "config")
    except ContextError as exc:
        raise pulumi.RunError(f"{exc}\nset each with `pulumi config set <key> <value>`") from None
    build(spec, ctx, kind)
