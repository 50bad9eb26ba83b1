"""What the workflows and activities exchange: small dataclasses (Temporal's JSON converter), names and
deployment ids only. Everything else (specs, contexts, records) is read from the registry by the activity,
so a workflow's history stays small whatever the stack."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("alien-pulumi")
except PackageNotFoundError:  # a checkout that is not installed
    VERSION = "0+unknown"

DEFAULT_NAMESPACE = "default"
DEFAULT_TASK_QUEUE = "alien-pulumi"
ROLLOUT_WORKFLOW = "alien-pulumi.rollout"
HEARTBEAT_WORKFLOW = "alien-pulumi.heartbeat"
VERSION_MISMATCH = "VersionMismatch"  # an ApplicationError type: never retried
STACK_LOCKED = "StackLocked"  # retried by the activity's retry policy
WRONG_REGISTRY = "WrongRegistry"


@dataclass
class Timing:
    """Seconds. A run that stops heartbeating for ``heartbeat_timeout`` (its worker died) is given to another
    worker; a stack found locked is tried ``attempts`` times in all, waiting ``first_wait`` doubling up to
    ``longest_wait`` between attempts."""

    run_timeout: float = 3 * 3600.0
    heartbeat_every: float = 10.0
    heartbeat_timeout: float = 60.0
    attempts: int = 8
    first_wait: float = 2.0
    longest_wait: float = 120.0


@dataclass
class Checked:
    """What the release service's preflight of a deployment found: the record it checked, pending setup."""

    fingerprint: str
    pending: list[str] = field(default_factory=list)


@dataclass
class RolloutParams:
    rollout_id: str
    release_id: str
    waves: list[list[str]]  # deployment names of each wave, in plan order
    parallel: int
    halt_after_failures: int | None
    health_gate: bool
    engine: str
    backend: str | None
    allow_frozen_changes: bool
    version: str
    timing: Timing = field(default_factory=Timing)
    checked: dict[str, Checked] = field(default_factory=dict)


@dataclass
class RunTask:
    rollout_id: str
    release_id: str
    deployment: str
    engine: str
    backend: str | None
    allow_frozen_changes: bool
    version: str
    attempts: int
    heartbeat_every: float
    checked: Checked | None = None


@dataclass
class RunOutcome:
    deployment: str
    status: str  # a RunState value
    error: str | None = None


@dataclass
class HealthTask:
    deployment: str
    engine: str
    backend: str | None
    version: str
    heartbeat_every: float


@dataclass
class HealthOutcome:
    deployment: str
    healthy: bool
    problem: str | None = None  # why not: the run's error, or the resources missing or drifted


@dataclass
class FinishTask:
    rollout_id: str
    status: str  # a RolloutStatus value
    reason: str | None
    failed: dict[str, str] = field(default_factory=dict)  # deployment -> error of runs whose activity gave up


@dataclass
class HeartbeatParams:
    deployments: list[str] | None  # None: every registered deployment, listed when the workflow runs
    parallel: int
    engine: str
    backend: str | None
    version: str
    timing: Timing = field(default_factory=Timing)


@dataclass
class RolloutOutcome:
    status: str  # a RolloutStatus value
    reason: str | None
    failures: int
