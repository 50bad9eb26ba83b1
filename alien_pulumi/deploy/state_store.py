"""The deployment's state store in the customer's cloud (DESIGN.md §4a), bootstrapped before setup with the
admin's credentials: the backend both parties' runs use, and the key that is the stack's secrets provider.

Idempotent: what exists is kept (and checked), what is missing is created; nothing is ever deleted or
weakened. The store is not a resource of the stack, so no `pulumi destroy` can remove it: it is frozen and
retained by construction, and removing it is the customer's own decision.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from alien_pulumi.errors import AutomationError
from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.types import Platform


class StateStoreError(AutomationError):
    """The state store could not be created or is not what setup needs."""


@dataclass(frozen=True)
class StateStore:
    backend_url: str
    secrets_provider: str
    created: list[str] = field(default_factory=list)  # what this bootstrap created (empty: all existed)
    kept: list[str] = field(default_factory=list)  # what already existed

    def login_lines(self, stack: str) -> list[str]:
        """What an admin who runs plain `pulumi up` types, in order."""
        return [f"pulumi login '{self.backend_url}'",
                f"pulumi stack init {stack} --secrets-provider '{self.secrets_provider}'"]


def store_urls(ctx: DeploymentContext) -> tuple[str, str]:
    """Backend URL and secrets provider of the deployment's store (they follow from its names alone)."""
    names = ctx.state_names()
    if ctx.platform is Platform.AWS:
        return (f"s3://{names['state_bucket']}?region={ctx.region}",
                f"awskms://{names['state_key']}?region={ctx.region}")
    if ctx.platform is Platform.GCP:
        key = (f"projects/{ctx.project}/locations/{ctx.region}/keyRings/{names['state_key_ring']}/cryptoKeys/"
               f"{names['state_key']}")
        return f"gs://{names['state_bucket']}", f"gcpkms://{key}"
    return (f"azblob://{names['state_container']}?storage_account={names['state_account']}",
            f"azurekeyvault://{names['state_vault']}.vault.azure.net/keys/{names['state_key']}")


def bootstrap(ctx: DeploymentContext, session: Any = None) -> StateStore:
    """Create (or find) the store of ``ctx``. ``session``: the cloud SDK session to use (tests, profiles)."""
    if ctx.example:
        raise StateStoreError("the state store of an example context is never created: give the deployment's "
                              "setup bundle or every context flag")
    if ctx.platform is Platform.AWS:
        return _aws(ctx, session)
    raise StateStoreError(f"the state store bootstrap of {ctx.platform.value} is not available in this version: "
                          "pass the backend and secrets provider you created (--backend, --secrets-provider)")


def _aws(ctx: DeploymentContext, session: Any) -> StateStore:
    import boto3
    import botocore.exceptions

    session = session or boto3.session.Session()
    names = ctx.state_names()
    bucket, alias = names["state_bucket"], names["state_key"]
    s3 = session.client("s3", region_name=ctx.region)
    kms = session.client("kms", region_name=ctx.region)
    created: list[str] = []
    kept: list[str] = []
    try:
        try:
            key_arn = kms.describe_key(KeyId=alias)["KeyMetadata"]["Arn"]
            kept.append(f"KMS key {alias}")
        except kms.exceptions.NotFoundException:
            key = kms.create_key(Description=f"Pulumi secrets and state encryption of deployment {ctx.prefix}",
                                 Tags=[{"TagKey": "alien-state", "TagValue": ctx.prefix},
                                       {"TagKey": "alien-stack", "TagValue": ctx.stack}])["KeyMetadata"]
            key_arn = key["Arn"]
            kms.enable_key_rotation(KeyId=key["KeyId"])
            kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
            created.append(f"KMS key {alias}")
        try:
            options = {} if ctx.region == "us-east-1" else {
                "CreateBucketConfiguration": {"LocationConstraint": ctx.region}}
            s3.create_bucket(Bucket=bucket, ObjectOwnership="BucketOwnerEnforced", **options)
            created.append(f"S3 bucket {bucket}")
        except s3.exceptions.BucketAlreadyOwnedByYou:
            kept.append(f"S3 bucket {bucket}")
        # Applied every time: a bootstrap run again restores what the store must be, never less.
        s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
            "BucketKeyEnabled": True}]})
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [f"arn:{ctx.partition}:s3:::{bucket}", f"arn:{ctx.partition}:s3:::{bucket}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}))
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [
            {"Key": "alien-state", "Value": ctx.prefix}, {"Key": "alien-stack", "Value": ctx.stack}]})
    except s3.exceptions.BucketAlreadyExists:
        raise StateStoreError(f"the S3 bucket name {bucket} is taken by another AWS account: the state store "
                              "cannot be created under it") from None
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        raise StateStoreError(f"AWS refused the state store bootstrap ({exc.operation_name}: {error.get('Code')}: "
                              f"{error.get('Message')}); the admin's credentials need the provisioning layer's "
                              "state/provision set") from None
    except botocore.exceptions.BotoCoreError as exc:
        raise StateStoreError(f"could not reach AWS for the state store bootstrap: {exc}") from None
    backend, secrets = store_urls(ctx)
    return StateStore(backend, secrets, created, kept)
