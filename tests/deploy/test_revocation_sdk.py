"""Revoke and restore on GCP and Azure, the SDK contracts: google-auth's session and the Azure SDKs (azure-mgmt-msi,
azure-mgmt-authorization) unchanged over the recording answerer (tests/deploy/sdk_fake.py), which keeps the IAM
policy, the service account, the identity, its federated credential and its role assignments as the clouds'
REST APIs do. What the vendor can then do follows from that state: on GCP, real google-auth impersonating against
Google's token endpoints on loopback, told the binding and the account's state the revoke left."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

import alien_pulumi as alien
from alien_pulumi.automation.credentials import gcp_access_token
from alien_pulumi.deploy.revocation import AzureTrustClients, RevocationError, restore, revoke, revoked_in_cloud
from alien_pulumi.errors import AccessRevokedError
from alien_pulumi.model.context import REVOKED_MARK
from alien_pulumi.permissions import derive_plan, render_layer
from alien_pulumi.synth import synth
from tests.deploy.sdk_fake import Call, FakeCloud, Token, gcp_session, session
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


class FakeIam(FakeCloud):
    """The IAM API of a service account (get, getIamPolicy/setIamPolicy with etags, disable/enable, patch) and
    ARM's DELETE, role-assignment listing by principal and tag replacement, over FakeCloud's resources."""

    def __init__(self) -> None:
        super().__init__()
        self.policy: dict[str, Any] = {"version": 1, "etag": "BwYA1", "bindings": []}

    def _route(self, host: str, call: Call) -> tuple[int, Any]:
        key = call.path.lower()
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

    credential = Token("t")
    return AzureTrustClients(ManagedServiceIdentityClient(credential, SUBSCRIPTION, transport=transport()),
                             AuthorizationManagementClient(credential, SUBSCRIPTION, transport=transport()))


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
    management = render_layer(derive_plan(SPEC, AZURE), "management")
    back = restore("acme", AZURE, management=management, clients=azure_clients(cloud))
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
