"""Effective permission differences between two renderings of a layer.

A rendered layer is flattened into (action, resource, condition) entries. A new entry counts as added
only if no deployed entry covers it: AWS by action and resource wildcards, GCP by the same scope or a
project-wide binding, Azure by a scope above it. So a new resource under a stack-wide wildcard the
identity already holds is not a permission change.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from operator import attrgetter
from typing import Any

from alien_pulumi.model.types import Platform


@dataclass(frozen=True)
class Entry:
    action: str
    resource: str
    condition: str = ""

    def __str__(self) -> str:
        return f"{self.action} on {self.resource}" + (f" if {self.condition}" if self.condition else "")


def _cond(value: Any) -> str:
    return json.dumps(value, sort_keys=True) if value else ""


def _flatten_aws(rendered: dict[str, Any]) -> set[Entry]:
    return {
        Entry(action, resource, _cond(stmt.get("Condition")))
        for doc in rendered.get("policies", [])
        for stmt in doc["Statement"]
        for action in stmt["Action"]
        for resource in stmt["Resource"]
    }


def _flatten_gcp(rendered: dict[str, Any]) -> set[Entry]:
    roles = {r["name"]: r["permissions"] for r in rendered.get("roles", [])}
    return {
        Entry(perm, b["scope"], _cond(b.get("condition")))
        for b in rendered.get("bindings", [])
        for perm in roles.get(b["role"], [])
    }


def _flatten_azure(rendered: dict[str, Any]) -> set[Entry]:
    roles = {r["roleName"]: r for r in rendered.get("role_definitions", [])}
    return {
        Entry(action, a["scope"], _cond(a.get("condition")))
        for a in rendered.get("assignments", [])
        for action in (*roles[a["role"]]["actions"], *roles[a["role"]]["dataActions"])
    }


def _covers_aws(have: Entry, want: Entry) -> bool:
    return (fnmatchcase(want.action.lower(), have.action.lower()) and fnmatchcase(want.resource, have.resource)
            and have.condition in ("", want.condition))


def _covers_gcp(have: Entry, want: Entry) -> bool:
    project_wide = have.resource.startswith("projects/") and "/" not in have.resource.removeprefix("projects/")
    return (have.action == want.action and (have.resource == want.resource or project_wide)
            and have.condition in ("", want.condition))


def _covers_azure(have: Entry, want: Entry) -> bool:
    scope, target = have.resource.lower(), want.resource.lower()
    return (fnmatchcase(want.action.lower(), have.action.lower())
            and (target == scope or target.startswith(scope + "/")) and have.condition in ("", want.condition))


_FLATTEN: dict[Platform, Callable[[dict[str, Any]], set[Entry]]] = {
    Platform.AWS: _flatten_aws, Platform.GCP: _flatten_gcp, Platform.AZURE: _flatten_azure,
}
_COVERS: dict[Platform, Callable[[Entry, Entry], bool]] = {
    Platform.AWS: _covers_aws, Platform.GCP: _covers_gcp, Platform.AZURE: _covers_azure,
}


def entry_diff(platform: Platform, old: dict[str, Any] | None, new: dict[str, Any] | None
               ) -> tuple[list[Entry], list[Entry]]:
    """(added, removed) entries of a layer, sorted by action, resource and condition."""
    before = _FLATTEN[platform](old or {})
    after = _FLATTEN[platform](new or {})
    covers = _COVERS[platform]
    added = [e for e in after - before if not any(covers(h, e) for h in before)]
    removed = [e for e in before - after if not any(covers(h, e) for h in after)]
    key = attrgetter("action", "resource", "condition")
    return sorted(added, key=key), sorted(removed, key=key)


def permission_diff(platform: Platform, old: dict[str, Any] | None, new: dict[str, Any] | None
                    ) -> tuple[list[str], list[str]]:
    """(added, removed) entries of a layer, as sorted readable lines."""
    added, removed = entry_diff(platform, old, new)
    return sorted(map(str, added)), sorted(map(str, removed))
