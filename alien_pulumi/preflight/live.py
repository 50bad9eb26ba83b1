"""Live sufficiency (``preflight --live``, DESIGN.md §5): ask the customer's cloud, as the management identity,
whether it may do what this release will do on each live resource it touches.

The permission plan says what that is: the management layer's bound grants on live resources and the
deployment-wide ones (its state, its own self-check), with their concrete ARNs / resource names / scopes. The
clouds answer through their own evaluators, so what an offline check cannot see shows here: AWS
``iam:SimulatePrincipalPolicy`` on the management role (SCPs, the permissions boundary, a hand-edited policy),
GCP ``testIamPermissions`` (organisation deny policies, a removed binding), Azure's permissions API (a changed role
definition or assignment). Every denial is a blocking finding naming the resource, the permission, the set that
needs it and what to do: the customer's admin runs setup.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import quote

from alien_pulumi.errors import CredentialsError, LiveCheckError
from alien_pulumi.model.types import Lifecycle, Platform
from alien_pulumi.permissions.plan import PermissionPlan
from alien_pulumi.preflight.findings import Code, Finding, Severity

SELF_CHECK_SET = "identity/heartbeat"  # AWS: the management role simulating its own policies
DEPLOYMENT = "deployment"  # the resource named by a deployment-wide grant (state, the identity's self-check)
SETUP = "the customer's admin must run setup (alien-deploy up)"
# AWS answers at most 1,000 evaluation results a page; a call asks for no more, so each call is one page.
AWS_RESULTS_PER_CALL = 1000
# testIamPermissions takes at most 100 permissions a request (Cloud Resource Manager, Pub/Sub, Run, IAM, KMS, GCS).
GCP_PERMISSIONS_PER_CALL = 100
# testIamPermissions of each service the management grants name, by host (full resource name without the host
# -> REST URL). One REST method across services, so plain REST through google-auth's session, not six SDKs.
GCP_TEST_URLS = {
    "cloudresourcemanager.googleapis.com": "https://cloudresourcemanager.googleapis.com/v1/{path}:testIamPermissions",
    "pubsub.googleapis.com": "https://pubsub.googleapis.com/v1/{path}:testIamPermissions",
    "run.googleapis.com": "https://run.googleapis.com/v2/{path}:testIamPermissions",
    "iam.googleapis.com": "https://iam.googleapis.com/v1/{path}:testIamPermissions",
    "cloudkms.googleapis.com": "https://cloudkms.googleapis.com/v1/{path}:testIamPermissions",
}
GCS = "storage.googleapis.com"  # its JSON API's own shape: GET b/{bucket}/iam/testPermissions?permissions=...
AWS_CONTEXT_OPERATORS = {"StringEquals": "string", "StringLike": "string", "ArnEquals": "string",
                         "ArnLike": "string"}


@dataclass(frozen=True)
class Check:
    """One permission the release needs on one concrete target."""

    resource: str  # the resource id (or ids), or ``deployment``
    set_id: str
    permission: str
    target: str  # ARN, full resource name or Azure scope
    data: bool = False  # an Azure dataAction
    condition: str = ""  # the grant's condition, canonical JSON


@dataclass(frozen=True)
class Denial:
    check: Check
    why: str


@dataclass
class LiveResult:
    """What the cloud said: denials, what it could not be asked, and how many API calls it took."""

    checks: list[Check]
    denials: list[Denial] = field(default_factory=list)
    unchecked: list[tuple[Check, str]] = field(default_factory=list)
    calls: int = 0

    def findings(self, platform: Platform, identity: str) -> list[Finding]:
        out = [Finding(Code.LIVE_PERMISSION_DENIED, Severity.ERROR, True, True,
                       f"{d.check.resource}: the management identity {identity} may not {d.check.permission} on "
                       f"{d.check.target} ({d.why}); permission set {d.check.set_id} needs it: {SETUP}",
                       resource=d.check.resource, field=d.check.permission, new=d.check.target,
                       platform=platform.value, added={d.check.set_id: [d.check.permission]})
               for d in self.denials]
        out += [Finding(Code.LIVE_PERMISSION_UNCHECKED, Severity.WARNING, False, False,
                        f"{c.resource}: {c.permission} on {c.target} (permission set {c.set_id}) was not checked: "
                        f"{why}", resource=c.resource, field=c.permission, new=c.target, platform=platform.value)
                for c, why in self.unchecked]
        return out

    def to_json(self) -> dict[str, Any]:
        return {"checked": len(self.checks) - len(self.unchecked), "denied": len(self.denials),
                "unchecked": len(self.unchecked), "calls": self.calls}


@dataclass(frozen=True)
class LiveClients:
    """The SDK clients a live check asks through, signed in as the management identity (tests inject their
    own over recorded answers)."""

    aws_iam: Any = None  # boto3 IAM client
    gcp_session: Any = None  # google-auth AuthorizedSession (requests)
    azure_authorization: Callable[[str], Any] | None = None  # subscription id -> AuthorizationManagementClient


def _need(env: Mapping[str, str], *names: str) -> list[str]:
    missing = [n for n in names if not env.get(n)]
    if missing:
        raise CredentialsError(f"the management run's environment has no {', '.join(missing)}: the live check "
                               "signs in as the management identity with them")
    return [env[n] for n in names]


def clients_from_environment(platform: Platform, env: Mapping[str, str]) -> LiveClients:
    """SDK clients from the environment of a management run (``management_environment``): AWS the assumed
    role's session, GCP the impersonated access token, Azure the federated workload identity."""
    if platform is Platform.AWS:
        import boto3

        key, secret, token = _need(env, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
        session = boto3.Session(aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
                                region_name=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"))
        return LiveClients(aws_iam=session.client("iam"))
    if platform is Platform.GCP:
        from google.auth.transport.requests import AuthorizedSession
        from google.oauth2.credentials import Credentials

        (token,) = _need(env, "GOOGLE_OAUTH_ACCESS_TOKEN")
        return LiveClients(gcp_session=AuthorizedSession(Credentials(token=token)))
    from azure.identity import WorkloadIdentityCredential
    from azure.mgmt.authorization import AuthorizationManagementClient

    tenant, client, token_file = _need(env, "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE")
    credential = WorkloadIdentityCredential(tenant_id=tenant, client_id=client, token_file_path=token_file)
    return LiveClients(azure_authorization=lambda subscription: AuthorizationManagementClient(credential,
                                                                                              subscription))


def release_checks(plan: PermissionPlan) -> list[Check]:
    """What the release does as the management identity: its grants on live resources, and the deployment-wide
    grants (a stack-scoped grant of a set is attributed to the live resources holding that set)."""
    live = {r.id for r in plan.spec.resources if r.lifecycle is Lifecycle.LIVE}
    holders = {u.set.id: u.resource_ids for u in plan.management.uses}
    out: dict[Check, None] = {}
    for grant in plan.management.grants:
        if grant.resource_id is not None:
            if grant.resource_id not in live:
                continue
            resource = grant.resource_id
        else:
            held = holders.get(grant.set_id, ())
            touched = sorted(live & set(held))
            if held and not touched:
                continue  # a set only frozen resources hold: heartbeats, not this release
            resource = ",".join(touched) or DEPLOYMENT
        condition = json.dumps(grant.condition, sort_keys=True) if grant.condition else ""
        for target in grant.resources:
            for action in grant.actions:
                out.setdefault(Check(resource, grant.set_id, action, target, False, condition))
            for action in grant.data_actions:
                out.setdefault(Check(resource, grant.set_id, action, target, True, condition))
    return list(out)


def check_live(plan: PermissionPlan, clients: LiveClients, policy_source: str | None = None) -> LiveResult:
    """Ask the deployment's cloud about every check of the release. ``policy_source``: the AWS management role."""
    checks = release_checks(plan)
    platform = plan.context.platform
    if platform is Platform.AWS:
        if policy_source is None:
            raise CredentialsError("the AWS live check needs the management role's ARN")
        return ask_aws(checks, clients.aws_iam, policy_source)
    if platform is Platform.GCP:
        return ask_gcp(checks, clients.gcp_session)
    if clients.azure_authorization is None:
        raise CredentialsError("the Azure live check needs an authorization client")
    return ask_azure(checks, clients.azure_authorization)


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


# -- AWS ------------------------------------------------------------------------------------------------------


def _context_entries(condition: str) -> list[dict[str, Any]]:
    """The request context a grant's condition describes (the release's requests carry those tags and values), so
    the simulator evaluates the condition as the real call would meet it."""
    entries = []
    for operator, pairs in (json.loads(condition) if condition else {}).items():
        kind = AWS_CONTEXT_OPERATORS.get(operator)
        for key, value in pairs.items() if kind else ():
            values = value if isinstance(value, list) else [value]
            entries.append({"ContextKeyName": key, "ContextKeyValues": [str(v) for v in values],
                            "ContextKeyType": "stringList" if len(values) > 1 else kind})
    return entries


def _aws_why(result: Mapping[str, Any]) -> str:
    """Which of AWS's policy types stopped it: the organisation's SCPs, the role's boundary, or its policies."""
    reasons = []
    if result.get("OrganizationsDecisionDetail", {}).get("AllowedByOrganizations") is False:
        reasons.append("a service control policy of the customer's organisation denies it")
    if result.get("PermissionsBoundaryDecisionDetail", {}).get("AllowedByPermissionsBoundary") is False:
        reasons.append("the role's permissions boundary does not allow it")
    if result["EvalDecision"] == "explicitDeny" and not reasons:
        sources = sorted({s.get("SourcePolicyId", "?") for s in result.get("MatchedStatements", [])})
        reasons.append(f"an explicit Deny in the role's policies ({', '.join(sources) or 'unnamed'})")
    if not reasons:
        reasons.append("no policy of the role allows it: its policies differ from what setup attached "
                       "(a manual edit, or setup not run for this release)")
    missing = result.get("MissingContextValues") or []
    if missing:
        reasons.append(f"the simulation lacked context {', '.join(missing)}")
    return "; ".join(reasons)


def ask_aws(checks: list[Check], iam: Any, role_arn: str) -> LiveResult:
    import botocore.exceptions

    result = LiveResult(checks)
    # One call asks every action of a group on every target of it: group targets that need the same actions
    # under the same request context, so the cross product holds only pairs the release needs. Grouped by the
    # context the simulation is given, not the condition's text: conditions that name each resource's own value
    # (a container's task definition family) and give no context would otherwise cost a call each.
    context = {c.condition: json.dumps(_context_entries(c.condition), sort_keys=True) for c in checks}
    by_target: dict[tuple[str, str], set[str]] = defaultdict(set)
    for c in checks:
        by_target[(context[c.condition], c.target)].add(c.permission)
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = defaultdict(list)
    for (entries_key, target), wanted in by_target.items():
        groups[(entries_key, tuple(sorted(wanted)))].append(target)
    index: dict[tuple[str, str, str], list[Check]] = defaultdict(list)
    for c in checks:
        index[(c.permission, c.target, context[c.condition])].append(c)
    for (entries_key, actions), targets in groups.items():
        for action_batch in _chunks(actions, AWS_RESULTS_PER_CALL):
            per_call = max(1, AWS_RESULTS_PER_CALL // len(action_batch))
            for target_batch in _chunks(targets, per_call):
                request: dict[str, Any] = {"PolicySourceArn": role_arn, "ActionNames": action_batch,
                                           "ResourceArns": target_batch, "MaxItems": AWS_RESULTS_PER_CALL}
                entries = json.loads(entries_key)
                if entries:
                    request["ContextEntries"] = entries
                while True:
                    result.calls += 1
                    try:
                        page = iam.simulate_principal_policy(**request)
                    except botocore.exceptions.ClientError as exc:
                        error = exc.response.get("Error", {})
                        if error.get("Code") == "AccessDenied":
                            # the role may not even simulate itself: nothing else can be asked
                            self_check = Check(DEPLOYMENT, SELF_CHECK_SET, "iam:SimulatePrincipalPolicy", role_arn)
                            result.denials.append(Denial(self_check, f"AWS: {error.get('Message', 'AccessDenied')}"))
                            result.unchecked += [(c, "the role may not simulate its own policies") for c in checks]
                            return result
                        raise LiveCheckError(f"AWS refused the policy simulation of {role_arn} "
                                             f"({error.get('Code')}: {error.get('Message')})") from None
                    except botocore.exceptions.BotoCoreError as exc:
                        raise LiveCheckError(f"could not reach AWS IAM to simulate {role_arn}: {exc}") from None
                    for answer in page.get("EvaluationResults", []):
                        if answer["EvalDecision"] != "allowed":
                            key = (answer["EvalActionName"], answer.get("EvalResourceName", ""), entries_key)
                            result.denials += [Denial(c, _aws_why(answer)) for c in index.get(key, ())]
                    if not page.get("IsTruncated"):
                        break
                    request["Marker"] = page["Marker"]
    return result


# -- GCP ------------------------------------------------------------------------------------------------------


def _gcp_request(target: str, permissions: list[str]) -> tuple[str, str, dict[str, Any]] | None:
    """(method, url, kwargs) of the testIamPermissions call on ``target``; None where no service answers it."""
    host, _, path = target.removeprefix("//").partition("/") if target.startswith("//") else \
        ("cloudresourcemanager.googleapis.com", "", target)
    if host == GCS and path.startswith("projects/_/buckets/"):
        bucket = path.removeprefix("projects/_/buckets/").split("/", 1)[0]
        return "GET", f"https://{GCS}/storage/v1/b/{quote(bucket, safe='')}/iam/testPermissions", \
            {"params": [("permissions", p) for p in permissions]}
    url = GCP_TEST_URLS.get(host)
    return ("POST", url.format(path=path), {"json": {"permissions": permissions}}) if url else None


def ask_gcp(checks: list[Check], session: Any) -> LiveResult:
    import requests

    result = LiveResult(checks)
    by_target: dict[str, list[Check]] = defaultdict(list)
    for c in checks:
        if c.condition and not c.target.startswith("//"):
            # a conditional project binding is about resources under the project; asked on the project itself,
            # the condition meets the project's name and says no whatever the customer granted
            result.unchecked.append((c, "bound on the project with a condition on the resource name, which "
                                        "testIamPermissions on the project cannot evaluate"))
        else:
            by_target[c.target].append(c)
    for target, wanted in by_target.items():
        permissions = sorted({c.permission for c in wanted})
        granted: set[str] = set()
        for batch in _chunks(permissions, GCP_PERMISSIONS_PER_CALL):
            request = _gcp_request(target, batch)
            if request is None:
                result.unchecked += [(c, "no testIamPermissions is known for this resource's service")
                                     for c in wanted if c.permission in batch]
                continue
            method, url, kwargs = request
            result.calls += 1
            try:
                response = session.request(method, url, **kwargs)
            except requests.RequestException as exc:
                raise LiveCheckError(f"could not reach GCP to test permissions on {target}: {exc}") from None
            if response.status_code == 401:
                raise CredentialsError(f"GCP refused the management identity's token testing {target}: "
                                       f"{_gcp_error(response)}")
            if response.status_code != 200:
                why = "the resource does not exist" if response.status_code == 404 else _gcp_error(response)
                result.unchecked += [(c, f"GCP answered {response.status_code}: {why}")
                                     for c in wanted if c.permission in batch]
                continue
            granted |= set(response.json().get("permissions", []))
            result.denials += [Denial(c, "GCP's testIamPermissions does not grant it to the management service "
                                         "account (a removed binding, a changed custom role or a deny policy)")
                               for c in wanted if c.permission in batch and c.permission not in granted]
    return result


def _gcp_error(response: Any) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return str(response.text)[:200]


# -- Azure ----------------------------------------------------------------------------------------------------

_RG = re.compile(r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)", re.IGNORECASE)


@cache
def _pattern(wildcard: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in wildcard.split("*")), re.IGNORECASE)


def azure_allows(permissions: Iterable[Any], operation: str, data: bool = False) -> bool:
    """Whether Azure's effective permissions (``Permission`` items: actions/notActions, dataActions/notDataActions)
    allow ``operation``. Each item is one role's permission block: it allows what its actions match and its
    notActions do not; operation names are case-insensitive and ``*`` matches any characters, ``/`` too."""
    for item in permissions:
        allow = (item.data_actions if data else item.actions) or []
        deny = (item.not_data_actions if data else item.not_actions) or []
        if any(_pattern(a).fullmatch(operation) for a in allow) and \
                not any(_pattern(n).fullmatch(operation) for n in deny):
            return True
    return False


def ask_azure(checks: list[Check], authorization: Callable[[str], Any]) -> LiveResult:
    from azure.core.exceptions import AzureError, ClientAuthenticationError, HttpResponseError

    result = LiveResult(checks)
    by_group: dict[tuple[str, str], list[Check]] = defaultdict(list)
    for c in checks:
        match = _RG.match(c.target)
        if match is None:
            result.unchecked.append((c, "a subscription-wide grant: Azure's permissions API answers for resource "
                                        "groups and resources only"))
        else:
            by_group[(match["sub"], match["rg"])].append(c)
    clients: dict[str, Any] = {}
    for (subscription, group), wanted in by_group.items():
        client = clients.setdefault(subscription, authorization(subscription))
        try:
            pages = client.permissions.list_for_resource_group(group).by_page()
            effective = []
            for page in pages:
                result.calls += 1
                effective += list(page)
        except ClientAuthenticationError as exc:
            raise CredentialsError(f"Azure refused the management identity's sign-in: {exc.message}") from None
        except HttpResponseError as exc:
            if exc.status_code == 404:
                result.unchecked += [(c, f"resource group {group} does not exist") for c in wanted]
                continue
            raise LiveCheckError(f"Azure refused the permissions of resource group {group}: {exc.message}") from None
        except AzureError as exc:
            raise LiveCheckError(f"could not reach Azure for the permissions of {group}: {exc}") from None
        result.denials += [Denial(c, f"the management identity's roles at resource group {group} do not allow this "
                                     f"{'data action' if c.data else 'action'} (a changed role definition or "
                                     "assignment)")
                           for c in wanted if not azure_allows(effective, c.permission, c.data)]
    return result
