"""GCP Storage: a Cloud Storage bucket; versioning, lifecycle and labels are fields of the bucket itself.

Unlike the AWS HeadBucket trap, the bucket's read (Buckets.Get) is metadata only, so the bucket resource is
refreshed and updated directly (storage.buckets.get/update). The provider's read also calls compute
Projects.Get when ``project`` is empty: ``project`` is always set so heartbeat needs no compute permission.
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from alien_pulumi.components.base import Env, ResourceComponent
from alien_pulumi.model.resources import StorageSpec
from alien_pulumi.model.types import Platform, ResourceType


class Storage(ResourceComponent):
    cloud = Platform.GCP
    type_name = "Storage"
    kind = ResourceType.STORAGE

    def __init__(self, res: StorageSpec, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(res, env, opts)
        lifecycle_rules = None
        if res.retention_days is not None:
            days = res.retention_days
            lifecycle_rules = [
                # Objects older than the retention are deleted (with versioning they become noncurrent first)...
                gcp.storage.BucketLifecycleRuleArgs(
                    action=gcp.storage.BucketLifecycleRuleActionArgs(type="Delete"),
                    condition=gcp.storage.BucketLifecycleRuleConditionArgs(age=days, with_state="LIVE"),
                ),
                # ...and noncurrent versions that long after they were replaced.
                gcp.storage.BucketLifecycleRuleArgs(
                    action=gcp.storage.BucketLifecycleRuleActionArgs(type="Delete"),
                    condition=gcp.storage.BucketLifecycleRuleConditionArgs(days_since_noncurrent_time=days),
                ),
            ]
        self.bucket = gcp.storage.Bucket(
            self.child_name("bucket"),
            name=self.names["name"],
            project=env.ctx.project,
            # Regional, in the deployment's region (the API reports locations in upper case).
            location=env.ctx.gcp_region.upper(),
            uniform_bucket_level_access=True,  # IAM only, no object ACLs (bindings are bucket IAM members)
            public_access_prevention="enforced",
            versioning=gcp.storage.BucketVersioningArgs(enabled=res.versioning),
            lifecycle_rules=lifecycle_rules,
            # Never force_destroy: its delete lists and deletes objects (contents), and deleting a bucket
            # must never delete the customer's data.
            force_destroy=False,
            labels=self.tags,
            opts=self.child_opts(),
        )
        self.link_env = {self.env_key("BUCKET"): self.bucket.name}
        self.register_outputs({"bucket": self.bucket.name, "url": self.bucket.url})
