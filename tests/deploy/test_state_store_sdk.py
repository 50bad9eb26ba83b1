"""SDK-contract tests of the GCP and Azure state store bootstraps (DESIGN.md §4a): the real google-cloud-storage,
google-cloud-kms (REST transport) and azure-mgmt clients run over a recording HTTP answerer (tests/deploy/
sdk_fake.py; no emulator of GCS, Cloud KMS or ARM exists here). They prove the exact REST calls and bodies the
bootstrap makes, that a second bootstrap creates nothing, that an existing store with a weakened setting is set
right (the fields named) or refused when it cannot be (the field named, nothing written), and that a refusal of
the cloud names the part and the permission set the admin needs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import alien_pulumi as alien
from alien_pulumi.deploy.state_store import AzureClients, GcpClients, StateStoreError, bootstrap
from tests.artifacts import artifact
from tests.deploy.lifecycle import QUICKSTART
from tests.deploy.sdk_fake import Call, FakeCloud, Token, gcp_session, session

PROJECT, REGION = "acme-prod-1", "europe-west1"
SUBSCRIPTION, LOCATION = "11111111-2222-3333-4444-555555555555", "westeurope"
TENANT = "99999999-0000-4000-8000-000000000000"
GCP = alien.DeploymentContext.create("gcp", "acme", project=PROJECT, region=REGION,
                                     vendor_principal="alien-release@vendor-rel.iam.gserviceaccount.com")
AZURE = alien.DeploymentContext.create("azure", "acme", subscription_id=SUBSCRIPTION, region=LOCATION,
                                       vendor_principal="repo:vendor/release:environment:prod",
                                       vendor_oidc_issuer="https://token.actions.githubusercontent.com")
RING = f"projects/{PROJECT}/locations/{REGION}/keyRings/acme-pulumi-state"
KEY = f"{RING}/cryptoKeys/pulumi-state"
BUCKET = "acme-state-acme-prod-1"
SETUP_BUCKET = "acme-setup-acme-prod-1"
RG = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/acme-state-rg"
ACCOUNT = f"{RG}/providers/Microsoft.Storage/storageAccounts/{AZURE.state_names()['state_account']}"
VAULT = f"{RG}/providers/Microsoft.KeyVault/vaults/{AZURE.state_names()['state_vault']}"


def gcp_clients(cloud: FakeCloud) -> GcpClients:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import kms, storage

    store = storage.Client(project=PROJECT, credentials=AnonymousCredentials(), _http=gcp_session(cloud))
    keys = kms.KeyManagementServiceClient(credentials=AnonymousCredentials(), transport="rest")
    # The REST transport's own google-auth session (requests): the answerer is mounted on it.
    keys._transport._session.mount("https://", cloud)
    return GcpClients(store, keys)


def azure_clients(cloud: FakeCloud) -> AzureClients:
    from azure.core.pipeline.transport import RequestsTransport
    from azure.mgmt.keyvault import KeyVaultManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient
    from azure.mgmt.storage import StorageManagementClient

    from alien_pulumi.deploy.state_store import tenant_of

    credential = Token(TENANT)

    def transport() -> RequestsTransport:
        return RequestsTransport(session=session(cloud), session_owner=False)

    return AzureClients(ResourceManagementClient(credential, SUBSCRIPTION, transport=transport()),
                        StorageManagementClient(credential, SUBSCRIPTION, transport=transport()),
                        KeyVaultManagementClient(credential, SUBSCRIPTION, transport=transport()),
                        tenant_of(credential))


def calls(cloud: FakeCloud) -> list[tuple[str, str]]:
    return [(c.method, c.path) for c in cloud.calls]


def body(cloud: FakeCloud, method: str, path: str) -> Any:
    (call,) = [c for c in cloud.calls if c.method == method and c.path.lower() == path.lower()]
    return call.body


# -- GCP ------------------------------------------------------------------------------------------------------


def test_gcp_bootstrap_creates_a_private_versioned_bucket_and_a_rotating_key_in_the_region() -> None:
    cloud = FakeCloud()
    store = bootstrap(GCP, gcp_clients(cloud))
    assert calls(cloud) == [
        ("GET", f"/storage/v1/b/{BUCKET}"), ("POST", "/storage/v1/b"),
        ("GET", f"/storage/v1/b/{SETUP_BUCKET}"), ("POST", "/storage/v1/b"),
        ("GET", f"/v1/{RING}"), ("POST", f"/v1/projects/{PROJECT}/locations/{REGION}/keyRings"),
        ("GET", f"/v1/{KEY}"), ("POST", f"/v1/{RING}/cryptoKeys"),
    ]
    # The state bucket, then the setup bucket (the setup record's copy) with the same rules.
    posts = [c for c in cloud.calls if c.method == "POST" and c.path == "/storage/v1/b"]
    assert [p.body["name"] for p in posts] == [BUCKET, SETUP_BUCKET]
    for post in posts:
        bucket = post.body
        assert bucket["location"] == REGION and post.query["project"] == [PROJECT]
        assert bucket["iamConfiguration"] == {"uniformBucketLevelAccess": {"enabled": True},
                                              "publicAccessPrevention": "enforced"}
        assert bucket["versioning"] == {"enabled": True}
        assert bucket["labels"] == {"alien-state": "acme", "alien-stack": "acme"}
    ring = next(c for c in cloud.calls if c.path.endswith("/keyRings") and c.method == "POST")
    assert ring.query["keyRingId"] == ["acme-pulumi-state"]
    key = next(c for c in cloud.calls if c.path.endswith("/cryptoKeys") and c.method == "POST")
    assert key.query["cryptoKeyId"] == ["pulumi-state"]
    assert key.body["purpose"] in (1, "ENCRYPT_DECRYPT") and key.body["rotationPeriod"] == "7776000s"
    assert store.backend_url == f"gs://{BUCKET}" and store.secrets_provider == f"gcpkms://{KEY}"
    assert len(store.created) == 4 and not store.kept


def test_gcp_bootstrap_again_creates_nothing() -> None:
    cloud = FakeCloud()
    bootstrap(GCP, gcp_clients(cloud))
    cloud.calls.clear()
    again = bootstrap(GCP, gcp_clients(cloud))
    assert not cloud.writes(), "a second bootstrap only reads"
    assert [m for m, _ in calls(cloud)] == ["GET", "GET", "GET", "GET"]
    assert not again.created and again.kept == [f"GCS bucket {BUCKET}", f"GCS bucket {SETUP_BUCKET}",
                                                f"Cloud KMS key ring {RING}", f"Cloud KMS key {KEY}"]


def test_gcp_an_existing_weakened_bucket_is_set_right_and_named() -> None:
    cloud = FakeCloud()
    bootstrap(GCP, gcp_clients(cloud))
    weak = cloud.resources[f"/storage/v1/b/{BUCKET}"]
    weak["iamConfiguration"] = {"uniformBucketLevelAccess": {"enabled": False}, "publicAccessPrevention": "inherited"}
    weak["versioning"] = {"enabled": False}
    cloud.calls.clear()
    again = bootstrap(GCP, gcp_clients(cloud))
    (patch,) = cloud.writes()
    assert (patch.method, patch.path) == ("PATCH", f"/storage/v1/b/{BUCKET}")
    assert patch.body["iamConfiguration"]["uniformBucketLevelAccess"]["enabled"] is True
    assert patch.body["iamConfiguration"]["publicAccessPrevention"] == "enforced"
    assert patch.body["versioning"] == {"enabled": True}
    assert again.kept[0] == (f"GCS bucket {BUCKET} (set iamConfiguration.uniformBucketLevelAccess, "
                             "iamConfiguration.publicAccessPrevention, versioning)")


def test_gcp_a_bucket_in_another_region_or_a_key_of_another_purpose_is_refused_naming_the_field() -> None:
    cloud = FakeCloud()
    bootstrap(GCP, gcp_clients(cloud))
    cloud.resources[f"/storage/v1/b/{BUCKET}"]["location"] = "US"
    cloud.calls.clear()
    with pytest.raises(StateStoreError, match=rf"GCS bucket {BUCKET} exists with location = 'US'.*'EUROPE-WEST1'"):
        bootstrap(GCP, gcp_clients(cloud))
    assert not cloud.writes()
    cloud.resources[f"/storage/v1/b/{BUCKET}"]["location"] = "EUROPE-WEST1"
    cloud.resources[f"/v1/{KEY}".lower()]["purpose"] = 5  # ASYMMETRIC_SIGN (the REST transport asks for int enums)
    with pytest.raises(StateStoreError, match=r"Cloud KMS key .* exists with purpose = 'ASYMMETRIC_SIGN'"):
        bootstrap(GCP, gcp_clients(cloud))
    assert not cloud.writes()


def test_gcp_a_key_without_rotation_gets_it() -> None:
    cloud = FakeCloud()
    bootstrap(GCP, gcp_clients(cloud))
    cloud.resources[f"/v1/{KEY}".lower()].pop("rotationPeriod")
    cloud.calls.clear()
    again = bootstrap(GCP, gcp_clients(cloud))
    (patch,) = cloud.writes()
    assert (patch.method, patch.path) == ("PATCH", f"/v1/{KEY}")
    assert patch.query["updateMask"] == ["rotationPeriod,nextRotationTime"] and patch.body["rotationPeriod"] == \
        "7776000s"
    assert again.kept[-1] == f"Cloud KMS key {KEY} (set rotationPeriod)"


def test_gcp_refusals_name_the_part_and_what_the_admin_needs() -> None:
    cloud = FakeCloud()
    cloud.deny.add(("POST", f"/v1/projects/{PROJECT}/locations/{REGION}/keyRings"))
    with pytest.raises(StateStoreError, match=rf"GCP refused the state store bootstrap at Cloud KMS key ring {RING}: "
                                              r".*state/provision"):
        bootstrap(GCP, gcp_clients(cloud))
    taken = FakeCloud()
    taken.deny.add(("GET", f"/storage/v1/b/{BUCKET}"))
    with pytest.raises(StateStoreError, match=f"the GCS bucket name {BUCKET} is taken by another project"):
        bootstrap(GCP, gcp_clients(taken))
    assert not taken.writes()


# -- Azure ----------------------------------------------------------------------------------------------------


def test_azure_bootstrap_creates_a_locked_down_account_container_vault_and_key() -> None:
    cloud = FakeCloud()
    store = bootstrap(AZURE, azure_clients(cloud))
    container = f"{ACCOUNT}/blobServices/default/containers/pulumi-state"
    setup = f"{ACCOUNT}/blobServices/default/containers/alien-setup"  # the setup record's copy
    key = f"{VAULT}/keys/pulumi-state"
    assert [(m, p.lower()) for m, p in calls(cloud)] == [(m, p.lower()) for m, p in [
        ("GET", RG), ("PUT", RG), ("GET", ACCOUNT), ("PUT", ACCOUNT),
        ("GET", f"{ACCOUNT}/blobServices/default"), ("PUT", f"{ACCOUNT}/blobServices/default"),
        ("GET", container), ("PUT", container), ("GET", setup), ("PUT", setup),
        ("GET", VAULT), ("PUT", VAULT), ("GET", key), ("PUT", key)]]
    assert body(cloud, "PUT", RG) == {"location": LOCATION, "tags": {"alien-state": "acme", "alien-stack": "acme"}}
    account = body(cloud, "PUT", ACCOUNT)
    assert account["location"] == LOCATION and account["sku"] == {"name": "Standard_LRS"}
    assert account["kind"] == "StorageV2"
    assert account["properties"] == {"allowBlobPublicAccess": False, "allowSharedKeyAccess": False,
                                     "minimumTlsVersion": "TLS1_2", "supportsHttpsTrafficOnly": True}
    assert body(cloud, "PUT", f"{ACCOUNT}/blobServices/default")["properties"] == {
        "isVersioningEnabled": True, "deleteRetentionPolicy": {"enabled": True, "days": 30},
        "containerDeleteRetentionPolicy": {"enabled": True, "days": 30}}
    assert body(cloud, "PUT", container) == body(cloud, "PUT", setup) == {"properties": {"publicAccess": "None"}}
    vault = body(cloud, "PUT", VAULT)
    assert vault["location"] == LOCATION
    assert vault["properties"] == {"tenantId": TENANT, "sku": {"family": "A", "name": "standard"},
                                   "enableRbacAuthorization": True, "enableSoftDelete": True,
                                   "enablePurgeProtection": True}
    assert body(cloud, "PUT", key)["properties"] == {"kty": "RSA", "keySize": 3072, "keyOps": ["encrypt", "decrypt"]}
    names = AZURE.state_names()
    assert store.backend_url == f"azblob://pulumi-state?storage_account={names['state_account']}"
    assert store.secrets_provider == f"azurekeyvault://{names['state_vault']}.vault.azure.net/keys/pulumi-state"
    # api-version on every call: the SDK's own, pinned by its version
    assert all(c.query.get("api-version") for c in cloud.calls)


def test_azure_bootstrap_again_creates_nothing() -> None:
    cloud = FakeCloud()
    bootstrap(AZURE, azure_clients(cloud))
    cloud.calls.clear()
    again = bootstrap(AZURE, azure_clients(cloud))
    assert not cloud.writes(), "a second bootstrap only reads"
    assert not again.created and len(again.kept) == 7 and not any("(set" in k for k in again.kept)


def test_azure_an_existing_weakened_account_and_vault_are_set_right_and_named() -> None:
    cloud = FakeCloud()
    bootstrap(AZURE, azure_clients(cloud))
    cloud.resources[ACCOUNT.lower()]["properties"].update(allowBlobPublicAccess=True, minimumTlsVersion="TLS1_0")
    cloud.resources[VAULT.lower()]["properties"]["enableRbacAuthorization"] = False
    cloud.resources[f"{ACCOUNT}/blobServices/default/containers/pulumi-state".lower()]["properties"][
        "publicAccess"] = "Blob"
    cloud.calls.clear()
    again = bootstrap(AZURE, azure_clients(cloud))
    writes: list[Call] = cloud.writes()
    assert [(c.method, c.path.lower()) for c in writes] == [
        ("PATCH", ACCOUNT.lower()), ("PATCH", f"{ACCOUNT}/blobServices/default/containers/pulumi-state".lower()),
        ("PATCH", VAULT.lower())]
    assert writes[0].body == {"properties": {"allowBlobPublicAccess": False, "minimumTlsVersion": "TLS1_2"}}
    assert writes[1].body == {"properties": {"publicAccess": "None"}}
    assert writes[2].body == {"properties": {"enableRbacAuthorization": True}}
    assert f"storage account {AZURE.state_names()['state_account']} (set allowBlobPublicAccess, minimumTlsVersion)" \
        in again.kept
    assert "blob container pulumi-state (set publicAccess)" in again.kept
    assert f"Key Vault {AZURE.state_names()['state_vault']} (set enableRbacAuthorization)" in again.kept


def test_azure_a_store_elsewhere_or_a_key_of_another_type_is_refused_naming_the_field() -> None:
    cloud = FakeCloud()
    bootstrap(AZURE, azure_clients(cloud))
    cloud.resources[RG.lower()]["location"] = "eastus"
    cloud.calls.clear()
    with pytest.raises(StateStoreError, match="resource group acme-state-rg exists with location = 'eastus'"):
        bootstrap(AZURE, azure_clients(cloud))
    assert not cloud.writes()
    cloud.resources[RG.lower()]["location"] = LOCATION
    cloud.resources[f"{VAULT}/keys/pulumi-state".lower()]["properties"]["kty"] = "EC"
    with pytest.raises(StateStoreError, match="Key Vault key pulumi-state exists with kty = 'EC'"):
        bootstrap(AZURE, azure_clients(cloud))
    assert not cloud.writes()


def test_azure_refusals_name_the_part_and_what_the_admin_needs() -> None:
    cloud = FakeCloud()
    cloud.deny.add(("PUT", VAULT))
    with pytest.raises(StateStoreError, match=r"Azure refused the state store bootstrap at Key Vault .*denied by the "
                                              r"test.*state/provision"):
        bootstrap(AZURE, azure_clients(cloud))


def test_the_tenant_comes_from_the_admins_token() -> None:
    from alien_pulumi.deploy.state_store import tenant_of

    assert tenant_of(Token(TENANT)) == TENANT


# -- bad input ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("platform", "field"), [("gcp", "project"), ("gcp", "region"),
                                                 ("azure", "subscription_id"), ("azure", "region")])
def test_a_bundle_without_a_field_the_store_needs_is_refused_naming_it(tmp_path: Path, platform: str,
                                                                       field: str) -> None:
    from tests.deploy.lifecycle import admin, register

    bundle = register(tmp_path, "acme", platform)
    data = json.loads(bundle.read_text())
    del data["context"][field]
    bundle.write_text(json.dumps(data))
    result = admin("bootstrap", "--bundle", str(bundle), "--spec", str(artifact(QUICKSTART)))
    assert result.exit_code == 2, result.output
    assert f"context.{field}: missing" in result.stderr
