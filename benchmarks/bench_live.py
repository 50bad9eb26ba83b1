"""API calls of ``preflight --live`` per cloud, for 10/100/300-resource stacks (benchmarks/stacks.py: every type,
half frozen, half live): how many permission checks the release asks and how many calls the cloud answers them in.

The clouds are the recorded answerers of the tests, through the real SDKs (boto3 under botocore's Stubber, which
validates each request against IAM's model; google-auth's session and azure-mgmt-authorization over
tests/deploy/sdk_fake.py), granting everything: the count is of requests made, which is what the customer's API
quotas and the check's latency see.

- AWS: one SimulatePrincipalPolicy per group of targets needing the same actions under the same condition, each
  within 1,000 results (one page); grows with the stack's kinds of grants, not with its resources one by one.
- GCP: one testIamPermissions per tested resource (at most 100 permissions each) and one for the project.
- Azure: one permissions list per resource group (the deployment's and its state store's), whatever the size.

Run: python -m benchmarks.bench_live [--sizes 10,100,300] [--json]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import alien_pulumi as alien
from alien_pulumi.permissions import derive_plan
from alien_pulumi.preflight.live import LiveClients, LiveResult, check_live, release_checks
from benchmarks.report import add_json_flag, emit
from benchmarks.stacks import stack_of
from tests.deploy.sdk_fake import FakeCloud
from tests.preflight.test_live import azure_clients, gcp_clients, gcp_cloud, iam_client, simulator


def measure(platform: str, n: int) -> tuple[LiveResult, float]:
    spec = stack_of(n)
    plan = derive_plan(spec, alien.DeploymentContext.example_context(platform, spec.name))
    start = time.perf_counter()
    if platform == "aws":
        iam = iam_client()
        with simulator(iam, lambda action, resource: {}):
            result = check_live(plan, LiveClients(aws_iam=iam), f"arn:aws:iam::{plan.context.account_id}:role/x")
    elif platform == "gcp":
        result = check_live(plan, gcp_clients(gcp_cloud(plan)))
    else:
        cloud = FakeCloud()
        for group in {c.target.split("/")[4] for c in release_checks(plan) if "/resourceGroups/" in c.target}:
            cloud.resources[f"/subscriptions/{plan.context.scope_id}/resourcegroups/{group}/providers/"
                            "microsoft.authorization/permissions".lower()] = {"value": [
                                {"actions": ["*"], "notActions": [], "dataActions": ["*"], "notDataActions": []}]}
        result = check_live(plan, azure_clients(cloud))
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,100,300")
    add_json_flag(parser)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    print(f"{'cloud':6} {'resources':>9} {'live':>5} {'checks':>7} {'calls':>6} {'unchecked':>9} {'seconds':>8}")
    for platform in ("aws", "gcp", "azure"):
        for n in (int(s) for s in args.sizes.split(",")):
            result, seconds = measure(platform, n)
            live = sum(r.lifecycle.value == "live" for r in stack_of(n).resources)
            # checks per call: the batching each cloud's API allows, what the customer's quotas see
            rows.append({"cloud": platform, "resources": n, "live": live, "checks": len(result.checks),
                         "calls": result.calls, "unchecked": len(result.unchecked), "seconds": seconds,
                         "checks_per_call_ratio": len(result.checks) / result.calls})
            print(f"{platform:6} {n:>9} {live:>5} {len(result.checks):>7} {result.calls:>6} "
                  f"{len(result.unchecked):>9} {seconds:>8.2f}")
    emit(args, "bench_live", rows)


if __name__ == "__main__":
    main()
