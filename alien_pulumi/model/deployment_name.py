"""Deployment names: the one pattern every deployment name follows, wherever it comes from.

A deployment's name keys the vendor's registry and names files on both sides (``<name>.bundle.json``, the admin's
``records/<name>.json``, ``workspaces/<name>/``), so it can never be a path: 1-63 lowercase letters, digits and
hyphens, starting with a letter and ending with a letter or digit (a DNS label). Every valid prefix
(``context.PREFIX``) is a valid deployment name, so a deployment named after its prefix always is one.

Models carry the constrained type ``DeploymentName``; code that takes a name from elsewhere (a CLI argument, a flag)
calls ``check_deployment_name`` before using it.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from alien_pulumi.errors import ContextError

DEPLOYMENT_NAME = re.compile(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
MAX_DEPLOYMENT_NAME = 63
DEPLOYMENT_NAME_RULE = (f"1-{MAX_DEPLOYMENT_NAME} lowercase letters, digits and '-', starting with a letter and not "
                        "ending with '-'")


class DeploymentNameError(ContextError):
    """A deployment name that does not follow ``DEPLOYMENT_NAME`` (exit code 2, as every context error)."""


def deployment_name_problem(name: object) -> str | None:
    """Why ``name`` is not a deployment name (None: it is one)."""
    if isinstance(name, str) and DEPLOYMENT_NAME.fullmatch(name):
        return None
    return f"{name!r} is not a deployment name: use {DEPLOYMENT_NAME_RULE}"


def check_deployment_name(name: str, where: str) -> str:
    """``name`` itself when it is a deployment name; else a one-line ``DeploymentNameError`` naming ``where`` the name
    came from (e.g. ``"the NAME argument"``, ``"--deployment"``, ``"bundle.json: deployment"``)."""
    problem = deployment_name_problem(name)
    if problem is not None:
        raise DeploymentNameError(f"{where}: {problem}")
    return name


def _validated(name: str) -> str:
    problem = deployment_name_problem(name)
    if problem is not None:
        # A custom error: its message is exactly the problem (no "Value error, " before it in first_problem's line).
        raise PydanticCustomError("deployment_name", "{problem}", {"problem": problem})
    return name


DeploymentName = Annotated[
    str,
    AfterValidator(_validated),
    WithJsonSchema({"type": "string", "pattern": DEPLOYMENT_NAME.pattern, "maxLength": MAX_DEPLOYMENT_NAME}),
]
"""A model field holding a deployment name: anything else fails the model's validation, naming the field."""
