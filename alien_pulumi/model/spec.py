"""The stack spec: the validated, immutable, JSON-serialisable description of a stack."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from alien_pulumi.model.images import RegistrySpec
from alien_pulumi.model.resources import AnyResource, ResourceSpec
from alien_pulumi.model.types import Lifecycle, Platform

SCHEMA_VERSION = 1

SetIds = tuple[str, ...]


def _freeze_scopes(value: dict[str, Any]) -> Any:
    return MappingProxyType({k: tuple(value[k]) for k in sorted(value)})


def _freeze_profiles(value: dict[str, Any]) -> Any:
    return MappingProxyType({k: value[k] for k in sorted(value)})


_SCOPES_SCHEMA = {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}

Scopes = Annotated[
    dict[str, SetIds],
    AfterValidator(_freeze_scopes),
    PlainSerializer(lambda v: {k: list(s) for k, s in v.items()}, return_type=dict),
    WithJsonSchema(_SCOPES_SCHEMA),
]
"""``{"<resource id or *>": ["<type>/<set>", ...]}``, read-only."""

Profiles = Annotated[
    dict[str, Scopes],
    AfterValidator(_freeze_profiles),
    PlainSerializer(lambda v: {k: {s: list(ids) for s, ids in p.items()} for k, p in v.items()}, return_type=dict),
    WithJsonSchema({"type": "object", "additionalProperties": _SCOPES_SCHEMA}),
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class ManagementSpec(_Frozen):
    extend: Scopes = Field(
        default_factory=dict,
        description="Extra permission sets for the management identity, by resource id or '*'. Never data-*.",
    )


class PermissionsSpec(_Frozen):
    profiles: Profiles = Field(default_factory=dict, description="Runtime permission profiles by name.")
    management: ManagementSpec = Field(default_factory=ManagementSpec)


class StackSpec(_Frozen):
    """A whole stack. Build it with ``alien_pulumi.Stack(...).build()`` or load it from JSON."""

    schema_version: int = Field(SCHEMA_VERSION, description="Version of this JSON shape.")
    name: str = Field(description="Stack name, ^[a-z][a-z0-9-]{0,31}$.")
    platforms: tuple[Platform, ...]
    resources: tuple[AnyResource, ...]
    permissions: PermissionsSpec = Field(default_factory=PermissionsSpec)
    images: RegistrySpec | None = Field(None, description="Where the stack's images come from (DESIGN.md §4b).")

    def __iter__(self) -> Iterator[ResourceSpec]:  # type: ignore[override]
        return iter(self.resources)

    def resource(self, resource_id: str) -> ResourceSpec:
        for res in self.resources:
            if res.id == resource_id:
                return res
        raise KeyError(resource_id)

    def by_lifecycle(self, lifecycle: Lifecycle) -> tuple[ResourceSpec, ...]:
        return tuple(r for r in self.resources if r.lifecycle is lifecycle)

    def to_json(self, *, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent)

    def canonical(self) -> dict[str, Any]:
        """JSON data with resources sorted by id; with sorted keys it is the digest's input."""
        data = self.model_dump(mode="json")
        data["resources"] = sorted(data["resources"], key=lambda r: r["id"])
        return data

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of the whole spec."""
        return _sha256(self.canonical())

    def frozen_digest(self) -> str:
        """SHA-256 of the canonical JSON of the frozen entries, sorted by id (DESIGN.md §5)."""
        frozen = [r for r in self.canonical()["resources"] if r["lifecycle"] == Lifecycle.FROZEN.value]
        return _sha256(frozen)


def _sha256(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
