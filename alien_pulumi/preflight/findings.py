"""Findings: a stable code, a severity, whether it blocks the release and whether it needs the customer's
admin to run setup again, and a message naming the resource and the field with old and new values."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import Enum
from typing import Any


class Severity(str, Enum):
    ERROR = "error"  # blocks the release
    WARNING = "warning"  # the release may roll out; something waits for setup
    INFO = "info"


class Code(str, Enum):
    FROZEN_CHANGED = "FROZEN_CHANGED"
    LIFECYCLE_CHANGED = "LIFECYCLE_CHANGED"
    FROZEN_ADDED = "FROZEN_ADDED"
    FROZEN_REMOVED = "FROZEN_REMOVED"
    LIVE_ADDED = "LIVE_ADDED"
    LIVE_REMOVED = "LIVE_REMOVED"
    LIVE_ADDED_NEEDS_PROVISION = "LIVE_ADDED_NEEDS_PROVISION"
    LIVE_REMOVED_NEEDS_PROVISION = "LIVE_REMOVED_NEEDS_PROVISION"
    LIVE_CHANGED = "LIVE_CHANGED"
    LIVE_CHANGE_NEEDS_SETUP = "LIVE_CHANGE_NEEDS_SETUP"
    TYPE_CHANGED = "TYPE_CHANGED"
    MANAGEMENT_PERMISSIONS_CHANGED = "MANAGEMENT_PERMISSIONS_CHANGED"
    PROFILE_PERMISSIONS_CHANGED = "PROFILE_PERMISSIONS_CHANGED"
    GRANT_REMOVED = "GRANT_REMOVED"
    PLATFORM_REMOVED = "PLATFORM_REMOVED"
    NAME_COLLISION = "NAME_COLLISION"
    PREFIX_OVERLAP = "PREFIX_OVERLAP"
    IMAGE_MIRROR_ADDED = "IMAGE_MIRROR_ADDED"
    LIMIT_AWS_MANAGED_POLICIES = "LIMIT_AWS_MANAGED_POLICIES"
    LIMIT_AWS_POLICY_SIZE = "LIMIT_AWS_POLICY_SIZE"
    LIMIT_AWS_TRUST_POLICY_SIZE = "LIMIT_AWS_TRUST_POLICY_SIZE"
    LIMIT_GCP_CUSTOM_ROLES = "LIMIT_GCP_CUSTOM_ROLES"
    LIMIT_GCP_ROLE_PERMISSIONS = "LIMIT_GCP_ROLE_PERMISSIONS"
    LIMIT_GCP_CONDITIONAL_BINDINGS = "LIMIT_GCP_CONDITIONAL_BINDINGS"
    LIMIT_GCP_POLICY_MEMBERS = "LIMIT_GCP_POLICY_MEMBERS"
    LIMIT_AZURE_ROLE_ASSIGNMENTS = "LIMIT_AZURE_ROLE_ASSIGNMENTS"
    LIMIT_AZURE_CUSTOM_ROLES = "LIMIT_AZURE_CUSTOM_ROLES"
    # --live: the customer's cloud says the management identity may not do what the release does (blocks)
    LIVE_PERMISSION_DENIED = "LIVE_PERMISSION_DENIED"
    LIVE_PERMISSION_UNCHECKED = "LIVE_PERMISSION_UNCHECKED"  # the cloud could not be asked about it (warning)


@dataclass(frozen=True)
class Finding:
    code: Code
    severity: Severity
    blocks: bool
    needs_setup: bool
    message: str
    resource: str | None = None
    field: str | None = None
    old: Any = None
    new: Any = None
    platform: str | None = None
    added: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    removed: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    # A live change: what it does to the running resource on each cloud, and the part it replaces (a new ARN or
    # id) where it replaces one.
    effects: dict[str, str] = dataclasses.field(default_factory=dict)
    replaces: dict[str, str] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code.value,
            "severity": self.severity.value,
            "blocks": self.blocks,
            "needs_setup": self.needs_setup,
            "resource": self.resource,
            "field": self.field,
            "old": self.old,
            "new": self.new,
            "platform": self.platform,
            "message": self.message,
        }
        if self.effects:
            out["effects"] = self.effects
            out["replaces"] = self.replaces
        if self.added or self.removed:
            out["added"] = self.added
            out["removed"] = self.removed
        return out
