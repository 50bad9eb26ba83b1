"""A real AWS policy simulator for the tests (npm's @cloud-copilot/iam-simulate, pinned by package-lock.json).

AGPL, so test-only: tools/test-deps.sh installs it with `npm ci` into a cache outside the repo, and simulate.cjs
runs it. ``assume_role`` models what STS authorises for one AssumeRole call: sts:AssumeRole always,
sts:SetSourceIdentity when the call sets a source identity, sts:TagSession when it passes session tags; the call
succeeds only when every one of them is allowed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
CACHE = Path(os.environ.get("ALIEN_AWS_SIMULATOR_CACHE") or Path.home() / ".cache/alien-pulumi/aws-simulator")
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/acme-management"
# The vendor's release service, calling as a session of its own role (what the trust names).
VENDOR_SESSION = "arn:aws:sts::111122223333:assumed-role/alien-release/release-service"
# The vendor's own permissions: it may ask STS for anything; the trust policy alone decides.
VENDOR_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:*", "Resource": "*"}]}


def simulate(resource_policy: Mapping[str, Any] | None, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    installed = (CACHE / "lock.sha256").read_text().strip() if (CACHE / "lock.sha256").exists() else None
    assert installed, f"the AWS policy simulator is not installed in {CACHE}: run tools/test-deps.sh"
    node = shutil.which("node")
    assert node, "node is not installed: run tools/test-deps.sh"
    done = subprocess.run([node, str(HERE / "simulate.cjs")], input=json.dumps({
        "resource_policy": resource_policy, "requests": requests}), capture_output=True, text=True, check=False,
        env={**os.environ, "ALIEN_AWS_SIMULATOR_CACHE": str(CACHE)}, timeout=120)
    assert done.returncode == 0, done.stderr
    results: list[dict[str, Any]] = json.loads(done.stdout)
    errors = [r["error"] for r in results if "error" in r]
    assert not errors, errors  # a policy the simulator cannot parse is a failed test, never a denial
    return results


def assume_role(trust: Mapping[str, Any], *, at: str, external_id: str | None, source_identity: str | None = None,
                tags: Mapping[str, str] | None = None, principal: str = VENDOR_SESSION) -> dict[str, str]:
    """Action -> the simulator's result, for each action STS authorises for this AssumeRole call."""
    context: dict[str, str | list[str]] = {"aws:CurrentTime": at}
    actions = ["sts:AssumeRole"]
    if external_id is not None:
        context["sts:ExternalId"] = external_id
    if source_identity is not None:
        context["sts:SourceIdentity"] = source_identity
        actions.append("sts:SetSourceIdentity")
    if tags:
        context.update({f"aws:RequestTag/{k}": v for k, v in tags.items()})
        context["aws:TagKeys"] = list(tags)
        actions.append("sts:TagSession")
    results = simulate(trust, [{"principal": principal, "action": action, "resource": ROLE, "account": ACCOUNT,
                                "context": context, "identity_policies": [VENDOR_POLICY]} for action in actions])
    return {action: r["result"] for action, r in zip(actions, results, strict=True)}


def allowed(results: Mapping[str, str]) -> bool:
    return all(result == "Allowed" for result in results.values())
