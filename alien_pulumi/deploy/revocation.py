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
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from alien_pulumi.errors import AlienError
from alien_pulumi.model.context import ACCESS_FORMAT, REVOKED_MARK, DeploymentContext, access_deadline
from alien_pulumi.model.record import ReleaseRecord
from alien_pulumi.model.types import Platform
from alien_pulumi.permissions.render.markdown import ISSUED


class RevocationError(AlienError):
    """Access cannot be revoked or restored as asked: nothing was changed, unless the message says what was."""

    exit_code = 2


@dataclass(frozen=True)
class Revocation:
    """What ``revoke`` or ``restore`` did to one deployment's trust."""

    deployment: str
    platform: str
    state: str  # "revoked" or "restored"
    revoked_at: str | None  # the revocation in force (None once restored)
    changed: bool  # False: it was already so, nothing was changed
    steps: list[str] = field(default_factory=list)  # what was done, in order, as the admin reads it
    issued: str = ""  # what the cloud does with credentials already issued

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TrustSource:
    """What a revoke or restore acts on: the deployment's context, its management identity's outputs, and (from a
    setup record) the rendered management layer a restore puts back."""

    deployment: str
    context: DeploymentContext
    outputs: Mapping[str, str] = field(default_factory=dict)
    management: Mapping[str, Any] | None = None  # None: from a bundle

    @classmethod
    def of_record(cls, record: ReleaseRecord) -> TrustSource:
        return cls(record.deployment, record.context, record.outputs.get("management_identity") or {},
                   record.permissions["management"])


def trust_source(state: Path, *, record: Path | None = None, bundle: Path | None = None,
                 deployment: str | None = None) -> tuple[TrustSource, list[Path]]:
    """The deployment a revoke or restore acts on, from its setup record, its bundle or its name (the record setup
    keeps in ``state``), and the setup records to bring up to date: the one given and the one in ``state``. From a
    bundle, the record in ``state`` is used when there is one: it holds more (Azure's role assignments)."""
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
    if source.management is None and kept.is_file():
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


class _Trust:
    """One cloud's management identity, as the admin's credentials see it. ``mark``: the revocation time the
    cloud holds (None: not revoked); ``revoke``/``restore`` return their steps."""

    platform: Platform
    failures: tuple[type[BaseException], ...] = ()

    def __init__(self, ctx: DeploymentContext, outputs: Mapping[str, str]) -> None:
        self.ctx = ctx
        self.outputs = outputs
        self.writing = False  # set once the first change is under way: a failure before it changed nothing

    def mark(self) -> str | None:
        raise NotImplementedError

    def revoke(self, at: str) -> list[str]:
        raise NotImplementedError

    def restore(self, management: Mapping[str, Any] | None) -> list[str]:
        raise NotImplementedError

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
        self.iam = (session or boto3.session.Session()).client("iam", region_name=ctx.region)
        self.role = ctx.identity("management")

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

    def revoke(self, at: str) -> list[str]:
        from alien_pulumi.permissions.render.aws import (
            REVOKED_SESSIONS_POLICY,
            VERSION,
            revoked_sessions_policy,
            vendor_statements,
        )

        revoked = self.ctx.model_copy(update={"revoked_at": at})
        self.iam.update_assume_role_policy(RoleName=self.role, PolicyDocument=json.dumps(
            {"Version": VERSION, "Statement": vendor_statements(revoked)}))
        steps = [f"role {self.role}: the trust policy denies {self.ctx.principal}"]
        self.iam.put_role_policy(RoleName=self.role, PolicyName=REVOKED_SESSIONS_POLICY,
                                 PolicyDocument=json.dumps(revoked_sessions_policy(revoked)))
        steps.append(f"role {self.role}: inline policy {REVOKED_SESSIONS_POLICY} denies sessions issued before it")
        self.iam.tag_role(RoleName=self.role, Tags=[{"Key": REVOKED_MARK, "Value": at}])
        return [*steps, f"role {self.role}: tagged {REVOKED_MARK}={at}"]

    def restore(self, management: Mapping[str, Any] | None) -> list[str]:
        from alien_pulumi.permissions.render.aws import REVOKED_SESSIONS_POLICY, VERSION, vendor_statements

        self.iam.update_assume_role_policy(RoleName=self.role, PolicyDocument=json.dumps(
            {"Version": VERSION, "Statement": vendor_statements(self.ctx)}))
        steps = [f"role {self.role}: the trust policy allows {self.ctx.principal} again, as setup renders it"]
        try:
            self.iam.delete_role_policy(RoleName=self.role, PolicyName=REVOKED_SESSIONS_POLICY)
            steps.append(f"role {self.role}: inline policy {REVOKED_SESSIONS_POLICY} deleted")
        except self.iam.exceptions.NoSuchEntityException:
            pass
        self.iam.untag_role(RoleName=self.role, TagKeys=[REVOKED_MARK])
        return [*steps, f"role {self.role}: tag {REVOKED_MARK} removed"]


IAM_API = "https://iam.googleapis.com/v1"
_GCP_REVOKED_AT = re.compile(r"revoked by the customer's admin at (\S+?Z)")


class _GcpRefused(Exception):
    """An IAM API call GCP answered with an error (its message says which)."""


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

    def _call(self, method: str, url: str, body: Any = None) -> Any:
        response = self.http.request(method, url, json=body)
        if response.status_code == 404 and method == "GET":
            raise self.missing(f"management service account {self.account}")
        if response.status_code >= 400:
            message = (response.json().get("error") or {}).get("message") if response.content else ""
            raise _GcpRefused(f"{method} {url.removeprefix(IAM_API + '/')}: {response.status_code} {message}")
        return response.json() if response.content else {}

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
        self._call("POST", f"{self.name}:setIamPolicy", {"policy": {**policy, "version": 3, "bindings": bindings}})

    def _describe(self, revoked_at: str | None) -> None:
        from alien_pulumi.permissions.render.gcp import management_description

        self._call("PATCH", self.name, {"serviceAccount": {"description": management_description(revoked_at)},
                                        "updateMask": "description"})

    def revoke(self, at: str) -> list[str]:
        member = f"serviceAccount:{self.ctx.principal}"

        def without(bindings: list[dict[str, Any]]) -> list[dict[str, Any]]:
            kept = [{**b, "members": [m for m in b.get("members", []) if m != member]} for b in bindings]
            return [b for b in kept if b["members"]]

        self._policy(without)
        steps = [f"service account {self.account}: {member} removed from its IAM policy"]
        self._call("POST", f"{self.name}:disable", {})
        steps.append(f"service account {self.account}: disabled")
        self._describe(at)
        return [*steps, f"service account {self.account}: its description records the revocation at {at}"]

    def restore(self, management: Mapping[str, Any] | None) -> list[str]:
        from alien_pulumi.permissions.render.gcp import IMPERSONATION_KEY, access_condition, role_id

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

        self._call("POST", f"{self.name}:enable", {})
        steps = [f"service account {self.account}: enabled"]
        self._policy(with_vendor)
        steps.append(f"service account {self.account}: {wanted['members'][0]} may impersonate it again ({role})")
        self._describe(None)
        return [*steps, f"service account {self.account}: description as setup sets it"]


@dataclass(frozen=True)
class AzureTrustClients:
    """The ARM clients of a revocation: managed identities (azure-mgmt-msi) and role assignments."""

    msi: Any
    authorization: Any


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
        self.clients.msi.user_assigned_identities.update(self.ctx.rg, self.name, IdentityUpdate(
            tags={**tags, **({REVOKED_MARK: revoked_at} if revoked_at else {})}))

    def revoke(self, at: str) -> list[str]:
        from alien_pulumi.components.azure._shared import FEDERATED_CREDENTIAL

        principal = self.identity().principal_id
        self.clients.msi.federated_identity_credentials.delete(self.ctx.rg, self.name, FEDERATED_CREDENTIAL)
        steps = [f"identity {self.name}: federated credential {FEDERATED_CREDENTIAL} deleted"]
        assignments = self.clients.authorization.role_assignments
        for assignment in list(assignments.list_for_subscription(filter=f"principalId eq '{principal}'")):
            assignments.delete_by_id(assignment.id)
            steps.append(f"identity {self.name}: role assignment {assignment.name} at {assignment.scope} deleted")
        self._tag(at)
        return [*steps, f"identity {self.name}: tagged {REVOKED_MARK}={at}"]

    def restore(self, management: Mapping[str, Any] | None) -> list[str]:
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
            raise RevocationError("restoring Azure access needs the setup record (--record FILE, or -d NAME): it "
                                  "holds the management role assignments to put back; nothing was changed")
        principal = self.identity().principal_id
        federation = management["federated_credential"]
        self.clients.msi.federated_identity_credentials.create_or_update(
            self.ctx.rg, self.name, FEDERATED_CREDENTIAL, FederatedIdentityCredential(
                issuer=federation["issuer"], subject=federation["subject"], audiences=federation["audiences"]))
        steps = [f"identity {self.name}: federated credential {FEDERATED_CREDENTIAL} for {federation['subject']}"]
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
            steps.append(f"identity {self.name}: role {entry['role']!r} assigned at {entry['scope']}")
        self._tag(None)
        return [*steps, f"identity {self.name}: tag {REVOKED_MARK} removed"]


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
        raise RevocationError(f"{trust.platform.value} refused the {what} of deployment {trust.ctx.prefix}: "
                              f"{trust.explain(exc)}. {outcome}") from None


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


def revoke(deployment: str, ctx: DeploymentContext, outputs: Mapping[str, str] | None = None, clients: Any = None,
           at: str | None = None) -> Revocation:
    """Revoke the vendor's access to ``deployment`` now (``at``: the time, default now). Already revoked: nothing
    is changed and the revocation in force is returned."""
    trust = _trust(ctx, outputs or {}, clients)

    def act() -> Revocation:
        found = trust.mark()
        if found:
            return Revocation(deployment, ctx.platform.value, "revoked", found, False, [], ISSUED[ctx.platform])
        when = at or now_utc()
        trust.writing = True
        return Revocation(deployment, ctx.platform.value, "revoked", when, True, trust.revoke(when),
                          ISSUED[ctx.platform])

    return _guarded(trust, "revocation", act)


def restore(deployment: str, ctx: DeploymentContext, outputs: Mapping[str, str] | None = None,
            management: Mapping[str, Any] | None = None, clients: Any = None) -> Revocation:
    """Give the vendor back the access setup creates (``management``: the record's rendered management layer).
    Not revoked: nothing is changed. An access window that is over is refused: restoring it would grant nothing."""
    deadline = access_deadline(ctx.access_until) if ctx.access_until else None
    if deadline is not None and deadline <= datetime.now(timezone.utc):
        raise RevocationError(f"the access window of {deployment} ended at {ctx.access_until}: restoring it would "
                              "grant nothing; run setup with a later --access-until instead. Nothing was changed")
    trust = _trust(ctx.model_copy(update={"revoked_at": None}), outputs or {}, clients)

    def act() -> Revocation:
        if not trust.mark():
            return Revocation(deployment, ctx.platform.value, "restored", None, False, [], "")
        trust.writing = True
        return Revocation(deployment, ctx.platform.value, "restored", None, True, trust.restore(management), "")

    return _guarded(trust, "restore", act)
