"""Stage 4: the permission plan (three layers per cloud) derived from a spec, and its renderings."""

from alien_pulumi.permissions.plan import DEFAULT_PROFILE, Layer, PermissionPlan, derive_plan
from alien_pulumi.permissions.render import render_all, render_layer
from alien_pulumi.permissions.render.markdown import render_markdown

__all__ = ["DEFAULT_PROFILE", "Layer", "PermissionPlan", "derive_plan", "render_all", "render_layer",
           "render_markdown"]
