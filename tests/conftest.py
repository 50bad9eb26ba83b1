from __future__ import annotations

from pathlib import Path

import pytest

import alien_pulumi as alien

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
CATALOGS = ROOT.parent / "shared" / "catalogs"


def quickstart() -> alien.Stack:
    """The stack of the README (and of the foundation issue), as an unbuilt builder."""
    data = alien.Storage("data", versioning=True)
    jobs = alien.Queue("jobs")
    cache = alien.Kv("cache")
    secrets = alien.Vault("secrets")
    net = alien.Network("net")
    api = alien.Function("api", image="ghcr.io/acme/api:1.4.2", memory_mb=512, links=[data, jobs], permissions="app")
    web = alien.Container("web", image="ghcr.io/acme/web:2.0.0", cpu=0.5, memory_mb=1024, port=8080,
                          links=[cache], permissions="app", public=True)
    return (
        alien.Stack("my-app")
        .platforms("aws", "gcp", "azure")
        .add(data, "frozen").add(jobs, "frozen").add(cache, "frozen").add(secrets, "frozen").add(net, "frozen")
        .add(api, "live").add(web, "live")
        .permissions(
            profiles={"app": {"data": ["storage/data-read", "storage/data-write"], "*": ["queue/data-write"]}},
            management={"extend": {"api": ["function/provision"]}},
        )
    )


@pytest.fixture
def spec() -> alien.StackSpec:
    return quickstart().build()
