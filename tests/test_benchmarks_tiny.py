"""Every benchmark of benchmarks/ at a tiny size, so none rots (bench_engine is run by
tests/engine/test_engine_bench.py): each runs as a user runs it, in its own process, and prints its figures; the
ones given ``--json`` also print the JSON last line that scripts track. The figures' values stay out of pass/fail."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT

# module, tiny arguments, a line the run must print (its figures, not just a header)
TINY = [
    ("benchmarks.bench_limits", ["--json"], r"azure\s+10\s+role assignments .* total \d+->\d+ \(\d+\.\d+x\)"),
    ("benchmarks.bench_permissions", ["--repeat", "1", "--json"], r"azure\s+10(\s+\d+\.\d+){3}\s+\d+\s+\d+"),
    ("benchmarks.bench_synth", ["--sizes", "5", "--json"], r"import of the azure management program: \d+\.\d+ s"),
    ("benchmarks.bench_state_guard", ["--sizes", "20", "--repeat", "1", "--json"],
     r"(?m)^\s+20(\s+\d+\.\d+){3}\s+\d+\.\dx$"),
    ("benchmarks.bench_live", ["--sizes", "10", "--json"], r"azure\s+10\s+\d+\s+\d+\s+2\s+\d+\s+\d+\.\d+"),
    ("benchmarks.bench_rollout", ["--n", "20", "--process-n", "6", "--latency-ms", "5"],
     r"process\s+6\s+8\s+5\s+\d+\.\d+\s+\d+\.\d+\s+\d+\.\d+%"),
    ("benchmarks.bench_fleet", ["--n", "10", "--latency-ms", "5", "--slots", "2", "--workers", "1"],
     r"temporal\s+1\s+2\s+\d+\.\d+\s+\d+\.\d+\s+\d+\.\d+%"),
]


@pytest.mark.parametrize(("module", "args", "figures"), TINY, ids=[m.rsplit(".", 1)[1] for m, _, _ in TINY])
def test_the_benchmark_runs_at_a_tiny_size(module: str, args: list[str], figures: str) -> None:
    done = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert re.search(figures, done.stdout), done.stdout[-2000:]
    if "--json" in args:  # the last line is the document scripts track: its rows carry at least one ratio
        document = json.loads(done.stdout.splitlines()[-1])
        assert document["benchmark"] == module.rsplit(".", 1)[1] and document["rows"], document
        ratios = [value for row in document["rows"] for key, value in row.items() if key.endswith("ratio")]
        assert any(isinstance(r, (int, float)) and r > 0 for r in ratios), document["rows"]
