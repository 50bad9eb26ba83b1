"""benchmarks/bench_state_guard.py's synthetic state is one the check accepts and refuses as a real one (the benchmark
measures the real path, not a shortcut); tests/test_benchmarks_tiny.py runs the benchmark itself at a tiny size."""

from __future__ import annotations

import pytest

from alien_pulumi.automation.state_guard import StateRefusedError, checkpoint, verify_state
from benchmarks.bench_state_guard import exported


def test_its_state_passes_the_check_and_a_tampered_copy_does_not() -> None:
    state, live = exported(20)
    recorded = checkpoint(state, live)
    verify_state(state, recorded, live, "bench")
    owned = next(r for r in state["resources"] if r.get("custom") and r["urn"] not in live and "sqs" in r["type"])
    owned["inputs"]["field0"] = "changed"
    with pytest.raises(StateRefusedError, match=r"::q\d+: field inputs\.field0: 'changed'"):
        verify_state(state, recorded, live, "bench")
