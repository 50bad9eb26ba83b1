"""benchmarks/bench_engine.py at a tiny size (7 resources: one live function among them), so it cannot rot: the real
engine and the fake plugins, setup, a targeted release and a heartbeat beside both baselines, on every cloud.
It runs in its own process: the benchmark sets the engine's environment for the whole process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import alien_pulumi as alien
from alien_pulumi.synth import run_program, synth
from alien_pulumi.synth.graph import Graph
from benchmarks.bench_engine import CONTEXT
from benchmarks.plain import plain_program
from benchmarks.stacks import stack_of
from tests.conftest import ROOT

ROW = re.compile(r"^(aws|gcp|azure)\s+7\s+3\s+(\d+)\s+(setup|release|heartbeat)((?:\s+\d+\.\d+){5})", re.M)


def test_the_engine_benchmark_runs_at_a_tiny_size_on_every_cloud() -> None:
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench_engine", "--size", "7", "--live", "3", "--json"],
                          cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = {(m.group(1), m.group(3)): (int(m.group(2)), [float(x) for x in m.group(4).split()])
            for m in ROW.finditer(done.stdout)}
    assert set(rows) == {(c, r) for c in ("aws", "gcp", "azure") for r in ("setup", "release", "heartbeat")}, \
        done.stdout
    for key, (updated, figures) in rows.items():
        # The release updated what both baselines' targeted ups did (the benchmark refuses otherwise), and every
        # time and ratio is a measurement, not a placeholder.
        assert updated >= 1 and all(f > 0 for f in figures), (key, done.stdout)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["benchmark"] == "bench_engine" and len(report["rows"]) == 9
    for row in report["rows"]:
        assert row["plain_ratio"] > 0 and row["components_ratio"] > 0
        # Peak memory of the process tree, for setup and release: more than this process alone.
        assert row["run"] == "heartbeat" or row["peak_mib"] > 50


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
@pytest.mark.parametrize("components", [False, True])
def test_the_baseline_declares_the_same_cloud_resources_with_the_same_inputs(cloud: str, components: bool) -> None:
    """The benchmarks' baseline is only a baseline if it registers what the stack's program registers."""
    spec = stack_of(14, (cloud,))
    ctx = alien.DeploymentContext.create(cloud, "acme", prefix="acme", **CONTEXT[cloud])  # type: ignore[arg-type]
    graph = synth(spec, ctx).provision
    ours = {(n.type, n.name): n.inputs for n in graph.nodes.values()
            if (n.custom or components) and not n.type.startswith("pulumi:providers:")}
    registered = run_program(plain_program(graph, components), "alien", "acme")
    plain = {(r.type, r.name): r.inputs for r in registered if not r.type.startswith("pulumi:providers:")}
    assert plain == ours
    if components:  # and each under the same parents: the same URNs

        def urns(g: Graph) -> set[str]:
            return {u for u, n in g.nodes.items() if not n.type.startswith("pulumi:providers:")}

        assert urns(Graph(registered, "alien", "acme")) == urns(graph)


def test_without_the_engine_the_benchmark_says_how_to_build_it(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench_engine", "--size", "7"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "ALIEN_PULUMI_ENGINE_CACHE": str(tmp_path / "no-engine")})
    assert done.returncode == 2, done.stderr
    assert "tools/engine/build.sh" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert done.stdout == ""
