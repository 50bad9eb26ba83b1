"""Preflight properties over random valid stacks and random valid changes."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

import alien_pulumi as alien
from alien_pulumi.preflight import Code, from_spec, preflight
from tests.strategies import change_field, stack_data

SETTINGS = settings(max_examples=40, deadline=None)
FROZEN_CODES = {Code.FROZEN_CHANGED, Code.FROZEN_ADDED, Code.FROZEN_REMOVED, Code.LIFECYCLE_CHANGED}


def changed(data: dict[str, Any], draw: st.DrawFn, lifecycle: str) -> tuple[alien.StackSpec, str, str]:
    result = change_field(json.loads(json.dumps(data)), draw, lifecycle)
    assume(result is not None)
    assert result is not None
    rid, field = result[1].split(".", 1)
    return alien.parse_spec(result[0]), rid, field


@SETTINGS
@given(stack_data())
def test_identical_stacks_yield_no_findings(data: dict[str, Any]) -> None:
    spec = alien.parse_spec(data)
    assert preflight(spec, from_spec(spec)).findings == ()


@SETTINGS
@given(stack_data(), st.data())
def test_any_frozen_change_yields_frozen_changed_naming_the_field(data: dict[str, Any], more: st.DataObject) -> None:
    old = alien.parse_spec(data)
    new, rid, field = changed(data, more.draw, "frozen")
    report = preflight(new, from_spec(old))
    hits = [f for f in report.findings if f.code is Code.FROZEN_CHANGED and f.resource == rid]
    assert hits and all(f.field is not None and f.field.split(".")[0].split("[")[0] == field for f in hits)
    assert report.blocked


@SETTINGS
@given(stack_data(), st.data())
def test_live_changes_alone_never_yield_a_frozen_finding(data: dict[str, Any], more: st.DataObject) -> None:
    old = alien.parse_spec(data)
    new, _, _ = changed(data, more.draw, "live")
    assert not {f.code for f in preflight(new, from_spec(old)).findings} & FROZEN_CODES


@SETTINGS
@given(stack_data(), st.data())
def test_the_allow_flag_changes_blocking_never_the_findings(data: dict[str, Any], more: st.DataObject) -> None:
    old = alien.parse_spec(data)
    new, _, _ = changed(data, more.draw, more.draw(st.sampled_from(["frozen", "live"])))
    strict = preflight(new, from_spec(old))
    allowed = preflight(new, from_spec(old), allow_frozen_changes=True)
    key = [(f.code, f.resource, f.field, f.old, f.new, f.platform) for f in strict.findings]
    assert key == [(f.code, f.resource, f.field, f.old, f.new, f.platform) for f in allowed.findings]
    frozen_only = all(f.code is Code.FROZEN_CHANGED for f in strict.findings if f.blocks)
    if frozen_only:
        assert not allowed.blocked
