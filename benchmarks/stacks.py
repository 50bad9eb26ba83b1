"""Stacks of a given size for benchmarks: a realistic mix of every type, half frozen, half live."""

from __future__ import annotations

import alien_pulumi as alien

ECR = "111122223333.dkr.ecr.us-east-1.amazonaws.com"  # AWS runs ECR images only (DESIGN.md §4b)


def stack_of(n: int, platforms: tuple[str, ...] = ("aws", "gcp", "azure")) -> alien.StackSpec:
    """``n`` resources: per group of 7, one of every type; compute links the group's data resources."""
    stack = alien.Stack(f"bench-{n}").platforms(*platforms)
    added = 0
    group = 0
    while added < n:
        g = f"g{group}"
        data = [alien.Storage(f"{g}-data", versioning=True), alien.Queue(f"{g}-jobs"), alien.Kv(f"{g}-kv"),
                alien.Vault(f"{g}-vault")]
        compute = [alien.Function(f"{g}-fn", image=f"{ECR}/acme/fn:1", links=data[:2], permissions="app"),
                   alien.Container(f"{g}-web", image=f"{ECR}/acme/web:1", links=data[2:], permissions="app")]
        extra = [alien.Network(f"{g}-net")] if group == 0 else []
        for i, res in enumerate([*extra, *data, *compute]):
            if added == n:
                break
            stack.add(res, "frozen" if i % 2 == 0 else "live")
            added += 1
        group += 1
    return stack.permissions(profiles={"app": {"*": ["queue/data-write"]}}).build()
