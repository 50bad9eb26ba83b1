"""Revoke and restore on GCP and Azure, the SDK contracts: google-auth's session and the Azure SDKs (azure-mgmt-msi,
azure-mgmt-authorization, azure-mgmt-appcontainers) unchanged over the recording answerer (tests/deploy/sdk_fake.py),
which keeps the IAM policy, the service account, the identity, its federated credential and its role assignments,
the Cloud Run services and the Container Apps and jobs as the clouds' REST APIs do. What the vendor can then do
follows from that state: on GCP, real google-auth impersonating against Google's token endpoints on loopback, told
the binding and the account's state the revoke left. ``revoke --stop`` and restore are judged by the requests sent
(Cloud Run's service-level scaling patch, Container Apps' stop/start and the jobs' suspend/resume); a restore from
a record whose trust was changed is refused before any request that changes something."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest

import alien_pulumi as alien
from alien_pulumi.automation.credentials import gcp_access_token
from alien_pulumi.deploy.revocation import (
    STARTED,
    STOPPED,
    STOPPED_MARK,
    STOPPED_UNMARKED,
    AzureTrustClients,
    RevocationError,
    restore,
    revoke,
    revoked_in_cloud,
)
from alien_pulumi.errors import AccessRevokedError
from alien_pulumi.model.context import REVOKED_MARK
from alien_pulumi.permissions import derive_plan, render_layer
from alien_pulumi.synth import synth
from tests.deploy.sdk_fake import Call, FakeCloud, Token, gcp_session, merge_patch, session
from tests.gcp_token_server import management_token, token_server

PROJECT, REGION = "acme-prod-1", "europe-west1"
VENDOR_SA = "alien-release@vendor-rel.iam.gserviceaccount.com"
GCP = alien.DeploymentContext.create("gcp", "acme", project=PROJECT, region=REGION, vendor_principal=VENDOR_SA)
ACCOUNT = GCP.identity("management")
SA = f"/v1/projects/{PROJECT}/serviceAccounts/{ACCOUNT}"
SUBSCRIPTION, LOCATION = "11111111-2222-3333-4444-555555555555", "westeurope"
AZURE = alien.DeploymentContext.create("azure", "acme", subscription_id=SUBSCRIPTION, region=LOCATION,
                                       vendor_principal="repo:vendor/release:environment:prod",
                                       vendor_oidc_issuer="https://token.actions.githubusercontent.com")
IDENTITY = (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/acme-rg/providers/Microsoft.ManagedIdentity/"
            "userAssignedIdentities/acme-management")
FEDERATED = f"{IDENTITY}/federatedIdentityCredentials/alien-vendor"
PRINCIPAL = "0b6b2a43-1111-4c1d-9e2f-7a8b9c0d1e2f"
SPEC = alien.Stack("acme").platforms("gcp", "azure").add(alien.Kv("k"), "frozen").add(alien.Queue("q"), "live").build()
# Two live computes the vendor releases, and a frozen one (setup-owned: --stop leaves it running).
COMPUTE = (alien.Stack("acme", images=alien.Registry("ghcr.io/acme")).platforms("gcp", "azure")
           .add(alien.Kv("k"), "frozen")
           .add(alien.Container("web", image="web:2.0.0", min_replicas=2, max_replicas=4), "live")
           .add(alien.Function("api", image="api:1.4.2"), "live")
           .add(alien.Function("cron", image="cron:1.0.0"), "frozen").build())
AT = "2026-12-02T10:00:00Z"
RUN = f"/v2/projects/{PROJECT}/locations/{REGION}/services"
APPS = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/acme-rg/providers/Microsoft.App"
CONTAINER_APPS = re.compile(r"^/subscriptions/[^/]+/resourcegroups/[^/]+/providers/microsoft\.app/(containerapps|jobs)/"
                            r"[^/]+(/(stop|start|suspend|resume))?$")


class FakeIam(FakeCloud):
    """The IAM API of a service account (get, getIamPolicy/setIamPolicy with etags, disable/enable, patch) and
    ARM's DELETE, role-assignment listing by principal and tag replacement, over FakeCloud's resources."""

    def __init__(self) -> None:
        super().__init__()
        self.policy: dict[str, Any] = {"version": 1, "etag": "BwYA1", "bindings": []}

    def _route(self, host: str, call: Call) -> tuple[int, Any]:
        key = call.path.lower()
        if host == "run.googleapis.com" and call.method == "PATCH":
            if key not in self.resources:
                return 404, {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}}
            service = self.resources[key]
            if call.body.get("etag") not in (None, service.get("etag")):
                return 409, {"error": {"code": 409, "message": "etag mismatch", "status": "ABORTED"}}
            for mask in call.query["updateMask"][0].split(","):  # each field named is replaced as given
                service[mask] = copy.deepcopy(call.body.get(mask))
            return 200, {"name": f"projects/{PROJECT}/locations/{REGION}/operations/op1", "metadata": {}}
        if CONTAINER_APPS.match(key):
            return self._app(key, call)
        if host == "iam.googleapis.com" and call.method == "POST":
            account, _, verb = call.path.partition(":")
            if account.lower() not in self.resources:
                return 404, {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}}
            if verb == "getIamPolicy":
                return 200, copy.deepcopy(self.policy)
            if verb == "setIamPolicy":
                if call.body["policy"].get("etag") != self.policy["etag"]:
                    return 409, {"error": {"code": 409, "message": "etag mismatch", "status": "ABORTED"}}
                self.policy = {**call.body["policy"], "etag": self.policy["etag"] + "x"}
                return 200, self.policy
            self.resources[account.lower()]["disabled"] = verb == "disable"
            return 200, {}
        if host == "iam.googleapis.com" and call.method == "PATCH":
            assert call.body["updateMask"] == "description"
            self.resources[key]["description"] = call.body["serviceAccount"]["description"]
            return 200, self.resources[key]
        if call.method == "DELETE":
            return (200, {}) if self.resources.pop(key, None) is not None else (204, None)
        if call.method == "GET" and key.endswith("/providers/microsoft.authorization/roleassignments"):
            principal = call.query["$filter"][0].split("'")[1]
            return 200, {"value": [r for k, r in self.resources.items() if "/roleassignments/" in k
                                   and r.get("properties", {}).get("principalId") == principal]}
        if call.method == "PATCH" and "tags" in (call.body or {}):  # ARM replaces the tags as a whole
            self.resources[key]["tags"] = call.body["tags"]
            return 200, self.resources[key]
        return super()._route(host, call)


    def _app(self, key: str, call: Call) -> tuple[int, Any]:
        """Container Apps and jobs: GET, PATCH (JSON merge patch) and the stop/start, suspend/resume actions,
        which answer the resource with its new runningStatus (app) or runningState (job)."""
        resource, _, action = key.rpartition("/") if call.method == "POST" else (key, "", "")
        if resource not in self.resources:
            return 404, {"error": {"code": "ResourceNotFound", "message": f"{call.path} not found"}}
        found = self.resources[resource]
        if call.method == "PATCH":
            return 200, merge_patch(found, call.body)
        if call.method == "POST":
            status = {"stop": ("runningStatus", "Stopped"), "start": ("runningStatus", "Running"),
                      "suspend": ("runningState", "Suspended"), "resume": ("runningState", "Ready")}[action]
            found["properties"][status[0]] = status[1]
            return 200, found
        return 200, found


def gcp_cloud() -> FakeIam:
    """The management account and its policy as setup leaves them: the vendor may impersonate it."""
    cloud = FakeIam()
    cloud.resources[SA.lower()] = {"name": SA[4:], "email": ACCOUNT, "disabled": False,
                                   "description": "The vendor's release service impersonates it (alien-pulumi)."}
    impersonation = render_layer(derive_plan(SPEC, GCP), "management")["impersonation"]
    cloud.policy["bindings"] = [{"role": impersonation["role"], "members": [impersonation["member"]]},
                                {"role": "roles/iam.serviceAccountUser", "members": ["user:ops@acme.example"]}]
    return cloud


def vendor_token(cloud: FakeIam, tmp_path: Path) -> str:
    """The vendor's impersonation, against what the cloud now holds: its member on the account, and the
    account enabled (Google refuses a disabled account's tokens, old and new)."""
    member = f"serviceAccount:{VENDOR_SA}"
    with token_server() as google:
        if not any(member in b["members"] for b in cloud.policy["bindings"]):
            google.refused.add(ACCOUNT)
        if cloud.resources[SA.lower()]["disabled"]:
            google.disabled.add(ACCOUNT)
        key = google.key_file(tmp_path / "vendor.json", VENDOR_SA)
        return gcp_access_token(ACCOUNT, {"GOOGLE_APPLICATION_CREDENTIALS": str(key),
                                          "GOOGLE_IAM_CREDENTIALS_CUSTOM_ENDPOINT": f"{google.url}/v1/"})


def test_gcp_revoke_removes_the_vendor_and_disables_the_account_and_restore_undoes_both(tmp_path: Path) -> None:
    cloud = gcp_cloud()
    before = copy.deepcopy(cloud.policy["bindings"])
    assert vendor_token(cloud, tmp_path) == management_token(ACCOUNT)

    done = revoke("acme", GCP, clients=gcp_session(cloud), at="2026-12-02T10:00:00Z")
    assert done.changed and len(done.steps) == 3
    assert cloud.policy["bindings"] == before[1:]  # the vendor is gone, the customer's own binding stays
    account = cloud.resources[SA.lower()]
    assert account["disabled"] is True and "2026-12-02T10:00:00Z" in account["description"]
    with pytest.raises(AccessRevokedError):
        vendor_token(cloud, tmp_path)
    assert revoked_in_cloud(GCP, clients=gcp_session(cloud)) == "2026-12-02T10:00:00Z"
    assert [(c.method, c.path.rsplit("/", 1)[1]) for c in cloud.writes()] == [
        ("POST", f"{ACCOUNT}:getIamPolicy"), ("POST", f"{ACCOUNT}:setIamPolicy"), ("POST", f"{ACCOUNT}:disable"),
        ("PATCH", ACCOUNT)]
    assert not revoke("acme", GCP, clients=gcp_session(cloud)).changed

    back = restore("acme", GCP, clients=gcp_session(cloud))
    assert back.changed and cloud.resources[SA.lower()]["disabled"] is False
    assert sorted(cloud.policy["bindings"], key=str) == sorted(before, key=str)
    assert cloud.resources[SA.lower()]["description"] == before_description()
    assert vendor_token(cloud, tmp_path) == management_token(ACCOUNT)
    assert revoked_in_cloud(GCP, clients=gcp_session(cloud)) is None


def before_description() -> str:
    from alien_pulumi.permissions.render.gcp import management_description

    return management_description(None)


def test_gcp_restore_puts_back_the_access_window_condition() -> None:
    cloud = gcp_cloud()
    windowed = GCP.model_copy(update={"access_until": "2030-01-01T00:00:00Z"})
    revoke("acme", windowed, clients=gcp_session(cloud))
    restore("acme", windowed, clients=gcp_session(cloud))
    (vendor,) = [b for b in cloud.policy["bindings"] if f"serviceAccount:{VENDOR_SA}" in b["members"]]
    assert vendor["condition"] == render_layer(derive_plan(SPEC, windowed), "management")["impersonation"][
        "condition"]
    assert cloud.policy["version"] == 3  # conditions need policy version 3


def test_gcp_revoke_of_an_account_never_set_up_changes_nothing() -> None:
    cloud = FakeIam()
    with pytest.raises(RevocationError, match=f"no management service account {ACCOUNT} in gcp {PROJECT}"):
        revoke("acme", GCP, clients=gcp_session(cloud))
    assert cloud.writes() == []


def test_a_gcp_setup_while_revoked_disables_the_account_and_binds_no_vendor() -> None:
    nodes = {n.name: n for n in synth(SPEC, GCP.model_copy(update={"revoked_at": "2026-12-02T10:00:00Z"})
                                      ).provision.nodes.values() if n.custom}
    assert nodes["identities-management"].inputs["disabled"] is True
    assert "revoked by the customer's admin at 2026-12-02T10:00:00Z" in nodes["identities-management"].inputs[
        "description"]
    assert "identities-impersonation" not in nodes
    live = {n.name: n for n in synth(SPEC, GCP).provision.nodes.values() if n.custom}
    assert live["identities-management"].inputs.get("disabled") in (False, None)
    assert "identities-impersonation" in live


def azure_setup() -> tuple[FakeIam, list[dict[str, Any]]]:
    """The management identity, its federated credential and role assignments as the provisioning program
    declares them (synthesised), with the principal id ARM gave the identity."""
    cloud = FakeIam()
    cloud.resources[IDENTITY.lower()] = {"id": IDENTITY, "name": "acme-management", "location": LOCATION,
                                         "tags": {"alien-stack": "acme"},
                                         "properties": {"principalId": PRINCIPAL, "clientId": "c", "tenantId": "t"}}
    cloud.resources[FEDERATED.lower()] = {"id": FEDERATED, "name": "alien-vendor", "properties": {}}
    declared = [n.inputs for n in synth(SPEC, AZURE).provision.nodes.values()
                if n.type == "azure-native:authorization:RoleAssignment" and n.name.startswith("grants-management-")]
    assert declared
    for inputs in declared:
        path = f"{inputs['scope']}/providers/Microsoft.Authorization/roleAssignments/{inputs['roleAssignmentName']}"
        cloud.resources[path.lower()] = {"id": path, "name": inputs["roleAssignmentName"], "properties": {
            "scope": inputs["scope"], "principalId": PRINCIPAL, "roleDefinitionId": inputs["roleDefinitionId"]}}
    return cloud, declared


def azure_clients(cloud: FakeIam) -> AzureTrustClients:
    from azure.core.pipeline.transport import RequestsTransport
    from azure.mgmt.authorization import AuthorizationManagementClient
    from azure.mgmt.msi import ManagedServiceIdentityClient

    def transport() -> RequestsTransport:
        return RequestsTransport(session=session(cloud), session_owner=False)

    from azure.mgmt.appcontainers import ContainerAppsAPIClient

    credential = Token("t")
    return AzureTrustClients(ManagedServiceIdentityClient(credential, SUBSCRIPTION, transport=transport()),
                             AuthorizationManagementClient(credential, SUBSCRIPTION, transport=transport()),
                             ContainerAppsAPIClient(credential, SUBSCRIPTION, transport=transport()))


def assignments(cloud: FakeIam) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in cloud.resources.items() if "/roleassignments/" in k}


def test_azure_revoke_deletes_the_federation_and_assignments_and_restore_puts_back_what_setup_declares() -> None:
    cloud, declared = azure_setup()
    done = revoke("acme", AZURE, clients=azure_clients(cloud), at="2026-12-02T10:00:00Z")
    assert done.changed and "cannot revoke tokens already issued" in done.issued
    assert FEDERATED.lower() not in cloud.resources and assignments(cloud) == {}
    assert cloud.resources[IDENTITY.lower()]["tags"] == {"alien-stack": "acme", REVOKED_MARK: "2026-12-02T10:00:00Z"}
    assert revoked_in_cloud(AZURE, clients=azure_clients(cloud)) == "2026-12-02T10:00:00Z"

    with pytest.raises(RevocationError, match="needs the setup record"):
        restore("acme", AZURE, clients=azure_clients(cloud))
    assert assignments(cloud) == {}  # refused before any call that changes something
    recorded = render_layer(derive_plan(SPEC, AZURE), "management")  # the record's section, as setup wrote it
    back = restore("acme", AZURE, clients=azure_clients(cloud), spec=SPEC, recorded=recorded)
    assert back.changed
    federation = cloud.resources[FEDERATED.lower()]["properties"]
    assert federation == {"issuer": AZURE.vendor_oidc_issuer, "subject": AZURE.principal,
                          "audiences": ["api://AzureADTokenExchange"], "provisioningState": "Succeeded"}
    restored = {(v["name"], v["properties"]["roleDefinitionId"], v["properties"]["principalId"])
                for v in assignments(cloud).values()}
    assert restored == {(d["roleAssignmentName"], d["roleDefinitionId"], PRINCIPAL) for d in declared}
    assert cloud.resources[IDENTITY.lower()]["tags"] == {"alien-stack": "acme"}


def test_an_azure_setup_while_revoked_declares_no_federation_and_no_management_assignment() -> None:
    revoked = AZURE.model_copy(update={"revoked_at": "2026-12-02T10:00:00Z"})
    nodes = [n for n in synth(SPEC, revoked).provision.nodes.values() if n.custom]
    names = {n.name for n in nodes}
    assert "identities-management-federation" not in names
    assert not [n for n in names if n.startswith("grants-management-")]
    live = {n.name for n in synth(SPEC, AZURE).provision.nodes.values() if n.custom}
    assert "identities-management-federation" in live and [n for n in live if n.startswith("grants-management-")]
    identity = next(n for n in nodes if n.name == "identities-management")
    assert identity.inputs["tags"][REVOKED_MARK] == "2026-12-02T10:00:00Z"


# ------------------------------------------------- restore derives the trust, and refuses a changed record


def revoked_azure() -> FakeIam:
    cloud, _ = azure_setup()
    revoke("acme", AZURE, clients=azure_clients(cloud), at=AT)
    return cloud


def test_azure_restore_derives_the_federation_and_scopes_from_the_spec_not_the_record() -> None:
    """What restore creates comes from the spec and the context; the record's section is only compared."""
    cloud = revoked_azure()
    restore("acme", AZURE, clients=azure_clients(cloud), spec=SPEC)  # no record section at all: derived alone
    derived = render_layer(derive_plan(SPEC, AZURE), "management")
    assert cloud.resources[FEDERATED.lower()]["properties"]["subject"] == derived["federated_credential"]["subject"]
    scopes = {k.split("/providers/microsoft.authorization/")[0] for k in assignments(cloud)}
    assert scopes == {a["scope"].lower() for a in derived["assignments"]}


def _set(path: str, value: Any) -> Any:
    def change(management: dict[str, Any]) -> None:
        *parents, last = re.findall(r"[^.\[\]]+", path)
        target: Any = management
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[int(last) if last.isdigit() else last] = value
    return change


@pytest.mark.parametrize(("field", "value"), [
    ("federated_credential.subject", "repo:attacker/release:environment:prod"),
    ("federated_credential.issuer", "https://token.attacker.example"),
    ("federated_credential.audiences", ["api://AzureADTokenExchange", "api://attacker"]),
    ("assignments[0].scope", f"/subscriptions/{SUBSCRIPTION}"),
    ("assignments[1].principal", "attacker"),
])
def test_a_restore_from_a_record_whose_trust_was_changed_is_refused_naming_the_field(field: str, value: Any) -> None:
    cloud = revoked_azure()
    written = len(cloud.writes())
    recorded = render_layer(derive_plan(SPEC, AZURE.model_copy(update={"revoked_at": AT})), "management")
    _set(field, value)(recorded)
    with pytest.raises(RevocationError) as refused:
        restore("acme", AZURE, clients=azure_clients(cloud), spec=SPEC, recorded=recorded)
    said = str(refused.value)
    assert f"the setup record's management permissions disagree with what its stack and context render: {field} " \
           "is " in said and "nothing was changed" in said
    assert cloud.writes()[written:] == []  # refused before any call that changes something
    assert FEDERATED.lower() not in cloud.resources and assignments(cloud) == {}  # nothing created
    assert revoked_in_cloud(AZURE, clients=azure_clients(cloud)) == AT


def test_a_record_with_an_assignment_added_or_removed_is_refused() -> None:
    cloud = revoked_azure()
    recorded = render_layer(derive_plan(SPEC, AZURE), "management")
    recorded["assignments"].append({**recorded["assignments"][0], "scope": f"/subscriptions/{SUBSCRIPTION}"})
    with pytest.raises(RevocationError, match=r"assignments is \d+ entries, not \d+ entries"):
        restore("acme", AZURE, clients=azure_clients(cloud), spec=SPEC, recorded=recorded)
    assert assignments(cloud) == {}


def test_a_gcp_record_with_another_impersonation_member_is_refused() -> None:
    cloud = gcp_cloud()
    revoke("acme", GCP, clients=gcp_session(cloud), at=AT)
    recorded = render_layer(derive_plan(SPEC, GCP), "management")
    recorded["impersonation"]["member"] = "serviceAccount:attacker@evil.iam.gserviceaccount.com"
    written = len(cloud.writes())
    with pytest.raises(RevocationError, match=r"impersonation\.member is serviceAccount:attacker@"):
        restore("acme", GCP, clients=gcp_session(cloud), spec=SPEC, recorded=recorded)
    assert cloud.writes()[written:] == [] and cloud.resources[SA.lower()]["disabled"] is True


# ---------------------------------------------------------------- revoke --stop on GCP: Cloud Run scaling


def run_service(cloud: FakeIam, name: str, scaling: dict[str, Any] | None = None) -> str:
    """A Cloud Run service as setup leaves it: the revision's scaling from the spec, no service-level scaling."""
    path = f"{RUN}/{name}"
    cloud.resources[path.lower()] = {"name": path.removeprefix("/v2/"), "etag": f'"{name}-1"',
                                     "labels": {"alien-stack": "acme"},
                                     "template": {"scaling": {"minInstanceCount": 1, "maxInstanceCount": 4}},
                                     **({"scaling": scaling} if scaling else {})}
    return path.lower()


def run_writes(cloud: FakeIam) -> list[tuple[str, str, str, Any]]:
    return [(c.method, c.path.rsplit("/", 1)[1], c.query["updateMask"][0], c.body) for c in cloud.writes()
            if c.path.startswith("/v2/")]


def test_gcp_revoke_stop_scales_the_live_services_to_zero_and_restore_gives_them_back() -> None:
    cloud = gcp_cloud()
    web, api, cron = (run_service(cloud, f"acme-{name}") for name in ("web", "api", "cron"))
    done = revoke("acme", GCP, clients=gcp_session(cloud), at=AT, stop=True, spec=COMPUTE)
    assert [c.state for c in done.compute or []] == [STOPPED, STOPPED]
    assert run_writes(cloud) == [
        ("PATCH", name, "scaling,annotations", {"scaling": {"scalingMode": "MANUAL", "manualInstanceCount": 0},
                                                "annotations": {STOPPED_MARK: AT}, "etag": f'"{name}-1"'})
        for name in ("acme-web", "acme-api")]
    assert "scaling" not in cloud.resources[cron]  # frozen: left running
    assert cloud.resources[web]["template"]["scaling"] == {"minInstanceCount": 1, "maxInstanceCount": 4}
    assert done.steps[-1] == (f"Cloud Run service acme-api: manual scaling to 0 instances, annotated {STOPPED_MARK}="
                              f"{AT}: Cloud Run stops its instances and starts none, whatever requests or events "
                              "arrive")
    stopped = len(run_writes(cloud))
    assert not revoke("acme", GCP, clients=gcp_session(cloud), stop=True, spec=COMPUTE).changed
    assert len(run_writes(cloud)) == stopped  # idempotent: nothing sent again

    back = restore("acme", GCP, clients=gcp_session(cloud), spec=COMPUTE)
    assert [c.state for c in back.compute or []] == [STARTED, STARTED]
    assert run_writes(cloud)[stopped:] == [
        ("PATCH", name, "scaling,annotations", {"annotations": {}, "scaling": {"scalingMode": "AUTOMATIC"},
                                                "etag": f'"{name}-1"'}) for name in ("acme-web", "acme-api")]
    for path in (web, api):
        assert cloud.resources[path]["scaling"] == {"scalingMode": "AUTOMATIC"}
        assert cloud.resources[path]["annotations"] == {}
    assert cloud.resources[web]["template"]["scaling"] == {"minInstanceCount": 1, "maxInstanceCount": 4}
    assert not restore("acme", GCP, clients=gcp_session(cloud), spec=COMPUTE).changed


def test_gcp_a_service_scaled_to_zero_by_hand_is_left_as_it_is() -> None:
    cloud = gcp_cloud()
    by_hand = {"scalingMode": "MANUAL", "manualInstanceCount": 0}
    web = run_service(cloud, "acme-web", by_hand)
    run_service(cloud, "acme-api")
    done = revoke("acme", GCP, clients=gcp_session(cloud), stop=True, spec=COMPUTE)
    assert [c.state for c in done.compute or []] == [STOPPED_UNMARKED, STOPPED]
    assert [w[1] for w in run_writes(cloud)] == ["acme-api"]
    back = restore("acme", GCP, clients=gcp_session(cloud), spec=COMPUTE)
    assert [c.state for c in back.compute or []] == [STOPPED_UNMARKED, STARTED]
    assert cloud.resources[web]["scaling"] == by_hand and "annotations" not in cloud.resources[web]


# ---------------------------------------------------------------- revoke --stop on Azure: Container Apps and jobs


def container_app(cloud: FakeIam, name: str, job: bool = False) -> str:
    path = f"{APPS}/{'jobs' if job else 'containerApps'}/{name}"
    cloud.resources[path.lower()] = {
        "id": path, "name": name, "location": LOCATION, "tags": {"alien-stack": "acme"},
        "properties": {"provisioningState": "Succeeded", **({"runningState": "Ready"} if job else
                                                            {"runningStatus": "Running"})}}
    return path.lower()


def app_writes(cloud: FakeIam) -> list[tuple[str, str, Any]]:
    """(method, path below Microsoft.App, body) of every write to Container Apps, each at api-version 2026-07-01."""
    calls = [c for c in cloud.writes() if CONTAINER_APPS.match(c.path.lower())]
    assert {c.query["api-version"][0] for c in calls} <= {"2026-07-01"}
    return [(c.method, c.path.split("/providers/Microsoft.App/")[1], c.body) for c in calls]


def test_azure_revoke_stop_stops_the_apps_and_suspends_the_job_and_restore_starts_them() -> None:
    cloud, _ = azure_setup()
    web, api, api_job = container_app(cloud, "acme-web"), container_app(cloud, "acme-api"), \
        container_app(cloud, "acme-api", job=True)
    cron, cron_job = container_app(cloud, "acme-cron"), container_app(cloud, "acme-cron", job=True)
    done = revoke("acme", AZURE, clients=azure_clients(cloud), at=AT, stop=True, spec=COMPUTE)
    assert [c.state for c in done.compute or []] == [STOPPED, STOPPED]
    tagged = {"tags": {"alien-stack": "acme", STOPPED_MARK: AT}}
    assert app_writes(cloud) == [
        ("PATCH", "containerApps/acme-web", tagged), ("POST", "containerApps/acme-web/stop", None),
        ("PATCH", "containerApps/acme-api", tagged), ("POST", "containerApps/acme-api/stop", None),
        ("PATCH", "jobs/acme-api", tagged), ("POST", "jobs/acme-api/suspend", None)]
    for path in (web, api):
        assert cloud.resources[path]["properties"]["runningStatus"] == "Stopped"
    assert cloud.resources[api_job]["properties"]["runningState"] == "Suspended"
    assert cloud.resources[cron]["properties"]["runningStatus"] == "Running"  # frozen: left running
    assert cloud.resources[cron_job]["properties"]["runningState"] == "Ready"
    assert done.steps[-1] == "container apps job acme-api: suspended (its schedule starts no execution)"
    stopped = len(app_writes(cloud))
    assert not revoke("acme", AZURE, clients=azure_clients(cloud), stop=True, spec=COMPUTE).changed
    assert len(app_writes(cloud)) == stopped

    back = restore("acme", AZURE, clients=azure_clients(cloud), spec=COMPUTE)
    assert [c.state for c in back.compute or []] == [STARTED, STARTED]
    untagged = {"tags": {"alien-stack": "acme", STOPPED_MARK: None}}  # JSON merge patch: null removes the tag
    assert app_writes(cloud)[stopped:] == [
        ("POST", "containerApps/acme-web/start", None), ("PATCH", "containerApps/acme-web", untagged),
        ("POST", "containerApps/acme-api/start", None), ("PATCH", "containerApps/acme-api", untagged),
        ("POST", "jobs/acme-api/resume", None), ("PATCH", "jobs/acme-api", untagged)]
    for path in (web, api, api_job):
        assert cloud.resources[path]["tags"] == {"alien-stack": "acme"}
    assert cloud.resources[web]["properties"]["runningStatus"] == "Running"
    assert cloud.resources[api_job]["properties"]["runningState"] == "Ready"
    assert back.trust_changed and FEDERATED.lower() in cloud.resources
    assert not restore("acme", AZURE, clients=azure_clients(cloud), spec=COMPUTE).changed


def test_azure_stop_of_a_deployment_whose_apps_do_not_exist_says_so() -> None:
    cloud, _ = azure_setup()
    done = revoke("acme", AZURE, clients=azure_clients(cloud), stop=True, spec=COMPUTE)
    assert [c.state for c in done.compute or []] == ["not found", "not found"]
    assert "Not found in the cloud (nothing to stop): web (container: container app acme-web), api (function: " \
           "container app and job acme-api)." in done.runtime
    assert app_writes(cloud) == []
