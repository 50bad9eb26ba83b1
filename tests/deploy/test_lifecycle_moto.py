"""One AWS deployment end to end against moto in server mode, with IAM enforcement on:

the vendor registers it (bundle) -> the admin bootstraps the state store (S3 bucket + KMS key created in moto)
-> setup runs the provisioning program through the Automation API (the recording stand-in CLI) on that
store and writes the setup record -> the vendor imports it -> a release runs on the record's backend and
secrets provider with management credentials only (STS AssumeRole in moto). Then the rendered management
policy, attached to the management role in moto, reads and writes that stack's state objects and uses that
key, and is denied a customer bucket's objects and another stack's state.

moto checks a trust policy's principal against the caller but cannot let an assumed-role session assume
another role, so the vendor is a user in moto and the management role's trust names that user; the rendered
trust policy (the vendor's role ARN, the external id) is checked as a document.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from alien_pulumi.deploy.state_store import _Aws
from alien_pulumi.fleet.registry import Registry
from alien_pulumi.model.record import ReleaseRecord
from tests.artifacts import artifact
from tests.conftest import ROOT
from tests.deploy.lifecycle import admin, vendor
from tests.fake_cli.fixtures import FakeCli
from tests.moto_server import moto_server

ACCOUNT = "123456789012"  # moto's account
REGION = "eu-west-1"
VENDOR_ROLE = f"arn:aws:iam::{ACCOUNT}:role/vendor-release"
STACK = ROOT / "examples" / "my_app.py"
STATE_BUCKET = f"acme-state-{ACCOUNT}"
CUSTOMER_BUCKET = "acme-customer-data"


@pytest.fixture
def moto() -> Iterator[str]:
    from moto.iam.models import iam_backends
    from moto.kms.models import kms_backends
    from moto.s3.models import s3_backends

    with moto_server(enforce_iam=True, reset=(iam_backends, s3_backends, kms_backends)) as endpoint:
        yield endpoint


def keys(name: str, policy: dict[str, Any]) -> dict[str, str]:
    from moto.iam.models import iam_backends

    iam = iam_backends[ACCOUNT]["global"]
    iam.create_user(region_name=REGION, user_name=name)
    iam.put_user_policy(name, "p", json.dumps(policy))
    key = iam.create_access_key(name)
    return {"AWS_ACCESS_KEY_ID": key.access_key_id, "AWS_SECRET_ACCESS_KEY": key.secret_access_key}


def client(service: str, endpoint: str, creds: dict[str, str]) -> Any:
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint,
                        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
                        aws_session_token=creds.get("AWS_SESSION_TOKEN"))


def denied(call: Any, **kwargs: Any) -> None:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403, info.value.response


def test_register_bootstrap_setup_import_release(moto: str, fake_cli: FakeCli, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    admin_keys = keys("admin", everything)
    vendor_keys = keys("vendor", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{ACCOUNT}:role/acme-management"}]})
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for key, value in admin_keys.items():
        monkeypatch.setenv(key, value)
    state = tmp_path / "vendor"

    # 1. the vendor registers the deployment
    bundle = tmp_path / "acme.bundle.json"
    registered = vendor("deployments", "new", "acme", "-p", "aws", "--account-id", ACCOUNT, "--region", REGION,
                        "--vendor-principal", VENDOR_ROLE, "--out", str(bundle), "--state-dir", str(state))
    assert registered.exit_code == 0, registered.output
    external_id = json.loads(bundle.read_text())["context"]["external_id"]

    # 2. the admin bootstraps the state store: bucket and key in moto; a second run keeps them
    first = admin("bootstrap", "--bundle", str(bundle), "--spec", str(artifact(STACK)))
    assert first.exit_code == 0, first.output
    assert f"created S3 bucket {STATE_BUCKET}" in first.stdout and "created KMS key" in first.stdout
    assert f"pulumi login 's3://{STATE_BUCKET}?region={REGION}'" in first.stdout
    assert f"--secrets-provider 'awskms://alias/acme-pulumi-state?region={REGION}'" in first.stdout
    assert "pulumi config set alien:accountId '123456789012'" in first.stdout
    again = admin("bootstrap", "--bundle", str(bundle), "--spec", str(artifact(STACK)))
    assert again.exit_code == 0 and "created" not in again.stdout and "exists, kept" in again.stdout
    s3 = client("s3", moto, admin_keys)
    assert s3.get_bucket_versioning(Bucket=STATE_BUCKET)["Status"] == "Enabled"
    rule = s3.get_bucket_encryption(Bucket=STATE_BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    pab = s3.get_public_access_block(Bucket=STATE_BUCKET)["PublicAccessBlockConfiguration"]
    assert all(pab.values())
    kms = client("kms", moto, admin_keys)
    state_key = kms.describe_key(KeyId="alias/acme-pulumi-state")["KeyMetadata"]
    assert rule["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"] == state_key["Arn"]
    assert kms.get_key_rotation_status(KeyId=state_key["KeyId"])["KeyRotationEnabled"] is True
    assert {"TagKey": "alien-state", "TagValue": "acme"} in kms.list_resource_tags(KeyId=state_key["KeyId"])["Tags"]
    # The store refuses plain HTTP (TLS-only bucket policy), as AWS would. moto serves HTTP and cannot tell (it
    # denies every call under that policy), so from here each bootstrap runs as written and the test then lifts the
    # policy, for the admin's setup (which keeps its record in the bucket); step 6 puts it back for the vendor.
    tls_policy = s3.get_bucket_policy(Bucket=STATE_BUCKET)["Policy"]
    configure = _Aws._configure

    def configure_then_lift(self: _Aws, found: Any) -> list[str]:
        fixed = configure(self, found)
        self.s3.delete_bucket_policy(Bucket=self.bucket)
        return fixed

    monkeypatch.setattr(_Aws, "_configure", configure_then_lift)
    s3.delete_bucket_policy(Bucket=STATE_BUCKET)

    # 3. setup through the Automation API on that store; the program's outputs are the management identity
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/acme-management"
    monkeypatch.setenv("FAKE_PULUMI_OUTPUTS", json.dumps(
        {"management_identity": {"role_arn": role_arn, "external_id": external_id}}))
    monkeypatch.setenv("FAKE_PULUMI_NEW_STACK", "1")
    setup = admin("up", str(artifact(STACK)), "--bundle", str(bundle), "--yes", "--state-dir", str(tmp_path / "admin"))
    monkeypatch.delenv("FAKE_PULUMI_NEW_STACK")
    assert setup.exit_code == 0, setup.output
    init = fake_cli.call("init")
    assert init["args"][init["args"].index("--secrets-provider") + 1] == \
        f"awskms://alias/acme-pulumi-state?region={REGION}"
    workspace = tmp_path / "admin" / "workspaces" / "acme" / "provision"
    assert f"url: s3://{STATE_BUCKET}?region={REGION}" in (workspace / "Pulumi.yaml").read_text()
    record_file = tmp_path / "admin" / "records" / "acme.json"
    record = ReleaseRecord.model_validate_json(record_file.read_text())
    assert record.backend == f"s3://{STATE_BUCKET}?region={REGION}"
    assert record.secrets_provider == f"awskms://alias/acme-pulumi-state?region={REGION}"
    assert record.versions["pulumi-cli"] == "3.200.0" and record.versions["pulumi-aws"]
    assert record.outputs["management_identity"]["role_arn"] == role_arn
    # the record's copy, kept beside the state where the next setup (from any machine) reads it
    kept = s3.get_object(Bucket=STATE_BUCKET, Key="alien-setup/record.json")["Body"].read()
    assert ReleaseRecord.model_validate_json(kept) == record
    trust = record.permissions["management"]["trust_policy"]["Statement"][0]
    assert trust["Principal"] == {"AWS": VENDOR_ROLE}
    assert trust["Condition"]["StringEquals"]["sts:ExternalId"] == external_id

    # the management role as setup creates it: the rendered management policies (trust: see the docstring)
    iam = client("iam", moto, admin_keys)
    moto_trust = {**trust, "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/vendor"}}
    iam.create_role(RoleName="acme-management", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [moto_trust]}))
    for number, policy in enumerate(record.permissions["management"]["policies"], start=1):
        arn = iam.create_policy(PolicyName=f"acme-management-{number}", PolicyDocument=json.dumps(policy))
        iam.attach_role_policy(RoleName="acme-management", PolicyArn=arn["Policy"]["Arn"])
    s3.create_bucket(Bucket=CUSTOMER_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket=CUSTOMER_BUCKET, Key="invoices.csv", Body=b"customer data")

    # 4. the vendor imports the record into the registration
    added = vendor("deployments", "add", str(record_file), "--state-dir", str(state))
    assert added.exit_code == 0, added.output

    # 5. a release on the record's backend, with the vendor's own credentials only to assume the role
    for key, value in vendor_keys.items():
        monkeypatch.setenv(key, value)
    fake_cli.log.unlink()
    changed = tmp_path / "stack.py"
    changed.write_text(STACK.read_text().replace("memory_mb=512", "memory_mb=1024"))
    released = vendor("release", str(changed), "-d", "acme", "--release-id", "r2", "--no-resolve",
                      "--state-dir", str(state), "--json")  # images: tags as written (no registry here)
    assert released.exit_code == 0, released.output
    assert json.loads(released.stdout)["deployments"]["acme"]["status"] == "succeeded"
    up = fake_cli.call("up")
    env = up["env"]
    assert env["AWS_ACCESS_KEY_ID"] not in (admin_keys["AWS_ACCESS_KEY_ID"], vendor_keys["AWS_ACCESS_KEY_ID"])
    assert env["AWS_SESSION_TOKEN"] and env["AWS_REGION"] == REGION
    assert "AWS_PROFILE" not in env and "AWS_ENDPOINT_URL" not in env
    manage = state / "workspaces" / "acme" / "manage"
    assert f"url: s3://{STATE_BUCKET}?region={REGION}" in (manage / "Pulumi.yaml").read_text()
    select = [c for c in fake_cli.calls() if "select" in c["args"] or "init" in c["args"]]
    assert select and "PULUMI_CONFIG_PASSPHRASE" not in select[-1]["env"]
    assert Registry(state).get_deployment("acme").record.release == "r2"  # type: ignore[union-attr]

    # 6. what the management credentials of that release may do, with moto's IAM enforcement
    management = {k: env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
    as_vendor = client("s3", moto, management)
    s3.put_bucket_policy(Bucket=STATE_BUCKET, Policy=tls_policy)
    tls_only = json.loads(tls_policy)["Statement"][0]
    assert tls_only["Effect"] == "Deny" and tls_only["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    denied(as_vendor.get_object, Bucket=STATE_BUCKET, Key=".pulumi/meta.yaml")
    s3.delete_bucket_policy(Bucket=STATE_BUCKET)
    # the setup record's copy is outside every management grant: the vendor can neither change nor remove it
    denied(as_vendor.put_object, Bucket=STATE_BUCKET, Key="alien-setup/record.json", Body=b"{}")
    denied(as_vendor.delete_object, Bucket=STATE_BUCKET, Key="alien-setup/record.json")
    state_object = ".pulumi/stacks/alien/acme.json"
    as_vendor.put_object(Bucket=STATE_BUCKET, Key=state_object, Body=b'{"version": 3}')
    assert as_vendor.get_object(Bucket=STATE_BUCKET, Key=state_object)["Body"].read() == b'{"version": 3}'
    as_vendor.put_object(Bucket=STATE_BUCKET, Key=".pulumi/locks/organization/alien/acme/1.json", Body=b"{}")
    keys_listed = [o["Key"] for o in as_vendor.list_objects_v2(Bucket=STATE_BUCKET).get("Contents", [])]
    assert state_object in keys_listed
    # moto authorises every KMS call against resource "*" (it resolves no KMS resource ARNs), so a
    # key-scoped grant cannot be exercised there: the grant is matched against the key moto created instead.
    statements = [st for doc in record.permissions["management"]["policies"] for st in doc["Statement"]]
    (use_key,) = [st for st in statements if "kms:Encrypt" in st["Action"]]
    assert {"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"} <= set(use_key["Action"])
    assert any(fnmatch.fnmatch(state_key["Arn"], r) for r in use_key["Resource"])
    tag = use_key["Condition"]["StringEquals"]["aws:ResourceTag/alien-state"]
    assert {"TagKey": "alien-state", "TagValue": tag} in kms.list_resource_tags(KeyId=state_key["KeyId"])["Tags"]
    denied(client("kms", moto, management).create_key)  # no other KMS right at all
    denied(as_vendor.get_object, Bucket=CUSTOMER_BUCKET, Key="invoices.csv")
    denied(as_vendor.put_object, Bucket=CUSTOMER_BUCKET, Key="vendor.txt", Body=b"x")
    denied(as_vendor.get_object, Bucket=STATE_BUCKET, Key=".pulumi/stacks/alien/other-stack.json")
    denied(as_vendor.put_bucket_policy, Bucket=STATE_BUCKET, Policy="{}")
