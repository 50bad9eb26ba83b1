"""Custom roles for clouds that bind roles on scopes (GCP, Azure), packed to stay inside their limits.

Grants are first merged per scope: every grant a layer holds at one scope (and condition) becomes one role with
the union of their actions, bound once there - one assignment per identity and resource rather than per grant
(Azure holds 4,000 assignments per subscription, fixed). A role is still bound only where each of its actions
was granted: a role per permission set would carry every grant of the set to every scope of the set (a
project-wide operations poll would take the set's update and actAs rights project-wide with it).

GCP additionally allows at most 20 bindings of one role to one member with different conditions in one policy:
conditional bindings of the same role on the same scope are joined into one binding whose condition is the
disjunction of theirs (``||``), in chunks inside a condition's limits: 12,800 characters and 12 logical operators
(each ``||`` joining two counts, as do those inside the conditions joined).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from alien_pulumi.permissions.plan import BoundGrant, Layer

TITLE_LIMIT, DESCRIPTION_LIMIT = 100, 256  # GCP custom role title and description lengths
EXPRESSION_LIMIT = 12_800  # characters of a GCP IAM condition expression
LOGICAL_OPERATORS_LIMIT = 12  # logical operators (&&, ||, !) of a GCP IAM condition expression
_STRING_LITERALS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_LOGICAL_OPERATORS = re.compile(r"&&|\|\||!(?!=)")


@dataclass(frozen=True)
class GrantRole:
    key: str  # <set ids>/<6 hex of the actions>: stable while the scope's actions are
    set_id: str
    description: str
    actions: tuple[str, ...]
    data_actions: tuple[str, ...]


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def per_scope(layer: Layer) -> list[BoundGrant]:
    """One grant per (scope, condition) with the union of the actions the layer holds there."""
    groups: dict[tuple[str, str], list[BoundGrant]] = {}
    for grant in layer.grants:
        for scope in grant.resources:
            groups.setdefault((scope, json.dumps(grant.condition, sort_keys=True)), []).append(grant)
    merged = []
    for (scope, _), grants in groups.items():
        first = grants[0]
        merged.append(BoundGrant(
            set_id="+".join(_unique([g.set_id for g in grants])),
            resource_id=next((g.resource_id for g in grants if g.resource_id), None),
            description="; ".join(_unique([g.description for g in grants])),
            scope=first.scope,
            actions=tuple(sorted({a for g in grants for a in g.actions})),
            data_actions=tuple(sorted({a for g in grants for a in g.data_actions})),
            resources=(scope,),
            condition=first.condition,
            exposes=first.exposes,
        ))
    return merged


def logical_operators(expression: str) -> int:
    """The logical operators (``&&``, ``||``, ``!``) of a CEL expression, outside its string literals."""
    return len(_LOGICAL_OPERATORS.findall(_STRING_LITERALS.sub('""', expression)))


def joined_expression(grants: list[BoundGrant]) -> str:
    """The disjunction of the grants' conditions."""
    return " || ".join(f"({g.condition['expression']})" for g in grants)


def _join_conditions(grants: list[BoundGrant]) -> list[BoundGrant]:
    """GCP: conditional grants with the same actions on the same scope -> one grant per chunk of conditions."""
    out: list[BoundGrant] = []
    chunks: dict[tuple[str, tuple[str, ...], tuple[str, ...]], list[list[BoundGrant]]] = {}
    for grant in grants:
        if not isinstance(grant.condition, dict):
            out.append(grant)
            continue
        lists = chunks.setdefault((grant.resources[0], grant.actions, grant.data_actions), [[]])
        current = lists[-1]
        joined = joined_expression([*current, grant])
        if current and (len(joined) > EXPRESSION_LIMIT or logical_operators(joined) > LOGICAL_OPERATORS_LIMIT):
            lists.append(current := [])
        current.append(grant)
    for lists in chunks.values():
        for group in lists:
            if len(group) == 1:
                out.append(group[0])
                continue
            first = group[0]
            condition: dict[str, Any] = {
                "title": f"{first.condition['title']} and {len(group) - 1} more"[:TITLE_LIMIT],
                "expression": joined_expression(group),
            }
            out.append(BoundGrant(
                set_id="+".join(_unique([s for g in group for s in g.set_id.split("+")])),
                resource_id=None,  # several resources: the binding waits for the identities only
                description="; ".join(_unique([g.description for g in group])),
                scope=first.scope, actions=first.actions, data_actions=first.data_actions,
                resources=first.resources, condition=condition, exposes=first.exposes,
            ))
    return out


def grant_roles(layer: Layer, join_conditions: bool = False) -> list[tuple[BoundGrant, GrantRole]]:
    """Each packed grant with its role; grants with the same sets and actions share one role."""
    grants = per_scope(layer)
    if join_conditions:
        grants = _join_conditions(grants)
    out = []
    for grant in grants:
        actions, data_actions = grant.actions, grant.data_actions
        digest = hashlib.sha256(" ".join((*actions, "|", *data_actions)).encode()).hexdigest()[:6]
        out.append((grant, GrantRole(f"{grant.set_id}/{digest}", grant.set_id, grant.description[:DESCRIPTION_LIMIT],
                                     actions, data_actions)))
    return out


def distinct_roles(pairs: list[tuple[BoundGrant, GrantRole]]) -> list[GrantRole]:
    return list({role.key: role for _, role in pairs}.values())
