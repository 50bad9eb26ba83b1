"""Stacks of a given size for benchmarks: a realistic mix of every type, half frozen, half live."""

from __future__ import annotations

import alien_pulumi as alien

ECR = "111122223333.dkr.ecr.us-east-1.amazonaws.com"  # AWS runs ECR images only (DESIGN.md §4b)


def stack_of(n: int, platforms: tuple[str, ...] = ("aws", "gcp", "azure"), live: int | None = None) -> alien.StackSpec:
    """``n`` resources: per group of 7, one of every type; compute links the group's data resources.

    Every other resource is live; with ``live``, that many are: the functions and containers first, group by group
    (what a vendor releases), then data resources."""
    resources: list[alien.Resource] = []
    halves: set[str] = set()  # every other resource of each group
    group = 0
    while len(resources) < n:
        g = f"g{group}"
        data = [alien.Storage(f"{g}-data", versioning=True), alien.Queue(f"{g}-jobs"), alien.Kv(f"{g}-kv"),
                alien.Vault(f"{g}-vault")]
        compute = [alien.Function(f"{g}-fn", image=f"{ECR}/acme/fn:1", links=data[:2], permissions="app"),
                   alien.Container(f"{g}-web", image=f"{ECR}/acme/web:1", links=data[2:], permissions="app")]
        extra = [alien.Network(f"{g}-net")] if group == 0 else []
        added = [*extra, *data, *compute][:n - len(resources)]
        resources.extend(added)
        halves.update(r.id for i, r in enumerate(added) if i % 2 == 1)
        group += 1
    if live is None:
        live_ids = halves
    else:
        computes = [r for r in resources if isinstance(r, (alien.Function, alien.Container))]
        rest = [r for r in resources if r not in computes]
        live_ids = {r.id for r in [*computes, *rest][:live]}
    stack = alien.Stack(f"bench-{n}").platforms(*platforms)
    for res in resources:
        stack.add(res, "live" if res.id in live_ids else "frozen")
    return stack.permissions(profiles={"app": {"*": ["queue/data-write"]}}).build()
