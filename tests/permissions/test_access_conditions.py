"""The access window on GCP and Azure: the impersonation binding's IAM condition, evaluated as CEL by a real CEL
implementation (cel-python) and placed on that binding alone (synth under mocks); the customer's document says
how each cloud holds the window, and that Azure does not."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import celpy
import pytest
from celpy import celtypes

import alien_pulumi as alien
from alien_pulumi.permissions import derive_plan, render_markdown
from alien_pulumi.permissions.render import render_layer
from alien_pulumi.synth import synth

UNTIL = "2027-03-31T18:00:00Z"
DEADLINE = datetime(2027, 3, 31, 18, 0, tzinfo=timezone.utc)
SA_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"


def stack(platform: str) -> alien.StackSpec:
    image = {"aws": "111122223333.dkr.ecr.us-east-1.amazonaws.com/api:1"}.get(platform, "ghcr.io/vendor/api:1")
    return (alien.Stack("my-app").platforms(platform).add(alien.Storage("data"), "frozen")
            .add(alien.Function("api", image=image), "live").build())


def gcp(access_until: str | None = UNTIL) -> alien.DeploymentContext:
    return alien.DeploymentContext.example_context("gcp", "my-app", prefix="acme", access_until=access_until)


def evaluate(expression: str, at: datetime) -> bool:
    env = celpy.Environment()
    program = env.program(env.compile(expression))
    request = celtypes.MapType({celtypes.StringType("time"): celtypes.TimestampType(at)})
    return bool(program.evaluate({"request": request}))


def test_the_condition_is_cel_that_ends_access_at_the_date() -> None:
    condition = render_layer(derive_plan(stack("gcp"), gcp()), "management")["impersonation"]["condition"]
    assert condition["expression"] == f'request.time < timestamp("{UNTIL}")'
    assert 0 < len(condition["title"]) <= 100 and len(condition["description"]) <= 256  # GCP's limits
    assert evaluate(condition["expression"], DEADLINE - timedelta(seconds=1)) is True
    assert evaluate(condition["expression"], DEADLINE) is False
    assert evaluate(condition["expression"], DEADLINE + timedelta(days=400)) is False


def test_no_window_no_condition() -> None:
    assert render_layer(derive_plan(stack("gcp"), gcp(None)), "management")["impersonation"]["condition"] is None


def members(ctx: alien.DeploymentContext) -> list[dict[str, Any]]:
    result = synth(stack("gcp"), ctx)
    return [n.inputs for n in result.provision.nodes.values() if "member" in n.inputs]


def test_the_condition_is_on_the_impersonation_member_only() -> None:
    ctx = gcp()
    rendered = render_layer(derive_plan(stack("gcp"), ctx), "management")["impersonation"]
    conditioned = [m for m in members(ctx) if "access until" in str(m.get("condition"))]
    assert conditioned == [m for m in members(ctx) if m["member"] == f"serviceAccount:{ctx.principal}"]
    (impersonation,) = conditioned
    assert impersonation["serviceAccountId"] == rendered["scope"] and impersonation["role"] == rendered["role"]
    assert impersonation["condition"] == rendered["condition"]
    assert evaluate(impersonation["condition"]["expression"], DEADLINE) is False
    # Without a window, the same member carries no condition at all (and nothing else changed).
    (plain,) = [m for m in members(gcp(None)) if m["member"] == f"serviceAccount:{ctx.principal}"]
    assert "condition" not in plain or plain["condition"] is None
    assert {k: v for k, v in plain.items() if k != "condition"} == \
        {k: v for k, v in impersonation.items() if k != "condition"}


@pytest.mark.parametrize(("platform", "says"), [
    ("aws", ["**Access until 2027-03-31T18:00:00Z.**", "`DateLessThan` on `aws:CurrentTime`",
             "`userIdentity.sessionContext.sourceIdentity`", "`alien:release` and `alien:deployment`"]),
    ("gcp", ["**Access until 2027-03-31T18:00:00Z.**", 'request.time < timestamp(\\"2027-03-31T18:00:00Z\\")'
             .replace("\\", ""), "`serviceAccountDelegationInfo`"]),
    ("azure", ["**Access until 2027-03-31T18:00:00Z, enforced by your admin, not by Azure.**",
               "A federated identity credential has no time condition",
               "`alien-deploy revoke` deletes the federated identity credential",
               "`claims.appid`"]),
])
def test_the_security_document_says_how_the_window_is_held(platform: str, says: list[str]) -> None:
    ctx = alien.DeploymentContext.example_context(platform, "my-app", prefix="acme", access_until=UNTIL)
    document = render_markdown(derive_plan(stack(platform), ctx))
    for text in says:
        assert text in document, text
    assert "No expiry" not in document


def test_without_a_window_the_document_says_no_expiry() -> None:
    ctx = alien.DeploymentContext.example_context("azure", "my-app", prefix="acme")
    document = render_markdown(derive_plan(stack("azure"), ctx))
    assert "**No expiry.**" in document and "Access until" not in document
