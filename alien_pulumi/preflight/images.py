"""Preflight of image sources (DESIGN.md §4b): a release that needs a new image mirror (cache rule, remote
repository) needs setup, since mirrors are setup-owned; a changed registry that moves what a live compute pulls,
without its ``image`` field changing, is shown as the reference it pulls before and after."""

from __future__ import annotations

from collections.abc import Mapping

from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.images import ImageError, Pull, compute_pulls, customer_image, mirrors
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import Lifecycle, Platform
from alien_pulumi.preflight.findings import Code, Finding, Severity

_MIRROR = {Platform.AWS: "ECR pull-through cache rule", Platform.GCP: "Artifact Registry remote repository"}


def _pulls(spec: StackSpec, platform: Platform) -> dict[str, Pull] | None:
    """A deployed spec from before image rules may name images its platform cannot pull: nothing to compare."""
    try:
        return compute_pulls(spec, platform)
    except ImageError:
        return None


def image_findings(deployed: StackSpec, new: StackSpec,
                   contexts: Mapping[Platform, DeploymentContext]) -> list[Finding]:
    findings: list[Finding] = []
    for platform, ctx in contexts.items():
        before = _pulls(deployed, platform)
        had = {m.name for m in mirrors(deployed, platform, ctx.prefix)} if before is not None else set()
        for mirror in mirrors(new, platform, ctx.prefix):
            if mirror.name not in had:
                findings.append(Finding(
                    Code.IMAGE_MIRROR_ADDED, Severity.ERROR, True, True,
                    f"{mirror.name}: the images need a new {_MIRROR[platform]} for {mirror.upstream}; image mirrors "
                    "are setup-owned (the customer's admin runs setup again)", platform=platform.value))
        if before is None:
            continue
        old_by_id = {r.id: r for r in deployed.resources}
        for rid, pull in compute_pulls(new, platform).items():
            res, prev = new.resource(rid), old_by_id.get(rid)
            if prev is None or rid not in before or res.lifecycle is not Lifecycle.LIVE:
                continue
            old_uri, new_uri = customer_image(before[rid], ctx), customer_image(pull, ctx)
            if old_uri != new_uri and prev.config().get("image") == res.config().get("image"):
                findings.append(Finding(
                    Code.LIVE_CHANGED, Severity.INFO, False, False,
                    f"{rid}.image ({platform.value}): pulls {old_uri} -> {new_uri} (the registry changed); "
                    "the release applies it", rid, "image", old_uri, new_uri, platform.value))
    return findings
