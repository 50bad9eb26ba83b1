"""Field-level differences between two JSON-ready configurations, nested fields included."""

from __future__ import annotations

from typing import Any


def field_changes(old: Any, new: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """``(field path, old, new)`` for every leaf that differs: ``environment.LOG_LEVEL``,
    ``triggers[0].schedule``; lists of scalars compare whole (``links``)."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes: list[tuple[str, Any, Any]] = []
        for key in sorted(set(old) | set(new)):
            sub = f"{path}.{key}" if path else str(key)
            changes += field_changes(old.get(key), new.get(key), sub)
        return changes
    if isinstance(old, list) and isinstance(new, list) and any(isinstance(v, dict) for v in (*old, *new)):
        changes = []
        for index in range(max(len(old), len(new))):
            changes += field_changes(old[index] if index < len(old) else None,
                                     new[index] if index < len(new) else None, f"{path}[{index}]")
        return changes
    return [] if old == new else [(path, old, new)]
