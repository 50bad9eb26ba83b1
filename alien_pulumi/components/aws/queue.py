"""AWS Queue: one SQS queue with SQS-managed server-side encryption.

No queue policy is declared: access is granted by identity policies only (a queue policy could hand the
messages to another principal, and SetQueueAttributes, which writes it, is never management).
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from alien_pulumi.components.base import Env, ResourceComponent
from alien_pulumi.model.resources import QueueSpec
from alien_pulumi.model.types import Platform, ResourceType


class Queue(ResourceComponent):
    cloud = Platform.AWS
    type_name = "Queue"
    kind = ResourceType.QUEUE

    def __init__(self, res: QueueSpec, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(res, env, opts)
        self.queue = aws.sqs.Queue(
            self.child_name("queue"),
            name=self.names["name"],
            visibility_timeout_seconds=res.visibility_timeout_s,
            message_retention_seconds=res.message_retention_s,
            sqs_managed_sse_enabled=True,
            tags=self.tags,
            opts=self.child_opts(),
        )
        # The queue resource's id is its URL.
        self.link_env = {self.env_key("QUEUE_URL"): self.queue.url}
        self.register_outputs({"name": self.queue.name, "url": self.queue.url, "arn": self.queue.arn})
