"""GCP Queue: a Pub/Sub topic and one pull subscription on it (the queue the application consumes).

A function's queue trigger is a separate push subscription on this topic, declared by the Grants component
(setup-owned); the topic fans every message out to both, so a queue consumed only through a trigger keeps an
unread backlog on its pull subscription until the retention drops it.
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from alien_pulumi.components.base import Env, ResourceComponent
from alien_pulumi.model.resources import QueueSpec
from alien_pulumi.model.types import Platform, ResourceType

# Pub/Sub keeps unacknowledged messages of a subscription at most 7 days (a topic up to 31 days).
MAX_SUBSCRIPTION_RETENTION_S = 7 * 24 * 3600


def subscription_retention_s(queue: QueueSpec) -> int:
    return min(queue.message_retention_s, MAX_SUBSCRIPTION_RETENTION_S)


class Queue(ResourceComponent):
    cloud = Platform.GCP
    type_name = "Queue"
    kind = ResourceType.QUEUE

    def __init__(self, res: QueueSpec, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(res, env, opts)
        self.spec = res  # typed: self.res is a ResourceSpec
        project = env.ctx.project
        name = self.names["name"]
        self.topic = gcp.pubsub.Topic(
            self.child_name("topic"),
            name=name,
            project=project,
            # The topic keeps the full retention (it may exceed a subscription's 7 days, for seek/replay).
            message_retention_duration=f"{res.message_retention_s}s",
            labels=self.tags,
            opts=self.child_opts(),
        )
        self.subscription = gcp.pubsub.Subscription(
            self.child_name("subscription"),
            name=name,
            project=project,
            topic=self.topic.name,
            ack_deadline_seconds=res.visibility_timeout_s,
            message_retention_duration=f"{subscription_retention_s(res)}s",
            # An idle subscription expires after 31 days by default: a queue must not disappear.
            expiration_policy=gcp.pubsub.SubscriptionExpirationPolicyArgs(ttl=""),
            labels=self.tags,
            opts=self.child_opts(),
        )
        self.link_env = {
            self.env_key("TOPIC"): self.topic.name.apply(lambda topic: f"projects/{project}/topics/{topic}"),
            self.env_key("SUBSCRIPTION"): self.subscription.name.apply(
                lambda sub: f"projects/{project}/subscriptions/{sub}"),
        }
        self.register_outputs({"topic": self.topic.name, "subscription": self.subscription.name})
