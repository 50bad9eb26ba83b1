"""End to end on moto with IAM enforcement: a frozen bucket and queue and a live bucket, the management role
created with the rendered trust policy and holding the rendered management layer (as Identities attaches
it), assumed with the deployment's external id. Management updates the live bucket and is denied on the
frozen ones.

moto evaluates identity policies (resource ARNs checked for S3, SQS, IAM and STS; Lambda and ECS calls only
against "*", so live compute cannot be exercised here) and a trust policy's principal, but not its
conditions, and it cannot let an assumed-role session assume another role: the vendor is a user in moto (the
rendered trust with that user as principal), and the ExternalId condition is checked on the document only (a
policy simulator evaluates the conditions: tests/aws_simulator).
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.moto_server import moto_server

ACCOUNT = "123456789012"
REGION = "us-east-1"
PREFIX = "acme-myapp"
EXTERNAL_ID = "x7Kq2Vb9mT4wLz8Rj3Nc6Hy1Pd5Fs0Ga2Ue7Qo9Wi4E"  # as `deployments new` generates one
ROLE_NAME = f"{PREFIX}-management"
BUCKET = f"{PREFIX}-data"
QUEUE = f"{PREFIX}-jobs"
LIVE_BUCKET = f"{PREFIX}-assets"
VENDOR_ROLE = "arn:aws:iam::111122223333:role/alien-release"


def management_layer() -> dict:
    """The management layer of a stack with a frozen bucket and queue and a live bucket, rendered as the
    Identities component attaches it: the trust policy and one managed policy per document."""
    from alien_pulumi import DeploymentContext, Queue, Stack, Storage
    from alien_pulumi.permissions.plan import derive_plan
    from alien_pulumi.permissions.render import render_layer

    spec = (Stack(PREFIX).platforms("aws").add(Storage("data"), "frozen").add(Queue("jobs"), "frozen")
            .add(Storage("assets"), "live").build())
    ctx = DeploymentContext.create("aws", PREFIX, prefix=PREFIX, account_id=ACCOUNT, region=REGION,
                                   vendor_principal=VENDOR_ROLE, external_id=EXTERNAL_ID)
    layer = render_layer(derive_plan(spec, ctx), "management")
    for doc in layer["policies"]:
        for st in doc["Statement"]:
            # the state key is bound by its tag (aws:ResourceTag); everything else is unconditioned
            assert "Condition" not in st or all(a.startswith("kms:") for a in st["Action"]), st
    return layer


@pytest.fixture(scope="module")
def moto_endpoint():
    # Enforcement is read from moto.settings on every request: set it here and restore it, rather than in
    # the environment at import time, so other test modules using moto are not affected.
    from moto.iam.models import iam_backends
    from moto.s3.models import s3_backends
    from moto.sqs.models import sqs_backends

    # moto's backends are process-wide: start from none and leave none (users, roles, buckets, queues)
    # to other test modules.
    with moto_server(enforce_iam=True, reset=(iam_backends, s3_backends, sqs_backends)) as endpoint:
        yield endpoint


def client(service, endpoint, creds):
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint, **creds)


@pytest.fixture(scope="module")
def admin(moto_endpoint):
    # With enforcement on from the first request, the admin user is created in the backend directly.
    from moto.iam.models import iam_backends

    iam = iam_backends[ACCOUNT]["global"]
    iam.create_user(region_name=REGION, user_name="admin")
    admin_policy = json.dumps({"Version": "2012-10-17",
                               "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    iam.put_user_policy("admin", "admin", admin_policy)
    key = iam.create_access_key("admin")
    return {"aws_access_key_id": key.access_key_id, "aws_secret_access_key": key.secret_access_key}


@pytest.fixture(scope="module")
def stack(moto_endpoint, admin):
    s3 = client("s3", moto_endpoint, admin)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": [{"Key": "alien-stack", "Value": PREFIX}]})
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    s3.put_public_access_block(Bucket=BUCKET, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True})
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [{
        "ID": "retention", "Status": "Enabled", "Filter": {"Prefix": ""},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 30}}]})
    s3.put_object(Bucket=BUCKET, Key="customer/data.txt", Body=b"secret contents")
    s3.create_bucket(Bucket=LIVE_BUCKET)
    sqs = client("sqs", moto_endpoint, admin)
    queue_url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody="customer message")

    iam = client("iam", moto_endpoint, admin)
    layer = management_layer()
    trust = layer["trust_policy"]
    assert [st["Principal"] for st in trust["Statement"]] == [{"AWS": VENDOR_ROLE}] * 3  # one per STS action
    moto_trust = {**trust, "Statement": [{**st, "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/vendor"}}
                                         for st in trust["Statement"]]}
    role_arn = iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(moto_trust))["Role"]["Arn"]
    for number, policy in enumerate(layer["policies"], start=1):
        policy_arn = iam.create_policy(PolicyName=f"{ROLE_NAME}-{number}",
                                       PolicyDocument=json.dumps(policy))["Policy"]["Arn"]
        iam.attach_role_policy(RoleName=ROLE_NAME, PolicyArn=policy_arn)

    # the vendor's principal may only assume the management role
    iam.create_user(UserName="vendor")
    iam.put_user_policy(UserName="vendor", PolicyName="assume", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}]}))
    key = iam.create_access_key(UserName="vendor")["AccessKey"]
    vendor = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
    return {"role_arn": role_arn, "queue_url": queue_url, "vendor": vendor}


@pytest.fixture(scope="module")
def management(moto_endpoint, stack):
    sts = client("sts", moto_endpoint, stack["vendor"])
    creds = sts.assume_role(RoleArn=stack["role_arn"], RoleSessionName="release-1-acme",
                            ExternalId=EXTERNAL_ID, DurationSeconds=3600)["Credentials"]
    return {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"]}


def denied(call, *args, **kwargs):
    with pytest.raises(ClientError) as e:
        call(*args, **kwargs)
    err = e.value.response["Error"]
    status = e.value.response["ResponseMetadata"]["HTTPStatusCode"]
    assert err["Code"] in {"AccessDenied", "AccessDeniedException"} or (
        status == 403 and "not authorized" in err.get("Message", "")
    ), e.value.response


def test_enforcement_is_on(moto_endpoint):
    s3 = client("s3", moto_endpoint, {"aws_access_key_id": "AKIANOBODY000000000", "aws_secret_access_key": "x"})
    with pytest.raises(ClientError):
        s3.list_buckets()


def test_heartbeat_reads_configuration(moto_endpoint, management):
    s3 = client("s3", moto_endpoint, management)
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    rules = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert rules[0]["ID"] == "retention"
    assert s3.get_bucket_location(Bucket=BUCKET)["LocationConstraint"] in (None, REGION)
    tags = s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"]
    assert {"Key": "alien-stack", "Value": PREFIX} in tags


def moto_maps_s3_query(query: str) -> bool:
    from moto.s3.responses import ACTION_MAP

    return query in ACTION_MAP["BUCKET"]["GET"]


def test_encryption_and_public_access_block_reads(moto_endpoint, management):
    """IAM authorises GetBucketEncryption as s3:GetEncryptionConfiguration and GetPublicAccessBlock as
    s3:GetBucketPublicAccessBlock, both held by heartbeat. moto's S3 ACTION_MAP has no entry for the
    `encryption` / `publicAccessBlock` queries and authorises both calls as s3:ListBucket, which heartbeat
    must not hold: under moto they are denied. Accepted only while moto's map lacks them."""
    s3 = client("s3", moto_endpoint, management)
    if moto_maps_s3_query("encryption"):
        enc = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]
        assert enc["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    else:
        denied(s3.get_bucket_encryption, Bucket=BUCKET)
    if moto_maps_s3_query("publicAccessBlock"):
        pab = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
        assert pab["BlockPublicAcls"] is True
    else:
        denied(s3.get_public_access_block, Bucket=BUCKET)


def test_heartbeat_reads_queue_attributes(moto_endpoint, management, stack):
    sqs = client("sqs", moto_endpoint, management)
    attrs = sqs.get_queue_attributes(QueueUrl=stack["queue_url"], AttributeNames=["All"])["Attributes"]
    assert attrs["QueueArn"] == f"arn:aws:sqs:{REGION}:{ACCOUNT}:{QUEUE}"


def test_no_contents(moto_endpoint, management, stack):
    s3 = client("s3", moto_endpoint, management)
    denied(s3.get_object, Bucket=BUCKET, Key="customer/data.txt")
    denied(s3.put_object, Bucket=BUCKET, Key="vendor.txt", Body=b"x")
    denied(s3.list_objects_v2, Bucket=BUCKET)
    sqs = client("sqs", moto_endpoint, management)
    denied(sqs.receive_message, QueueUrl=stack["queue_url"])
    denied(sqs.send_message, QueueUrl=stack["queue_url"], MessageBody="x")


def test_no_configuration_writes_on_frozen(moto_endpoint, management, stack):
    s3 = client("s3", moto_endpoint, management)
    denied(s3.put_bucket_versioning, Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    denied(s3.delete_bucket, Bucket=BUCKET)
    sqs = client("sqs", moto_endpoint, management)
    denied(sqs.set_queue_attributes, QueueUrl=stack["queue_url"], Attributes={"Policy": "{}"})
    iam = client("iam", moto_endpoint, management)
    denied(iam.put_role_policy, RoleName=ROLE_NAME, PolicyName="x", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))


def test_other_bucket_not_readable(moto_endpoint, admin, management):
    client("s3", moto_endpoint, admin).create_bucket(Bucket="other-team-bucket")
    denied(client("s3", moto_endpoint, management).get_bucket_versioning, Bucket="other-team-bucket")


def test_wrong_external_id(moto_endpoint, admin, stack):
    # What moto enforces: only principals whose identity policy allows sts:AssumeRole on the role.
    stranger = client("iam", moto_endpoint, admin)
    stranger.create_user(UserName="stranger")
    key = stranger.create_access_key(UserName="stranger")["AccessKey"]
    sts = client("sts", moto_endpoint, {"aws_access_key_id": key["AccessKeyId"],
                                         "aws_secret_access_key": key["SecretAccessKey"]})
    denied(sts.assume_role, RoleArn=stack["role_arn"], RoleSessionName="probe", ExternalId=EXTERNAL_ID)

    # The role's trust, as moto stores it, requires the deployment's external id of every principal (AWS refuses
    # a wrong one; moto does not evaluate trust conditions, see the module docstring).
    role = client("iam", moto_endpoint, admin).get_role(RoleName=ROLE_NAME)["Role"]
    doc = role["AssumeRolePolicyDocument"]
    doc = json.loads(doc) if isinstance(doc, str) else doc
    (assume,) = [st for st in doc["Statement"] if st["Action"] == "sts:AssumeRole"]
    assert assume["Condition"]["StringEquals"]["sts:ExternalId"] == EXTERNAL_ID
    assert sorted(st["Action"] for st in doc["Statement"]) == ["sts:AssumeRole", "sts:SetSourceIdentity",
                                                               "sts:TagSession"]
    assert all(st["Effect"] == "Allow" for st in doc["Statement"])


def test_management_updates_the_live_bucket_only(moto_endpoint, admin, management):
    """What a release applies to a live storage (versioning, retention) goes through, on that bucket alone."""
    s3 = client("s3", moto_endpoint, management)
    s3.put_bucket_versioning(Bucket=LIVE_BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(Bucket=LIVE_BUCKET, LifecycleConfiguration={"Rules": [{
        "ID": "retention", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 90}}]})
    as_admin = client("s3", moto_endpoint, admin)
    assert as_admin.get_bucket_versioning(Bucket=LIVE_BUCKET)["Status"] == "Enabled"
    assert as_admin.get_bucket_lifecycle_configuration(Bucket=LIVE_BUCKET)["Rules"][0]["Expiration"] == {"Days": 90}
    denied(s3.put_bucket_lifecycle_configuration, Bucket=BUCKET, LifecycleConfiguration={"Rules": [{
        "ID": "retention", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}]})
    assert as_admin.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"][0]["ID"] == "retention"
    denied(s3.put_object, Bucket=LIVE_BUCKET, Key="vendor.txt", Body=b"x")
    denied(s3.put_bucket_policy, Bucket=LIVE_BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": []}))
