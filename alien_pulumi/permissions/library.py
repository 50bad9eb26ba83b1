"""Permission sets: the reviewed data files under ``sets/<cloud>/<type>.yaml``, loaded and checked.

A set is ``<type>/<name>`` with grants per cloud; ``includes`` pulls in other sets of the same type
(management includes heartbeat, provision includes management). Grants hold templates with placeholders
(``{name}``, ``{prefix}``, ``{account}``...) that the plan fills for one deployment.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any, Literal

import yaml

from alien_pulumi.errors import PermissionDataError
from alien_pulumi.model.types import SET_NAMES, Platform, ResourceType

Scope = Literal["resource", "stack", "account"]
IDENTITY = "identity"  # the pseudo-type of the setup-owned identities (provision; heartbeat: a self-check)
REGISTRY = "registry"  # the pseudo-type of the image mirrors (sets/<cloud>/registry.yaml, where a cloud has them)
STATE = "state"  # the pseudo-type of the deployment's state store (DESIGN.md §4a): provision and management
_GRANT_KEYS = {"description", "scope", "actions", "data_actions", "resources", "condition", "setup_only", "when",
               "exposes"}


@dataclass(frozen=True, eq=True)
class Grant:
    """Actions on resources (templates), with a one-line description for reviewers."""

    description: str
    scope: Scope
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    data_actions: tuple[str, ...] = ()
    condition: Any = None
    # Needed by the admin's setup run only (e.g. s3:ListBucket for the bucket's HeadBucket): never part
    # of the management layer, even when the set reaches it through management.extend.
    setup_only: bool = False
    # Bound on a resource only when this field of its spec is true (``nat``: the router exists only then).
    when: str | None = None
    # An account-wide grant (no resource-level permission exists): what it lets the holder see beyond the
    # stack. The customer's document lists it.
    exposes: str | None = None

    def placeholders(self) -> set[str]:
        texts = [*self.resources, yaml.safe_dump(self.condition)] if self.condition else list(self.resources)
        return {name for text in texts for _, name, _, _ in string.Formatter().parse(text) if name}


@dataclass(frozen=True)
class Effect:
    """What a release's change of some fields does to the running resource, as the cloud's provider does it: in
    place, or a part replaced (``replaces``: a new ARN or id) and what restarts. Preflight and the release report
    say it for each live change."""

    fields: frozenset[str]  # patterns, as in ``updates``
    effect: str
    replaces: str | None = None


@dataclass(frozen=True)
class PermissionSet:
    """One permission set on one cloud, with its includes already expanded into ``grants``."""

    platform: Platform
    type: str
    name: str
    description: str
    grants: tuple[Grant, ...]
    includes: tuple[str, ...] = ()
    # Management sets: the spec fields of a live resource this set can apply (None: every field).
    # A change to another field is a setup change (preflight reports LIVE_CHANGE_NEEDS_SETUP).
    updates: frozenset[str] | None = None
    # Why an action outside the cloud's independent read-only classification is here (the file's
    # ``justifications``, by action); the customer's document shows each one the layer holds.
    justifications: Mapping[str, str] = field(default_factory=dict)
    # Management sets: what a release's change of each ``updates`` field does to the resource (every such field
    # in exactly one effect).
    effects: tuple[Effect, ...] = ()

    @property
    def id(self) -> str:
        return f"{self.type}/{self.name}"

    @property
    def is_data(self) -> bool:
        return self.name.startswith("data-")

    def actions(self) -> set[str]:
        return {a for g in self.grants for a in g.actions}

    def data_actions(self) -> set[str]:
        return {a for g in self.grants for a in g.data_actions}


def _grant(raw: Any, where: str) -> Grant:
    if (not isinstance(raw, dict) or set(raw) - _GRANT_KEYS or not {"description", "scope"} <= set(raw)
            or not (raw.get("actions") or raw.get("data_actions"))):
        raise PermissionDataError(f"{where}: a grant has description, scope, actions and/or data_actions[, "
                                  f"resources, condition]; got {raw!r}")
    if raw["scope"] not in ("resource", "stack", "account"):
        raise PermissionDataError(f"{where}: scope must be resource, stack or account, not {raw['scope']!r}")
    return Grant(
        description=str(raw["description"]),
        scope=raw["scope"],
        actions=tuple(raw.get("actions") or ()),
        data_actions=tuple(raw.get("data_actions") or ()),
        resources=tuple(raw.get("resources") or ()),
        condition=raw.get("condition"),
        setup_only=bool(raw.get("setup_only", False)),
        when=raw.get("when"),
        exposes=raw.get("exposes"),
    )


def _justifications(raw: Any, own: Mapping[str, tuple[Grant, ...]], where: str) -> dict[str, str]:
    """``justifications: {action: why}``; a reason for an action no set of the file holds is stale data."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) and v.strip()
                                            for k, v in raw.items()):
        raise PermissionDataError(f"{where}: justifications map an action to a written reason; got {raw!r}")
    held = {a for grants in own.values() for g in grants for a in (*g.actions, *g.data_actions)}
    stale = sorted(set(raw) - held)
    if stale:
        raise PermissionDataError(f"{where}: justifications for actions no set holds: {stale}")
    return {k: " ".join(v.split()) for k, v in raw.items()}


def _effects(raw: Any, updates: Any, where: str) -> tuple[Effect, ...]:
    """``effects: [{fields, effect, replaces?}]``: each ``updates`` field in exactly one, no other field."""
    if raw is None and updates:
        raise PermissionDataError(f"{where}: a set with updates says what each does (effects)")
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(e, dict) and set(e) <= {"fields", "effect", "replaces"}
                                            and e.get("fields") and isinstance(e.get("effect"), str) for e in raw):
        raise PermissionDataError(f"{where}: effects are a list of {{fields, effect[, replaces]}}; got {raw!r}")
    effects = tuple(Effect(frozenset(e["fields"]), " ".join(e["effect"].split()), e.get("replaces")) for e in raw)
    listed = [f for e in effects for f in e.fields]
    if sorted(listed) != sorted(set(updates or ())):
        raise PermissionDataError(f"{where}: effects must name each updates field exactly once; updates "
                                  f"{sorted(updates or ())}, effects {sorted(listed)}")
    return effects


def _load_file(platform: Platform, type_name: str) -> dict[str, PermissionSet]:
    path = resources.files("alien_pulumi.permissions") / "sets" / platform.value / f"{type_name}.yaml"
    where = f"sets/{platform.value}/{type_name}.yaml"
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise PermissionDataError(f"{where}: missing") from None
    if data.get("type") != type_name or data.get("cloud") != platform.value:
        raise PermissionDataError(f"{where}: declares type {data.get('type')!r} cloud {data.get('cloud')!r}")
    raw_sets: dict[str, Any] = data.get("sets") or {}
    own = {name: tuple(_grant(g, f"{where} {name}") for g in (body.get("grants") or ()))
           for name, body in raw_sets.items()}
    justifications = _justifications(data.get("justifications"), own, where)

    def expand(name: str, seen: tuple[str, ...]) -> list[Grant]:
        if name in seen:
            raise PermissionDataError(f"{where}: include cycle {' -> '.join((*seen, name))}")
        if name not in raw_sets:
            raise PermissionDataError(f"{where}: includes unknown set {name!r}")
        grants: list[Grant] = []
        for grant in [g for inc in raw_sets[name].get("includes") or () for g in expand(inc, (*seen, name))]:
            if grant not in grants:  # grants hold dicts (conditions): compare, don't hash
                grants.append(grant)
        return grants + [g for g in own[name] if g not in grants]

    return {
        name: PermissionSet(
            platform=platform,
            type=type_name,
            name=name,
            description=str(body.get("description", "")),
            grants=tuple(expand(name, ())),
            includes=tuple(body.get("includes") or ()),
            updates=frozenset(body["updates"]) if "updates" in body else None,
            justifications=justifications,
            effects=_effects(body.get("effects"), body.get("updates"), f"{where} {name}"),
        )
        for name, body in raw_sets.items()
    }


@cache
def library(platform: Platform) -> dict[str, PermissionSet]:
    """Every permission set of one cloud, by id (``storage/heartbeat``, ``identity/provision``...)."""
    sets: dict[str, PermissionSet] = {}
    optional = [name for name in (REGISTRY, STATE)  # pseudo-types a cloud may have
                if (resources.files("alien_pulumi.permissions") / "sets" / platform.value / f"{name}.yaml").is_file()]
    for type_name in [t.value for t in ResourceType] + [IDENTITY, *optional]:
        for name, pset in _load_file(platform, type_name).items():
            sets[f"{type_name}/{name}"] = pset
    for kind in ResourceType:
        missing = SET_NAMES[kind] - {s.name for s in sets.values() if s.type == kind.value}
        if missing:
            raise PermissionDataError(f"sets/{platform.value}/{kind.value}.yaml: missing sets {sorted(missing)}")
    return sets


def permission_set(platform: Platform, set_id: str) -> PermissionSet:
    try:
        return library(platform)[set_id]
    except KeyError:
        raise PermissionDataError(f"no permission set {set_id!r} on {platform.value}") from None
