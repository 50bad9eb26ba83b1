"""The stack spec: the public API shape, immutability, JSON round trips and digests."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

import alien_pulumi as alien
from alien_pulumi.model.resources import ContainerSpec, FunctionSpec, StorageSpec
from tests.conftest import quickstart

ECR = "111122223333.dkr.ecr.us-east-1.amazonaws.com"  # AWS runs ECR images only (DESIGN.md §4b)


def test_quickstart_builds_with_defaults(spec: alien.StackSpec) -> None:
    assert spec.name == "my-app"
    assert [p.value for p in spec.platforms] == ["aws", "gcp", "azure"]
    assert [r.id for r in spec.resources] == ["data", "jobs", "cache", "secrets", "net", "api", "web"]
    api = spec.resource("api")
    assert isinstance(api, FunctionSpec)
    assert api.lifecycle is alien.Lifecycle.LIVE
    assert api.links == ("data", "jobs") and api.profile == "app" and api.timeout_s == 30
    web = spec.resource("web")
    assert isinstance(web, ContainerSpec) and web.public and web.min_replicas == 1
    assert spec.permissions.management.extend["api"] == ("function/provision",)
    assert spec.permissions.profiles["app"]["*"] == ("queue/data-write",)


def test_lifecycle_enum_and_string_are_the_same() -> None:
    a = alien.Stack("s").platforms("aws").add(alien.Kv("k"), alien.Lifecycle.FROZEN).build()
    b = alien.Stack("s").platforms("aws").add(alien.Kv("k"), "frozen").build()
    assert a == b and a.digest() == b.digest()


def test_spec_is_immutable(spec: alien.StackSpec) -> None:
    with pytest.raises(ValidationError):
        spec.name = "other"  # type: ignore[misc]
    storage = spec.resource("data")
    with pytest.raises(ValidationError):
        storage.versioning = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        spec.permissions.profiles["app"]["x"] = ("storage/data-read",)  # type: ignore[index]
    with pytest.raises(TypeError):
        spec.resource("api").environment["X"] = "1"  # type: ignore[attr-defined]


def test_json_round_trip(spec: alien.StackSpec) -> None:
    text = spec.to_json()
    again = alien.parse_spec(json.loads(text))
    assert again == spec
    assert again.to_json() == text
    assert again.digest() == spec.digest()


def test_digest_ignores_dict_kwarg_and_resource_order() -> None:
    a = (
        alien.Stack("s").platforms("aws")
        .add(alien.Function("f", image=f"{ECR}/i", environment={"A": "1", "B": "2"}, memory_mb=256), "live")
        .add(alien.Storage("b", versioning=True, retention_days=3), "frozen")
        .build()
    )
    b = (
        alien.Stack("s").platforms("aws")
        .add(alien.Storage("b", retention_days=3, versioning=True), "frozen")
        .add(alien.Function("f", memory_mb=256, environment={"B": "2", "A": "1"}, image=f"{ECR}/i"), "live")
        .build()
    )
    assert a.digest() == b.digest()
    assert a.frozen_digest() == b.frozen_digest()


def test_digests_are_sha256_of_canonical_json(spec: alien.StackSpec) -> None:
    import hashlib

    frozen = sorted(
        (r for r in spec.model_dump(mode="json")["resources"] if r["lifecycle"] == "frozen"), key=lambda r: r["id"]
    )
    expected = hashlib.sha256(json.dumps(frozen, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert spec.frozen_digest() == expected
    assert len(spec.digest()) == 64 and spec.digest() != spec.frozen_digest()


def test_frozen_digest_tracks_frozen_entries_only() -> None:
    base = quickstart()
    changed_live = alien.parse_spec(_with(base, "api", memory_mb=1024))
    assert changed_live.frozen_digest() == base.frozen_digest()
    assert changed_live.digest() != base.digest()
    changed_frozen = alien.parse_spec(_with(base, "data", versioning=False))
    assert changed_frozen.frozen_digest() != base.frozen_digest()
    flipped = alien.parse_spec(_with(base, "jobs", lifecycle="live"))
    assert flipped.frozen_digest() != base.frozen_digest()


def _with(spec: alien.StackSpec, rid: str, **changes: object) -> dict[str, object]:
    data = spec.model_dump(mode="json")
    for res in data["resources"]:
        if res["id"] == rid:
            res.update(changes)
    return data


def test_defaults_and_triggers() -> None:
    q = alien.Queue("q")
    f = alien.Function("f", image=f"{ECR}/i",
                       triggers=[alien.on_queue(q, batch_size=5), alien.on_schedule("*/5 * * * *")])
    spec = alien.Stack("s").platforms("gcp").add(q, "frozen").add(f, "live").add(alien.Storage("b"), "frozen").build()
    fn = spec.resource("f")
    assert isinstance(fn, FunctionSpec)
    assert fn.triggers[0].queue == "q" and fn.triggers[0].batch_size == 5
    assert fn.triggers[1].schedule == "*/5 * * * *"
    storage = spec.resource("b")
    assert isinstance(storage, StorageSpec) and storage.versioning is False and storage.retention_days is None


def test_json_schema_describes_every_type() -> None:
    schema = alien.StackSpec.model_json_schema()
    names = set(schema["$defs"])
    for model in ("StorageSpec", "FunctionSpec", "ContainerSpec", "QueueSpec", "KvSpec", "VaultSpec", "NetworkSpec"):
        assert model in names
    assert schema["$defs"]["StorageSpec"]["properties"]["retention_days"]["anyOf"][0]["maximum"] == 3650
