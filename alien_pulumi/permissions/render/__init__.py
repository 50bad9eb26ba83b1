"""Render a permission layer in each cloud's own shape (JSON that other tools read), or as markdown."""

from __future__ import annotations

from typing import Any

from alien_pulumi.model.types import Platform
from alien_pulumi.permissions.plan import PermissionPlan
from alien_pulumi.permissions.render import aws, azure, gcp

_RENDERERS = {Platform.AWS: aws.render, Platform.GCP: gcp.render, Platform.AZURE: azure.render}


def render_layer(plan: PermissionPlan, layer: str, profile: str | None = None) -> dict[str, Any]:
    """The cloud-shaped JSON of one layer (``runtime`` needs a profile)."""
    return _RENDERERS[plan.context.platform](plan, plan.layer(layer, profile))


def render_all(plan: PermissionPlan) -> dict[str, Any]:
    """Every layer: ``{"provisioning": ..., "management": ..., "runtime": {profile: ...}}``."""
    return {
        "provisioning": render_layer(plan, "provisioning"),
        "management": render_layer(plan, "management"),
        "runtime": {p: render_layer(plan, "runtime", p) for p in plan.runtime},
    }
