"""Preflight: compare a new stack with what is deployed (DESIGN.md §5) and decide whether the release
may roll out through the management program, or needs the customer's admin to run setup again."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.naming import name_rules, resource_names
from alien_pulumi.model.resources import ResourceSpec
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import Lifecycle, Platform, ResourceType
from alien_pulumi.permissions import derive_plan, render_all
from alien_pulumi.permissions.library import Effect, permission_set
from alien_pulumi.preflight.deployed import Deployed
from alien_pulumi.preflight.fielddiff import field_changes
from alien_pulumi.preflight.findings import Code, Finding, Severity
from alien_pulumi.preflight.images import image_findings
from alien_pulumi.preflight.limits import limit_findings
from alien_pulumi.preflight.permdiff import permission_diff

# Blocking findings whose remedy is the admin's setup, so they never stop it. A frozen change does, until it is
# allowed (--allow-frozen-changes; a setup request lists the frozen changes the vendor's release allowed); a removed
# frozen resource, a type changed under an old id and validation findings stop setup too: the stack must be fixed.
SETUP_APPLIES = frozenset({
    Code.GRANT_REMOVED, Code.FROZEN_ADDED, Code.LIVE_ADDED_NEEDS_PROVISION, Code.LIVE_REMOVED_NEEDS_PROVISION,
    Code.LIVE_CHANGE_NEEDS_SETUP, Code.LIFECYCLE_CHANGED, Code.MANAGEMENT_PERMISSIONS_CHANGED,
    Code.PROFILE_PERMISSIONS_CHANGED,
})


@dataclass(frozen=True)
class PreflightReport:
    findings: tuple[Finding, ...]
    platforms: tuple[Platform, ...]
    allow_frozen_changes: bool
    permissions: dict[Platform, dict[str, Any]]  # the new stack's rendered layers

    @property
    def blocked(self) -> bool:
        return any(f.blocks for f in self.findings)

    @property
    def blocks_setup(self) -> list[Finding]:
        """What stops the admin's setup too: all that blocks a release, but what setup itself applies."""
        return [f for f in self.findings if f.blocks and f.code not in SETUP_APPLIES]

    @property
    def awaits_setup(self) -> bool:
        """Blocked only by what the admin's setup applies: the release waits for a setup request to be applied
        instead of failing. A frozen change still blocks the vendor's build unless allowed (DESIGN.md §5)."""
        blocking = [f for f in self.findings if f.blocks]
        return bool(blocking) and all(f.code in SETUP_APPLIES for f in blocking)

    @property
    def needs_setup(self) -> list[Finding]:
        return [f for f in self.findings if f.needs_setup]

    @property
    def pending_setup(self) -> list[Finding]:
        """Changes the release leaves for the admin's next setup (it may still roll out)."""
        return [f for f in self.findings if f.needs_setup and not f.blocks]

    def to_json(self) -> dict[str, Any]:
        return {
            "may_roll_out": not self.blocked,
            "allow_frozen_changes": self.allow_frozen_changes,
            "platforms": [p.value for p in self.platforms],
            "findings": [f.to_json() for f in self.findings],
            "needs_setup": bool(self.needs_setup),
            "pending_setup": [f.message for f in self.pending_setup],
        }


def _provision_granted(spec: StackSpec, res: ResourceSpec) -> bool:
    set_id = f"{res.kind.value}/provision"
    extend = spec.permissions.management.extend
    return set_id in extend.get("*", ()) or set_id in extend.get(res.id, ())


def _value(v: Any) -> str:
    return "absent" if v is None else repr(v)


def _resource_findings(old: StackSpec, new: StackSpec, allow_frozen: bool,
                       platforms: tuple[Platform, ...]) -> list[Finding]:
    findings: list[Finding] = []
    before = {r.id: r for r in old.resources}
    after = {r.id: r for r in new.resources}
    for rid, res in after.items():
        prev = before.get(rid)
        if prev is None:
            findings.append(_added(old, res))
        elif prev.kind is not res.kind:
            findings.append(Finding(Code.TYPE_CHANGED, Severity.ERROR, True, True,
                                    f"{rid}: type changed from {prev.kind.value} to {res.kind.value}: a new resource "
                                    "under an old id needs setup", rid, "type", prev.kind.value, res.kind.value))
        elif prev.lifecycle is not res.lifecycle:
            findings.append(Finding(Code.LIFECYCLE_CHANGED, Severity.ERROR, True, True,
                                    f"{rid}: lifecycle changed from {prev.lifecycle.value} to {res.lifecycle.value}; "
                                    "only setup can change who owns a resource", rid, "lifecycle",
                                    prev.lifecycle.value, res.lifecycle.value))
        else:
            findings += _changed(prev, res, allow_frozen, platforms)
    for rid, prev in before.items():
        if rid not in after:
            findings.append(_removed(old, prev))
    return findings


def _added(deployed: StackSpec, res: ResourceSpec) -> Finding:
    rid, kind = res.id, res.kind.value
    if res.lifecycle is Lifecycle.FROZEN:
        return Finding(Code.FROZEN_ADDED, Severity.ERROR, True, True,
                       f"{rid}: frozen {kind} added; the admin's setup creates it", rid)
    if _provision_granted(deployed, res):
        return Finding(Code.LIVE_ADDED, Severity.INFO, False, False,
                       f"{rid}: live {kind} added; the release creates it ({kind}/provision is in management.extend)",
                       rid)
    return Finding(Code.LIVE_ADDED_NEEDS_PROVISION, Severity.ERROR, True, True,
                   f"{rid}: live {kind} added, but management.extend does not grant {kind}/provision for it or '*': "
                   "the admin's setup creates it", rid)


def _removed(deployed: StackSpec, res: ResourceSpec) -> Finding:
    rid, kind = res.id, res.kind.value
    if res.lifecycle is Lifecycle.FROZEN:
        return Finding(Code.FROZEN_REMOVED, Severity.ERROR, True, True,
                       f"{rid}: frozen {kind} removed; only setup removes it (it is retained, never deleted with data)",
                       rid)
    if _provision_granted(deployed, res):
        return Finding(Code.LIVE_REMOVED, Severity.INFO, False, False,
                       f"{rid}: live {kind} removed; the release deletes it ({kind}/provision is in management.extend)",
                       rid)
    return Finding(Code.LIVE_REMOVED_NEEDS_PROVISION, Severity.ERROR, True, True,
                   f"{rid}: live {kind} removed, but management.extend does not grant {kind}/provision for it or '*': "
                   "the admin's setup removes it", rid)


def updatable_fields(platform: Platform, kind: ResourceType) -> frozenset[str] | None:
    """Fields of a live resource the management set can apply on a cloud (None: every field)."""
    return permission_set(platform, f"{kind.value}/management").updates


def updatable(path: str, patterns: frozenset[str]) -> bool:
    """Is a changed field path (``triggers[0].batch_size``, ``environment.LOG``) one of the set's
    ``updates`` patterns (``triggers[*].batch_size``, ``environment.*``)?"""
    norm = re.sub(r"\[\d+\]", "[*]", path)
    return norm in patterns or any(p.endswith(".*") and norm.startswith(p[:-1]) for p in patterns)


def _changed(prev: ResourceSpec, res: ResourceSpec, allow_frozen: bool,
             platforms: tuple[Platform, ...]) -> list[Finding]:
    findings = []
    for path, old_value, new_value in field_changes(prev.config(), res.config()):
        where = f"{res.id}.{path}: {_value(old_value)} -> {_value(new_value)}"
        if res.lifecycle is Lifecycle.FROZEN:
            message = (f"{where}: frozen resource changed; pending setup (the release will not apply it)"
                       if allow_frozen else f"{where}: frozen resource changed (allow with --allow-frozen-changes; "
                                            "the admin's next setup applies it)")
            findings.append(Finding(Code.FROZEN_CHANGED, Severity.WARNING if allow_frozen else Severity.ERROR,
                                    not allow_frozen, True, message, res.id, path, old_value, new_value))
            continue
        blocked_on = [p.value for p in platforms
                      if (f := updatable_fields(p, res.kind)) is not None and not updatable(path, f)]
        if blocked_on:
            findings.append(Finding(Code.LIVE_CHANGE_NEEDS_SETUP, Severity.ERROR, True, True,
                                    f"{where}: the management identity cannot apply this change on "
                                    f"{', '.join(blocked_on)} (setup-owned on that cloud)", res.id, path,
                                    old_value, new_value))
        else:
            effects = {p.value: e for p in platforms if (e := change_effect(p, res.kind, path)) is not None}
            said = "; ".join(f"{cloud}: {e.effect}" for cloud, e in effects.items())
            findings.append(Finding(Code.LIVE_CHANGED, Severity.INFO, False, False,
                                    f"{where}: the release applies it" + (f" ({said})" if said else ""), res.id,
                                    path, old_value, new_value,
                                    effects={cloud: e.effect for cloud, e in effects.items()},
                                    replaces={cloud: e.replaces for cloud, e in effects.items() if e.replaces}))
    return findings


def change_effect(platform: Platform, kind: ResourceType, path: str) -> Effect | None:
    """What the management set says a release's change of ``path`` does on ``platform`` (None: it says nothing)."""
    return next((e for e in permission_set(platform, f"{kind.value}/management").effects
                 if updatable(path, e.fields)), None)


def _permission_findings(deployed: Deployed, new: dict[Platform, dict[str, Any]]) -> list[Finding]:
    findings: list[Finding] = []
    for platform, rendered in new.items():
        old = deployed.permissions.get(platform)
        if old is None:
            continue
        added, removed = permission_diff(platform, old["management"], rendered["management"])
        if added or removed:
            findings.append(_permission_finding(Code.MANAGEMENT_PERMISSIONS_CHANGED, platform, None,
                                                "management identity", added, removed))
        for profile in sorted(set(old["runtime"]) | set(rendered["runtime"])):
            added, removed = permission_diff(platform, old["runtime"].get(profile), rendered["runtime"].get(profile))
            if added or removed:
                findings.append(_permission_finding(Code.PROFILE_PERMISSIONS_CHANGED, platform, profile,
                                                    f"runtime profile {profile!r}", added, removed))
    return findings


def _permission_finding(code: Code, platform: Platform, profile: str | None, who: str, added: list[str],
                        removed: list[str]) -> Finding:
    # Identities are setup-owned. More permissions are needed before the release runs: blocks. Fewer can
    # wait: the identity keeps what it no longer needs until the admin's next setup.
    blocks = bool(added)
    summary = f"+{len(added)} -{len(removed)}"
    message = (f"{platform.value}: permissions of the {who} change ({summary}); "
               + ("setup must grant them before this release" if blocks else "pending setup removes them"))
    return Finding(code, Severity.ERROR if blocks else Severity.WARNING, blocks, True, message, profile,
                   "permissions", platform=platform.value, added={platform.value: added},
                   removed={platform.value: removed})


# The rendered entries each cloud's programs declare as a resource of their own, and the fields a resource is
# named by (components/*/identities.py, grants.py); None: named by position. An entry gone from the new render is
# a setup-owned resource the management program no longer declares: the engine refuses a targeted run that would
# delete it, so such a release needs setup. A changed entry under the same name is an update of an untargeted
# resource (ignored): pending setup, like AWS permissions inside a policy document.
GRANT_RESOURCES: dict[Platform, dict[str, tuple[tuple[str, ...], tuple[str, ...]] | None]] = {
    Platform.AWS: {"policies": None},  # (named by, shown in the finding)
    Platform.GCP: {"bindings": (("role", "member", "scope", "condition"), ("role", "scope")), "roles": (("id",),) * 2},
    Platform.AZURE: {"assignments": (("role", "principal", "scope"), ("role", "scope")),
                     "role_definitions": (("roleName",),) * 2},
}


def _grant_resources(platform: Platform, rendered: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    """Each grant resource of the rendered layers, by name: (what it grants, the stack resource it is on)."""
    layers = [("management identity", rendered["management"]),
              *((f"runtime profile {p!r}", layer) for p, layer in sorted(rendered["runtime"].items()))]
    found: dict[str, tuple[str, str | None]] = {}
    for who, layer in layers:
        for key, fields in GRANT_RESOURCES[platform].items():
            kind = key[:-1].replace("_", " ")
            for number, entry in enumerate(layer.get(key) or [], start=1):
                if fields is None:
                    name, what = [who, number], f"{kind} {number} of the {who}"
                else:
                    name = [entry.get(f) for f in fields[0]]
                    what = f"{kind} " + ", ".join(f"{f} {entry[f]}" for f in fields[1]) + f" of the {who}"
                found[repr((key, name))] = (what, entry.get("resource"))
    return found


def _grant_findings(deployed: Deployed, new: dict[Platform, dict[str, Any]]) -> list[Finding]:
    findings = []
    for platform, rendered in new.items():
        old = deployed.permissions.get(platform)
        if old is None:
            continue
        kept = _grant_resources(platform, rendered)
        for name, (what, resource) in sorted(_grant_resources(platform, old).items()):
            if name not in kept:
                on = f"{resource}: " if resource else ""
                findings.append(Finding(Code.GRANT_REMOVED, Severity.ERROR, True, True,
                                        f"{platform.value}: {on}the release drops the setup-owned {what}; the "
                                        "management run cannot delete it: the customer's admin must run setup",
                                        resource, "permissions", platform=platform.value))
    return findings


def _validation_findings(new: StackSpec, deployed: Deployed, platforms: tuple[Platform, ...]) -> list[Finding]:
    findings = []
    for platform in deployed.contexts:
        if platform not in new.platforms:
            findings.append(Finding(Code.PLATFORM_REMOVED, Severity.ERROR, True, False,
                                    f"stack no longer declares {platform.value}, where it is deployed",
                                    field="platforms", platform=platform.value))
    for platform in platforms:
        prefix = deployed.contexts[platform].prefix
        seen: dict[tuple[str, str], str] = {}
        vault_prefixes: list[tuple[str, str]] = []
        for res in new.resources:
            names = resource_names(platform, res.kind, prefix, res.id)
            for key, name in names.items():
                kind_of_name = name_rules(platform, res.kind)[key].what
                other = seen.setdefault((kind_of_name, name), res.id)
                if other != res.id:
                    findings.append(Finding(Code.NAME_COLLISION, Severity.ERROR, True, False,
                                            f"{res.id}: its {kind_of_name} name {name!r} on {platform.value} is also "
                                            f"{other}'s (after the cloud's naming rules); rename one", res.id, "id",
                                            platform=platform.value))
            if res.kind is ResourceType.VAULT:
                vault_prefixes.append((res.id, names["name"]))
        for rid, name in vault_prefixes:
            for other, other_name in vault_prefixes:
                if other != rid and other_name.startswith(name + "-"):
                    findings.append(Finding(Code.PREFIX_OVERLAP, Severity.ERROR, True, False,
                                            f"{rid}: vault name prefix {name!r} also covers {other}'s secrets "
                                            f"({other_name!r}) on {platform.value}; rename one", rid, "id",
                                            platform=platform.value))
    return findings


def preflight(new: StackSpec, deployed: Deployed, platform: Platform | None = None,
              allow_frozen_changes: bool = False,
              contexts: dict[Platform, DeploymentContext] | None = None) -> PreflightReport:
    """Every finding of ``new`` against ``deployed`` on ``platform`` (default: every deployed platform
    the new stack declares)."""
    platforms = tuple(p for p in deployed.contexts if (platform is None or p is platform) and p in new.platforms)
    contexts = contexts or {p: deployed.contexts[p] for p in platforms}
    rendered = {p: render_all(derive_plan(new, contexts[p])) for p in platforms}
    findings = (
        _validation_findings(new, deployed, platforms)
        + _resource_findings(deployed.spec, new, allow_frozen_changes, platforms)
        + _permission_findings(deployed, rendered)
        + _grant_findings(deployed, rendered)
        + image_findings(deployed.spec, new, contexts)
        + [f for p in platforms for f in limit_findings(p, rendered[p])]
    )
    return PreflightReport(tuple(findings), platforms, allow_frozen_changes, rendered)
