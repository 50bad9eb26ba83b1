"""Revoked deployments on the vendor's side: a run the customer's cloud refused as a revocation refuses it is
``revoked`` in the registry, final, never retried, counted apart from failures (no halt), shown in the progress,
the rollout result and the CLI, and cleared by a later run that reaches the customer's cloud."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from alien_pulumi.fleet.executor import InProcessExecutor, ProcessExecutor
from alien_pulumi.fleet.progress import RolloutProgress, render_result
from alien_pulumi.fleet.registry import Registry, RolloutStatus, RunState
from alien_pulumi.fleet.rollout import rollout
from tests.cli.helpers import run
from tests.deploy.lifecycle import deployed
from tests.fleet.test_release_cli import QUICKSTART
from tests.fleet.test_rollout import FAST_RETRY, inputs


@pytest.fixture
def reg(tmp_path: Path, database: str | None) -> Iterator[Registry]:
    with Registry(tmp_path, url=database) as opened:
        yield opened


def test_a_revoked_run_is_final_apart_from_failures_and_cleared_by_a_later_run(reg: Registry,
                                                                              tmp_path: Path) -> None:
    first = rollout(reg, "v1", inputs(4, tmp_path, "simulated:5;revoked=d1,d2;fail=d3"), parallel=2,
                    halt_after_failures=2, executor=InProcessExecutor(), retry=FAST_RETRY)
    assert first.status is RolloutStatus.COMPLETED and not first.ok  # d3 failed; the revoked ones did not
    assert first.counts["revoked"] == 2 and first.counts["failed"] == 1 and first.counts["succeeded"] == 1
    revoked = first.deployments["d1"]
    assert revoked.status is RunState.REVOKED and revoked.attempts == 1  # never retried
    assert revoked.error is not None and "customer revoked the access of d1" in revoked.error
    since = reg.revoked_since()
    assert set(since) == {"d1", "d2"}  # d3's failure is no revocation
    assert since["d1"] == reg.runs(deployment="d1")[0].finished_at
    assert reg.revoked_since("d2") == {"d2": since["d2"]} and reg.revoked_since("d0") == {}

    again = rollout(reg, "v2", inputs(4, tmp_path, "simulated:5;revoked=d2", release="v2"), parallel=2,
                    executor=InProcessExecutor())
    assert again.ok and again.counts["revoked"] == 1
    assert reg.revoked_since() == {"d2": since["d2"]}, "d1 reached again: cleared; d2 revoked since its first refusal"


def test_revocations_never_halt_a_rollout(tmp_path: Path) -> None:
    with Registry(tmp_path) as reg:
        result = rollout(reg, "v1", inputs(6, tmp_path, "simulated:5;revoked=d0,d1,d2"), parallel=1,
                         halt_after_failures=1, executor=ProcessExecutor())  # real workers: the JSON round trip
    assert result.ok and result.status is RolloutStatus.COMPLETED
    assert result.counts["revoked"] == 3 and result.counts["succeeded"] == 3 and result.counts["skipped"] == 0


def test_the_progress_shows_revoked_runs_as_their_own_count(tmp_path: Path) -> None:
    console = Console(file=io.StringIO(), width=200, force_terminal=False)
    with Registry(tmp_path) as reg, RolloutProgress(console) as progress:
        result = rollout(reg, "v1", inputs(3, tmp_path, "simulated:5;revoked=d1"), parallel=1,
                         executor=InProcessExecutor(), on_progress=progress)
    render_result(result, console)
    assert progress.revoked == {1: 1} and progress.failed == {}
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "d1 revoked: simulated refusal" in text
    header = next(line for line in text.splitlines() if "deployments" in line and "succeeded" in line)
    assert "revoked" in header and "failed" in header  # a column of its own in the waves table
    assert text.rstrip().splitlines()[-1].startswith("completed: 2 succeeded, 1 revoked")


FAST_CLI = ("--no-resolve", "--state-dir")


def test_the_cli_reports_a_revoked_deployment(tmp_path: Path) -> None:
    deployed(tmp_path, "acme", engine="simulated:5")
    deployed(tmp_path, "beta", engine="simulated:5")
    revoking = "simulated:5;revoked=acme"
    single = run("release", str(QUICKSTART), "-d", "acme", "--release-id", "r2", "--engine", revoking,
                 *FAST_CLI, str(tmp_path))
    assert single.exit_code == 6, single.output
    message = single.stderr.strip().splitlines()
    assert message == ["acme: revoked: the customer's cloud refused the management identity (access revoked or its "
                       "window over: alien-deploy access on their side shows which); not retried, release again "
                       "after their admin runs alien-deploy restore"]
    as_json = json.loads(run("release", str(QUICKSTART), "-d", "acme", "--release-id", "r3", "--engine", revoking,
                             *FAST_CLI, str(tmp_path), "--json").stdout)
    assert as_json["deployments"]["acme"]["status"] == "revoked" and as_json["counts"]["revoked"] == 1

    names = tmp_path / "names.txt"
    names.write_text("acme\nbeta\n")
    fleet = run("rollout", str(QUICKSTART), "--deployments", str(names), "--release-id", "r4", "--engine", revoking,
                "--halt-after-failures", "1", *FAST_CLI, str(tmp_path), "--json")
    assert fleet.exit_code == 0, fleet.output  # a rollout reports it and does not fail for it
    assert json.loads(fleet.stdout)["counts"]["revoked"] == 1

    with Registry(tmp_path) as reg:
        first_refusal = reg.runs(deployment="acme")[0].finished_at
    rows = {r["name"]: r for r in json.loads(run("deployments", "list", "--state-dir", str(tmp_path),
                                                 "--json").stdout)}
    assert (rows["acme"]["state"], rows["acme"]["revoked_since"]) == ("revoked", first_refusal)
    assert (rows["beta"]["state"], rows["beta"]["revoked_since"]) == ("deployed", None)
    table = run("deployments", "list", "--state-dir", str(tmp_path)).stdout
    assert f"revoked since {first_refusal}"[:40] in table.replace("\n", "")
    shown = json.loads(run("deployments", "show", "acme", "--state-dir", str(tmp_path), "--json").stdout)
    assert shown["state"] == "revoked" and shown["revoked_since"] == first_refusal

    beat = json.loads(run("heartbeat", "-d", "acme", "--engine", revoking, "--state-dir", str(tmp_path),
                          "--json").stdout)
    assert beat["acme"]["status"] == "revoked"

    restored = run("release", str(QUICKSTART), "-d", "acme", "--release-id", "r5", "--engine", "simulated:5",
                   *FAST_CLI, str(tmp_path))
    assert restored.exit_code == 0, restored.output
    shown = json.loads(run("deployments", "show", "acme", "--state-dir", str(tmp_path), "--json").stdout)
    assert shown["state"] == "deployed" and shown["revoked_since"] is None
