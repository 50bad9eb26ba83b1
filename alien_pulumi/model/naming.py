"""Deterministic physical names: ``<prefix>-<id>``, adapted only where a cloud's rules force it.

Every name a program creates and a permission template names comes from here, so permissions can be
rendered and reviewed before anything exists. When a name is too long, it keeps its head and ends with
a short hash of the full name, so two long names never collide and the same input always maps alike.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from alien_pulumi.model.types import Platform, ResourceType


@dataclass(frozen=True)
class NameRule:
    """A cloud's rule for one kind of name: allowed characters (a regex class), length bounds."""

    max_len: int
    allowed: str = "a-z0-9-"
    min_len: int = 1
    what: str = ""

    def fit(self, raw: str) -> str:
        """Adapt ``raw`` to this rule (deterministic; identity when ``raw`` already fits)."""
        name = raw if re.search("[A-Z]", self.allowed) else raw.lower()
        name = re.sub(f"[^{self.allowed}]", "", name)
        if len(name) > self.max_len:
            tail = hashlib.sha256(raw.encode()).hexdigest()[:6]
            # "-" inside a range such as "a-z" is not an allowed hyphen: ask the character class itself.
            sep = "-" if re.fullmatch(f"[{self.allowed}]", "-") else ""
            name = name[: self.max_len - len(tail) - len(sep)].rstrip("-_.") + sep + tail
        name = name.strip("-_.")
        if len(name) < self.min_len:
            name = (name + hashlib.sha256(raw.encode()).hexdigest())[: self.min_len]
        return name

    def violations(self, name: str) -> list[str]:
        out = []
        if not self.min_len <= len(name) <= self.max_len:
            out.append(f"length {len(name)} outside {self.min_len}..{self.max_len}")
        if re.search(f"[^{self.allowed}]", name):
            out.append(f"characters outside [{self.allowed}]")
        return out


# Per platform and type: name key -> (template, rule). "name" is the primary physical name.
_S3 = NameRule(63, "a-z0-9-", 3, "S3 bucket")
_RULES: dict[Platform, dict[ResourceType, dict[str, tuple[str, NameRule]]]] = {
    Platform.AWS: {
        ResourceType.STORAGE: {"name": ("{prefix}-{id}", _S3)},
        ResourceType.FUNCTION: {"name": ("{prefix}-{id}", NameRule(64, "a-zA-Z0-9_-", 1, "Lambda function"))},
        ResourceType.CONTAINER: {"name": ("{prefix}-{id}", NameRule(255, "a-zA-Z0-9_-", 1, "ECS service"))},
        ResourceType.QUEUE: {"name": ("{prefix}-{id}", NameRule(80, "a-zA-Z0-9_-", 1, "SQS queue"))},
        ResourceType.KV: {"name": ("{prefix}-{id}", NameRule(255, "a-zA-Z0-9_.-", 3, "DynamoDB table"))},
        ResourceType.VAULT: {"name": ("{prefix}-{id}", NameRule(256, "a-zA-Z0-9/_+=.@-", 1, "secret name prefix"))},
        ResourceType.NETWORK: {"name": ("{prefix}-{id}", NameRule(255, "a-zA-Z0-9_.-", 1, "VPC Name tag"))},
    },
    Platform.GCP: {
        ResourceType.STORAGE: {"name": ("{prefix}-{id}", NameRule(63, "a-z0-9-", 3, "GCS bucket"))},
        ResourceType.FUNCTION: {"name": ("{prefix}-{id}", NameRule(49, "a-z0-9-", 1, "Cloud Run service"))},
        ResourceType.CONTAINER: {"name": ("{prefix}-{id}", NameRule(49, "a-z0-9-", 1, "Cloud Run service"))},
        ResourceType.QUEUE: {"name": ("{prefix}-{id}", NameRule(255, "a-zA-Z0-9_.~+%-", 3, "Pub/Sub topic"))},
        ResourceType.KV: {"name": ("{prefix}-{id}", NameRule(63, "a-z0-9-", 4, "Firestore database"))},
        ResourceType.VAULT: {"name": ("{prefix}-{id}", NameRule(200, "a-zA-Z0-9_-", 1, "secret id prefix"))},
        ResourceType.NETWORK: {"name": ("{prefix}-{id}", NameRule(63, "a-z0-9-", 1, "VPC network"))},
    },
    Platform.AZURE: {
        ResourceType.STORAGE: {
            "name": ("{prefix}{id}", NameRule(24, "a-z0-9", 3, "storage account")),
            "container": ("{id}", NameRule(63, "a-z0-9-", 3, "blob container")),
        },
        ResourceType.FUNCTION: {"name": ("{prefix}-{id}", NameRule(32, "a-z0-9-", 2, "container app"))},
        ResourceType.CONTAINER: {"name": ("{prefix}-{id}", NameRule(32, "a-z0-9-", 2, "container app"))},
        ResourceType.QUEUE: {
            "name": ("{prefix}-{id}", NameRule(50, "a-zA-Z0-9-", 6, "Service Bus namespace")),
            "queue": ("{id}", NameRule(260, "a-zA-Z0-9_.-", 1, "Service Bus queue")),
        },
        ResourceType.KV: {
            "name": ("{prefix}{id}", NameRule(24, "a-z0-9", 3, "storage account")),
            "table": ("{id}", NameRule(63, "a-zA-Z0-9", 3, "storage table")),
        },
        ResourceType.VAULT: {"name": ("{prefix}-{id}", NameRule(24, "a-zA-Z0-9-", 3, "Key Vault"))},
        ResourceType.NETWORK: {"name": ("{prefix}-{id}", NameRule(64, "a-zA-Z0-9_.-", 2, "virtual network"))},
    },
}

# Identities and per-deployment names, by platform.
_IDENTITY_RULE = {
    Platform.AWS: NameRule(64, "a-zA-Z0-9+=,.@_-", 1, "IAM role"),
    Platform.GCP: NameRule(30, "a-z0-9-", 6, "service account id"),
    Platform.AZURE: NameRule(128, "a-zA-Z0-9_-", 3, "user-assigned identity"),
}
_DEPLOYMENT_NAMES: dict[Platform, dict[str, tuple[str, NameRule]]] = {
    Platform.AWS: {"cluster": ("{prefix}", NameRule(255, "a-zA-Z0-9_-", 1, "ECS cluster"))},
    Platform.GCP: {},
    Platform.AZURE: {
        "resource_group": ("{prefix}-rg", NameRule(90, "a-zA-Z0-9_.()-", 1, "resource group")),
        "environment": ("{prefix}-env", NameRule(32, "a-z0-9-", 2, "container apps environment")),
    },
}


def resource_names(platform: Platform, kind: ResourceType, prefix: str, resource_id: str) -> dict[str, str]:
    """All physical names of one resource on one platform (``name`` is the primary one)."""
    return {
        key: rule.fit(template.format(prefix=prefix, id=resource_id))
        for key, (template, rule) in _RULES[platform][kind].items()
    }


def name_rules(platform: Platform, kind: ResourceType) -> dict[str, NameRule]:
    return {key: rule for key, (_, rule) in _RULES[platform][kind].items()}


def identity_name(platform: Platform, prefix: str, role: str) -> str:
    """Name of an identity: ``management`` or ``rt-<profile>`` (a runtime identity)."""
    short = {"management": "mgmt"}.get(role, role) if platform is Platform.GCP else role
    return _IDENTITY_RULE[platform].fit(f"{prefix}-{short}")


def deployment_names(platform: Platform, prefix: str) -> dict[str, str]:
    """Names shared by the whole deployment (ECS cluster, Azure resource group and environment)."""
    return {k: rule.fit(t.format(prefix=prefix)) for k, (t, rule) in _DEPLOYMENT_NAMES[platform].items()}


@dataclass(frozen=True)
class NameClash:
    """Two resources (or runtime profiles) whose physical names on ``platform`` are the same after the cloud's
    naming rules: ``first`` is declared before ``second``; ``what`` is the kind of name (``S3 bucket``)."""

    platform: Platform
    prefix: str
    what: str
    name: str
    first: str
    second: str
    profiles: bool = False  # two runtime profiles (their identities), not two resources


def name_clashes(platform: Platform, prefix: str, resources: Iterable[tuple[str, ResourceType]],
                 profiles: Iterable[str] = ()) -> list[NameClash]:
    """Every pair of ``resources`` (id, type) whose physical names, as ``resource_names`` derives them with ``prefix``,
    are one name of one kind (a storage account of an Azure storage and of an Azure kv share a namespace), and every
    pair of runtime ``profiles`` whose identities are one; a name inside another (a blob container, a Service Bus
    queue, a storage table) only clashes inside the same parent. One clash per pair, in declaration order."""
    seen: dict[tuple[str, ...], str] = {}
    clashes: dict[tuple[str, str], NameClash] = {}

    def claim(owner: str, what: str, name: str, scope: tuple[str, ...] = (), profile: bool = False) -> None:
        other = seen.setdefault((str(profile), what, *scope, name), owner)
        if other != owner and (other, owner) not in clashes:
            clashes[other, owner] = NameClash(platform, prefix, what, name, other, owner, profile)

    for rid, kind in resources:
        names = resource_names(platform, kind, prefix, rid)
        for key, (_, rule) in _RULES[platform][kind].items():
            claim(rid, rule.what, names[key], () if key == "name" else (names["name"],))
    for profile in profiles:
        claim(profile, _IDENTITY_RULE[platform].what, identity_name(platform, prefix, f"rt-{profile}"), profile=True)
    return list(clashes.values())
