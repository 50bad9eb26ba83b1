"""The release record: what a deployment runs now (its spec, context, rendered permissions, digests).

Setup (``alien-deploy up``) and every release write one; preflight compares a new stack with it.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alien_pulumi.errors import StackLoadError, first_problem
from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.deployment_name import DeploymentName
from alien_pulumi.model.spec import StackSpec

RECORD_VERSION = 2  # 2: backend, secrets provider, versions; one region field in the context


class RequestAnswer(BaseModel):
    """The setup request a setup applied: the vendor's registry closes it when it imports the record."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    digest: str = Field(description="Digest of the stack the request named, which setup applied.")
    reviewed_at: str | None = Field(default=None, description="When the admin confirmed it after the review "
                                                              "(none with --yes).")


class StateEntry(BaseModel):
    """One resource of the stack's state as the admin's setup left it (DESIGN.md §1a): setup-owned entries in full,
    live ones by URN, type and id (releases change them)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    urn: str
    type: str
    owned: bool = Field(description="Setup-owned (frozen resources, identities, grants, the provider): id, provider "
                                    "and inputs must stay as recorded.")
    provider: str = ""
    id: str = ""
    inputs: dict[str, Any] = Field(default_factory=dict, description="Setup-owned entries' inputs (secrets masked).")


class ReleaseRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    record_version: int = RECORD_VERSION
    release: str = Field(description="Release id, e.g. the vendor's version or a generated id.")
    deployment: DeploymentName = Field(description="Deployment name in the vendor's registry.")
    program: str = Field(description="Which program produced it: provision (setup) or manage (release).")
    created_at: str = Field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    context: DeploymentContext
    spec: StackSpec
    digest: str
    frozen_digest: str
    permissions: dict[str, Any] = Field(description="render_all() of the plan: provisioning, management, runtime.")
    targets: list[str] = Field(default_factory=list)
    outputs: dict[str, Any] = Field(default_factory=dict, description="Stack outputs (management identity...).")
    operations: dict[str, int] = Field(default_factory=dict, description="Resources per operation (create, update, "
                                       "same, delete; ``replaced``: a resource the run replaced, counted once).")
    pending_setup: list[str] = Field(default_factory=list, description="Changes only the admin's setup applies.")
    backend: str | None = Field(default=None, description="The Pulumi backend URL the deployment's state is in.")
    secrets_provider: str | None = Field(default=None, description="The stack's secrets provider (awskms://, gcpkms://...).")
    versions: dict[str, str] = Field(default_factory=dict,
                                     description="Pulumi CLI, SDK and provider versions the run used.")
    setup_request: RequestAnswer | None = Field(default=None, description="The setup request this setup applied.")
    checkpoint: list[StateEntry] | None = Field(default=None, description="Setup records: the stack's state as "
                                                "this setup left it; the admin's next run checks the state against it.")

    @classmethod
    def from_data(cls, data: Any, where: str) -> ReleaseRecord:
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise StackLoadError(f"{where}: not a release record: {first_problem(exc)}") from None


    @classmethod
    def from_json(cls, text: str, where: str) -> ReleaseRecord:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StackLoadError(f"{where}: not a release record: not JSON ({exc.msg}, line {exc.lineno})") from None
        return cls.from_data(data, where)


def is_record(data: Any) -> bool:
    return isinstance(data, dict) and "record_version" in data and "spec" in data
