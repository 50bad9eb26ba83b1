"""Custom roles per grant, for clouds that bind roles on scopes (GCP, Azure).

A role holds exactly one grant's actions and is bound only on that grant's scopes. A role per permission
set would carry every grant of the set to every scope of the set: a project-wide operations poll would
take the set's update and actAs rights project-wide with it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from alien_pulumi.permissions.plan import BoundGrant, Layer


@dataclass(frozen=True)
class GrantRole:
    key: str  # <set id>/<6 hex of the actions>: stable while the grant's actions are
    set_id: str
    description: str
    actions: tuple[str, ...]
    data_actions: tuple[str, ...]


def grant_roles(layer: Layer) -> list[tuple[BoundGrant, GrantRole]]:
    """Each bound grant with its role; grants with the same set and actions share one role."""
    out = []
    for grant in layer.grants:
        actions, data_actions = tuple(sorted(grant.actions)), tuple(sorted(grant.data_actions))
        digest = hashlib.sha256(" ".join((*actions, "|", *data_actions)).encode()).hexdigest()[:6]
        out.append((grant, GrantRole(f"{grant.set_id}/{digest}", grant.set_id, grant.description, actions,
                                     data_actions)))
    return out


def distinct_roles(pairs: list[tuple[BoundGrant, GrantRole]]) -> list[GrantRole]:
    return list({role.key: role for _, role in pairs}.values())
