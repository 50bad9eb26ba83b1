"""Azure Function: a Container App that scales to zero, plus a Container Apps job for its schedule.

- The app: min 0 replicas, ingress on ``FUNCTION_PORT`` (``PORT`` is set, the Cloud Run convention),
  external when public, else reachable only inside the environment; an HTTP scale rule wakes it on
  requests, and each queue trigger adds a KEDA ``azure-servicebus`` scale rule that authenticates with the
  function's runtime identity (no connection string: the namespace disables local auth).
- The job (same image, identity, variables and size): runs the function's image on its cron schedule
  (Container Apps jobs take five-field cron in UTC, as the spec does), each run bounded by ``timeout_s``.
  Every function has its job, with a manual trigger when it has no schedule, so the function's permission
  sets (which name the job ``{name}``) always bind to an existing resource and adding or removing a
  schedule on a live function is an update, not a new resource.
"""

from __future__ import annotations

import pulumi
import pulumi_azure_native as azure

from alien_pulumi.components.azure._shared import WORKLOAD_PROFILE
from alien_pulumi.components.azure.compute import (
    app_identity,
    container_app,
    environment_variables,
    runtime_identity,
    sizing,
)
from alien_pulumi.components.base import Env, ResourceComponent
from alien_pulumi.model.resources import FunctionSpec
from alien_pulumi.model.types import Platform, ResourceType

FUNCTION_PORT = 8080
FUNCTION_MAX_REPLICAS = 10
# Concurrent requests per replica before the HTTP rule adds one (the Container Apps default).
HTTP_CONCURRENCY = 10


def job_cron(schedule: str) -> str:
    """The spec's five-field cron for a Container Apps job: ``?`` (any, in the AWS dialect) is ``*``."""
    return " ".join("*" if field == "?" else field for field in schedule.split())


class Function(ResourceComponent):
    cloud = Platform.AZURE
    type_name = "Function"
    kind = ResourceType.FUNCTION

    def __init__(self, res: FunctionSpec, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(res, env, opts)
        schedules = [t.schedule for t in res.triggers if t.schedule is not None]
        if len(schedules) > 1:
            # A job has one schedule, and a second job would need a second name (see the report).
            raise ValueError(f"function {res.id!r}: Azure runs at most one schedule trigger per function, "
                             f"got {len(schedules)}")
        identity = runtime_identity(self)
        cpu, memory = sizing(res.memory_mb)
        container = azure.app.ContainerArgs(
            name=res.id,
            image=self.image_uri(),
            env=environment_variables(self, identity, {"PORT": str(FUNCTION_PORT)}),
            resources=azure.app.ContainerResourcesArgs(cpu=cpu, memory=memory),
        )
        rules = [azure.app.ScaleRuleArgs(
            name="http", http=azure.app.HttpScaleRuleArgs(metadata={"concurrentRequests": str(HTTP_CONCURRENCY)}),
        )]
        for trigger in res.triggers:
            if trigger.queue is None:
                continue
            queue = env.built[trigger.queue]
            rules.append(azure.app.ScaleRuleArgs(
                name=f"queue-{trigger.queue}",
                custom=azure.app.CustomScaleRuleArgs(
                    type="azure-servicebus",
                    metadata={
                        "namespace": queue.namespace_name,  # type: ignore[attr-defined]
                        "queueName": queue.queue_name,  # type: ignore[attr-defined]
                        "messageCount": str(trigger.batch_size),
                    },
                    identity=identity.id,
                ),
            ))
        self.app = container_app(self, port=FUNCTION_PORT, min_replicas=0, max_replicas=FUNCTION_MAX_REPLICAS,
                                 containers=[container], rules=rules, identity=identity)
        schedule = schedules[0] if schedules else None
        self.job = azure.app.Job(
            self.child_name("job"),
            job_name=self.names["name"],
            resource_group_name=env.foundation.rg_name,
            location=env.ctx.location,
            environment_id=env.foundation.environment().id,
            workload_profile_name=WORKLOAD_PROFILE,
            identity=app_identity(identity),
            configuration=azure.app.JobConfigurationArgs(
                trigger_type=azure.app.TriggerType.SCHEDULE if schedule else azure.app.TriggerType.MANUAL,
                replica_timeout=res.timeout_s,
                # A scheduled run is not retried (the next schedule runs again), like a scheduled Lambda
                # invocation that fails.
                replica_retry_limit=0,
                schedule_trigger_config=azure.app.JobConfigurationScheduleTriggerConfigArgs(
                    cron_expression=job_cron(schedule), parallelism=1, replica_completion_count=1,
                ) if schedule else None,
                manual_trigger_config=None if schedule else azure.app.JobConfigurationManualTriggerConfigArgs(
                    parallelism=1, replica_completion_count=1,
                ),
            ),
            template=azure.app.JobTemplateArgs(containers=[container]),
            tags=self.tags,
            opts=self.child_opts(),
        )
        self.register_outputs({"app": self.names["name"], "id": self.app.id, "job": self.job.id})
