"""What every component shares: the type token, child naming, tags, and the lifecycle options of
DESIGN.md §4, set explicitly on every child (``ignore_changes`` on a component is silently dropped by
Pulumi, so it must be on each child)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar

import pulumi

from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.images import Route, compute_pulls, customer_image
from alien_pulumi.model.naming import resource_names
from alien_pulumi.model.resources import ResourceSpec
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import Lifecycle, Platform, ResourceType
from alien_pulumi.permissions.plan import PermissionPlan

MANAGED_BY = "alien-pulumi"


class ProgramKind(str, Enum):
    """Which of the two programs is running: the admin's setup, or the vendor's targeted release."""

    PROVISION = "provision"
    MANAGE = "manage"


def lifecycle_options(lifecycle: Lifecycle, kind: ProgramKind, protected: bool = True) -> dict[str, Any]:
    """DESIGN.md §4: frozen children are protected and retained in both programs, and ignore every change
    in the management program. Live children say so explicitly too (nothing inherited).

    ``protected=False`` is for setup-owned permissions (identities, policies, bindings): frozen for the
    vendor (ignored by every release), but the admin's next setup must be able to delete what a stack no
    longer needs, which protect would refuse."""
    frozen = lifecycle is Lifecycle.FROZEN
    return {
        "protect": frozen and protected,
        "retain_on_delete": frozen and protected,
        "ignore_changes": ["*"] if frozen and kind is ProgramKind.MANAGE else None,
    }


@dataclass
class Env:
    """What a component needs: the spec, the deployment, which program, the permission plan, and the
    components built so far (the program builds networks and data before compute)."""

    spec: StackSpec
    ctx: DeploymentContext
    kind: ProgramKind
    plan: PermissionPlan
    foundation: Any = None
    identities: Any = None
    registry: Any = None  # the cloud's Registry component when the stack's images need mirrors
    built: dict[str, ResourceComponent] = field(default_factory=dict)

    def network(self) -> ResourceComponent | None:
        """The stack's network component, if the stack has one (compute runs in it)."""
        return next((c for c in self.built.values() if c.res.kind is ResourceType.NETWORK), None)

    def tags(self, resource: str, lifecycle: Lifecycle) -> dict[str, str]:
        return {
            "alien-stack": self.spec.name,
            "alien-resource": resource,
            "alien-lifecycle": lifecycle.value,
            "managed-by": MANAGED_BY,
        }


class AlienComponent(pulumi.ComponentResource):
    """Base of every component: ``alien:<cloud>:<Type>``; children are named ``<name>-<part>``."""

    cloud: ClassVar[Platform]
    type_name: ClassVar[str]
    protected: ClassVar[bool] = True

    def __init__(self, name: str, lifecycle: Lifecycle, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"alien:{self.cloud.value}:{self.type_name}", name, {}, opts)
        self.logical_name = name
        self.lifecycle = lifecycle
        self.env = env
        self.tags = env.tags(name, lifecycle)

    def child_name(self, part: str) -> str:
        return f"{self.logical_name}-{part}"

    def child_opts(self, **extra: Any) -> pulumi.ResourceOptions:
        """Options for a child: parented here, with the lifecycle options set explicitly."""
        options = lifecycle_options(self.lifecycle, self.env.kind, self.protected)
        return pulumi.ResourceOptions(parent=self, **options, **extra)


class ResourceComponent(AlienComponent):
    """A component for one resource of the stack. Subclasses create their children in ``__init__``
    after calling this one, set ``link_env`` (data types) and call ``register_outputs`` last."""

    kind: ClassVar[ResourceType]

    def __init__(self, res: ResourceSpec, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(res.id, res.lifecycle, env, opts)
        self.res = res
        self.names = resource_names(env.ctx.platform, res.kind, env.ctx.prefix, res.id)
        # Environment variables a linked compute resource receives, e.g. {"ALIEN_DATA_BUCKET": name}.
        self.link_env: dict[str, pulumi.Input[str]] = {}

    def image_uri(self) -> str:
        """The image this compute runs: the vendor's reference, or the customer's mirror of it (DESIGN.md §4b)."""
        return customer_image(compute_pulls(self.env.spec, self.cloud)[self.res.id], self.env.ctx)

    def image_ready(self) -> list[pulumi.Resource]:
        """What must exist before the compute pulls its image: the mirror it pulls through, if any."""
        mirrored = compute_pulls(self.env.spec, self.cloud)[self.res.id].route is not Route.DIRECT
        return [self.env.registry] if mirrored and self.env.registry is not None else []

    def env_key(self, suffix: str) -> str:
        return f"ALIEN_{self.res.id.upper().replace('-', '_')}_{suffix}"


def components_by_kind(*classes: type[ResourceComponent]) -> dict[ResourceType, type[ResourceComponent]]:
    """A cloud's component per resource type, keyed by each class's own ``kind``; every type is required."""
    by_kind = {cls.kind: cls for cls in classes}
    missing = set(ResourceType) - set(by_kind)
    if missing:
        raise TypeError(f"no component for {sorted(k.value for k in missing)}")
    return by_kind
