"""Revoke and restore the vendor's access at once (``alien-deploy revoke|restore``), with the admin's credentials.

Revoking does not wait for a setup: it changes the trust in the customer's cloud directly, in the order that
stops new credentials first and then those already issued, where the cloud allows it:

- AWS: the management role's trust becomes one statement denying the vendor's principal; an inline policy denies
  everything to sessions issued before the revocation (IAM's "revoke active sessions"); a tag marks the role.
- GCP: the vendor's member leaves every binding on the management service account, and the account is disabled,
  which rejects its access tokens already issued; its description holds the time.
- Azure: the federated identity credential is deleted (no new tokens) and so is every role assignment of the
  management identity (tokens already issued, which Entra ID cannot revoke, can do nothing); a tag marks it.

The mark is what a later setup reads (``revoked_in_cloud``): its context then carries ``revoked_at``, so the
provisioning program renders the same revoked trust, and a setup from any machine keeps access revoked until
``restore`` puts back what setup creates. Each step is idempotent: a revoke or restore stopped half-way (the
cloud refused a call) says what it did, and running it again completes it.

Running code (``revoke --stop``). Revoking changes the vendor's trust only: code already running in the live
computes (the spec's containers and functions whose lifecycle is live: the vendor's releases change their code)
keeps its runtime identity. ``--stop`` also stops each of them with the admin's credentials, in the cloud's own
terms of "stopped" (the evidence, per cloud):

- AWS ECS service: UpdateService ``desiredCount=0`` (ECS stops the service's tasks and starts none: the
  component declares no autoscaling). Lambda function: PutFunctionConcurrency ``ReservedConcurrentExecutions=0``
  (the API's minimum: Concurrency.ReservedConcurrentExecutions "Valid Range: Minimum value of 0"); reserved
  concurrency "prevents [the function] from scaling beyond that level" (CLI reference put-function-concurrency), so
  every invocation is throttled: synchronous calls fail, a queue trigger's messages and asynchronous events wait
  (Lambda operator guide, reserved concurrency). Invocations in flight end within the function's timeout.
  DeleteFunctionConcurrency removes the limit again.
- GCP Cloud Run service (container and function alike): the Cloud Run Admin API v2 service-level scaling
  (``Service.scaling``, ServiceScaling) ``scalingMode: MANUAL`` with ``manualInstanceCount: 0`` ("total instance
  count for the service in manual scaling mode"), patched with ``updateMask=scaling,annotations``
  (projects.locations.services.patch takes an updateMask). Manual scaling sets the instance count "regardless of
  traffic or utilization, and without requiring redeployment" (no new revision); "revision-level minimum and
  maximum instance settings are ignored"; a revision left without instances gets "the same error as if the
  revisions were disabled" (cloud.google.com/run/docs/configuring/services/manual-scaling). Restore sets
  ``scalingMode: AUTOMATIC`` again (setup sets no service-level scaling): the revision's own min/max instances, as
  setup declared them from the spec, apply again.
- Azure Container App (container, and a function's app): ``POST .../containerApps/{name}/stop`` and ``/start``
  (RBAC ``Microsoft.App/containerApps/stop/action``, ``start/action``, "Stop a Container App" in Azure's
  permissions reference; the app's ``runningStatus`` becomes ``Stopped``). A function's Container Apps job:
  ``POST .../jobs/{name}/suspend`` and ``/resume`` (api-version 2026-07-01, RBAC ``Microsoft.App/jobs/
  suspend/action``, ``resume/action``; its ``runningState`` becomes ``Suspended``: the schedule starts no
  execution). Sources: Azure/azure-rest-api-specs specification/app/resource-manager/Microsoft.App/ContainerApps/
  ContainerApp.tsp (start, stop) and Job.tsp (suspend, resume; examples/2026-07-01/Jobs_Suspend.json), called
  through azure-mgmt-appcontainers. These are long-running operations whose status URLs ARM places at
  subscription scope; the admin's provisioning layer reads no result URL there, so the run follows them by
  reading the app or job itself.

What a revoke stopped is recorded in the cloud, on the compute itself: a tag (AWS, Azure) or an annotation (GCP)
``alien-stopped-at`` with the time. It is written before the stop and removed after the start, so a stop or start
refused half-way is completed by running the command again, and a compute someone stopped by hand (no mark) is
left as it is by ``restore``. The cloud, not the setup record, holds it because, like the revocation mark, it must
be seen by a restore from any machine (a setup record is one machine's local file: another admin's copy, or the
copy setup keeps in the state store, knows nothing of this stop), and it sits on the very resource it describes
(deleting or recreating the compute takes the mark with it; a compute stopped by hand carries none).
``restore`` puts back what setup set: the ECS service's desired count from the spec's ``min_replicas`` (at least
one, as the component declares), no Lambda concurrency limit, automatic Cloud Run scaling, a started app and a
resumed job.

Restore derives what it puts back from the stack spec and the context (``derive_plan`` + ``render_layer``),
never from the setup record's permissions section; a record whose section disagrees with that rendering was
changed after setup, and the restore is refused before anything changes (``check_record``).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from alien_pulumi.errors import AlienError
from alien_pulumi.model.context import ACCESS_FORMAT, REVOKED_MARK, DeploymentContext, access_deadline
from alien_pulumi.model.naming import deployment_names, resource_names
from alien_pulumi.model.record import ReleaseRecord
from alien_pulumi.model.resources import ComputeSpec, ContainerSpec
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import Lifecycle, Platform, ResourceType
from alien_pulumi.permissions.render.markdown import ISSUED

# On a compute that `revoke --stop` stopped (AWS and Azure tag, GCP annotation), its value the time: restore starts
# exactly the computes that carry it.
STOPPED_MARK = "alien-stopped-at"

# What a live compute is after the command, as Revocation.compute reports it.
NOT_STOPPED = "not stopped"  # revoke without --stop: code running in it keeps its runtime access
STOPPED = "stopped"  # stopped by a revocation (this one or an earlier one): it carries the mark
STOPPED_UNMARKED = "stopped, not by a revocation"  # stopped before without the mark: left as is
NOT_FOUND = "not found"  # the cloud has no such resource (never set up, or deleted): nothing to stop or start
STARTED = "started"  # restore started it again, as setup set it, and removed the mark
RUNNING = "running"  # restore: no mark, not stopped: left as is


class RevocationError(AlienError):
    """Access cannot be revoked or restored as asked: nothing was changed, unless the message says what was."""

    exit_code = 2


@dataclass(frozen=True)
class ComputeState:
    """One live compute of the deployment after a revoke or restore."""

    id: str
    type: str  # container or function
    resource: str  # what the cloud calls it (``ECS service acme/acme-web``)
    state: str  # NOT_STOPPED, STOPPED, STOPPED_UNMARKED, NOT_FOUND, STARTED or RUNNING


@dataclass(frozen=True)
class Revocation:
    """What ``revoke`` or ``restore`` did to one deployment's trust and, with ``--stop``, to its live computes."""

    deployment: str
    platform: str
    state: str  # "revoked" or "restored"
    revoked_at: str | None  # the revocation in force (None once restored)
    changed: bool  # False: it was already so, nothing was changed
    steps: list[str] = field(default_factory=list)  # what was done, in order, as the admin reads it
    issued: str = ""  # what the cloud does with credentials already issued
    trust_changed: bool = False  # the trust itself changed (False: it was already revoked or restored)
    compute: list[ComputeState] | None = None  # the live computes (None: unknown, no setup record)
    runtime: str = ""  # what code running in the live computes can still do

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TrustSource:
    """What a revoke or restore acts on: the deployment's context, its management identity's outputs, and (from a
    setup record) the stack spec, from which a restore derives what it puts back, and the record's rendered
    management layer, which must agree with that derivation (``check_record``)."""

    deployment: str
    context: DeploymentContext
    outputs: Mapping[str, str] = field(default_factory=dict)
    spec: StackSpec | None = None  # None: from a bundle without a setup record
    recorded: Mapping[str, Any] | None = None  # the record's permissions["management"], checked, never used

    @classmethod
    def of_record(cls, record: ReleaseRecord) -> TrustSource:
        recorded = record.permissions.get("management")
        return cls(record.deployment, record.context, record.outputs.get("management_identity") or {}, record.spec,
                   recorded if isinstance(recorded, Mapping) else {})


def trust_source(state: Path, *, record: Path | None = None, bundle: Path | None = None,
                 deployment: str | None = None) -> tuple[TrustSource, list[Path]]:
    """The deployment a revoke or restore acts on, from its setup record, its bundle or its name (the record setup
    keeps in ``state``), and the setup records to bring up to date: the one given and the one in ``state``. A
    bundle holds no stack spec: from a bundle, the record in ``state`` is used when there is one (its spec names
    the live computes and Azure's role assignments)."""
    from alien_pulumi.deploy.bundle import SetupBundle
    from alien_pulumi.deploy.handoff import import_record
    from alien_pulumi.deploy.setup import record_path  # setup imports this module

    if deployment is not None:
        record = record_path(state, deployment)
        if not record.is_file():
            raise RevocationError(f"no setup record of deployment {deployment} in {record.parent}: give --record "
                                  "FILE or --bundle FILE; nothing was changed")
    if record is not None:
        source = TrustSource.of_record(import_record(record))
    elif bundle is not None:
        setup_bundle = SetupBundle.read(bundle)
        source = TrustSource(setup_bundle.deployment, setup_bundle.to_context(setup_bundle.deployment, naming="field"))
    else:
        raise RevocationError("give the setup record, the setup bundle or the deployment's name")
    kept = record_path(state, source.deployment)
    if source.spec is None and kept.is_file():
        source = TrustSource.of_record(import_record(kept))
    return source, list(dict.fromkeys(p.resolve() for p in (record, kept) if p is not None and p.is_file()))


def mark_records(paths: Sequence[Path], revoked_at: str | None) -> list[Path]:
    """Write the revocation (None: restored) into these setup records: their context, and the permissions rendered
    from it (the trust now in force); the paths that said otherwise, and were written."""
    from alien_pulumi.permissions import derive_plan, render_all

    written = []
    for path in paths:
        record = ReleaseRecord.model_validate_json(path.read_text())
        if record.context.revoked_at == revoked_at:
            continue
        written.append(path)
        context = record.context.model_copy(update={"revoked_at": revoked_at})
        permissions = render_all(derive_plan(record.spec, context))
        path.write_text(record.model_copy(update={"context": context, "permissions": permissions}
                                          ).model_dump_json(indent=2))
    return written


def now_utc() -> str:
    return datetime.now(timezone.utc).strftime(ACCESS_FORMAT)


def live_computes(spec: StackSpec | None) -> list[ComputeSpec] | None:
    """The spec's containers and functions whose lifecycle is live (None: no spec, unknown)."""
    if spec is None:
        return None
    return [r for r in spec.resources if isinstance(r, ComputeSpec) and r.lifecycle is Lifecycle.LIVE]


# ---------------------------------------------------------------- the record's permissions, checked on restore

def _fields(value: Any, keys: Sequence[str]) -> dict[str, Any]:
    return {k: value.get(k) for k in keys} if isinstance(value, Mapping) else dict.fromkeys(keys)


def _entries(value: Any, keys: Sequence[str]) -> list[dict[str, Any]] | Any:
    return [_fields(v, keys) for v in value] if isinstance(value, list) else value


# Per cloud, what restore puts back of the management layer (its trust): these fields of the record's section must
# be what the spec and context render.
_RESTORED: dict[Platform, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    Platform.AWS: lambda m: {"trust_policy": m.get("trust_policy")},
    Platform.GCP: lambda m: {"impersonation": _fields(m.get("impersonation"), ("role", "member", "scope",
                                                                             "condition"))},
    Platform.AZURE: lambda m: {
        "federated_credential": _fields(m.get("federated_credential"), ("issuer", "subject", "audiences")),
        "assignments": _entries(m.get("assignments"), ("role", "principal", "scope", "condition")),
        "role_definitions": _entries(m.get("role_definitions"), ("roleName", "actions", "dataActions")),
    },
}


def _difference(recorded: Any, derived: Any, path: str) -> tuple[str, Any, Any] | None:
    """The first place where ``recorded`` is not ``derived``: (path, recorded value, derived value)."""
    if isinstance(recorded, Mapping) and isinstance(derived, Mapping):
        for key in [*derived, *(k for k in recorded if k not in derived)]:
            found = _difference(recorded.get(key), derived.get(key), f"{path}.{key}" if path else str(key))
            if found:
                return found
        return None
    if isinstance(recorded, list) and isinstance(derived, list):
        for index, (was, now) in enumerate(zip(recorded, derived, strict=False)):
            found = _difference(was, now, f"{path}[{index}]")
            if found:
                return found
        if len(recorded) != len(derived):
            return path, f"{len(recorded)} entries", f"{len(derived)} entries"
        return None
    return None if recorded == derived else (path, recorded, derived)


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= 120 else text[:117] + "..."


def check_record(spec: StackSpec, ctx: DeploymentContext, recorded: Mapping[str, Any]) -> None:
    """Refuse a setup record whose management section (``recorded``) is not what ``spec`` and ``ctx`` render, in
    the fields a restore puts back: it was changed after setup (a tampered subject, issuer or scope would hand the
    access to someone else). Nothing has been changed when it raises."""
    from alien_pulumi.permissions import derive_plan, render_layer

    project = _RESTORED[ctx.platform]
    derived = project(render_layer(derive_plan(spec, ctx), "management"))
    found = _difference(project(recorded), derived, "")
    if found:
        where, was, now = found
        raise RevocationError(f"the setup record's management permissions disagree with what its stack and context "
                              f"render: {where} is {_shown(was)}, not {_shown(now)}. The record was changed after "
                              "setup, so restore refuses it; nothing was changed. Use the record your setup wrote "
                              "(or run setup again, which keeps access revoked and writes a fresh record)")


# ---------------------------------------------------------------- the clouds

class _Trust:
    """One cloud's management identity and the deployment's computes, as the admin's credentials see them.
    ``mark``: the revocation time the cloud holds (None: not revoked); ``revoke``/``restore`` change the trust,
    ``stop``/``start`` one live compute (returning its state); every change is said with ``step``."""

    platform: Platform
    failures: tuple[type[BaseException], ...] = ()

    def __init__(self, ctx: DeploymentContext, outputs: Mapping[str, str]) -> None:
        self.ctx = ctx
        self.outputs = outputs
        self.writing = False  # set once the first change is under way: a failure before it changed nothing
        self.done: list[str] = []  # the steps done so far, in order

    def write(self) -> None:
        """Said before each change: from now on a failure may leave earlier steps applied."""
        self.writing = True

    def step(self, text: str) -> None:
        self.done.append(text)

    def mark(self) -> str | None:
        raise NotImplementedError

    def revoke(self, at: str) -> None:
        raise NotImplementedError

    def restore(self, management: Mapping[str, Any] | None) -> None:
        raise NotImplementedError

    def describe(self, res: ComputeSpec) -> str:
        raise NotImplementedError

    def stop(self, res: ComputeSpec, at: str) -> str:
        raise NotImplementedError

    def start(self, res: ComputeSpec) -> str:
        raise NotImplementedError

    def name_of(self, res: ComputeSpec) -> str:
        return resource_names(self.platform, res.kind, self.ctx.prefix, res.id)["name"]

    def explain(self, exc: BaseException) -> str:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__

    def missing(self, what: str) -> RevocationError:
        return RevocationError(f"deployment {self.ctx.prefix} has no {what} in {self.ctx.platform.value} "
                               f"{self.ctx.scope_id}: it was never set up there (or under another prefix); nothing "
                               "was changed")


class _Aws(_Trust):
    platform = Platform.AWS

    def __init__(self, ctx: DeploymentContext, outputs: Mapping[str, str], session: Any) -> None:
        import boto3
        import botocore.exceptions

        super().__init__(ctx, outputs)
        self.failures = (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)
        self.session = session or boto3.session.Session()
        self.iam = self.session.client("iam", region_name=ctx.region)
        self.role = ctx.identity("management")
        self.cluster = deployment_names(Platform.AWS, ctx.prefix)["cluster"]
        self._clients: dict[str, Any] = {}

    def client(self, name: str) -> Any:
        if name not in self._clients:
            self._clients[name] = self.session.client(name, region_name=self.ctx.region)
        return self._clients[name]

    def explain(self, exc: BaseException) -> str:
        error = getattr(exc, "response", {}).get("Error", {})
        return f"{getattr(exc, 'operation_name', '')}: {error.get('Code')}: {error.get('Message')}" if error else \
            f"could not reach AWS: {exc}"

    def mark(self) -> str | None:
        try:
            role = self.iam.get_role(RoleName=self.role)["Role"]
        except self.iam.exceptions.NoSuchEntityException:
            raise self.missing(f"management role {self.role}") from None
        return next((t["Value"] for t in role.get("Tags", []) if t["Key"] == REVOKED_MARK), None)

    def revoke(self, at: str) -> None:
        from alien_pulumi.permissions.render.aws import (
            REVOKED_SESSIONS_POLICY,
            VERSION,
            revoked_sessions_policy,
            vendor_statements,
        )

        revoked = self.ctx.model_copy(update={"revoked_at": at})
        self.write()
        self.iam.update_assume_role_policy(RoleName=self.role, PolicyDocument=json.dumps(
            {"Version": VERSION, "Statement": vendor_statements(revoked)}))
        self.step(f"role {self.role}: the trust policy denies {self.ctx.principal}")
        self.iam.put_role_policy(RoleName=self.role, PolicyName=REVOKED_SESSIONS_POLICY,
                                 PolicyDocument=json.dumps(revoked_sessions_policy(revoked)))
        self.step(f"role {self.role}: inline policy {REVOKED_SESSIONS_POLICY} denies sessions issued before it")
        self.iam.tag_role(RoleName=self.role, Tags=[{"Key": REVOKED_MARK, "Value": at}])
        self.step(f"role {self.role}: tagged {REVOKED_MARK}={at}")

    def restore(self, management: Mapping[str, Any] | None) -> None:
        from alien_pulumi.permissions.render.aws import REVOKED_SESSIONS_POLICY, VERSION, vendor_statements

        self.write()
        self.iam.update_assume_role_policy(RoleName=self.role, PolicyDocument=json.dumps(
            {"Version": VERSION, "Statement": vendor_statements(self.ctx)}))
        self.step(f"role {self.role}: the trust policy allows {self.ctx.principal} again, as setup renders it")
        try:
            self.iam.delete_role_policy(RoleName=self.role, PolicyName=REVOKED_SESSIONS_POLICY)
            self.step(f"role {self.role}: inline policy {REVOKED_SESSIONS_POLICY} deleted")
        except self.iam.exceptions.NoSuchEntityException:
            pass
        self.iam.untag_role(RoleName=self.role, TagKeys=[REVOKED_MARK])
        self.step(f"role {self.role}: tag {REVOKED_MARK} removed")

    def describe(self, res: ComputeSpec) -> str:
        name = self.name_of(res)
        return f"ECS service {self.cluster}/{name}" if res.kind is ResourceType.CONTAINER else \
            f"Lambda function {name}"

    def stop(self, res: ComputeSpec, at: str) -> str:
        return self._service(res, at) if isinstance(res, ContainerSpec) else self._function(res, at)

    def start(self, res: ComputeSpec) -> str:
        return self._service(res, None) if isinstance(res, ContainerSpec) else self._function(res, None)

    def _service(self, res: ContainerSpec, stop_at: str | None) -> str:
        """Stop (``stop_at``: the mark's time) or start the container's ECS service."""
        ecs, name, what = self.client("ecs"), self.name_of(res), self.describe(res)
        try:
            found = ecs.describe_services(cluster=self.cluster, services=[name], include=["TAGS"])["services"]
        except ecs.exceptions.ClusterNotFoundException:
            found = []
        service = next((s for s in found if s.get("status") != "INACTIVE"), None)
        if service is None:
            return NOT_FOUND
        marked = next((t["value"] for t in service.get("tags") or [] if t["key"] == STOPPED_MARK), None)
        count = service["desiredCount"]
        if stop_at is not None:
            if count == 0:
                return STOPPED if marked else STOPPED_UNMARKED
            self.write()
            if not marked:
                ecs.tag_resource(resourceArn=service["serviceArn"], tags=[{"key": STOPPED_MARK, "value": stop_at}])
                self.step(f"{what}: tagged {STOPPED_MARK}={stop_at} (restore starts it again)")
            ecs.update_service(cluster=self.cluster, service=name, desiredCount=0)
            self.step(f"{what}: desired count 0 (was {count}): ECS stops its tasks and starts none")
            return STOPPED
        if not marked:
            return STOPPED_UNMARKED if count == 0 else RUNNING
        self.write()
        if count == 0:
            wanted = max(res.min_replicas, 1)  # as the component declares it (components/aws/container.py)
            ecs.update_service(cluster=self.cluster, service=name, desiredCount=wanted)
            self.step(f"{what}: desired count {wanted} again (the spec's min_replicas, as setup sets it)")
        ecs.untag_resource(resourceArn=service["serviceArn"], tagKeys=[STOPPED_MARK])
        self.step(f"{what}: tag {STOPPED_MARK} removed")
        return STARTED

    def _function(self, res: ComputeSpec, stop_at: str | None) -> str:
        """Stop (``stop_at``: the mark's time) or start the function's Lambda: reserved concurrency 0, or none."""
        lam, name, what = self.client("lambda"), self.name_of(res), self.describe(res)
        try:
            function = lam.get_function(FunctionName=name)
        except lam.exceptions.ResourceNotFoundException:
            return NOT_FOUND
        arn = function["Configuration"]["FunctionArn"]
        marked = (function.get("Tags") or {}).get(STOPPED_MARK)
        reserved = lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions")
        if stop_at is not None:
            if reserved == 0:
                return STOPPED if marked else STOPPED_UNMARKED
            self.write()
            if not marked:
                lam.tag_resource(Resource=arn, Tags={STOPPED_MARK: stop_at})
                self.step(f"{what}: tagged {STOPPED_MARK}={stop_at} (restore starts it again)")
            lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
            self.step(f"{what}: reserved concurrency 0: every invocation is throttled (those in flight end within "
                      f"its timeout)")
            return STOPPED
        if not marked:
            return STOPPED_UNMARKED if reserved == 0 else RUNNING
        self.write()
        if reserved == 0:
            lam.delete_function_concurrency(FunctionName=name)
            self.step(f"{what}: reserved concurrency limit deleted (setup sets none): it runs again")
        lam.untag_resource(Resource=arn, TagKeys=[STOPPED_MARK])
        self.step(f"{what}: tag {STOPPED_MARK} removed")
        return STARTED


IAM_API = "https://iam.googleapis.com/v1"
RUN_API = "https://run.googleapis.com/v2"
_GCP_REVOKED_AT = re.compile(r"revoked by the customer's admin at (\S+?Z)")
# Cloud Run's service-level scaling while stopped: exactly no instance, whatever the revision's min/max.
MANUAL_ZERO = {"scalingMode": "MANUAL", "manualInstanceCount": 0}


class _GcpRefused(Exception):
    """An IAM or Cloud Run API call GCP answered with an error (its message says which)."""


class _Gcp(_Trust):
    platform = Platform.GCP

    def __init__(self, ctx: DeploymentContext, outputs: Mapping[str, str], session: Any) -> None:
        import requests

        super().__init__(ctx, outputs)
        self.failures = (requests.RequestException, _GcpRefused)
        if session is None:
            import google.auth
            from google.auth.transport.requests import AuthorizedSession

            from alien_pulumi.automation.credentials import GCP_SCOPES

            credentials, _ = google.auth.default(scopes=GCP_SCOPES)
            session = AuthorizedSession(credentials)
        self.http = session
        self.account = outputs.get("service_account") or ctx.identity("management")
        self.name = f"{IAM_API}/projects/{ctx.project}/serviceAccounts/{self.account}"

    def _send(self, method: str, url: str, api: str, body: Any = None, mask: str | None = None) -> Any:
        """The JSON answer (None: a GET of what does not exist)."""
        response = self.http.request(method, url, json=body, params={"updateMask": mask} if mask else None)
        if response.status_code == 404 and method == "GET":
            return None
        if response.status_code >= 400:
            message = (response.json().get("error") or {}).get("message") if response.content else ""
            raise _GcpRefused(f"{method} {url.removeprefix(api + '/')}: {response.status_code} {message}")
        return response.json() if response.content else {}

    def _call(self, method: str, url: str, body: Any = None) -> Any:
        found = self._send(method, url, IAM_API, body)
        if found is None:
            raise self.missing(f"management service account {self.account}")
        return found

    def mark(self) -> str | None:
        account = self._call("GET", self.name)
        if not account.get("disabled"):
            return None
        found = _GCP_REVOKED_AT.search(account.get("description", ""))
        # Disabled without the mark (by hand): still revoked, since the time it is found so.
        return found.group(1) if found and access_deadline(found.group(1)) else now_utc()

    def _policy(self, change: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]) -> None:
        """Read-modify-write of the account's IAM policy (version 3: conditions kept; its etag guards the write)."""
        policy = self._call("POST", f"{self.name}:getIamPolicy", {"options": {"requestedPolicyVersion": 3}})
        bindings = change([dict(b) for b in policy.get("bindings", [])])
        self.write()
        self._call("POST", f"{self.name}:setIamPolicy", {"policy": {**policy, "version": 3, "bindings": bindings}})

    def _describe(self, revoked_at: str | None) -> None:
        from alien_pulumi.permissions.render.gcp import management_description

        self.write()
        self._call("PATCH", self.name, {"serviceAccount": {"description": management_description(revoked_at)},
                                        "updateMask": "description"})

    def revoke(self, at: str) -> None:
        member = f"serviceAccount:{self.ctx.principal}"

        def without(bindings: list[dict[str, Any]]) -> list[dict[str, Any]]:
            kept = [{**b, "members": [m for m in b.get("members", []) if m != member]} for b in bindings]
            return [b for b in kept if b["members"]]

        self._policy(without)
        self.step(f"service account {self.account}: {member} removed from its IAM policy")
        self._call("POST", f"{self.name}:disable", {})
        self.step(f"service account {self.account}: disabled")
        self._describe(at)
        self.step(f"service account {self.account}: its description records the revocation at {at}")

    def restore(self, management: Mapping[str, Any] | None) -> None:
        from alien_pulumi.permissions.render.gcp import IMPERSONATION_KEY, access_condition, role_id

        # From the spec's rendering when there is one; the role's name depends on the context alone.
        from_layer = (management or {}).get("impersonation") or {}
        role = from_layer.get("role") or \
            f"projects/{self.ctx.project}/roles/{role_id(self.ctx.prefix, IMPERSONATION_KEY)}"
        wanted = {"role": role, "members": [f"serviceAccount:{self.ctx.principal}"]}
        condition = access_condition(self.ctx.access_until)
        if condition:
            wanted["condition"] = condition

        def with_vendor(bindings: list[dict[str, Any]]) -> list[dict[str, Any]]:
            same = [b for b in bindings if b["role"] == role and b.get("condition") == wanted.get("condition")]
            if same:
                same[0]["members"] = sorted({*same[0].get("members", []), *wanted["members"]})
                return bindings
            return [*bindings, wanted]

        self.write()
        self._call("POST", f"{self.name}:enable", {})
        self.step(f"service account {self.account}: enabled")
        self._policy(with_vendor)
        self.step(f"service account {self.account}: {wanted['members'][0]} may impersonate it again ({role})")
        self._describe(None)
        self.step(f"service account {self.account}: description as setup sets it")

    def describe(self, res: ComputeSpec) -> str:
        return f"Cloud Run service {self.name_of(res)}"

    def _service(self, res: ComputeSpec) -> tuple[str, dict[str, Any] | None]:
        url = f"{RUN_API}/projects/{self.ctx.project}/locations/{self.ctx.gcp_region}/services/{self.name_of(res)}"
        return url, self._send("GET", url, RUN_API)

    @staticmethod
    def _stopped(service: Mapping[str, Any]) -> bool:
        scaling = service.get("scaling") or {}
        return scaling.get("scalingMode") == "MANUAL" and not int(scaling.get("manualInstanceCount") or 0)

    def stop(self, res: ComputeSpec, at: str) -> str:
        url, service = self._service(res)
        if service is None:
            return NOT_FOUND
        annotations = dict(service.get("annotations") or {})
        marked = annotations.get(STOPPED_MARK)
        if self._stopped(service):
            return STOPPED if marked else STOPPED_UNMARKED
        body: dict[str, Any] = {"scaling": MANUAL_ZERO, "annotations": {**annotations, STOPPED_MARK: marked or at}}
        if service.get("etag"):
            body["etag"] = service["etag"]  # a concurrent change of the service fails the write
        self.write()
        self._send("PATCH", url, RUN_API, body, "scaling,annotations")
        self.step(f"{self.describe(res)}: manual scaling to 0 instances, annotated {STOPPED_MARK}={marked or at}: "
                  "Cloud Run stops its instances and starts none, whatever requests or events arrive")
        return STOPPED

    def start(self, res: ComputeSpec) -> str:
        url, service = self._service(res)
        if service is None:
            return NOT_FOUND
        annotations = dict(service.get("annotations") or {})
        stopped = self._stopped(service)
        if STOPPED_MARK not in annotations:
            return STOPPED_UNMARKED if stopped else RUNNING
        body: dict[str, Any] = {"annotations": {k: v for k, v in annotations.items() if k != STOPPED_MARK}}
        if stopped:
            body["scaling"] = {"scalingMode": "AUTOMATIC"}
        if service.get("etag"):
            body["etag"] = service["etag"]
        self.write()
        self._send("PATCH", url, RUN_API, body, "scaling,annotations" if stopped else "annotations")
        if stopped:
            self.step(f"{self.describe(res)}: automatic scaling again (the revision's min/max instances, as setup "
                      "declared them from the spec)")
        self.step(f"{self.describe(res)}: annotation {STOPPED_MARK} removed")
        return STARTED


@dataclass(frozen=True)
class AzureTrustClients:
    """The ARM clients of a revocation: managed identities (azure-mgmt-msi), role assignments, and (``revoke
    --stop`` and ``restore``) Container Apps (azure-mgmt-appcontainers; None: made with the default credential)."""

    msi: Any
    authorization: Any
    apps: Any = None


# How long a stop or start waits for Azure to finish it (read back from the app or job itself), and how often.
AZURE_WAIT_S = 300.0
AZURE_POLL_S = 5.0
_AZURE_BUSY = {"InProgress", "Updating", "Provisioning", "Deleting", "Progressing"}


class _Azure(_Trust):
    platform = Platform.AZURE

    def __init__(self, ctx: DeploymentContext, outputs: Mapping[str, str], clients: AzureTrustClients | None) -> None:
        import azure.core.exceptions

        super().__init__(ctx, outputs)
        self.failures = (azure.core.exceptions.AzureError,)
        if clients is None:
            from azure.identity import DefaultAzureCredential
            from azure.mgmt.authorization import AuthorizationManagementClient
            from azure.mgmt.msi import ManagedServiceIdentityClient

            credential = DefaultAzureCredential()
            clients = AzureTrustClients(ManagedServiceIdentityClient(credential, ctx.scope_id),
                                        AuthorizationManagementClient(credential, ctx.scope_id))
        self.clients = clients
        self.name = ctx.identity("management")
        self._identity: Any = None
        self._apps: Any = clients.apps

    def identity(self) -> Any:
        from azure.core.exceptions import ResourceNotFoundError

        if self._identity is None:
            try:
                self._identity = self.clients.msi.user_assigned_identities.get(self.ctx.rg, self.name)
            except ResourceNotFoundError:
                raise self.missing(f"management identity {self.name} in resource group {self.ctx.rg}") from None
        return self._identity

    def mark(self) -> str | None:
        return (self.identity().tags or {}).get(REVOKED_MARK)

    def _tag(self, revoked_at: str | None) -> None:
        from azure.mgmt.msi.models import IdentityUpdate

        tags = {k: v for k, v in (self.identity().tags or {}).items() if k != REVOKED_MARK}
        self.write()
        self.clients.msi.user_assigned_identities.update(self.ctx.rg, self.name, IdentityUpdate(
            tags={**tags, **({REVOKED_MARK: revoked_at} if revoked_at else {})}))

    def revoke(self, at: str) -> None:
        from alien_pulumi.components.azure._shared import FEDERATED_CREDENTIAL

        principal = self.identity().principal_id
        self.write()
        self.clients.msi.federated_identity_credentials.delete(self.ctx.rg, self.name, FEDERATED_CREDENTIAL)
        self.step(f"identity {self.name}: federated credential {FEDERATED_CREDENTIAL} deleted")
        assignments = self.clients.authorization.role_assignments
        for assignment in list(assignments.list_for_subscription(filter=f"principalId eq '{principal}'")):
            assignments.delete_by_id(assignment.id)
            self.step(f"identity {self.name}: role assignment {assignment.name} at {assignment.scope} deleted")
        self._tag(at)
        self.step(f"identity {self.name}: tagged {REVOKED_MARK}={at}")

    def restore(self, management: Mapping[str, Any] | None) -> None:
        from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters
        from azure.mgmt.msi.models import FederatedIdentityCredential

        from alien_pulumi.components.azure._shared import (
            FEDERATED_CREDENTIAL,
            assignment_guid,
            role_definition_resource_id,
            role_guid,
        )
        from alien_pulumi.components.azure.grants import CONDITION_VERSION

        if management is None:
            raise RevocationError("restoring Azure access needs the setup record (--record FILE, or -d NAME): its "
                                  "stack spec is what the federated credential and the management role assignments "
                                  "to put back are derived from; nothing was changed")
        principal = self.identity().principal_id
        federation = management["federated_credential"]
        self.write()
        self.clients.msi.federated_identity_credentials.create_or_update(
            self.ctx.rg, self.name, FEDERATED_CREDENTIAL, FederatedIdentityCredential(
                issuer=federation["issuer"], subject=federation["subject"], audiences=federation["audiences"]))
        self.step(f"identity {self.name}: federated credential {FEDERATED_CREDENTIAL} for {federation['subject']}")
        granting = {d["roleName"] for d in management["role_definitions"] if d["actions"] or d["dataActions"]}
        for entry in management["assignments"]:
            if entry["role"] not in granting:
                continue  # setup creates no empty role, so it assigns none (components/azure/grants.py)
            name = assignment_guid(self.ctx, entry["scope"], entry["role"], entry["principal"])
            self.clients.authorization.role_assignments.create(entry["scope"], name, RoleAssignmentCreateParameters(
                role_definition_id=role_definition_resource_id(self.ctx, role_guid(self.ctx, entry["role"])),
                principal_id=principal, principal_type="ServicePrincipal",
                condition=entry.get("condition") or None,
                condition_version=CONDITION_VERSION if entry.get("condition") else None))
            self.step(f"identity {self.name}: role {entry['role']!r} assigned at {entry['scope']}")
        self._tag(None)
        self.step(f"identity {self.name}: tag {REVOKED_MARK} removed")

    def apps(self) -> Any:
        if self._apps is None:
            from azure.identity import DefaultAzureCredential
            from azure.mgmt.appcontainers import ContainerAppsAPIClient

            self._apps = ContainerAppsAPIClient(DefaultAzureCredential(), self.ctx.scope_id)
        return self._apps

    def describe(self, res: ComputeSpec) -> str:
        name = self.name_of(res)
        return f"container app {name}" if res.kind is ResourceType.CONTAINER else \
            f"container app and job {name}"

    def stop(self, res: ComputeSpec, at: str) -> str:
        states = [self._part(part, self.name_of(res), at) for part in self._parts(res)]
        return _combined(states)

    def start(self, res: ComputeSpec) -> str:
        states = [self._part(part, self.name_of(res), None) for part in self._parts(res)]
        return _combined(states)

    @staticmethod
    def _parts(res: ComputeSpec) -> tuple[str, ...]:
        # A function is an app (requests, queue triggers) and a job (its schedule): both run its code.
        return ("app",) if res.kind is ResourceType.CONTAINER else ("app", "job")

    def _read(self, part: str, name: str) -> Any:
        from azure.core.exceptions import ResourceNotFoundError

        operations = self.apps().container_apps if part == "app" else self.apps().jobs
        try:
            return operations.get(self.ctx.rg, name)
        except ResourceNotFoundError:
            return None

    @staticmethod
    def _stopped(part: str, found: Any) -> bool:
        properties = getattr(found, "properties", None)
        if part == "app":
            return getattr(properties, "running_status", None) == "Stopped"
        return getattr(properties, "running_state", None) == "Suspended"

    @staticmethod
    def _busy(part: str, found: Any) -> bool:
        properties = getattr(found, "properties", None)
        status = getattr(properties, "running_status" if part == "app" else "running_state", None)
        return getattr(properties, "provisioning_state", None) in _AZURE_BUSY or status in _AZURE_BUSY

    def _settle(self, part: str, name: str, done: Callable[[Any], bool]) -> Any:
        """The app or job once ``done`` holds and Azure is not busy with it, read back every AZURE_POLL_S (ARM's
        operation URLs are at subscription scope, where the admin's provisioning layer reads none); after
        AZURE_WAIT_S, as it is then."""
        deadline = time.monotonic() + AZURE_WAIT_S
        while True:
            found = self._read(part, name)
            if found is None or (done(found) and not self._busy(part, found)) or time.monotonic() > deadline:
                return found
            time.sleep(AZURE_POLL_S)

    def _part(self, part: str, name: str, stop_at: str | None) -> str:
        """Stop (``stop_at``: the mark's time) or start one app or job."""
        found = self._read(part, name)
        if found is None:
            return NOT_FOUND
        apps = self.apps()
        operations = apps.container_apps if part == "app" else apps.jobs
        what = f"container app {name}" if part == "app" else f"container apps job {name}"
        tags = dict(found.tags or {})
        marked = tags.get(STOPPED_MARK)
        stopped = self._stopped(part, found)
        if stop_at is not None:
            if stopped:
                return STOPPED if marked else STOPPED_UNMARKED
            self.write()
            if not marked:
                operations.begin_update(self.ctx.rg, name, {"tags": {**tags, STOPPED_MARK: stop_at}}, polling=False)
                self._settle(part, name, lambda f: STOPPED_MARK in (f.tags or {}))
                self.step(f"{what}: tagged {STOPPED_MARK}={stop_at} (restore starts it again)")
            (operations.begin_stop if part == "app" else operations.begin_suspend)(self.ctx.rg, name, polling=False)
            after = self._settle(part, name, lambda f: self._stopped(part, f))
            if part == "app":
                self.step(f"{what}: stopped (its replicas end, none starts)" if self._stopped(part, after) else
                          f"{what}: stop accepted; Azure is still stopping it")
            else:
                self.step(f"{what}: suspended (its schedule starts no execution)" if self._stopped(part, after)
                          else f"{what}: suspend accepted; Azure is still suspending it")
            return STOPPED
        if not marked:
            return STOPPED_UNMARKED if stopped else RUNNING
        self.write()
        if stopped:
            (operations.begin_start if part == "app" else operations.begin_resume)(self.ctx.rg, name, polling=False)
            self._settle(part, name, lambda f: not self._stopped(part, f))
            self.step(f"{what}: started again" if part == "app" else f"{what}: resumed (its schedule runs again)")
        # JSON merge patch (the API's PATCH): a null removes the tag, the others stay.
        operations.begin_update(self.ctx.rg, name, {"tags": {**tags, STOPPED_MARK: None}}, polling=False)
        self._settle(part, name, lambda f: STOPPED_MARK not in (f.tags or {}))
        self.step(f"{what}: tag {STOPPED_MARK} removed")
        return STARTED


def _combined(states: Sequence[str]) -> str:
    """One state for a compute of several resources (an Azure function's app and job)."""
    return next((s for s in (STARTED, STOPPED, STOPPED_UNMARKED, RUNNING) if s in states), NOT_FOUND)


def _trust(ctx: DeploymentContext, outputs: Mapping[str, str], clients: Any) -> _Trust:
    if ctx.example:
        raise RevocationError("an example context has no cloud to revoke in: give the setup record or bundle")
    kinds: dict[Platform, Callable[..., _Trust]] = {Platform.AWS: _Aws, Platform.GCP: _Gcp, Platform.AZURE: _Azure}
    return kinds[ctx.platform](ctx, outputs, clients)


def _guarded(trust: _Trust, what: str, act: Callable[[], Revocation]) -> Revocation:
    try:
        return act()
    except trust.failures as exc:
        outcome = ("Steps before the refused one may have been applied; run it again to complete it (each step is "
                   "idempotent)") if trust.writing else "Nothing was changed"
        done = f". Done before it: {'; '.join(trust.done)}" if trust.done else ""
        raise RevocationError(f"{trust.platform.value} refused the {what} of deployment {trust.ctx.prefix}: "
                              f"{trust.explain(exc)}. {outcome}{done}") from None


def revoked_in_cloud(ctx: DeploymentContext, outputs: Mapping[str, str] | None = None, clients: Any = None
                     ) -> str | None:
    """The revocation the cloud holds for this deployment (None: not revoked, or nothing set up yet)."""
    trust = _trust(ctx, outputs or {}, clients)
    try:
        return trust.mark()
    except RevocationError:
        return None  # no management identity yet: a first setup
    except trust.failures as exc:
        raise RevocationError(f"could not read whether the vendor's access to {ctx.prefix} is revoked "
                              f"({trust.explain(exc)}): setup stops rather than risk restoring it") from None


def _named(states: Sequence[ComputeState], *wanted: str) -> str:
    return ", ".join(f"{s.id} ({s.type}: {s.resource})" for s in states if s.state in wanted)


def _runtime_revoked(states: list[ComputeState] | None, stop: bool) -> str:
    """What code running in the live computes can do after a revoke."""
    if states is None:
        return ("Code already running in the deployment's live computes keeps its runtime access (revoking changes "
                "the vendor's trust, not the runtime identities); without the setup record they are unknown here: "
                "give --record FILE or -d NAME to name them, with --stop to stop them.")
    if not states:
        return (f"{'--stop: nothing to stop: ' if stop else ''}the deployment has no live compute (container or "
                "function), so no code the vendor releases runs here.")
    if not stop:
        return (f"Code already running in the live computes {_named(states, NOT_STOPPED)} keeps its runtime access "
                "(revoking changes the vendor's trust, not the runtime identities): `alien-deploy revoke --stop` "
                "stops them.")
    said = []
    if stopped := _named(states, STOPPED):
        said.append(f"Stopped by the revocation: {stopped}; restore starts them again.")
    if unmarked := _named(states, STOPPED_UNMARKED):
        said.append(f"Already stopped before, not by a revocation: {unmarked}; left as is, restore leaves them so.")
    if missing := _named(states, NOT_FOUND):
        said.append(f"Not found in the cloud (nothing to stop): {missing}.")
    return " ".join(said)


def _runtime_restored(states: list[ComputeState] | None) -> str:
    if states is None:
        return ("Without the setup record the stack's live computes are unknown here: any that `revoke --stop` "
                "stopped stay stopped; run restore with the record (--record FILE or -d NAME) to start them.")
    said = []
    if started := _named(states, STARTED):
        said.append(f"Started again, as setup set them: {started}.")
    if unmarked := _named(states, STOPPED_UNMARKED):
        said.append(f"Stopped, but not by a revocation: {unmarked}; left as is.")
    if missing := _named(states, NOT_FOUND):
        said.append(f"Not found in the cloud: {missing}.")
    return " ".join(said) or ("No live compute was stopped by a revocation." if states else "")


def revoke(deployment: str, ctx: DeploymentContext, outputs: Mapping[str, str] | None = None, clients: Any = None,
           at: str | None = None, *, stop: bool = False, spec: StackSpec | None = None) -> Revocation:
    """Revoke the vendor's access to ``deployment`` now (``at``: the time, default now). Already revoked: the trust
    is not changed and the revocation in force is returned. ``stop``: also stop every live compute of ``spec`` (the
    setup record's stack), also when access was revoked before; it needs the spec, checked before anything."""
    computes = live_computes(spec)
    if stop and computes is None:
        raise RevocationError("revoke --stop needs the setup record (--record FILE, or -d NAME with the record in "
                              "--state-dir): its stack names the live computes to stop (a bundle holds no stack); "
                              "nothing was changed")
    trust = _trust(ctx, outputs or {}, clients)

    def act() -> Revocation:
        found = trust.mark()
        now = at or now_utc()
        when = found or now
        if not found:
            trust.revoke(when)
        states = None if computes is None else [
            ComputeState(res.id, res.kind.value, trust.describe(res), trust.stop(res, now) if stop else NOT_STOPPED)
            for res in computes]
        return Revocation(deployment, ctx.platform.value, "revoked", when, bool(trust.done), list(trust.done),
                          ISSUED[ctx.platform], trust_changed=not found, compute=states,
                          runtime=_runtime_revoked(states, stop))

    return _guarded(trust, "revocation", act)


def restore(deployment: str, ctx: DeploymentContext, outputs: Mapping[str, str] | None = None, clients: Any = None,
            *, spec: StackSpec | None = None, recorded: Mapping[str, Any] | None = None) -> Revocation:
    """Give the vendor back the access setup creates, derived from ``spec`` (the setup record's stack) and ``ctx``,
    and start again every live compute a ``revoke --stop`` stopped (also when access was already restored).
    ``recorded``: the record's management permissions, refused when they disagree with that derivation. Not
    revoked and nothing stopped: nothing is changed. An access window that is over is refused: restoring it would
    grant nothing."""
    from alien_pulumi.permissions import derive_plan, render_layer

    deadline = access_deadline(ctx.access_until) if ctx.access_until else None
    if deadline is not None and deadline <= datetime.now(timezone.utc):
        raise RevocationError(f"the access window of {deployment} ended at {ctx.access_until}: restoring it would "
                              "grant nothing; run setup with a later --access-until instead. Nothing was changed")
    if spec is not None and recorded is not None:
        check_record(spec, ctx, recorded)
    live = ctx.model_copy(update={"revoked_at": None})
    management = render_layer(derive_plan(spec, live), "management") if spec is not None else None
    computes = live_computes(spec)
    trust = _trust(live, outputs or {}, clients)

    def act() -> Revocation:
        revoked = trust.mark()
        if revoked:
            trust.restore(management)
        states = None if computes is None else [
            ComputeState(res.id, res.kind.value, trust.describe(res), trust.start(res)) for res in computes]
        return Revocation(deployment, ctx.platform.value, "restored", None, bool(trust.done), list(trust.done), "",
                          trust_changed=bool(revoked), compute=states, runtime=_runtime_restored(states))

    return _guarded(trust, "restore", act)
