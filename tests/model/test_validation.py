"""Every validation problem, with the resource, the field and the message a user reads."""

from __future__ import annotations

from typing import Any

import pytest

import alien_pulumi as alien
from tests.conftest import quickstart

ECR = "111122223333.dkr.ecr.us-east-1.amazonaws.com"  # AWS runs ECR images only (DESIGN.md §4b)


def problems_of(data: dict[str, Any] | alien.Stack) -> list[str]:
    with pytest.raises(alien.StackValidationError) as info:
        data.build() if isinstance(data, alien.Stack) else alien.parse_spec(data)
    assert isinstance(info.value, alien.AlienError)
    return [str(p) for p in info.value.problems]


def base_data() -> dict[str, Any]:
    return quickstart().model_dump(mode="json")


def edit(rid: str, **changes: Any) -> dict[str, Any]:
    data = base_data()
    next(r for r in data["resources"] if r["id"] == rid).update(changes)
    return data


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (edit("jobs", id="data"), "data.id: duplicate id 'data': ids are unique in a stack"),
        (edit("jobs", id="Jobs_1"), "Jobs_1.id: 'Jobs_1' must match ^[a-z][a-z0-9-]{0,31}$"),
        (edit("jobs", id="j" * 33), f"{'j' * 33}.id: '{'j' * 33}' must match ^[a-z][a-z0-9-]{{0,31}}$"),
        (edit("api", links=["data", "ghost"]), "api.links: names 'ghost', which is not a resource of this stack"),
        (edit("api", links=["net"]),
         "api.links: links to 'net', a network: links name storage, queue, kv or vault resources"),
        (edit("api", triggers=[{"queue": "nowhere"}]),
         "api.triggers: names 'nowhere', which is not a resource of this stack"),
        (edit("api", triggers=[{"queue": "data"}]), "api.triggers: queue trigger names 'data', a storage, not a queue"),
        (edit("api", permissions="admin"),
         "api.permissions: profile 'admin' is not defined in permissions.profiles (defined: app)"),
        (edit("data", lifecycle="thawed"), "data.lifecycle: unknown lifecycle 'thawed' (expected frozen or live)"),
        (edit("data", type="bucket"),
         "data.type: unknown type 'bucket' (expected one of storage, function, container, queue, kv, vault, network)"),
        (edit("data", retention_days=0), "data.retention_days: must be >= 1 (got 0)"),
        (edit("data", retention_days=5000), "data.retention_days: must be <= 3650 (got 5000)"),
        (edit("api", memory_mb=64), "api.memory_mb: must be >= 128 (got 64)"),
        (edit("api", timeout_s=901), "api.timeout_s: must be <= 900 (got 901)"),
        (edit("web", port=70000), "web.port: must be <= 65535 (got 70000)"),
        (edit("web", cpu=8), "web.cpu: must be <= 4.0 (got 8)"),
        (edit("web", min_replicas=5, max_replicas=2), "web: max_replicas (2) is below min_replicas (5)"),
        (edit("jobs", visibility_timeout_s=5), "jobs.visibility_timeout_s: must be >= 10 (got 5)"),
        (edit("net", zones=9), "net.zones: must be <= 3 (got 9)"),
        (edit("net", cidr="10.0.0.0/8"), "net.cidr: '10.0.0.0/8': prefix length must be /16 to /24"),
        (edit("data", versoning=True), "data.versoning: unknown field"),
        (edit("api", image=""), "api.image: String should have at least 1 character (got '')"),
        (edit("api", environment={"bad-name": "1"}),
         "api.environment: environment variable names must match ^[A-Za-z_][A-Za-z0-9_]*$: bad-name"),
        (edit("api", triggers=[{"schedule": "every day"}]),
         "api.triggers[0]: schedule 'every day' is not a five-field cron expression"),
        (edit("api", triggers=[{}]), "api.triggers[0]: a trigger names exactly one of 'queue' or 'schedule'"),
    ],
)
def test_resource_problems(data: dict[str, Any], expected: str) -> None:
    assert expected in problems_of(data)


def test_stack_level_problems() -> None:
    data = base_data()
    data.update(name="My App", platforms=["aws", "mars", "aws"])
    found = problems_of(data)
    assert "stack.name: 'My App' must match ^[a-z][a-z0-9-]{0,31}$" in found
    assert "stack.platforms: unknown platform 'mars' (expected aws, gcp or azure)" in found
    assert "stack.platforms: platform 'aws' is listed twice" in found
    data.update(name="ok", platforms=[])
    assert problems_of(data) == ["stack.platforms: declare at least one platform: aws, gcp, azure"]


def test_permission_problems() -> None:
    data = base_data()
    data["permissions"] = {
        "profiles": {"app": {"ghost": ["storage/data-read"], "data": ["storage/data-rd", "queue/data-read"],
                             "*": ["function/provision"]}},
        "management": {"extend": {"*": ["storage/data-read"], "web": ["function/provision"]}},
    }
    found = problems_of(data)
    # Scopes are reported in sorted order ("*" first), whatever order they were written in.
    assert found == [
        "permissions.profiles.app.*: 'function/provision' is not a data set: profiles grant the application "
        "data access only (data-read, data-write)",
        "permissions.profiles.app.data: unknown permission set 'storage/data-rd' (sets are <type>/<set>, "
        "e.g. storage/data-read)",
        "permissions.profiles.app.data: 'queue/data-read' does not apply to 'data', a storage",
        "permissions.profiles.app.ghost: scope 'ghost' is neither '*' nor a resource of this stack",
        "permissions.management.extend.*: 'storage/data-read' grants data access: management never includes "
        "data access",
        "permissions.management.extend.web: 'function/provision' does not apply to 'web', a container",
    ]


def test_every_problem_is_reported_at_once() -> None:
    stack = (
        alien.Stack("s").platforms("aws")
        .add(alien.Storage("data", retention_days=-1), "frozen")
        .add(alien.Function("fn", image=f"{ECR}/i", memory_mb=1, links=["nope"]), "sometimes")
    )
    found = problems_of(stack)
    assert found == [
        "data.retention_days: must be >= 1 (got -1)",
        "fn.lifecycle: unknown lifecycle 'sometimes' (expected frozen or live)",
        "fn.memory_mb: must be >= 128 (got 1)",
        "fn.links: names 'nope', which is not a resource of this stack",
    ]


def test_error_message_lists_problems() -> None:
    with pytest.raises(alien.StackValidationError) as info:
        alien.parse_spec(edit("data", retention_days=0))
    text = str(info.value)
    assert text.startswith("stack 'my-app' is invalid (1 problem):")
    assert "data.retention_days: must be >= 1 (got 0)" in text
    assert info.value.problems[0].code == "OUT_OF_RANGE"


def test_not_an_object() -> None:
    assert problems_of([1, 2]) == ["stack: a stack spec is a JSON object"]  # type: ignore[arg-type]
