"""Enumerations and small value types shared by every stage."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import AfterValidator, PlainSerializer, WithJsonSchema

ID_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,31}$")


class Lifecycle(str, Enum):
    """Who may change a resource after setup: nobody but the admin (frozen), or the vendor (live)."""

    FROZEN = "frozen"
    LIVE = "live"


class Platform(str, Enum):
    AWS = "aws"
    GCP = "gcp"
    AZURE = "azure"


class ResourceType(str, Enum):
    STORAGE = "storage"
    FUNCTION = "function"
    CONTAINER = "container"
    QUEUE = "queue"
    KV = "kv"
    VAULT = "vault"
    NETWORK = "network"


COMPUTE_TYPES = frozenset({ResourceType.FUNCTION, ResourceType.CONTAINER})
DATA_TYPES = frozenset({ResourceType.STORAGE, ResourceType.QUEUE, ResourceType.KV, ResourceType.VAULT})

# The permission-set vocabulary of each type. The data files under permissions/sets/ define exactly these
# (a test checks both directions), so validation can run without loading them.
SET_NAMES: Mapping[ResourceType, frozenset[str]] = MappingProxyType(
    {
        t: frozenset(
            {"provision", "management", "heartbeat"}
            | ({"data-read", "data-write"} if t in DATA_TYPES else set())
            | ({"runtime"} if t in COMPUTE_TYPES else set())
        )
        for t in ResourceType
    }
)
DATA_SET_PREFIX = "data-"

# What a link may grant on each data type: both by default, or only the access it names (``documents:read``,
# written ``alien.read(documents)``); each access is the type's ``data-<access>`` set. A vault is read-only.
LINK_ACCESS: Mapping[ResourceType, tuple[str, ...]] = MappingProxyType({
    ResourceType.STORAGE: ("read", "write"),
    ResourceType.QUEUE: ("read", "write"),
    ResourceType.KV: ("read", "write"),
    ResourceType.VAULT: ("read",),
})


def split_link(link: str) -> tuple[str, str | None]:
    """``"documents:read"`` -> ``("documents", "read")``; a bare id links with every access (None)."""
    rid, _, access = link.partition(":")
    return rid, access or None


def _freeze(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(sorted(value.items())))


FrozenStrMap = Annotated[
    dict[str, str],
    AfterValidator(_freeze),
    PlainSerializer(dict, return_type=dict),
    WithJsonSchema({"type": "object", "additionalProperties": {"type": "string"}}),
]
"""A read-only ``str -> str`` mapping that serialises as a JSON object with sorted keys."""
