"""Properties of every valid stack: JSON round trips, and what the frozen digest tracks."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

import alien_pulumi as alien
from alien_pulumi.model.types import Lifecycle
from tests.strategies import FIELDS, stack_data

SETTINGS = settings(max_examples=60, deadline=None)


@SETTINGS
@given(stack_data())
def test_random_valid_stacks_round_trip(data: dict[str, Any]) -> None:
    spec = alien.parse_spec(data)
    again = alien.parse_spec(json.loads(spec.to_json()))
    assert again == spec
    assert again.digest() == spec.digest() and again.frozen_digest() == spec.frozen_digest()


def _changed_field(data: dict[str, Any], draw: st.DrawFn, lifecycle: str) -> tuple[dict[str, Any], str] | None:
    """Change one field of one resource of the given lifecycle to another valid value."""
    candidates = [r for r in data["resources"] if r["lifecycle"] == lifecycle]
    candidates = [r for r in candidates if FIELDS[alien.ResourceType(r["type"])]]
    if not candidates:
        return None
    res = draw(st.sampled_from(candidates))
    fields = FIELDS[alien.ResourceType(res["type"])]
    name = draw(st.sampled_from(sorted(fields)))
    value = draw(fields[name].filter(lambda v: v != res.get(name)))
    too_high = name == "min_replicas" and value > res["max_replicas"]
    if too_high or (name == "max_replicas" and value < res["min_replicas"]):
        return None
    res[name] = value
    return data, f"{res['id']}.{name}"


@SETTINGS
@given(stack_data(), st.data())
def test_changing_a_frozen_field_changes_the_frozen_digest(data: dict[str, Any], more: st.DataObject) -> None:
    before = alien.parse_spec(data)
    changed = _changed_field(json.loads(json.dumps(data)), more.draw, Lifecycle.FROZEN.value)
    assume(changed is not None)
    assert changed is not None
    after = alien.parse_spec(changed[0])
    assert after.frozen_digest() != before.frozen_digest(), changed[1]


@SETTINGS
@given(stack_data(), st.data())
def test_changing_a_live_field_keeps_the_frozen_digest(data: dict[str, Any], more: st.DataObject) -> None:
    before = alien.parse_spec(data)
    changed = _changed_field(json.loads(json.dumps(data)), more.draw, Lifecycle.LIVE.value)
    assume(changed is not None)
    assert changed is not None
    after = alien.parse_spec(changed[0])
    assert after.frozen_digest() == before.frozen_digest(), changed[1]
    assert after.digest() != before.digest()
