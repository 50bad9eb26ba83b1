"""The Python API a vendor writes a stack with: resource definitions and the ``Stack`` builder.

Definitions only record what was asked for; ``Stack.build()`` validates everything at once and returns
the immutable ``StackSpec`` (so one run reports every problem, not the first one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import Lifecycle, ResourceType
from alien_pulumi.model.validation import parse_spec


class Resource:
    """A resource definition: an id and its configuration fields (see the ``*Spec`` models)."""

    kind: ClassVar[ResourceType]

    def __init__(self, id: str, /, **fields: Any) -> None:
        self.id = id
        self.fields = fields

    def __repr__(self) -> str:
        args = "".join(f", {k}={v!r}" for k, v in self.fields.items())
        return f"{type(self).__name__}({self.id!r}{args})"

    def to_data(self, lifecycle: Any) -> dict[str, Any]:
        return {"id": self.id, "type": self.kind.value, "lifecycle": _plain(lifecycle), **_plain(self.fields)}


class Registry:
    """Where images come from: ``Registry("ghcr.io/acme", aws="<account>.dkr.ecr.<region>.amazonaws.com/acme")``.

    ``url`` is the default location; ``aws``, ``gcp`` and ``azure`` name the location that platform pulls
    from instead (AWS Lambda runs only ECR images, so a stack for aws with functions declares ``aws``). Give
    it to the stack (``Stack(..., images=...)``) and, to override, to a compute resource (``images=...``)."""

    def __init__(self, url: str | None = None, /, *, aws: str | None = None, gcp: str | None = None,
                 azure: str | None = None) -> None:
        self.locations = {"url": url, "aws": aws, "gcp": gcp, "azure": azure}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.locations.items() if v is not None)
        return f"Registry({args})"

    def to_data(self) -> dict[str, str]:
        return {k: v for k, v in self.locations.items() if v is not None}


class Storage(Resource):
    """Object storage. Fields: versioning (bool), retention_days (1..3650)."""

    kind = ResourceType.STORAGE


class Function(Resource):
    """Serverless function from a container image. Fields: image (relative to the registry or full), images
    (a ``Registry`` overriding the stack's), memory_mb, timeout_s, environment, links,
    permissions (profile name), public, triggers (``on_queue(...)`` / ``on_schedule(...)``)."""

    kind = ResourceType.FUNCTION


class Container(Resource):
    """Long-running container service. Fields: image, images, cpu, memory_mb, port, min_replicas, max_replicas,
    environment, links, permissions (profile name), public, health_check_path."""

    kind = ResourceType.CONTAINER


class Queue(Resource):
    """Message queue. Fields: visibility_timeout_s, message_retention_s."""

    kind = ResourceType.QUEUE


class Kv(Resource):
    """Key-value table (string partition and sort keys)."""

    kind = ResourceType.KV


class Vault(Resource):
    """Secrets store; the programs never manage secret values, the application does."""

    kind = ResourceType.VAULT


class Network(Resource):
    """Private network. Fields: cidr, zones (1..3), nat (bool)."""

    kind = ResourceType.NETWORK


def on_queue(queue: Resource | str, batch_size: int = 10) -> dict[str, Any]:
    """A function trigger: messages on ``queue`` invoke the function."""
    return {"queue": queue, "batch_size": batch_size}


def on_schedule(cron: str) -> dict[str, Any]:
    """A function trigger: a five-field unix cron schedule, UTC."""
    return {"schedule": cron}


class Link:
    """A link narrowed to one access: ``links=[alien.read(documents)]`` grants the compute's profile only the
    resource's ``data-read`` set (a bare resource in ``links`` grants read and write)."""

    def __init__(self, resource: Resource | str, access: str) -> None:
        self.resource = resource
        self.access = access

    def __repr__(self) -> str:
        return f"{self.access}({_plain(self.resource)!r})"


def read(resource: Resource | str) -> Link:
    """Link ``resource`` for reading only (its ``data-read`` set)."""
    return Link(resource, "read")


def write(resource: Resource | str) -> Link:
    """Link ``resource`` for writing only (its ``data-write`` set: put objects, send messages, write items)."""
    return Link(resource, "write")


def _plain(value: Any) -> Any:
    """Replace definitions by their ids and enums by their values, recursively."""
    if isinstance(value, Resource):
        return value.id
    if isinstance(value, Link):
        return f"{_plain(value.resource)}:{value.access}"
    if isinstance(value, Lifecycle):
        return value.value
    if isinstance(value, Registry):
        return value.to_data()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


class Stack:
    """Fluent builder: ``Stack("app").platforms("aws").add(res, "frozen")....build()``."""

    def __init__(self, name: str, *, images: Registry | None = None) -> None:
        self.name = name
        self._images = images
        self._platforms: list[Any] = []
        self._entries: list[dict[str, Any]] = []
        self._permissions: dict[str, Any] = {}

    def platforms(self, *platforms: str) -> Stack:
        self._platforms.extend(platforms)
        return self

    def add(self, resource: Resource, lifecycle: Lifecycle | str) -> Stack:
        self._entries.append(resource.to_data(lifecycle))
        return self

    def permissions(
        self,
        profiles: Mapping[str, Mapping[str, list[str]]] | None = None,
        management: Mapping[str, Mapping[str, list[str]]] | None = None,
    ) -> Stack:
        if profiles is not None:
            self._permissions["profiles"] = _plain(profiles)
        if management is not None:
            self._permissions["management"] = _plain(management)
        return self

    def to_data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "platforms": list(self._platforms),
            "resources": list(self._entries),
            "permissions": dict(self._permissions),
            **({"images": self._images.to_data()} if self._images is not None else {}),
        }

    def build(self) -> StackSpec:
        """Validate and return the immutable spec; raises ``StackValidationError`` listing every problem."""
        return parse_spec(self.to_data())
