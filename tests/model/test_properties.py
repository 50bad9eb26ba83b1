"""Properties of every valid stack: JSON round trips, and what the frozen digest tracks."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

import alien_pulumi as alien
from alien_pulumi.model.types import Lifecycle
from tests.strategies import change_field, stack_data

SETTINGS = settings(max_examples=60, deadline=None)


@SETTINGS
@given(stack_data())
def test_random_valid_stacks_round_trip(data: dict[str, Any]) -> None:
    spec = alien.parse_spec(data)
    again = alien.parse_spec(json.loads(spec.to_json()))
    assert again == spec
    assert again.digest() == spec.digest() and again.frozen_digest() == spec.frozen_digest()


@SETTINGS
@given(stack_data(), st.data())
def test_changing_a_frozen_field_changes_the_frozen_digest(data: dict[str, Any], more: st.DataObject) -> None:
    before = alien.parse_spec(data)
    changed = change_field(json.loads(json.dumps(data)), more.draw, Lifecycle.FROZEN.value)
    assume(changed is not None)
    assert changed is not None
    after = alien.parse_spec(changed[0])
    assert after.frozen_digest() != before.frozen_digest(), changed[1]


@SETTINGS
@given(stack_data(), st.data())
def test_changing_a_live_field_keeps_the_frozen_digest(data: dict[str, Any], more: st.DataObject) -> None:
    before = alien.parse_spec(data)
    changed = change_field(json.loads(json.dumps(data)), more.draw, Lifecycle.LIVE.value)
    assume(changed is not None)
    assert changed is not None
    after = alien.parse_spec(changed[0])
    assert after.frozen_digest() == before.frozen_digest(), changed[1]
    assert after.digest() != before.digest()
