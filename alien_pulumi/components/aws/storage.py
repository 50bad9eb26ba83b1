"""AWS Storage: an S3 bucket; everything a release may change lives in sub-resources.

DESIGN.md §4: the bucket resource's read starts with HeadBucket (s3:ListBucket, i.e. listing contents),
which management never holds; so versioning, encryption and lifecycle are sub-resources whose reads and
updates need no s3:ListBucket, and a change to the bucket resource itself is a setup change.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from alien_pulumi.components.base import Env, ResourceComponent
from alien_pulumi.model.resources import StorageSpec
from alien_pulumi.model.types import Platform, ResourceType


class Storage(ResourceComponent):
    cloud = Platform.AWS
    type_name = "Storage"
    kind = ResourceType.STORAGE

    def __init__(self, res: StorageSpec, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(res, env, opts)
        name = self.names["name"]
        # Never force_destroy: deleting a bucket must never delete the customer's objects.
        self.bucket = aws.s3.Bucket(self.child_name("bucket"), bucket=name, force_destroy=False, tags=self.tags,
                                    opts=self.child_opts())
        self.public_access_block = aws.s3.BucketPublicAccessBlock(
            self.child_name("public-access-block"),
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=self.child_opts(),
        )
        self.versioning = aws.s3.BucketVersioning(
            self.child_name("versioning"),
            bucket=self.bucket.id,
            versioning_configuration={"status": "Enabled" if res.versioning else "Suspended"},
            opts=self.child_opts(),
        )
        self.encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            self.child_name("encryption"),
            bucket=self.bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            opts=self.child_opts(),
        )
        if res.retention_days is not None:
            aws.s3.BucketLifecycleConfiguration(
                self.child_name("lifecycle"),
                bucket=self.bucket.id,
                rules=[{
                    "id": "retention",
                    "status": "Enabled",
                    "filter": {},
                    "expiration": {"days": res.retention_days},
                    "noncurrent_version_expiration": {"noncurrent_days": res.retention_days},
                }],
                opts=self.child_opts(),
            )
        self.link_env = {self.env_key("BUCKET"): self.bucket.bucket}
        self.register_outputs({"bucket": self.bucket.bucket, "arn": self.bucket.arn})
