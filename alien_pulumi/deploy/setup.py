"""The customer admin's setup (``alien-deploy``): preflight against the last setup, preview, apply with
the admin's own credentials, and the release record the vendor needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from alien_pulumi.automation.engine import OnLine, engine_for
from alien_pulumi.automation.run import RunInput, RunKind, RunResult, RunStatus, StateGuard
from alien_pulumi.deploy.revocation import revoked_in_cloud
from alien_pulumi.deploy.setup_copy import Baseline, keeps_copy, last_setup, save
from alien_pulumi.deploy.state_store import StateStore, bootstrap, store_urls
from alien_pulumi.errors import AlienError
from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.deployment_name import check_deployment_name
from alien_pulumi.model.record import ReleaseRecord, RequestAnswer
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.permissions import derive_plan, render_all
from alien_pulumi.preflight import PreflightReport, from_record, preflight
from alien_pulumi.synth import synth


class SetupError(AlienError):
    """Setup cannot run as asked (exit 2)."""

    exit_code = 2


@dataclass(frozen=True)
class SetupPlan:
    run: RunInput
    report: PreflightReport | None  # against the previous setup's record, when there is one
    record_path: Path
    baseline: Baseline  # the last setup's record the state is checked against, and where it was read
    keeps_copy: bool  # the record is also kept in the deployment's store (setup_copy)


def record_path(state: Path, deployment: str) -> Path:
    """The admin's record of ``deployment``: a name, never a path (checked, since it becomes one here)."""
    return state / "records" / f"{check_deployment_name(deployment, 'the deployment name')}.json"


def external_backend(ctx: DeploymentContext, backend: str | None) -> str | None:
    """``backend`` when it is neither the deployment's own store in the customer's cloud nor a local directory:
    state kept there is readable by whoever can read that backend, so setup needs the admin's opt-in."""
    if not backend or backend.startswith("file:") or backend == store_urls(ctx)[0]:
        return None
    return backend


def resolve_state(ctx: DeploymentContext, backend: str | None, secrets_provider: str | None, *, create: bool,
                  session: Any = None, allow_external: bool = False, named_by: str = "--backend") -> StateStore:
    """The state setup runs on: a backend given (the vendor's choice in the bundle, or the admin's flag), else
    the deployment's store in the customer's cloud, bootstrapped when ``create`` (idempotent), else its URLs. A
    backend outside the customer's store is used only with ``allow_external`` (the admin's explicit opt-in)."""
    if backend:
        if external_backend(ctx, backend) and not allow_external:
            raise SetupError(f"{named_by} keeps the state at {backend}, not in the state store setup bootstraps in "
                             f"your cloud ({store_urls(ctx)[0]}): whoever can read that backend reads the stack's "
                             "state (every resource id and output). Pass --allow-external-backend to accept it, or "
                             "drop the backend to use your own store; nothing was created")
        if backend.startswith("file:"):  # a local directory: tests and demonstrations (the record says so)
            return StateStore(backend, secrets_provider or "passphrase")
        if not secrets_provider and not backend.startswith("https://"):
            raise SetupError(f"--secrets-provider is required with --backend {backend} (awskms://, gcpkms://, "
                             "azurekeyvault://): the stack's secrets must not depend on a passphrase")
        return StateStore(backend, secrets_provider or "default")
    if create:
        return bootstrap(ctx, session)
    url, secrets = store_urls(ctx)
    return StateStore(url, secrets)


def revocation_in_force(ctx: DeploymentContext, previous: ReleaseRecord | None, store: StateStore, engine: str,
                        clients: Any = None) -> str | None:
    """Whether the vendor's access is revoked (since when), so that setup keeps it so: the cloud's mark when the
    setup runs on the customer's cloud (from any machine); for local state and simulated runs, which touch no
    cloud, the last setup record's."""
    if engine.startswith("simulated:") or store.backend_url.startswith("file:"):
        return previous.context.revoked_at if previous is not None else None
    outputs = previous.outputs.get("management_identity") or {} if previous is not None else {}
    return revoked_in_cloud(ctx, outputs, clients)


def plan_setup(spec: StackSpec, ctx: DeploymentContext, state: Path, store: StateStore,
               allow_frozen_changes: bool, engine: str = "pulumi", *, deployment: str | None = None,
               clients: Any = None) -> SetupPlan:
    """``deployment``: the name the vendor registered (the bundle's), default the prefix. A revocation in force
    (``revocation_in_force``; ``clients``: the cloud SDK clients it reads with) is kept: the context carries it.
    The baseline is the later of the local record and the copy kept in the store (read with the admin's ambient
    credentials)."""
    deployment = deployment or ctx.prefix
    path = record_path(state, deployment)
    report = None
    cloud = keeps_copy(ctx, store, engine)
    baseline = last_setup(ctx, path, cloud=cloud)
    previous = baseline.record
    ctx = ctx.model_copy(update={"revoked_at": revocation_in_force(ctx, previous, store, engine, clients)})
    if previous is not None:
        report = preflight(spec, from_record(previous), ctx.platform, allow_frozen_changes)
    targets = synth(spec, ctx).targets  # live URNs: progress lines mark them
    release = "setup-" + datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    # The state is checked against the admin's own last record, never taken as the management identity left it.
    plan_file = state / "workspaces" / deployment / "provision" / "setup-plan.json"  # the admin's machine only
    guard = StateGuard(recorded=previous.checkpoint if previous is not None else None, plan_file=str(plan_file))
    run = RunInput(run_id=release, kind=RunKind.SETUP_PREVIEW, deployment=deployment, release=release,
                   spec=spec, context=ctx, targets=targets, backend_url=store.backend_url,
                   secrets_provider=store.secrets_provider,
                   state_dir=str(state), engine=engine, guard=guard)
    return SetupPlan(run, report, path, baseline, cloud)


def execute(run: RunInput, kind: RunKind, on_line: OnLine | None, *, previewed: RunResult | None = None) -> RunResult:
    """``previewed``: the preview the admin confirmed; the setup refuses a state other than the one it saw."""
    update: dict[str, object] = {"kind": kind}
    if previewed is not None and run.guard is not None:
        update["guard"] = run.guard.model_copy(update={"state_digest": previewed.state_digest})
    return engine_for(run).execute(run.model_copy(update=update), on_line)


def write_record(plan: SetupPlan, result: RunResult, answer: RequestAnswer | None = None) -> ReleaseRecord:
    """``answer``: the setup request this setup applied (the vendor's registry closes it on import)."""
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
        backend=run.backend_url,
        secrets_provider=run.secrets_provider,
        versions=result.versions,
        setup_request=answer,
        checkpoint=result.checkpoint,
    )
    plan.record_path.parent.mkdir(parents=True, exist_ok=True)
    plan.record_path.write_text(record.model_dump_json(indent=2))
    return record


def keep_record(plan: SetupPlan, record: ReleaseRecord) -> str | None:
    """Keep ``record`` in the deployment's store as well, where the management identity cannot write (None: the
    setup runs on no store of the customer's cloud)."""
    return save(plan.run.context, record) if plan.keeps_copy else None


def config_lines(ctx: DeploymentContext, stack: Path) -> list[str]:
    """`pulumi config set` lines of the root program (Pulumi.yaml) for this context."""
    from alien_pulumi.programs.entry import CONTEXT_KEYS

    facts = ctx.facts()
    lines = [f"pulumi config set alien:platform {ctx.platform.value}", f"pulumi config set alien:stack {stack}"]
    lines += [f"pulumi config set alien:{key} '{facts[field]}'" for key, field in CONTEXT_KEYS.items()
              if field in facts]
    return lines


def read_outputs(run: RunInput) -> RunResult:
    """The outputs of a stack set up outside alien-deploy (plain `pulumi up`), as a setup's result."""
    if run.engine.startswith("simulated:"):
        return engine_for(run).execute(run.model_copy(update={"kind": RunKind.SETUP}))
    from alien_pulumi.automation.state_guard import checkpoint, verify_state, where
    from alien_pulumi.automation.workspace import open_stack, pulumi_command

    stack = open_stack(run, {}, pulumi_command())
    # The admin's own `pulumi up` ran already: nothing in the state may be outside the stack's program, and what is
    # there becomes the checkpoint the next setup checks against.
    exported = stack.export_stack().deployment
    verify_state(exported, None, synth(run.spec, run.context).provision.urns(), where(run))
    outputs = {k: v.value for k, v in stack.outputs().items() if not v.secret}
    return RunResult(run_id=run.run_id, deployment=run.deployment, kind=RunKind.SETUP, status=RunStatus.SUCCEEDED,
                     outputs=outputs, checkpoint=checkpoint(exported, run.targets))
