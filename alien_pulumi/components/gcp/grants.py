"""GCP Grants: what needs the resources to exist and is setup-owned on GCP.

- Every rendered binding of the management and runtime layers, placed on its scope: the scope's form picks
  the IAM member class (SCOPE_MEMBERS, data), its named groups are that class's arguments.
- The public invoker binding (allUsers -> roles/run.invoker) of public compute: run.services.setIamPolicy is
  provision-only, so switching ``public`` is a setup change.
- Function triggers: a queue trigger is a Pub/Sub push subscription on the queue's topic, a cron trigger a
  Cloud Scheduler job; both call the service with an OIDC token of the function's runtime account. Neither
  service can narrow IAM to one subscription/job (no resource.name conditions; Scheduler has no resource IAM),
  so the management identity holds none of their permissions and a trigger change is a setup change
  (sets/gcp/function.yaml).

A binding depends on the stack's accounts (a few), its custom role and the one resource component it is placed on
(the rendered binding names them); depending on every component, or on the Identities component, would make each
binding wait on every resource, or every account and role, of the stack: Pulumi expands a component into each of
its children and keeps them all in the binding's state, which the engine rewrites after each step.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

import pulumi
import pulumi_gcp as gcp

from alien_pulumi.components.base import AlienComponent, Env
from alien_pulumi.components.gcp.container import Container
from alien_pulumi.components.gcp.function import Function
from alien_pulumi.components.gcp.queue import Queue, subscription_retention_s
from alien_pulumi.model.resources import Trigger
from alien_pulumi.model.types import Lifecycle, Platform
from alien_pulumi.permissions.plan import profile_of
from alien_pulumi.permissions.render.gcp import role_id

# Rendered scope -> IAM member class; each named group is an argument of that class.
SCOPE_MEMBERS: tuple[tuple[re.Pattern[str], Callable[..., pulumi.CustomResource]], ...] = (
    (re.compile(r"//storage\.googleapis\.com/projects/_/buckets/(?P<bucket>[^/]+)"), gcp.storage.BucketIAMMember),
    (re.compile(r"//pubsub\.googleapis\.com/projects/(?P<project>[^/]+)/topics/(?P<topic>[^/]+)"),
     gcp.pubsub.TopicIAMMember),
    (re.compile(r"//pubsub\.googleapis\.com/projects/(?P<project>[^/]+)/subscriptions/(?P<subscription>[^/]+)"),
     gcp.pubsub.SubscriptionIAMMember),
    (re.compile(r"//run\.googleapis\.com/projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)"
                r"/services/(?P<name>[^/]+)"), gcp.cloudrunv2.ServiceIamMember),
    (re.compile(r"//iam\.googleapis\.com/(?P<service_account_id>projects/[^/]+/serviceAccounts/[^/]+)"),
     gcp.serviceaccount.IAMMember),
    (re.compile(r"//cloudkms\.googleapis\.com/(?P<crypto_key_id>projects/[^/]+/locations/[^/]+/keyRings/[^/]+"
                r"/cryptoKeys/[^/]+)"), gcp.kms.CryptoKeyIAMMember),
    (re.compile(r"projects/(?P<project>[^/]+)"), gcp.projects.IAMMember),
)
INVOKER = "roles/run.invoker"
MAX_ACK_DEADLINE_S = 600  # Pub/Sub's maximum
MAX_ATTEMPT_DEADLINE_S = 1800  # Cloud Scheduler's maximum for HTTP targets


def member_for(scope: str) -> tuple[Callable[..., pulumi.CustomResource], dict[str, str]]:
    """The IAM member class of a rendered scope, and the arguments that name the scope."""
    for pattern, cls in SCOPE_MEMBERS:
        match = pattern.fullmatch(scope)
        if match:
            return cls, match.groupdict()
    raise ValueError(f"gcp: no IAM member class for the binding scope {scope!r} (add it to SCOPE_MEMBERS)")


def trigger_name(function_name: str, index: int) -> str:
    """Physical name of a function's n-th trigger (push subscription id / Scheduler job id). The underscore
    cannot occur in a queue's subscription name ``{prefix}-{id}``, so the two never collide; a function name
    is at most 49 characters, well within both services' limits."""
    return f"{function_name}_t{index}"


def unix_cron(schedule: str) -> str:
    """Cloud Scheduler takes unix-cron; ``?`` (AWS-style "no value") means any."""
    return schedule.replace("?", "*")


class Grants(AlienComponent):
    cloud = Platform.GCP
    type_name = "Grants"
    protected = False  # setup-owned permissions: the next setup must be able to revoke them

    def __init__(self, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("grants", Lifecycle.FROZEN, env, opts)
        self.members: list[pulumi.CustomResource] = []
        for key, rendered in env.identities.layers.items():
            for binding in rendered["bindings"]:
                self.members.append(self._bind(key, binding))
        for component in env.built.values():
            if isinstance(component, (Function, Container)) and component.spec.public:
                self.members.append(self._public(component))
            if isinstance(component, Function):
                for index, trigger in enumerate(component.spec.triggers):
                    self._trigger(component, index, trigger)
        self.register_outputs({"bindings": len(self.members)})

    def _bind(self, key: str, binding: dict[str, Any]) -> pulumi.CustomResource:
        cls, scope_args = member_for(binding["scope"])
        # Named by content (never by position): adding a resource must not rename, hence replace, a member.
        digest = hashlib.sha256(json.dumps(binding, sort_keys=True).encode()).hexdigest()[:8]
        rendered_role = binding["role"].rsplit("/", 1)[-1]
        role = rendered_role.removeprefix(role_id(self.env.ctx.prefix, ""))
        extra = {"condition": binding["condition"]} if binding["condition"] else {}
        target = self.env.built.get(binding.get("resource") or "")
        identities = self.env.identities
        role_resource = identities.roles.get(rendered_role)  # None: a predefined role
        # Every account (a few: the scope may be one, e.g. actAs on a runtime account), not every role.
        after = [*identities.accounts.values(), *(r for r in (role_resource, target) if r is not None)]
        return cls(
            self.child_name(f"{key}-{role}-{digest}"),
            role=binding["role"],
            member=binding["member"],
            **scope_args,
            **extra,
            opts=self.child_opts(depends_on=after),
        )

    def _public(self, component: Function | Container) -> gcp.cloudrunv2.ServiceIamMember:
        return gcp.cloudrunv2.ServiceIamMember(
            self.child_name(f"public-{component.res.id}"),
            project=self.env.ctx.project,
            location=self.env.ctx.gcp_region,
            name=component.service.name,
            role=INVOKER,
            member="allUsers",
            opts=self.child_opts(depends_on=[component]),  # allUsers: no account of the stack
        )

    def _trigger(self, function: Function, index: int, trigger: Trigger) -> pulumi.CustomResource:
        env, res = self.env, function.spec
        name = trigger_name(function.names["name"], index)
        identity = env.identities.runtime[profile_of(res)]
        uri = function.service.uri
        opts = self.child_opts(depends_on=[*env.identities.accounts.values(), function])
        part = f"trigger-{res.id}-{index}"
        if trigger.queue is not None:
            queue = env.built[trigger.queue]
            assert isinstance(queue, Queue)
            # Pub/Sub pushes one message per request (batch_size has no push equivalent); an unacknowledged
            # message (non-2xx or past the deadline) is redelivered with backoff until the retention. The ack
            # deadline is the maximum, not derived from timeout_s: a live release changes timeout_s, and this
            # setup-owned subscription must not lag behind it (Cloud Run ends a request at its own timeout).
            return gcp.pubsub.Subscription(
                self.child_name(part),
                name=name,
                project=env.ctx.project,
                topic=queue.topic.name,
                push_config=gcp.pubsub.SubscriptionPushConfigArgs(
                    push_endpoint=uri,
                    oidc_token=gcp.pubsub.SubscriptionPushConfigOidcTokenArgs(service_account_email=identity,
                                                                               audience=uri),
                ),
                ack_deadline_seconds=MAX_ACK_DEADLINE_S,
                message_retention_duration=f"{subscription_retention_s(queue.spec)}s",
                expiration_policy=gcp.pubsub.SubscriptionExpirationPolicyArgs(ttl=""),
                retry_policy=gcp.pubsub.SubscriptionRetryPolicyArgs(minimum_backoff="10s", maximum_backoff="600s"),
                labels=env.tags(res.id, Lifecycle.FROZEN),
                opts=opts,
            )
        assert trigger.schedule is not None
        return gcp.cloudscheduler.Job(
            self.child_name(part),
            name=name,
            project=env.ctx.project,
            region=env.ctx.gcp_region,
            description=f"alien-pulumi: cron trigger {index} of {res.id}",
            schedule=unix_cron(trigger.schedule),
            time_zone="Etc/UTC",
            # The maximum, for the same reason as the push ack deadline (not derived from timeout_s).
            attempt_deadline=f"{MAX_ATTEMPT_DEADLINE_S}s",
            http_target=gcp.cloudscheduler.JobHttpTargetArgs(
                uri=uri,
                http_method="POST",
                oidc_token=gcp.cloudscheduler.JobHttpTargetOidcTokenArgs(service_account_email=identity,
                                                                         audience=uri),
            ),
            opts=opts,
        )
