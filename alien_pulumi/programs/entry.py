"""Entry point of ``programs/provision`` and ``programs/manage``: read the stack and the deployment
context from Pulumi config (namespace ``alien``) and build the program."""

from __future__ import annotations

from pathlib import Path

import pulumi

from alien_pulumi.components.base import ProgramKind
from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.loader import load_stack
from alien_pulumi.programs.build import PROJECT, build

# Pulumi config key (camelCase, as Pulumi config keys are written) -> DeploymentContext field.
CONTEXT_KEYS = {
    "prefix": "prefix",
    "region": "region",
    "accountId": "account_id",
    "partition": "partition",
    "project": "project",
    "gcpRegion": "gcp_region",
    "subscriptionId": "subscription_id",
    "resourceGroup": "resource_group",
    "location": "location",
    "vendorPrincipal": "vendor_principal",
    "vendorOidcIssuer": "vendor_oidc_issuer",
    "externalId": "external_id",
}


def context_from_config(config: pulumi.Config, stack_name: str) -> DeploymentContext:
    fields = {name: config.get(key) for key, name in CONTEXT_KEYS.items()}
    return DeploymentContext.create(config.require("platform"), stack_name, **fields)


def run(kind: ProgramKind) -> None:
    """Build the ``kind`` program from config: ``alien:stack`` (path, relative to the project root),
    ``alien:platform`` and the context keys above."""
    config = pulumi.Config(PROJECT)
    path = Path(config.require("stack"))
    if not path.is_absolute():
        path = Path(pulumi.get_root_directory()) / path
    spec = load_stack(path)
    build(spec, context_from_config(config, spec.name), kind)
