"""Azure Queue: a Service Bus namespace and one queue in it.

The namespace disables local (SAS key) auth, so messages are reachable only with Entra ID tokens (the
runtime identities' queue data sets, and a queue-triggered function's scale rule, which authenticates with
the function's runtime identity); no authorization rule is created and no key is listed. A release may
update the queue's properties; the namespace is setup-owned (its write could re-enable local auth).
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure

from alien_pulumi.components.azure._shared import after, iso_duration
from alien_pulumi.components.base import Env, ResourceComponent
from alien_pulumi.model.resources import QueueSpec
from alien_pulumi.model.types import Platform, ResourceType

# Service Bus caps a message lock at 5 minutes; a longer visibility timeout is capped (the consumer renews
# the lock for longer work, which the Service Bus SDKs do automatically).
MAX_LOCK_SECONDS = 300
# Deliveries before a message goes to the dead-letter queue (the Service Bus default, like SQS redrive).
MAX_DELIVERY_COUNT = 10
# The public cloud's Service Bus DNS suffix: the apps' SDKs take the fully qualified namespace.
SERVICEBUS_SUFFIX = "servicebus.windows.net"


class Queue(ResourceComponent):
    cloud = Platform.AZURE
    type_name = "Queue"
    kind = ResourceType.QUEUE

    def __init__(self, res: QueueSpec, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(res, env, opts)
        rg_name = env.foundation.rg_name
        self.namespace_name = self.names["name"]
        self.queue_name = self.names["queue"]
        self.namespace = azure.servicebus.Namespace(
            self.child_name("namespace"),
            namespace_name=self.namespace_name,
            resource_group_name=rg_name,
            location=env.ctx.location,
            # Standard: the cheapest tier with the queue features used here (TTL, dead-lettering).
            sku=azure.servicebus.SBSkuArgs(name="Standard", tier="Standard"),
            disable_local_auth=True,
            minimum_tls_version="1.2",
            tags=self.tags,
            opts=self.child_opts(),
        )
        self.queue = azure.servicebus.Queue(
            self.child_name("queue"),
            queue_name=self.queue_name,
            namespace_name=after(self.namespace, self.namespace_name),
            resource_group_name=rg_name,
            lock_duration=iso_duration(min(res.visibility_timeout_s, MAX_LOCK_SECONDS)),
            default_message_time_to_live=iso_duration(res.message_retention_s),
            max_delivery_count=MAX_DELIVERY_COUNT,
            dead_lettering_on_message_expiration=True,
            opts=self.child_opts(),
        )
        self.fully_qualified_namespace = f"{self.namespace_name}.{SERVICEBUS_SUFFIX}"
        self.link_env = {
            self.env_key("NAMESPACE"): after(self.namespace, self.fully_qualified_namespace),
            self.env_key("QUEUE"): after(self.queue, self.queue_name),
        }
        self.register_outputs({"namespace": self.namespace_name, "queue": self.queue_name,
                               "id": self.queue.id})
