"""Setup, a targeted release and a heartbeat of a stack through the real Pulumi engine (built by
tools/engine/build.sh) and the fake provider plugins of tests/engine, beside a hand-written program declaring the
same cloud resources with the provider SDKs' classes (benchmarks/plain.py: no components, no lifecycle options)
run with `pulumi up`, `pulumi up --target` on the same live resources and a targeted `refresh --preview-only`, on
the same engine and plugins in the same run. A second baseline adds the stack's components to the plain
program, so the table tells what the component structure costs the engine from the rest of a run's work.

Peak memory is the resident memory of the whole process tree (this process, the engine, the plugins) during
setup and the release.

Run: python -m benchmarks.bench_engine [--size 100] [--live N] [--clouds aws,gcp,azure] [--json]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pulumi import automation as auto

import alien_pulumi as alien
from alien_pulumi.automation import pulumi_engine
from alien_pulumi.automation.health import refresh_targets
from alien_pulumi.automation.pulumi_engine import PulumiEngine
from alien_pulumi.automation.run import RunInput, RunKind, RunResult, RunStatus
from alien_pulumi.automation.workspace import default_backend
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import Lifecycle
from alien_pulumi.synth import synth
from alien_pulumi.synth.graph import Graph
from benchmarks.plain import plain_program
from benchmarks.report import add_json_flag, emit, peak_rss
from benchmarks.stacks import stack_of
from tests.engine.harness import EngineMissing, engine_bin, engine_environment, install_plugins

CONTEXT: dict[str, dict[str, str]] = {
    "aws": {"region": "us-east-1", "account_id": "123456789012", "external_id": "e" * 40,
            "vendor_principal": "arn:aws:iam::999999999999:role/vendor-release"},
    "gcp": {"project": "acme-prod", "region": "us-central1",
            "vendor_principal": "release@vendor-ops.iam.gserviceaccount.com"},
    "azure": {"subscription_id": "11111111-2222-3333-4444-555555555555", "resource_group": "acme-rg",
              "region": "eastus", "vendor_principal": "repo:vendor/release:ref:refs/heads/main",
              "vendor_oidc_issuer": "https://token.actions.githubusercontent.com"},
}
# The vendor's side: base credentials the management identity's are obtained from (STS is skipped below; GCP's
# service-account key and Google's token endpoints are the tests' loopback ones, started in ``run``).
MANAGEMENT_ENV = {"ALIEN_AZURE_OIDC_TOKEN": "token"}
OLD, NEW = '/acme/fn:1"', '/acme/fn:2"'


def fake_sts(*_: Any) -> dict[str, str]:
    """Temporary credentials as STS would hand them (no STS here: the benchmark measures the engine)."""
    return {"AWS_ACCESS_KEY_ID": "ASIABENCH", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t",
            "AWS_REGION": "us-east-1"}


def no_bucket_reads(*_: Any, **__: Any) -> dict[str, Any]:
    """AWS heartbeats read S3 bucket configuration directly, not through the engine (DESIGN.md §4); there is no
    S3 here, and those reads are not what this benchmark compares."""
    return {}


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def plain_urn(stack: str, urn: str, components: bool) -> str:
    """The URN a baseline gives the resource of a (parented) URN: its parent types only with components."""
    type_path, name = urn.split("::")[-2:]
    return f"urn:pulumi:{stack}::plain::{type_path if components else type_path.split('$')[-1]}::{name}"


def checked(result: RunResult) -> RunResult:
    if result.status is not RunStatus.SUCCEEDED:
        raise SystemExit(f"{result.kind.value} failed: {result.error}")
    return result


def baseline(cloud: str, state: Path, before: Graph, after: Graph, live: list[str], refresh: list[str],
             components: bool) -> dict[str, float]:
    """The hand-written program's up, targeted up and refresh preview, on the same engine, plugins and backend,
    in a fake cloud of its own (it creates the same physical names)."""
    name = "components" if components else "plain"
    work = state / name
    work.mkdir(parents=True, exist_ok=True)
    home = state / f"{name}-home"
    install_plugins(home, state / f"{name}-cloud", (cloud,))
    settings = auto.ProjectSettings(name="plain", runtime="python",
                                    backend=auto.ProjectBackend(url=(state / "backend").as_uri()))

    def stack(graph: Graph) -> auto.Stack:
        return auto.create_or_select_stack(stack_name=name, project_name="plain",
                                           program=plain_program(graph, components),
                                           opts=auto.LocalWorkspaceOptions(
                                               work_dir=str(work), project_settings=settings,
                                               env_vars={"PULUMI_HOME": str(home)}))

    times: dict[str, float] = {}
    times["setup"], _ = timed(lambda: stack(before).up(color="never"))
    times["release"], released = timed(lambda: stack(after).up(
        color="never", target=[plain_urn(name, u, components) for u in live], target_dependents=False))
    times["heartbeat"], _ = timed(lambda: stack(after).preview_refresh(
        color="never", target=[plain_urn(name, u, components) for u in refresh]))
    times["updates"] = float(released.summary.resource_changes.get("update", 0))  # type: ignore[attr-defined]
    return times


def bench(cloud: str, size: int, live_count: int | None, root: Path) -> dict[str, dict[str, float]]:
    """Seconds (and peak MiB) of the project's runs and of both baselines, for one cloud."""
    spec = stack_of(size, (cloud,), live_count)
    changed = StackSpec.model_validate_json(spec.to_json().replace(OLD, NEW))
    ctx = alien.DeploymentContext.create(cloud, "acme", prefix="acme", **CONTEXT[cloud])  # type: ignore[arg-type]
    result, after = synth(spec, ctx), synth(changed, ctx)
    live = set(result.targets)
    refresh = refresh_targets(result)
    state = root / cloud
    # Setup's local backend, which releases and heartbeats then run on (as a record would name it).
    base = {"deployment": "acme", "release": "r1", "context": ctx, "state_dir": str(state),
            "backend_url": default_backend(state), "management": {"client_id": "c", "tenant_id": "t"}}
    engine = PulumiEngine(aws_sts=fake_sts)
    pulumi_engine.aws_bucket_health = no_bucket_reads
    ours: dict[str, float] = {}
    with peak_rss() as peak:
        ours["setup"], _ = timed(lambda: checked(engine.execute(RunInput(run_id="s", kind=RunKind.SETUP, spec=spec,
                                                                         **base))))
    ours["setup MiB"] = peak.mib
    with peak_rss() as peak:
        ours["release"], released = timed(lambda: checked(engine.execute(RunInput(
            run_id="r", kind=RunKind.RELEASE, spec=changed, targets=sorted(live), **base))))
    ours["release MiB"] = peak.mib
    ours["heartbeat"], _ = timed(lambda: checked(engine.execute(RunInput(
        run_id="h", kind=RunKind.HEARTBEAT, spec=changed, refresh_targets=refresh, **base))))
    ours["updates"] = float(released.summary.get("update", 0))  # type: ignore[attr-defined]
    nodes = after.manage.nodes
    custom_live = sorted(u for u in live if u in nodes and nodes[u].custom)
    rows = {"alien": ours}
    for components in (False, True):
        rows["components" if components else "plain"] = baseline(
            cloud, state, result.provision, after.provision, custom_live, sorted(refresh), components)
    updates = {name: row["updates"] for name, row in rows.items()}
    if len(set(updates.values())) != 1 or not ours["updates"]:
        raise SystemExit(f"{cloud}: the runs updated different numbers of resources: {updates}")
    return rows


RUNS = ("setup", "release", "heartbeat")


def run(size: int, clouds: list[str], live: int | None = None) -> list[dict[str, Any]]:
    """Each cloud's figures at ``size`` resources (``live`` of them live; half by default), printed as a table
    with the ratios to both baselines; returned as the JSON rows. The process environment gets the engine's and
    the vendor's settings."""
    from tests.gcp_token_server import token_server

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp, token_server() as google:
        root = Path(tmp)
        home = root / "pulumi-home"
        os.environ.update(engine_environment(home))
        os.environ.update(MANAGEMENT_ENV)
        key = google.key_file(root / "vendor-release-sa.json", CONTEXT["gcp"]["vendor_principal"])
        os.environ.update({"GOOGLE_APPLICATION_CREDENTIALS": str(key),
                           "GOOGLE_IAM_CREDENTIALS_CUSTOM_ENDPOINT": f"{google.url}/v1/"})
        install_plugins(home, root / "cloud")
        print(f"{'cloud':<6} {'resources':>9} {'live':>4} {'updated':>7} {'run':<9} {'alien s':>8} {'plain s':>8} "
              f"{'ratio':>6} {'+comp s':>8} {'ratio':>6} {'peak MiB':>8}")
        for cloud in clouds:
            figures = bench(cloud, size, live, root)
            ours, plain, comp = figures["alien"], figures["plain"], figures["components"]
            targets = stack_of(size, (cloud,), live).by_lifecycle(Lifecycle.LIVE)
            for kind in RUNS:
                row = {"cloud": cloud, "resources": size, "live": len(targets), "updated": int(ours["updates"]),
                       "run": kind, "alien_s": ours[kind], "plain_s": plain[kind], "components_s": comp[kind],
                       "plain_ratio": ours[kind] / plain[kind], "components_ratio": ours[kind] / comp[kind],
                       "peak_mib": ours.get(f"{kind} MiB")}
                rows.append(row)
                peak = f"{row['peak_mib']:>8.0f}" if row["peak_mib"] is not None else f"{'':>8}"
                print(f"{cloud:<6} {size:>9} {row['live']:>4} {row['updated']:>7} {kind:<9} {ours[kind]:>8.2f} "
                      f"{plain[kind]:>8.2f} {row['plain_ratio']:>6.2f} {comp[kind]:>8.2f} "
                      f"{row['components_ratio']:>6.2f} {peak}", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=100, help="resources in the stack")
    parser.add_argument("--live", type=int, default=None, help="how many of them are live (default: half)")
    parser.add_argument("--clouds", default="aws,gcp,azure")
    add_json_flag(parser)
    args = parser.parse_args()
    try:
        engine_bin()
    except EngineMissing as exc:
        print(f"bench_engine: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    emit(args, "bench_engine", run(args.size, args.clouds.split(","), args.live))


if __name__ == "__main__":
    main()
