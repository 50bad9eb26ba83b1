"""One deployment run, self-contained: inputs in (``RunInput``), record out (``RunResult``).

A run is what an executor schedules: locally one worker process per run
(``python -m alien_pulumi.fleet.worker`` reads a RunInput as JSON on stdin and writes a RunResult as
JSON on stdout), or, later, a distributed engine doing the same elsewhere.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.deployment_name import DeploymentName
from alien_pulumi.model.record import StateEntry
from alien_pulumi.model.spec import StackSpec


class RunKind(str, Enum):
    SETUP = "setup"  # the admin's provisioning run (alien-deploy up), the admin's own credentials
    SETUP_PREVIEW = "setup-preview"
    RELEASE = "release"  # the vendor's targeted management run, management credentials
    PREVIEW = "preview"  # the same run as a preview
    HEARTBEAT = "heartbeat"  # preview-only refresh as the management identity


class RunStatus(str, Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    LOCKED = "locked"  # a concurrent update holds the stack: retryable
    REVOKED = "revoked"  # the customer's cloud refused the management identity (AccessRevokedError): never retried


class StateGuard(BaseModel):
    """What an admin's run checks the state against (automation/state_guard.py)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    recorded: list[StateEntry] | None = Field(description="The last setup record's checkpoint; None: no setup yet.")
    state_digest: str | None = Field(default=None, description="Setup: the state the confirmed preview saw.")
    plan_file: str | None = Field(default=None, description="Where the admin's preview saves its plan (--save-plan); "
                                  "a setup after a confirmed preview (state_digest set) applies exactly it (--plan).")


class RunInput(BaseModel):
    """Everything one run needs; nothing is read from the orchestrator's state."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    run_id: str
    kind: RunKind
    deployment: DeploymentName  # it names the run's workspace folder
    release: str
    spec: StackSpec
    context: DeploymentContext
    targets: list[str] = Field(default_factory=list, description="URNs for --target (release/preview).")
    refresh_targets: dict[str, str] = Field(default_factory=dict,
                                            description="Heartbeat: URN -> resource id of what it refreshes.")
    backend_url: str | None = Field(default=None, description="The deployment's backend (s3://, gs://, azblob://, "
                                    "https://api.pulumi.com); None only for offline and example runs (file://).")
    secrets_provider: str | None = Field(default=None, description="awskms://, gcpkms://, azurekeyvault://; None: "
                                         "a local passphrase (offline and example runs only).")
    state_dir: str = Field(description="Where workspaces live (one per deployment).")
    management: dict[str, str] = Field(default_factory=dict,
                                       description="Management identity: role_arn / service_account / client_id...")
    engine: str = Field("pulumi", description="'pulumi' (Automation API) or 'simulated:<ms>' (benchmarks, tests).")
    guard: StateGuard | None = Field(default=None, description="Setup runs: what the state is checked against before "
                                     "the engine starts (the admin's last setup record).")


class RunResult(BaseModel):
    """What a run did: status, per-resource operations, outputs, and a one-line error."""

    model_config = ConfigDict(extra="forbid")

    run_id: str
    deployment: str
    kind: RunKind
    status: RunStatus
    operations: dict[str, str] = Field(default_factory=dict, description="URN -> operation (create, update, same, "
                                       "delete...; ``replaced``: the steps of its replacement, whichever they were).")
    summary: dict[str, int] = Field(default_factory=dict, description="Resources per operation (a replaced one "
                                    "counted once, ``replaced``).")
    outputs: dict[str, Any] = Field(default_factory=dict)
    health: dict[str, Any] = Field(default_factory=dict, description="Heartbeat: resource id -> health.")
    error: str | None = None
    seconds: float = 0.0
    versions: dict[str, str] = Field(default_factory=dict, description="Pulumi CLI, SDK and provider versions.")
    state_digest: str | None = Field(default=None, description="Setup runs: the state the run started from.")
    checkpoint: list[StateEntry] | None = Field(default=None, description="Setup: the state as the run left it.")
    attribution: dict[str, str] = Field(default_factory=dict, description="Management runs: the principal the run "
                                        "acted as, what the customer's audit logs show of it, and its time window "
                                        "(started_at, finished_at, UTC): what joins the run to those logs.")
