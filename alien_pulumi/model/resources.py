"""Resource specs: the validated, immutable configuration of each resource type.

One model per type, discriminated by ``type``. Bounds are the intersection of what the three clouds
accept, so a spec that validates here deploys on every platform it declares.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from alien_pulumi.model.images import ImageError, RegistrySpec, has_host, parse_image
from alien_pulumi.model.types import ID_PATTERN, FrozenStrMap, Lifecycle, ResourceType, split_link

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Five-field unix cron: minute hour day-of-month month day-of-week.
CRON_FIELD = r"[0-9*/,\-A-Za-z?]+"
CRON = re.compile(rf"^{CRON_FIELD}( {CRON_FIELD}){{4}}$")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class Trigger(_Frozen):
    """What invokes a function: messages on a queue of the stack, or a cron schedule."""

    queue: str | None = Field(None, description="Id of a queue of the stack whose messages invoke the function.")
    schedule: str | None = Field(None, description="Five-field unix cron expression, UTC.")
    batch_size: int = Field(10, ge=1, le=10, description="Messages per invocation (queue triggers).")

    @model_validator(mode="after")
    def _one_source(self) -> Trigger:
        if (self.queue is None) == (self.schedule is None):
            raise ValueError("a trigger names exactly one of 'queue' or 'schedule'")
        if self.schedule is not None and not CRON.match(self.schedule):
            raise ValueError(f"schedule {self.schedule!r} is not a five-field cron expression")
        return self


class ResourceSpec(_Frozen):
    """Fields every resource has: its id, its type and its lifecycle."""

    kind: ClassVar[ResourceType]
    id: str = Field(description="Stack-unique id, ^[a-z][a-z0-9-]{0,31}$; physical names derive from it.")
    lifecycle: Lifecycle

    @property
    def profile(self) -> str | None:
        """The runtime permission profile this resource runs with (compute only)."""
        return None

    def references(self) -> list[tuple[str, str]]:
        """(field, resource id) for every other resource this one names."""
        return []

    def config(self) -> dict[str, object]:
        """The configuration: everything but id and lifecycle, as JSON-ready data."""
        return self.model_dump(mode="json", exclude={"id", "lifecycle"})


def _check_env(value: dict[str, str]) -> dict[str, str]:
    bad = [k for k in value if not ENV_NAME.match(k)]
    if bad:
        raise ValueError(f"environment variable names must match {ENV_NAME.pattern}: {', '.join(sorted(bad))}")
    return value


class ComputeSpec(ResourceSpec):
    image: str = Field(min_length=1, max_length=512,
                       description="Image: relative to the registry (api:1.4.2) or a full reference.")
    images: RegistrySpec | None = Field(None, description="This resource's registry (default: the stack's).")
    memory_mb: int
    environment: FrozenStrMap = Field(default_factory=dict)
    links: tuple[str, ...] = Field((), description="Data resources this compute uses, each an id (read and write "
                                   "access) or id:read / id:write (that access only); each adds data grants.")
    permissions: str | None = Field(None, description="Name of the runtime permission profile.")
    public: bool = Field(False, description="Reachable from the internet without authentication.")

    @property
    def profile(self) -> str | None:
        return self.permissions

    def references(self) -> list[tuple[str, str]]:
        return [("links", rid) for rid in self.link_ids()]

    def link_ids(self) -> list[str]:
        return list(self.link_access())

    def link_access(self) -> dict[str, str | None]:
        """Linked id -> the access its link names (None: every access the linked type has)."""
        return dict(map(split_link, self.links))

    @field_validator("links")
    @classmethod
    def _links(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        ids = [split_link(link)[0] for link in value]
        for link in value:
            rid, access = split_link(link)
            if not ID_PATTERN.match(rid) or (access is not None and access not in ("read", "write")):
                raise ValueError(f"{link!r} is not a link: a resource id, or id:read / id:write for that access only")
        twice = sorted({rid for rid in ids if ids.count(rid) > 1})
        if twice:
            raise ValueError(f"links name {', '.join(twice)} more than once: link each once (a bare id is read "
                             "and write)")
        return value

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        try:
            parse_image(value, relative=not has_host(value))
        except ImageError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("environment", mode="before")
    @classmethod
    def _env(cls, value: object) -> object:
        return _check_env(value) if isinstance(value, dict) else value


class StorageSpec(ResourceSpec):
    kind: ClassVar[ResourceType] = ResourceType.STORAGE
    type: Literal["storage"] = "storage"
    versioning: bool = False
    retention_days: int | None = Field(None, ge=1, le=3650, description="Delete objects older than this.")


class FunctionSpec(ComputeSpec):
    kind: ClassVar[ResourceType] = ResourceType.FUNCTION
    type: Literal["function"] = "function"
    memory_mb: int = Field(512, ge=128, le=8192)
    timeout_s: int = Field(30, ge=1, le=900)
    triggers: tuple[Trigger, ...] = ()

    def references(self) -> list[tuple[str, str]]:
        return super().references() + [("triggers", t.queue) for t in self.triggers if t.queue is not None]


class ContainerSpec(ComputeSpec):
    kind: ClassVar[ResourceType] = ResourceType.CONTAINER
    type: Literal["container"] = "container"
    cpu: float = Field(0.5, ge=0.25, le=4)
    memory_mb: int = Field(1024, ge=512, le=8192)
    port: int = Field(8080, ge=1, le=65535)
    min_replicas: int = Field(1, ge=0, le=100)
    max_replicas: int = Field(3, ge=1, le=300)
    health_check_path: str = Field("/", pattern=r"^/[A-Za-z0-9._~/%-]*$", max_length=256)

    @model_validator(mode="after")
    def _replicas(self) -> ContainerSpec:
        if self.max_replicas < self.min_replicas:
            raise ValueError(f"max_replicas ({self.max_replicas}) is below min_replicas ({self.min_replicas})")
        return self


class QueueSpec(ResourceSpec):
    kind: ClassVar[ResourceType] = ResourceType.QUEUE
    type: Literal["queue"] = "queue"
    visibility_timeout_s: int = Field(30, ge=10, le=600)
    message_retention_s: int = Field(345_600, ge=600, le=1_209_600)


class KvSpec(ResourceSpec):
    kind: ClassVar[ResourceType] = ResourceType.KV
    type: Literal["kv"] = "kv"


class VaultSpec(ResourceSpec):
    kind: ClassVar[ResourceType] = ResourceType.VAULT
    type: Literal["vault"] = "vault"


class NetworkSpec(ResourceSpec):
    kind: ClassVar[ResourceType] = ResourceType.NETWORK
    type: Literal["network"] = "network"
    cidr: str = Field("10.0.0.0/16", description="IPv4 network, /16 to /24.")
    zones: int = Field(2, ge=1, le=3)
    nat: bool = False

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            net = ipaddress.IPv4Network(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} is not an IPv4 network ({exc})") from None
        if not 16 <= net.prefixlen <= 24:
            raise ValueError(f"{value!r}: prefix length must be /16 to /24")
        return str(net)


AnyResource = Annotated[
    StorageSpec | FunctionSpec | ContainerSpec | QueueSpec | KvSpec | VaultSpec | NetworkSpec,
    Field(discriminator="type"),
]
SPEC_BY_TYPE: dict[ResourceType, type[ResourceSpec]] = {
    cls.kind: cls for cls in (StorageSpec, FunctionSpec, ContainerSpec, QueueSpec, KvSpec, VaultSpec, NetworkSpec)
}
