"""The pull-request report of ``diff``: summary first, then resources, permissions per layer, what needs
the customer's admin, and what waits for the next setup."""

from __future__ import annotations

from typing import Any

from alien_pulumi.model.types import Lifecycle
from alien_pulumi.preflight.checks import PreflightReport
from alien_pulumi.preflight.deployed import Deployed
from alien_pulumi.preflight.findings import Code, Finding
from alien_pulumi.preflight.permdiff import permission_diff

ADDED = {Code.FROZEN_ADDED, Code.LIVE_ADDED, Code.LIVE_ADDED_NEEDS_PROVISION}
REMOVED = {Code.FROZEN_REMOVED, Code.LIVE_REMOVED, Code.LIVE_REMOVED_NEEDS_PROVISION}
CHANGED = {Code.FROZEN_CHANGED, Code.LIVE_CHANGED, Code.LIVE_CHANGE_NEEDS_SETUP, Code.LIFECYCLE_CHANGED,
           Code.TYPE_CHANGED}
MARKER = "<!-- alien-pulumi diff -->"  # lets CI find and update its one PR comment


def layer_diffs(report: PreflightReport, deployed: Deployed) -> dict[str, dict[str, dict[str, list[str]]]]:
    """platform -> layer name -> {"added": [...], "removed": [...]} for every layer and runtime profile."""
    out: dict[str, dict[str, dict[str, list[str]]]] = {}
    for platform, new in report.permissions.items():
        old = deployed.permissions.get(platform, {})
        layers: dict[str, dict[str, list[str]]] = {}
        pairs = [("provisioning", old.get("provisioning"), new["provisioning"]),
                 ("management", old.get("management"), new["management"])]
        for profile in sorted(set(old.get("runtime", {})) | set(new["runtime"])):
            pairs.append((f"runtime:{profile}", old.get("runtime", {}).get(profile), new["runtime"].get(profile)))
        for name, before, after in pairs:
            added, removed = permission_diff(platform, before, after)
            layers[name] = {"added": added, "removed": removed}
        out[platform.value] = layers
    return out


def _lifecycle(f: Finding, report_specs: tuple[Any, Any]) -> str:
    old, new = report_specs
    for spec in (new, old):
        for res in spec.resources:
            if res.id == f.resource:
                return str(res.lifecycle.value)
    return "-"


def summary_counts(report: PreflightReport, deployed: Deployed, new: Any) -> dict[str, dict[str, int]]:
    counts = {k: {lc.value: 0 for lc in Lifecycle} for k in ("added", "removed", "changed")}
    seen: set[tuple[str, str]] = set()
    for f in report.findings:
        kind = "added" if f.code in ADDED else "removed" if f.code in REMOVED else "changed" if f.code in CHANGED \
            else None
        if kind is None or f.resource is None or (kind, f.resource) in seen:
            continue
        seen.add((kind, f.resource))
        counts[kind][_lifecycle(f, (deployed.spec, new))] += 1
    return counts


def diff_json(report: PreflightReport, deployed: Deployed, new: Any) -> dict[str, Any]:
    return {
        **report.to_json(),
        "summary": summary_counts(report, deployed, new),
        "permissions": layer_diffs(report, deployed),
        "digests": {"deployed": deployed.spec.digest(), "new": new.digest(),
                    "frozen_deployed": deployed.spec.frozen_digest(), "frozen_new": new.frozen_digest()},
    }


def diff_markdown(report: PreflightReport, deployed: Deployed, new: Any) -> str:
    data = diff_json(report, deployed, new)
    verdict = "may roll out" if not report.blocked else "blocked"
    icon = "✅" if not report.blocked else "❌"
    lines = [
        MARKER,
        f"## alien-pulumi: `{new.name}` — {icon} {verdict}",
        "",
        f"Platforms: {', '.join(p.value for p in report.platforms)} · needs the customer's admin: "
        f"**{'yes' if report.needs_setup else 'no'}** · frozen digest "
        f"{'unchanged' if data['digests']['frozen_deployed'] == data['digests']['frozen_new'] else '**changed**'}",
        "",
        "| | frozen | live |",
        "|---|---|---|",
    ]
    for kind in ("added", "removed", "changed"):
        lines.append(f"| {kind} | {data['summary'][kind]['frozen']} | {data['summary'][kind]['live']} |")
    frozen = [f for f in report.findings if f.code is Code.FROZEN_CHANGED]
    if frozen:
        lines += ["", "### ⚠️ Frozen changes", ""]
        lines += [f"- `{f.resource}.{f.field}`: `{f.old!r}` → `{f.new!r}`" for f in frozen]
    lines += ["", "### Resources", "", "| resource | change | detail |", "|---|---|---|"]
    for f in report.findings:
        if f.code in ADDED | REMOVED | CHANGED:
            lines.append(f"| `{f.resource}` | {f.code.value} | {f.message} |")
    lines += ["", "### Permissions", ""]
    for platform, layers in data["permissions"].items():
        for layer, diff in layers.items():
            if not diff["added"] and not diff["removed"]:
                continue
            lines.append(f"<details><summary>{platform} {layer}: +{len(diff['added'])} -{len(diff['removed'])}"
                         "</summary>")
            lines += ["", "```diff", *(f"+ {a}" for a in diff["added"]), *(f"- {r}" for r in diff["removed"]),
                      "```", "</details>", ""]
    if not any(d["added"] or d["removed"] for layers in data["permissions"].values() for d in layers.values()):
        lines.append("No permission changes.")
    blocking = [f for f in report.findings if f.needs_setup and f.blocks]
    lines += ["", "### Needs the customer's admin (setup)", ""]
    lines += [f"- {f.message}" for f in blocking] or ["Nothing."]
    lines += ["", "### Pending setup (the release rolls out; the next setup applies these)", ""]
    lines += [f"- {f.message}" for f in report.pending_setup] or ["Nothing."]
    lines.append("")
    return "\n".join(lines)
