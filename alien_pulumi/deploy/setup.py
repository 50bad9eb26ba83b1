"""The customer admin's setup (``alien-deploy``): preflight against the last setup, preview, apply with
the admin's own credentials, and the release record the vendor needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from alien_pulumi.automation.engine import OnLine, engine_for
from alien_pulumi.automation.run import RunInput, RunKind, RunResult
from alien_pulumi.automation.workspace import default_backend
from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.record import ReleaseRecord
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.permissions import derive_plan, render_all
from alien_pulumi.preflight import PreflightReport, from_record, preflight
from alien_pulumi.synth import synth


@dataclass(frozen=True)
class SetupPlan:
    run: RunInput
    report: PreflightReport | None  # against the previous setup's record, when there is one
    record_path: Path


def record_path(state: Path, deployment: str) -> Path:
    return state / "records" / f"{deployment}.json"


def backend_of(run: RunInput) -> str:
    return run.backend_url or default_backend(Path(run.state_dir))


def plan_setup(spec: StackSpec, ctx: DeploymentContext, state: Path, backend: str | None,
               allow_frozen_changes: bool, engine: str = "pulumi", *, deployment: str | None = None,
               secrets_provider: str | None = None) -> SetupPlan:
    """``deployment``: the name the vendor registered (the bundle's), default the prefix."""
    deployment = deployment or ctx.prefix
    path = record_path(state, deployment)
    report = None
    if path.exists():
        previous = ReleaseRecord.model_validate_json(path.read_text())
        report = preflight(spec, from_record(previous), ctx.platform, allow_frozen_changes)
    targets = synth(spec, ctx).targets  # live URNs: progress lines mark them
    release = "setup-" + datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    run = RunInput(run_id=release, kind=RunKind.SETUP_PREVIEW, deployment=deployment, release=release,
                   spec=spec, context=ctx, targets=targets, backend_url=backend, secrets_provider=secrets_provider,
                   state_dir=str(state), engine=engine)
    return SetupPlan(run, report, path)


def execute(run: RunInput, kind: RunKind, on_line: OnLine | None) -> RunResult:
    return engine_for(run).execute(run.model_copy(update={"kind": kind}), on_line)


def write_record(plan: SetupPlan, result: RunResult) -> ReleaseRecord:
    run = plan.run
    record = ReleaseRecord(
        release=run.release,
        deployment=run.deployment,
        program="provision",
        context=run.context,
        spec=run.spec,
        digest=run.spec.digest(),
        frozen_digest=run.spec.frozen_digest(),
        permissions=render_all(derive_plan(run.spec, run.context)),
        targets=run.targets,
        outputs=result.outputs,
        operations=result.summary,
        pending_setup=[],
        backend=backend_of(run),
        secrets_provider=run.secrets_provider or "passphrase",
        versions=result.versions,
    )
    plan.record_path.parent.mkdir(parents=True, exist_ok=True)
    plan.record_path.write_text(record.model_dump_json(indent=2))
    return record
