"""benchmarks/bench_engine.py at a tiny size (7 resources: one live function among them), so it cannot rot: the real
engine and the fake plugins, setup, a targeted release and a heartbeat beside the plain program, on every cloud.
It runs in its own process: the benchmark sets the engine's environment for the whole process."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import ROOT

ROW = re.compile(r"^(aws|gcp|azure)\s+7\s+(\d+)((?:\s+\d+\.\d+){9})$", re.M)


def test_the_engine_benchmark_runs_at_a_tiny_size_on_every_cloud() -> None:
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench_engine", "--size", "7"], cwd=ROOT,
                          capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = {m.group(1): (int(m.group(2)), [float(x) for x in m.group(3).split()]) for m in ROW.finditer(done.stdout)}
    assert set(rows) == {"aws", "gcp", "azure"}, done.stdout
    for cloud, (updated, figures) in rows.items():
        # The release updated what the plain program's targeted up did (the benchmark refuses otherwise), and
        # every time and ratio is a measurement, not a placeholder.
        assert updated >= 1 and all(f > 0 for f in figures), (cloud, done.stdout)
