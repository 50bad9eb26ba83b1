"""What the admin's state check costs (automation/state_guard.py), beside the baseline it cannot avoid: parsing the
exported state (`pulumi stack export` prints it as JSON). States of N resources, a third of them live, every
setup-owned one with ten inputs; the checkpoint a setup records, then the check of the same state against it.

Run: python -m benchmarks.bench_state_guard [--sizes 100,1000,5000] [--repeat N] [--json]
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from alien_pulumi.automation.state_guard import checkpoint, pinned_plugin, state_digest, verify_state
from benchmarks.bench_permissions import timed  # median seconds of repeated calls
from benchmarks.report import add_json_flag, emit

STACK = "urn:pulumi:acme::alien::"


def exported(n: int) -> tuple[dict[str, Any], list[str]]:
    """An exported deployment of ``n`` resources under one pinned provider, and its live URNs."""
    provider_urn = f"{STACK}pulumi:providers:aws::aws"
    resources: list[dict[str, Any]] = [
        {"urn": f"{STACK}pulumi:pulumi:Stack::alien-acme", "type": "pulumi:pulumi:Stack"},
        {"urn": provider_urn, "type": "pulumi:providers:aws", "custom": True, "id": "p-1",
         "inputs": {"region": "eu-west-1", "version": pinned_plugin("pulumi:providers:aws")}},
    ]
    live = []
    for i in range(n):
        urn = f"{STACK}alien:aws:Queue$aws:sqs/queue:Queue::q{i}"
        resources.append({"urn": urn, "type": "aws:sqs/queue:Queue", "custom": True, "id": f"https://sqs/q{i}",
                          "provider": f"{provider_urn}::p-1",
                          "inputs": {f"field{k}": f"value-{i}-{k}" for k in range(10)}})
        if i % 3 == 0:
            live.append(urn)
    return {"manifest": {}, "resources": resources}, live


def check_state(state: dict[str, Any], recorded: Any, live: list[str]) -> str:
    """What an admin's run does before the engine starts: the check, and the digest the confirmation compares."""
    verify_state(state, recorded, live, "bench")
    return state_digest(state)


def run(sizes: list[int], repeat: int) -> list[dict[str, float]]:
    rows = []
    for n in sizes:
        state, live = exported(n)
        text = json.dumps({"version": 3, "deployment": state})
        recorded = checkpoint(state, live)
        parse = timed(lambda t=text: json.loads(t), repeat)  # type: ignore[misc]
        record = timed(lambda s=state, lv=live: checkpoint(s, lv), repeat)  # type: ignore[misc]
        check = timed(lambda s=state, r=recorded, lv=live: check_state(s, r, lv), repeat)  # type: ignore[misc]
        rows.append({"resources": n, "parse_ms": parse * 1000, "checkpoint_ms": record * 1000,
                     "check_ms": check * 1000, "check_parse_ratio": check / parse})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--repeat", type=int, default=5)
    add_json_flag(parser)
    args = parser.parse_args()
    print(f"{'resources':>9} {'parse export ms':>16} {'checkpoint ms':>14} {'check ms':>9} {'check/parse':>12}")
    rows = run([int(s) for s in args.sizes.split(",")], args.repeat)
    for row in rows:
        print(f"{row['resources']:>9.0f} {row['parse_ms']:>16.2f} {row['checkpoint_ms']:>14.2f} "
              f"{row['check_ms']:>9.2f} {row['check_parse_ratio']:>11.1f}x")
    emit(args, "bench_state_guard", rows)


if __name__ == "__main__":
    main()
