"""What the customer's document promises about the management identity, as data derived from the plan.

The document's "never" and "only" sentences are the ``Claim``s below, and the identity hand-over table is
``hand_over``: both come from the plan's grants, and the suite evaluates each against the rendered policies
(AWS in a policy simulator, GCP and Azure by evaluating the bindings and role assignments), so a permission
change that makes a sentence false fails a test before any customer reads it. A claim's ``id`` names the check
that evaluates it; a claim with no check is a test failure too.
"""

from __future__ import annotations

from dataclasses import dataclass

from alien_pulumi.model.types import COMPUTE_TYPES, Lifecycle, Platform, ResourceType
from alien_pulumi.permissions.library import Grant, permission_set
from alien_pulumi.permissions.plan import BoundGrant, PermissionPlan

# The action with which the management identity gives a compute the identity it runs as, per cloud.
HAND_OVER_ACTION = {
    Platform.AWS: "iam:PassRole",
    Platform.GCP: "iam.serviceAccounts.actAs",
    Platform.AZURE: "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action",
}

# Why the cloud cannot tie the hand-over to one compute, so that the table below it lists more than one identity.
HAND_OVER_LIMIT = {
    Platform.AWS: "IAM cannot tie a role to one service or function: ECS takes the task role when a task definition "
                  "is registered, before any service runs it, and `ecs:RegisterTaskDefinition` has no condition key "
                  "for the role; `iam:AssociatedResourceArn` is set only by the services that support it, and a "
                  "condition on a key the service does not send would refuse every release. `iam:PassedToService` "
                  "keeps ECS roles and Lambda roles apart.",
    Platform.GCP: "GCP checks `iam.serviceAccounts.actAs` on the service account alone: IAM has no condition "
                  "naming the Cloud Run service that will run as it.",
    Platform.AZURE: "Azure checks `userAssignedIdentities/assign/action` on the identity alone: ARM has no "
                    "condition naming the app that will use it.",
}


@dataclass(frozen=True)
class Claim:
    """One sentence of "What the vendor can never do"; ``id`` names the check that evaluates it."""

    id: str
    text: str


def _service(grant: Grant | BoundGrant) -> object:
    """What a hand-over grant is bound to beyond the identity (AWS: ``iam:PassedToService``); None elsewhere."""
    condition = grant.condition if isinstance(grant.condition, dict) else {}
    return condition.get("StringEquals", {}).get("iam:PassedToService")


def _hand_over_grants(plan: PermissionPlan) -> list[BoundGrant]:
    action = HAND_OVER_ACTION[plan.context.platform]
    return [g for g in plan.management.grants if action in g.actions]


def hand_over(plan: PermissionPlan) -> dict[str, tuple[str, ...]]:
    """Live compute id -> every identity (ARN, service-account resource or identity id, as the policy names it) the
    management identity may give it: those its layer may hand to the service that runs the compute. The compute's
    own identity is among them; others are there because the cloud cannot tell the computes apart."""
    action = HAND_OVER_ACTION[plan.context.platform]
    grants = _hand_over_grants(plan)
    out: dict[str, tuple[str, ...]] = {}
    for res in plan.spec.resources:
        if res.kind not in COMPUTE_TYPES or res.lifecycle is not Lifecycle.LIVE:
            continue
        # the services its own management set hands identities to (grants of computes sharing a profile are merged
        # in the layer, so the compute's own is read from the set)
        own = permission_set(plan.context.platform, f"{res.kind.value}/management").grants
        services = {_service(g) for g in own if action in g.actions}
        out[res.id] = tuple(sorted({r for g in grants if _service(g) in services for r in g.resources}))
    return out


def claims(plan: PermissionPlan) -> list[Claim]:
    """The document's promises for this plan: what the management identity can never do."""
    spec = plan.spec
    out = [
        Claim("no-data", "Read or write your data *as the management identity*: no object, message, item or "
              "secret-value permission is in the management layer (the deployment's own Pulumi state above is its "
              "only data), for frozen and live resources alike, and a stack cannot add one (`data-*` sets in "
              "`management.extend` are rejected). Code the vendor deploys to live compute reaches what that "
              "compute's runtime profile allows: see \"What the vendor can reach through code it deploys\"."),
        Claim("frozen-read-only", "Change a frozen resource: it holds only read permissions on it, and its "
              "management program ignores every change to it."),
        Claim("no-create-delete", "Create or delete resources, unless the stack lists a `provision` set in "
              "`management.extend` (shown in the table above when it does)."),
        Claim("own-permissions", "Change its own permissions: the management identity and its policies are created "
              "by your setup and are not in its own permissions; a release that needs more needs your admin to run "
              "setup again."),
    ]
    if any(r.kind in COMPUTE_TYPES for r in spec.resources):
        out.append(Claim("hand-over", "Give a compute an identity outside \"Identity hand-over\" above: never the "
                         "management identity, never the identity of a profile only frozen computes run as."))
    if plan.context.platform is Platform.GCP and _hand_over_grants(plan):
        out.append(Claim("no-operations-list", "List the project's Cloud Run operations (`run.operations.list`), "
                         "which would name the operations of services this stack does not own."))
    if plan.context.platform is Platform.AWS and any(
            r.kind is ResourceType.CONTAINER and r.lifecycle is Lifecycle.LIVE for r in spec.resources):
        family = ("a task definition family other than those of the stack's live containers placed as it is (in a "
                  "stack this large, one statement per placement keeps the policies inside IAM's limits)"
                  if families_shared(plan) else "another task definition family than its own")
        out.append(Claim("ecs-placement", f"Run a live ECS service from {family}, in subnets other than those setup "
                         "placed it in, with a public IP setup did not give it, or with ECS Exec (a shell in its "
                         "tasks)."))
    return out


def families_shared(plan: PermissionPlan) -> bool:
    """Whether the rendered management policies let containers of one placement take each other's task definition
    families (render/aws.py packs them so for stacks past IAM's managed-policy quota)."""
    from alien_pulumi.permissions.render import render_layer

    documents = render_layer(plan, "management")["policies"]
    return any(isinstance(pairs.get("ecs:task-definition"), list) for doc in documents for stmt in doc["Statement"]
               for pairs in stmt.get("Condition", {}).values())
