"""AWS Function: a Lambda function from a container image, run as its profile's runtime role.

Children: the function; when public, a function URL (auth NONE) and the resource-policy statement that
lets the URL invoke it; per queue trigger an SQS event source mapping; for a schedule an EventBridge
rule, its target and the statement that lets EventBridge invoke the function.

Only ``package_type="Image"`` functions are created: for them GetFunction returns the image URI, not a
presigned code-download URL, which is why function/heartbeat may hold lambda:GetFunction (the
provider's read and update waiter of the function call it).
"""

from __future__ import annotations

import re

import pulumi
import pulumi_aws as aws

from alien_pulumi.components.base import Env, ResourceComponent
from alien_pulumi.errors import AlienError
from alien_pulumi.model.resources import FunctionSpec
from alien_pulumi.model.types import Platform, ResourceType
from alien_pulumi.permissions.plan import profile_of


class PlatformLimitError(AlienError):
    """A valid stack asks for something this cloud cannot express (the message says what and why)."""


_DAY_NAMES = {name: number for number, name in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}
_STEP = re.compile(r"^(?P<base>[^/]+)(/(?P<step>\d+))?$")


def _unix_days(part: str, schedule: str) -> set[int]:
    """The unix days of week (0 = Sunday) one comma-part of the field names (n, a-b, names, steps)."""
    match = _STEP.match(part)
    if not match:
        raise PlatformLimitError(f"schedule {schedule!r}: cannot read day-of-week {part!r}")
    base, step = match["base"], int(match["step"] or 1)

    def day(token: str) -> int:
        token = token.upper()
        if token in _DAY_NAMES:
            return _DAY_NAMES[token]
        if token.isdigit() and 0 <= int(token) <= 7:
            return int(token) % 7  # unix accepts 7 for Sunday too
        raise PlatformLimitError(f"schedule {schedule!r}: {token!r} is not a day of week")

    if base == "*":
        first, last = 0, 6
    elif "-" in base:
        low, high = base.split("-", 1)
        first, last = day(low), day(high)
        if high.strip() == "7":
            last = 7  # 5-7 is Friday to Sunday
    else:
        first = last = day(base)
        if match["step"]:
            last = 6  # n/step runs to the end of the week
    if last < first:
        raise PlatformLimitError(f"schedule {schedule!r}: day-of-week range {base!r} runs backwards")
    return {d % 7 for d in range(first, last + 1, step)}


def _start_at(field: str, first: str) -> str:
    """``*/n`` (unix) is ``first/n`` in AWS cron, which wants an explicit start value."""
    return f"{first}/{field[2:]}" if field.startswith("*/") else field


def aws_cron(schedule: str) -> str:
    """Convert a five-field unix cron (UTC) to EventBridge's ``cron(min hour dom month dow year)``.

    EventBridge requires ``?`` in one of day-of-month/day-of-week, numbers days of week 1-7 from
    Sunday (unix: 0-6, 7 = Sunday too) and accepts no step in day-of-week; days of week are therefore
    expanded to an explicit list. Unix fires when *either* restricted day field matches; EventBridge
    cannot express both restricted, so that case is refused.
    """
    fields = schedule.split()
    if len(fields) != 5:
        raise PlatformLimitError(f"schedule {schedule!r} is not a five-field cron expression")
    minute, hour, dom, month, dow = fields
    minute, hour = _start_at(minute, "0"), _start_at(hour, "0")
    dom, month = _start_at(dom, "1"), _start_at(month, "1")
    dom_any = dom in ("*", "?")
    dow_any = dow in ("*", "?")
    if not dom_any and not dow_any:
        raise PlatformLimitError(f"schedule {schedule!r}: EventBridge cannot restrict both day-of-month and "
                                 f"day-of-week (unix runs on either); use one of them")
    if dow_any:
        dow = "?"
    else:
        dom = "?"
        days = sorted({d for part in dow.split(",") for d in _unix_days(part, schedule)})
        dow = ",".join(str(d + 1) for d in days)
    return f"cron({minute} {hour} {dom} {month} {dow} *)"


class Function(ResourceComponent):
    cloud = Platform.AWS
    type_name = "Function"
    kind = ResourceType.FUNCTION

    def __init__(self, res: FunctionSpec, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(res, env, opts)
        name = self.names["name"]
        profile = profile_of(res)
        schedules = [t.schedule for t in res.triggers if t.schedule is not None]
        if len(schedules) > 1:
            # The function sets bind the schedule to the one EventBridge rule named like the function.
            raise PlatformLimitError(f"function {res.id!r}: AWS supports one schedule per function "
                                     f"(got {len(schedules)})")
        variables: dict[str, pulumi.Input[str]] = dict(res.environment)
        for link in res.link_ids():
            variables.update(env.built[link].link_env)
        # The runtime role must hold its policies before Lambda checks them (a queue trigger's
        # CreateEventSourceMapping verifies the role can receive from the queue).
        ready = env.identities.runtime_ready[profile]

        # Not attached to the stack's VPC: Lambda in a VPC reaches AWS APIs and the internet only
        # through a NAT or VPC endpoints, and needs ENI rights on its role; the function sets grant
        # neither (see the component report).
        self.function = aws.lambda_.Function(
            self.child_name("function"),
            name=name,
            package_type="Image",
            image_uri=self.image_uri(),
            role=env.identities.runtime[profile],
            memory_size=res.memory_mb,
            timeout=res.timeout_s,
            environment={"variables": variables} if variables else None,
            tags=self.tags,
            opts=self.child_opts(depends_on=ready),
        )

        self.url: aws.lambda_.FunctionUrl | None = None
        if res.public:
            self.url = aws.lambda_.FunctionUrl(self.child_name("url"), function_name=self.function.name,
                                               authorization_type="NONE", opts=self.child_opts())
            # Creating a NONE-auth URL adds the lambda:InvokeFunctionUrl statement; AWS also requires
            # lambda:InvokeFunction for the URL, limited here to calls that come through the URL.
            aws.lambda_.Permission(self.child_name("url-invoke"), function=self.function.name,
                                   statement_id="FunctionURLAllowInvokeAction", action="lambda:InvokeFunction",
                                   principal="*", invoked_via_function_url=True, opts=self.child_opts())

        for trigger in res.triggers:
            if trigger.queue is not None:
                queue = env.built[trigger.queue]
                # Tagged with the stack: function/heartbeat reads mappings (random UUIDs) by that tag.
                aws.lambda_.EventSourceMapping(
                    self.child_name(f"queue-{trigger.queue}"),
                    event_source_arn=queue.queue.arn,  # type: ignore[attr-defined]
                    function_name=self.function.arn,
                    batch_size=trigger.batch_size,
                    tags=self.tags,
                    opts=self.child_opts(depends_on=ready),
                )
        if schedules:
            rule = aws.cloudwatch.EventRule(self.child_name("schedule"), name=name,
                                            description=f"{res.id}: {schedules[0]} (UTC)",
                                            schedule_expression=aws_cron(schedules[0]), tags=self.tags,
                                            opts=self.child_opts())
            aws.cloudwatch.EventTarget(self.child_name("schedule-target"), rule=rule.name, target_id="function",
                                       arn=self.function.arn, opts=self.child_opts())
            aws.lambda_.Permission(self.child_name("schedule-invoke"), function=self.function.name,
                                   statement_id="AllowEventBridgeSchedule", action="lambda:InvokeFunction",
                                   principal="events.amazonaws.com", source_arn=rule.arn, opts=self.child_opts())

        self.register_outputs({
            "name": self.function.name,
            "arn": self.function.arn,
            "url": self.url.function_url if self.url else None,
        })
