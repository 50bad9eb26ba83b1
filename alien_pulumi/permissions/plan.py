"""Derive the three permission layers of a stack for one deployment (DESIGN.md §2).

- management: frozen -> ``<type>/heartbeat``; live -> ``<type>/management`` + ``<type>/heartbeat``;
  ``management.extend`` adds sets at ``*`` or a resource id. Never a data set (validation rejects it).
- provisioning: every resource's ``provision`` set and ``identity/provision``.
- runtime: one identity per profile; a profile's sets bound to the resources it names (``*`` = every
  resource of the set's type); links add data grants; compute adds its own ``<type>/runtime``.
"""

from __future__ import annotations

import dataclasses
import json
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from alien_pulumi.errors import PermissionDataError
from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.images import image_values, mirrors, runtime_mirror
from alien_pulumi.model.naming import resource_names
from alien_pulumi.model.resources import ComputeSpec, ResourceSpec
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import COMPUTE_TYPES, LINK_ACCESS, Lifecycle, ResourceType
from alien_pulumi.permissions.library import (
    IDENTITY,
    REGISTRY,
    STATE,
    Grant,
    PermissionSet,
    Scope,
    library,
    permission_set,
)
from alien_pulumi.permissions.placement import placement_values

DEFAULT_PROFILE = "default"  # the runtime profile of a compute resource that names none
LAYERS = ("provisioning", "management", "runtime")


@dataclass(frozen=True)
class BoundGrant:
    """A grant filled in for one resource (or for the stack): concrete actions on concrete resources."""

    set_id: str
    resource_id: str | None
    description: str
    scope: Scope
    actions: tuple[str, ...]
    data_actions: tuple[str, ...]
    resources: tuple[str, ...]
    condition: Any = None
    exposes: str | None = None
    # When the layer holds this grant's set on every resource of its type in the stack (a heartbeat always,
    # a profile linking every queue...), it may be rendered once for the deployment: ``resources`` with the
    # resource's name as ``<prefix>-*`` (only where every filled name has that form). Empty otherwise.
    stack_wide: tuple[str, ...] = ()
    # Why the layer holds it: every reason that brought it (a profile's set, a link, a trigger, the compute itself).
    origins: tuple[str, ...] = ()


@dataclass(frozen=True)
class SetUse:
    """A permission set granted in a layer, to the resources it is bound to (empty = the stack)."""

    set: PermissionSet
    resource_ids: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class Layer:
    """One identity's permissions: who holds it, which sets, and the bound grants."""

    name: str
    holder: str
    identity: str
    uses: tuple[SetUse, ...]
    grants: tuple[BoundGrant, ...]

    def actions(self) -> set[str]:
        return {a for g in self.grants for a in g.actions}

    def data_actions(self) -> set[str]:
        return {a for g in self.grants for a in g.data_actions}

    def set_ids(self) -> set[str]:
        return {u.set.id for u in self.uses}


@dataclass(frozen=True)
class PermissionPlan:
    """The three layers of one stack on one deployment."""

    spec: StackSpec
    context: DeploymentContext
    provisioning: Layer
    management: Layer
    runtime: dict[str, Layer] = field(default_factory=dict)

    def layer(self, name: str, profile: str | None = None) -> Layer:
        if name == "runtime":
            if profile is None:
                raise KeyError("the runtime layer needs a profile")
            return self.runtime[profile]
        return {"provisioning": self.provisioning, "management": self.management}[name]


def profile_of(res: ResourceSpec) -> str:
    return res.profile or DEFAULT_PROFILE


def runtime_profiles(spec: StackSpec) -> list[str]:
    """Profiles that become runtime identities: the defined ones and the implicit default when used."""
    used = {profile_of(r) for r in spec.resources if r.kind in COMPUTE_TYPES}
    return sorted(set(spec.permissions.profiles) | used)


class _Binder:
    """Fills grant templates with one deployment's names."""

    def __init__(self, spec: StackSpec, ctx: DeploymentContext) -> None:
        self.spec = spec
        self.ctx = ctx
        self.base = ctx.template_values()
        self.every_runtime = [ctx.identity(f"rt-{p}") for p in runtime_profiles(spec)]

    def values(self, res: ResourceSpec | None) -> dict[str, str]:
        if res is None:
            return dict(self.base)
        values = {**self.base, "id": res.id, **resource_names(self.ctx.platform, res.kind, self.ctx.prefix, res.id)}
        if res.kind in COMPUTE_TYPES:
            values["runtime_identity"] = self.ctx.identity(f"rt-{profile_of(res)}")
            values.update(image_values(self.spec, res.id, self.ctx))
            values.update(placement_values(self.spec, res, self.ctx))
        return values

    def bind(self, pset: PermissionSet, res: ResourceSpec | None, setup: bool) -> list[BoundGrant]:
        values = self.values(res)
        return [
            BoundGrant(
                set_id=pset.id,
                resource_id=res.id if res is not None and grant.scope == "resource" else None,
                description=grant.description,
                scope=grant.scope,
                actions=grant.actions,
                data_actions=grant.data_actions,
                resources=tuple(
                    filled
                    for template in grant.resources
                    for filled in _fill_each(template, values, self.every_runtime, pset, grant)
                ),
                condition=_fill(grant.condition, values, pset, grant),
                exposes=grant.exposes,
                stack_wide=_stack_wide(self, pset, grant, res, values),
            )
            for grant in pset.grants
            if (setup or not grant.setup_only) and _applies(grant, pset, res)
        ]


def _stack_wide(binder: _Binder, pset: PermissionSet, grant: Grant, res: ResourceSpec | None,
                values: dict[str, str]) -> tuple[str, ...]:
    if grant.scope != "resource" or res is None or grant.condition:
        return ()
    prefix = binder.ctx.prefix
    names = resource_names(binder.ctx.platform, res.kind, prefix, res.id)
    used = {n for t in grant.resources for _, n, _, _ in string.Formatter().parse(t) if n}
    # only the resource's own names may widen; a template naming anything else (its runtime identity, its image
    # repository) stays exact
    if used - set(binder.base) - set(names) - {"id"} or not all(v.startswith(f"{prefix}-") for v in names.values()):
        return ()
    wide = {"id": "*", **{k: f"{prefix}-*" for k in names}}
    return tuple(_fill(t, {**values, **wide}, pset, grant) for t in grant.resources)


def _applies(grant: Grant, pset: PermissionSet, res: ResourceSpec | None) -> bool:
    """A ``when`` grant is bound only on a resource whose spec field is true (what it covers exists then)."""
    if grant.when is None:
        return True
    if res is None or grant.when not in type(res).model_fields:
        raise PermissionDataError(f"{pset.platform.value} {pset.id}: grant {grant.description!r} is bound "
                                  f"'when: {grant.when}', which is not a field of "
                                  f"{res.kind.value if res else 'the stack'}")
    return bool(getattr(res, grant.when))


def _fill_each(template: str, values: dict[str, str], runtime_identities: list[str], pset: PermissionSet,
               grant: Grant) -> list[str]:
    """A resource template outside a compute resource that names ``{runtime_identity}`` stands for every
    runtime identity of the stack (the identity sets create and bind them all)."""
    if "runtime_identity" in values or "{runtime_identity}" not in template:
        return [_fill(template, values, pset, grant)]
    return [_fill(template, {**values, "runtime_identity": rt}, pset, grant) for rt in runtime_identities]


def _fill(template: Any, values: dict[str, str], pset: PermissionSet, grant: Grant) -> Any:
    if isinstance(template, str):
        names = {n for _, n, _, _ in string.Formatter().parse(template) if n}
        missing = names - set(values)
        if missing:
            raise PermissionDataError(f"{pset.platform.value} {pset.id}: grant {grant.description!r} uses "
                                      f"{sorted(missing)}, not available here")
        return template.format(**values)
    if isinstance(template, dict):
        return {_fill(k, values, pset, grant): _fill(v, values, pset, grant) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, values, pset, grant) for v in template]
    return template


def _key(grant: BoundGrant) -> tuple[object, ...]:
    """What makes two bound grants the same permission (whichever set brought them)."""
    condition = json.dumps(grant.condition, sort_keys=True) if grant.condition else ""
    return grant.actions, grant.data_actions, grant.resources, condition, grant.description


def _layer(name: str, holder: str, identity: str, binder: _Binder,
           wanted: list[tuple[str, ResourceSpec | None, str]]) -> Layer:
    """Build a layer from (set id, resource or None, reason) triples: merge uses, dedupe grants."""
    platform = binder.ctx.platform
    # Ordered sets (dicts): resource ids and reasons per permission set.
    uses: dict[str, tuple[PermissionSet, dict[str, None], dict[str, None]]] = {}
    grants: dict[tuple[object, ...], BoundGrant] = {}
    origins: dict[tuple[object, ...], dict[str, None]] = {}
    for set_id, res, reason in wanted:
        pset = permission_set(platform, set_id)
        entry = uses.setdefault(set_id, (pset, {}, {}))
        if res is not None:
            entry[1][res.id] = None
        entry[2][reason] = None
        for grant in binder.bind(pset, res, setup=name == "provisioning"):
            # An included grant (heartbeat inside management) is the same permission: keep it once,
            # under the first set that brought it, with every reason that brought it.
            key = _key(grant)
            grants.setdefault(key, grant)
            origins.setdefault(key, {})[reason] = None
    every = {kind.value: {r.id for r in binder.spec.resources if r.kind is kind} for kind in ResourceType}
    whole = {set_id for set_id, (pset, ids, _) in uses.items() if ids and set(ids) == every.get(pset.type)}
    return Layer(
        name=name,
        holder=holder,
        identity=identity,
        uses=tuple(SetUse(p, tuple(ids), "; ".join(reasons)) for p, ids, reasons in uses.values()),
        grants=tuple(dataclasses.replace(g, origins=tuple(origins[k]),
                                         stack_wide=g.stack_wide if g.set_id in whole else ())
                     for k, g in grants.items()),
    )


def _targets(by_id: Mapping[str, ResourceSpec], scope: str, set_id: str) -> list[ResourceSpec]:
    kind = set_id.split("/", 1)[0]
    if scope == "*":
        return [r for r in by_id.values() if r.kind.value == kind]
    return [by_id[scope]]


def derive_plan(spec: StackSpec, ctx: DeploymentContext) -> PermissionPlan:
    """The three permission layers of ``spec`` for the deployment ``ctx``."""
    binder = _Binder(spec, ctx)
    by_id: dict[str, ResourceSpec] = {r.id: r for r in spec.resources}
    res: ResourceSpec
    management: list[tuple[str, ResourceSpec | None, str]] = []
    for res in spec.resources:
        kind = res.kind.value
        management.append((f"{kind}/heartbeat", res, f"{res.lifecycle.value}: health checks"))
        if res.lifecycle is Lifecycle.LIVE:
            management.append((f"{kind}/management", res, "live: releases update it"))
    for scope, set_ids in spec.permissions.management.extend.items():
        for set_id in set_ids:
            for res in _targets(by_id, scope, set_id):
                management.append((set_id, res, f"management.extend[{scope!r}]"))
    # Its own self-check (AWS: simulating its own policies for preflight --live), where a cloud needs a grant for it.
    if f"{IDENTITY}/heartbeat" in library(ctx.platform):
        management.append((f"{IDENTITY}/heartbeat", None, "preflight --live checks what this identity may do"))
    # The one data the management identity touches: the deployment's own Pulumi state (DESIGN.md §4a).
    if f"{STATE}/state" in library(ctx.platform):  # the clouds whose state store setup bootstraps
        management.append((f"{STATE}/state", None, "releases run on this stack's state in the customer's cloud"))

    provisioning: list[tuple[str, ResourceSpec | None, str]] = [
        (f"{res.kind.value}/provision", res, "setup creates it") for res in spec.resources
    ]
    provisioning.append((f"{IDENTITY}/provision", None, "setup creates the identities and their policies"))
    if mirrors(spec, ctx.platform, ctx.prefix):  # image mirrors: setup-owned and deployment-wide, like identities
        provisioning.append((f"{REGISTRY}/provision", None, "setup creates the image mirrors"))
    if f"{STATE}/provision" in library(ctx.platform):
        provisioning.append((f"{STATE}/provision", None, "setup bootstraps the state store before the program runs"))

    runtime: dict[str, list[tuple[str, ResourceSpec | None, str]]] = {p: [] for p in runtime_profiles(spec)}
    for profile, scopes in spec.permissions.profiles.items():
        for scope, set_ids in scopes.items():
            for set_id in set_ids:
                for res in _targets(by_id, scope, set_id):
                    runtime[profile].append((set_id, res, f"profile {profile!r} grants it on {scope!r}"))
    for res in spec.resources:
        if res.kind not in COMPUTE_TYPES:
            continue
        profile = profile_of(res)
        runtime[profile].append((f"{res.kind.value}/runtime", res, "the compute runs as this profile"))
        if runtime_mirror(spec, res.id, ctx.platform):
            runtime[profile].append((f"{REGISTRY}/runtime", res, f"{res.id} pulls its image through a cache rule"))
        for field_name, ref in res.references():
            target = by_id[ref]
            if field_name == "links":
                access = res.link_access()[ref] if isinstance(res, ComputeSpec) else None
                for granted in (access,) if access else LINK_ACCESS[target.kind]:
                    runtime[profile].append((f"{target.kind.value}/data-{granted}", target,
                                             f"{res.id} links {ref}" + (f" for {access}" if access else "")))
            elif field_name == "triggers":
                runtime[profile].append((f"{target.kind.value}/data-read", target, f"{res.id} is triggered by {ref}"))

    return PermissionPlan(
        spec=spec,
        context=ctx,
        provisioning=_layer("provisioning", "the customer's admin (setup)", "the admin's own identity",
                            binder, provisioning),
        management=_layer("management", "the vendor's release service", ctx.identity("management"),
                          binder, management),
        runtime={
            profile: _layer("runtime", f"the application's compute running as profile {profile!r}",
                            ctx.identity(f"rt-{profile}"), binder, wanted)
            for profile, wanted in runtime.items()
        },
    )
