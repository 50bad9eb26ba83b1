"""The setup record's copy in the customer's cloud (deploy/setup_copy.py): kept where the management identity cannot
write, and read back as the baseline of a setup from any machine.

- Where it is: the real AWS policy simulator (iam-simulate) judges the rendered management policies against the copy's
  object (denied) and the state (allowed, so the check can fail); GCP's rendered bindings and Azure's role
  assignments (what the provisioning program places) are checked for any grant that reaches it.
- How it is read and written: google-cloud-storage and azure-storage-blob unchanged over the recording answerer
  (tests/deploy/sdk_fake.py); AWS against moto in tests/deploy/test_deploy_cli.py.
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path
from typing import Any

import pytest

import alien_pulumi as alien
from alien_pulumi.deploy.setup_copy import copy_url, last_setup, load, save
from alien_pulumi.deploy.state_store import AzureClients, StateStoreError, bootstrap
from alien_pulumi.errors import StackLoadError
from alien_pulumi.model.record import ReleaseRecord
from alien_pulumi.permissions import derive_plan, render_layer
from alien_pulumi.synth import synth
from tests.aws_simulator import ACCOUNT, simulate
from tests.deploy.sdk_fake import FakeCloud, Token, session
from tests.deploy.test_state_store_sdk import AZURE, GCP, TENANT, azure_clients, gcp_clients

SPEC = alien.Stack("acme").platforms("aws", "gcp", "azure").add(alien.Storage("data"), "frozen") \
    .add(alien.Kv("cache"), "live").build()
AWS = alien.DeploymentContext.create("aws", "acme", prefix="acme", account_id=ACCOUNT, region="eu-west-1",
                                     vendor_principal="arn:aws:iam::111122223333:role/alien-release",
                                     external_id="x7Kq2Vb9mT4wLz8Rj3Nc6Hy1Pd5Fs0Ga2Ue7Qo9Wi4E")


def record(ctx: alien.DeploymentContext, release: str = "setup-1", created_at: str = "2026-12-07T10:00:00+00:00"
           ) -> ReleaseRecord:
    return ReleaseRecord(release=release, deployment="acme", program="provision", context=ctx, spec=SPEC,
                         digest=SPEC.digest(), frozen_digest=SPEC.frozen_digest(), permissions={},
                         created_at=created_at)


# -- where it is: outside every management grant ------------------------------------------------------------------


def test_aws_the_management_policies_cannot_write_the_copy_and_the_admin_can() -> None:
    bucket = AWS.state_names()["state_bucket"]
    plan = derive_plan(SPEC, AWS)
    management = render_layer(plan, "management")["policies"]
    provisioning = render_layer(plan, "provisioning")["policies"]
    session_arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/acme-management/alien-r1-acme"

    def judge(policies: list[dict[str, Any]], action: str, key: str) -> str:
        docs = [p.get("document", p) for p in policies]
        (result,) = simulate(None, [{"principal": session_arn, "action": action,
                                     "resource": f"arn:aws:s3:::{bucket}/{key}", "account": ACCOUNT, "context": {},
                                     "identity_policies": docs}])
        return str(result["result"])

    copy = AWS.state_names()["setup_record"]
    assert copy_url(AWS) == f"s3://{bucket}/{copy}"
    for action in ("s3:PutObject", "s3:DeleteObject", "s3:GetObject"):
        assert judge(management, action, copy) == "ImplicitlyDenied", action
        # the same policies do write the state: a check that cannot fail would prove nothing
        assert judge(management, action, ".pulumi/stacks/alien/acme.json") == "Allowed", action
    assert judge(provisioning, "s3:PutObject", copy) == "Allowed"
    assert judge(provisioning, "s3:GetObject", copy) == "Allowed"


def test_gcp_the_management_identity_holds_no_binding_that_reaches_the_setup_bucket() -> None:
    names = GCP.state_names()
    setup = f"//storage.googleapis.com/projects/_/buckets/{names['setup_bucket']}"
    state = f"//storage.googleapis.com/projects/_/buckets/{names['state_bucket']}"
    plan = derive_plan(SPEC, GCP)

    def writers(layer: str) -> set[str]:
        """Scopes where the layer may create or delete objects: a bucket, or the project (every bucket of it)."""
        rendered = render_layer(plan, layer)
        roles = {r["name"]: set(r["permissions"]) for r in rendered["roles"]}
        return {b["scope"] for b in rendered["bindings"]
                if roles[b["role"]] & {"storage.objects.create", "storage.objects.delete", "storage.objects.update"}}

    management = writers("management")
    assert state in management  # the check sees the state bucket's grant
    assert setup not in management and not any(s.startswith("projects/") for s in management), management
    assert setup in writers("provisioning")
    # What the provisioning program places is what was rendered: no member on the setup bucket but the admin's.
    members = [n.inputs for n in synth(SPEC, GCP).provision.nodes.values()
               if n.type == "gcp:storage/bucketIAMMember:BucketIAMMember"]
    assert members and all(m["bucket"] != names["setup_bucket"] for m in members), members


def _covers(scope: str, resource: str) -> bool:
    """An Azure assignment at ``scope`` applies to ``resource`` at or below it (ARM ids, case-insensitive)."""
    scope, resource = scope.lower().rstrip("/"), resource.lower()
    return resource == scope or resource.startswith(scope + "/")


def test_azure_no_management_assignment_reaches_the_setup_container() -> None:
    names = AZURE.state_names()
    account = (f"/subscriptions/{AZURE.subscription_id}/resourceGroups/{names['state_resource_group']}/providers/"
               f"Microsoft.Storage/storageAccounts/{names['state_account']}/blobServices/default/containers/")
    setup, state = account + names["setup_container"], account + names["state_container"]
    plan = derive_plan(SPEC, AZURE)

    def writes(layer: str, container: str) -> list[str]:
        rendered = render_layer(plan, layer)
        roles = {d["roleName"]: d for d in rendered["role_definitions"]}
        write = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write"
        return [a["scope"] for a in rendered["assignments"] if _covers(a["scope"], container) and any(
            fnmatch.fnmatch(write.lower(), p.lower()) for p in roles[a["role"]]["dataActions"])]

    assert writes("management", state), "the check sees the state container's assignment"
    assert writes("management", setup) == []
    assert not _covers(state, setup) and _covers(account.rstrip("/"), setup)  # the check is by path segment
    assert writes("provisioning", setup)


# -- how it is written and read ---------------------------------------------------------------------------------


def test_gcp_the_copy_goes_to_the_setup_bucket_and_comes_back() -> None:
    cloud = FakeCloud()
    bootstrap(GCP, gcp_clients(cloud))
    assert load(GCP, gcp_clients(cloud)) is None
    kept = record(GCP)
    assert save(GCP, kept, gcp_clients(cloud)) == "gs://acme-setup-acme-prod-1/record.json"
    assert list(cloud.objects) == ["gs://acme-setup-acme-prod-1/record.json"]  # nothing in the state bucket
    assert load(GCP, gcp_clients(cloud)) == kept


def test_azure_the_copy_goes_to_the_setup_container_and_comes_back() -> None:
    cloud = FakeCloud()
    clients = with_blobs(azure_clients(cloud), cloud)
    bootstrap(AZURE, clients)
    assert load(AZURE, clients) is None
    kept = record(AZURE)
    url = save(AZURE, kept, clients)
    assert url == f"https://{AZURE.state_names()['state_account']}.blob.core.windows.net/alien-setup/record.json"
    assert list(cloud.objects) == [url]
    put = next(c for c in cloud.calls if c.method == "PUT" and c.path == "/alien-setup/record.json")
    assert put.authorization and put.authorization.startswith("Bearer "), "Entra ID, never a shared key"
    assert load(AZURE, clients) == kept


def with_blobs(clients: AzureClients, cloud: FakeCloud) -> AzureClients:
    from dataclasses import replace

    from azure.core.pipeline.transport import RequestsTransport
    from azure.storage.blob import BlobServiceClient

    from alien_pulumi.deploy.state_store import blob_endpoint

    blobs = BlobServiceClient(blob_endpoint(AZURE), Token(TENANT),
                              transport=RequestsTransport(session=session(cloud), session_owner=False))
    return replace(clients, blobs=blobs)


def test_the_later_of_the_local_record_and_the_copy_is_the_baseline(tmp_path: Path) -> None:
    cloud = FakeCloud()
    bootstrap(GCP, gcp_clients(cloud))
    local = tmp_path / "acme.json"
    local.write_text(record(GCP, "setup-laptop", "2026-12-01T10:00:00+00:00").model_dump_json())
    assert last_setup(GCP, local, cloud=True, session=gcp_clients(cloud)).source == str(local)  # no copy yet
    save(GCP, record(GCP, "setup-ci", "2026-12-05T10:00:00+00:00"), gcp_clients(cloud))
    later = last_setup(GCP, local, cloud=True, session=gcp_clients(cloud))
    assert (later.record and later.record.release, later.source) == ("setup-ci", copy_url(GCP))
    local.write_text(record(GCP, "setup-laptop-2", "2026-12-06T10:00:00+00:00").model_dump_json())
    assert last_setup(GCP, local, cloud=True, session=gcp_clients(cloud)).source == str(local)
    # A run on a local or external backend reads nothing from the cloud: no clients given, none are made (ambient
    # credentials would be looked for, and there are none here).
    assert last_setup(GCP, tmp_path / "none.json", cloud=False).record is None


def test_a_copy_that_is_not_a_record_or_cannot_be_read_is_an_error_naming_where() -> None:
    cloud = FakeCloud()
    bootstrap(GCP, gcp_clients(cloud))
    cloud.objects[copy_url(GCP)] = b'{"record_version": 2'
    with pytest.raises(StackLoadError, match=r"gs://acme-setup-acme-prod-1/record.json: not a release record: not "
                                             "JSON"):
        load(GCP, gcp_clients(cloud))
    cloud.objects[copy_url(GCP)] = json.dumps({"record_version": 2}).encode()
    with pytest.raises(StackLoadError, match=r"record\.json: not a release record"):
        load(GCP, gcp_clients(cloud))
    cloud.deny.add(("GET", "/download/storage/v1/b/acme-setup-acme-prod-1"))
    with pytest.raises(StateStoreError, match=r"could not be read: .*state/provision set"):
        load(GCP, gcp_clients(cloud))


@pytest.mark.parametrize(("ctx", "place"), [
    (AWS, "`alien-setup/record.json` in the state bucket"),
    (GCP, "`record.json` in the bucket `acme-setup-acme-prod-1`, where the management identity has no binding"),
    (AZURE, "`record.json` in the container `alien-setup`"),
], ids=["aws", "gcp", "azure"])
def test_the_security_document_says_where_the_baseline_is_kept(ctx: alien.DeploymentContext, place: str) -> None:
    from alien_pulumi.permissions import render_markdown

    document = render_markdown(derive_plan(SPEC, ctx))
    assert place in document and "which the vendor cannot write" in document
