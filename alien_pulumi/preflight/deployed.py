"""What is deployed: a spec, and per platform its context and rendered permissions. From a release
record (exact, as deployed) or from a spec (rendered now, with the default or given context)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.record import ReleaseRecord
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import Platform
from alien_pulumi.permissions import derive_plan, render_all


@dataclass(frozen=True)
class Deployed:
    spec: StackSpec
    contexts: dict[Platform, DeploymentContext]
    permissions: dict[Platform, dict[str, Any]]
    record: ReleaseRecord | None = None


def from_spec(spec: StackSpec, contexts: dict[Platform, DeploymentContext] | None = None) -> Deployed:
    contexts = contexts or {p: DeploymentContext.example_context(p, spec.name) for p in spec.platforms}
    return Deployed(spec, contexts, {p: render_all(derive_plan(spec, c)) for p, c in contexts.items()})


def from_record(record: ReleaseRecord) -> Deployed:
    platform = record.context.platform
    return Deployed(record.spec, {platform: record.context}, {platform: record.permissions}, record)

