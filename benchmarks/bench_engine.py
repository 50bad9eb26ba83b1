"""Setup, a targeted release and a heartbeat of a 100-resource stack through the real Pulumi engine (built by
tools/engine/build.sh) and the fake provider plugins of tests/engine, beside a hand-written program declaring the
same cloud resources (no components, no lifecycle options) run with `pulumi up`, `pulumi up --target` on the
same live resources and a targeted `refresh --preview-only`, on the same engine and plugins in the same run.

Run: python -m benchmarks.bench_engine [--size 100] [--clouds aws,gcp,azure]
"""

from __future__ import annotations

import argparse
import os
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
from alien_pulumi.synth import synth
from alien_pulumi.synth.graph import Graph
from benchmarks.bench_synth import plain_program  # the same cloud resources declared directly
from benchmarks.stacks import stack_of
from tests.engine.harness import engine_environment, install_plugins

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


def plain_urn(stack: str, urn: str) -> str:
    """The URN the plain program gives the resource of a (parented) URN: no parent types."""
    type_path, name = urn.split("::")[-2:]
    return f"urn:pulumi:{stack}::plain::{type_path.split('$')[-1]}::{name}"


def checked(result: RunResult) -> RunResult:
    if result.status is not RunStatus.SUCCEEDED:
        raise SystemExit(f"{result.kind.value} failed: {result.error}")
    return result


def bench(cloud: str, size: int, root: Path) -> dict[str, float]:
    spec = stack_of(size, (cloud,))
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
    times = {}
    times["setup"], _ = timed(lambda: checked(engine.execute(RunInput(run_id="s", kind=RunKind.SETUP, spec=spec,
                                                                       **base))))
    times["release"], released = timed(lambda: checked(engine.execute(RunInput(
        run_id="r", kind=RunKind.RELEASE, spec=changed, targets=sorted(live), **base))))
    times["heartbeat"], _ = timed(lambda: checked(engine.execute(RunInput(
        run_id="h", kind=RunKind.HEARTBEAT, spec=changed, refresh_targets=refresh, **base))))

    # The hand-written program on the same engine, plugins and backend, in a fake cloud of its own (it
    # creates the same physical names).
    work = state / "plain"
    work.mkdir(parents=True, exist_ok=True)
    plain_home = state / "plain-home"
    install_plugins(plain_home, state / "plain-cloud", (cloud,))
    settings = auto.ProjectSettings(name="plain", runtime="python",
                                    backend=auto.ProjectBackend(url=(state / "backend").as_uri()))

    def plain_stack(graph: Graph) -> auto.Stack:
        return auto.create_or_select_stack(stack_name="plain", project_name="plain", program=plain_program(graph),
                                           opts=auto.LocalWorkspaceOptions(
                                               work_dir=str(work), project_settings=settings,
                                               env_vars={"PULUMI_HOME": str(plain_home)}))

    nodes = after.manage.nodes
    custom_live = sorted(plain_urn("plain", u) for u in live if u in nodes and nodes[u].custom)
    times["plain up"], _ = timed(lambda: plain_stack(result.provision).up(color="never"))
    times["plain up --target"], plain_released = timed(lambda: plain_stack(after.provision).up(
        color="never", target=custom_live, target_dependents=False))
    times["plain refresh"], _ = timed(lambda: plain_stack(after.provision).preview_refresh(
        color="never", target=sorted(plain_urn("plain", u) for u in refresh)))
    updates = (released.summary.get("update"),  # type: ignore[attr-defined]
               plain_released.summary.resource_changes.get("update"))  # type: ignore[attr-defined]
    if updates[0] != updates[1] or not updates[0]:
        raise SystemExit(f"{cloud}: the release updated {updates[0]} resources, the plain program {updates[1]}")
    times["updates"] = float(updates[0])
    return times


def run(size: int, clouds: list[str]) -> dict[str, dict[str, float]]:
    """Each cloud's times (seconds) at ``size`` resources, printed as a table with the ratios to the plain
    program. The process environment gets the engine's and the vendor's settings."""
    from tests.gcp_token_server import token_server

    times: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp, token_server() as google:
        root = Path(tmp)
        home = root / "pulumi-home"
        os.environ.update(engine_environment(home))
        os.environ.update(MANAGEMENT_ENV)
        key = google.key_file(root / "vendor-release-sa.json", CONTEXT["gcp"]["vendor_principal"])
        os.environ.update({"GOOGLE_APPLICATION_CREDENTIALS": str(key),
                           "GOOGLE_IAM_CREDENTIALS_CUSTOM_ENDPOINT": f"{google.url}/v1/"})
        install_plugins(home, root / "cloud")
        print(f"{'cloud':<6} {'resources':>9} {'updated':>7} {'setup s':>8} {'plain s':>8} {'ratio':>6} "
              f"{'release s':>9} {'plain s':>8} {'ratio':>6} {'heartbeat s':>11} {'plain s':>8} {'ratio':>6}")
        for cloud in clouds:
            t = times[cloud] = bench(cloud, size, root)
            print(f"{cloud:<6} {size:>9} {t['updates']:>7.0f} {t['setup']:>8.2f} {t['plain up']:>8.2f} "
                  f"{t['setup'] / t['plain up']:>6.2f} {t['release']:>9.2f} {t['plain up --target']:>8.2f} "
                  f"{t['release'] / t['plain up --target']:>6.2f} {t['heartbeat']:>11.2f} "
                  f"{t['plain refresh']:>8.2f} {t['heartbeat'] / t['plain refresh']:>6.2f}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--clouds", default="aws,gcp,azure")
    args = parser.parse_args()
    run(args.size, args.clouds.split(","))


if __name__ == "__main__":
    main()
