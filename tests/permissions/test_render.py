"""Rendered shapes per cloud (stable JSON other tools read) and the reviewer's markdown."""

from __future__ import annotations

import json

import pytest

import alien_pulumi as alien
from alien_pulumi.permissions import derive_plan, render_all, render_layer, render_markdown
from alien_pulumi.permissions.render.aws import POLICY_LIMIT
from tests.conftest import quickstart

EXT = "ext-123-0123456789abcdef0123456789"

ECR = "111122223333.dkr.ecr.us-east-1.amazonaws.com"  # AWS runs ECR images only (DESIGN.md §4b)


def plan_for(platform: str, spec: alien.StackSpec | None = None, **ctx: str) -> alien.permissions.PermissionPlan:
    spec = spec or quickstart()
    return derive_plan(spec, alien.DeploymentContext.example_context(platform, spec.name, **ctx))


def big_stack(n: int) -> alien.StackSpec:
    stack = alien.Stack("big").platforms("aws", "gcp", "azure")
    for i in range(n):
        stack.add(alien.Storage(f"b{i}"), "live" if i % 2 else "frozen")
        stack.add(alien.Function(f"f{i}", image=f"{ECR}/i", links=[f"b{i}"]), "live")
    return stack.build()


def test_aws_management_shape_and_trust() -> None:
    plan = plan_for("aws", vendor_principal="arn:aws:iam::999988887777:role/release", external_id=EXT)
    out = render_layer(plan, "management")
    assert set(out) == {"policies", "trust_policy"}
    trust = out["trust_policy"]["Statement"]
    assert [st["Principal"] for st in trust] == [{"AWS": "arn:aws:iam::999988887777:role/release"}] * 3
    # the external id on AssumeRole alone (its only action); no access window given: no date anywhere
    assert [st["Condition"].get("StringEquals") for st in trust] == [{"sts:ExternalId": EXT}, None, None]
    assert not any("DateLessThan" in st["Condition"] for st in trust)
    statements = [s for doc in out["policies"] for s in doc["Statement"]]
    assert len({s["Sid"] for s in statements}) == len(statements)
    actions = {a for s in statements for a in s["Action"]}
    assert actions == plan.management.actions()
    bucket_stmt = next(s for s in statements if "s3:GetBucketVersioning" in s["Action"])
    assert bucket_stmt["Resource"] == ["arn:aws:s3:::my-app-data"]
    assert render_layer(plan, "provisioning")["trust_policy"] is None
    runtime_trust = render_layer(plan, "runtime", "app")["trust_policy"]["Statement"][0]
    assert runtime_trust["Principal"]["Service"] == ["ecs-tasks.amazonaws.com", "lambda.amazonaws.com"]


@pytest.mark.parametrize("layer", ["provisioning", "management"])
def test_aws_documents_split_under_the_limit(layer: str) -> None:
    spec = big_stack(150)
    plan = plan_for("aws", spec)
    docs = render_layer(plan, layer)["policies"]
    assert len(docs) > 1
    for doc in docs:
        assert len(json.dumps(doc, separators=(",", ":"))) <= POLICY_LIMIT
    actions = {a for doc in docs for s in doc["Statement"] for a in s["Action"]}
    assert actions == plan.layer(layer).actions()
    resources = {r for doc in docs for s in doc["Statement"] for r in s["Resource"]}
    if layer == "provisioning":  # the admin's document: always exact
        assert {f"arn:aws:s3:::big-b{i}" for i in range(150)} <= resources
    else:  # 300 resources: packed on the deployment's prefix to fit the role's ten managed policies
        assert len(docs) <= 10
        assert "arn:aws:s3:::big-*" in resources  # the heartbeat holds on every bucket


def test_aws_packing_keeps_writes_on_exactly_the_live_resources() -> None:
    plan = plan_for("aws", big_stack(150))
    docs = render_layer(plan, "management")["policies"]
    writes = [s for doc in docs for s in doc["Statement"] if "s3:PutBucketVersioning" in s["Action"]]
    written = {r for s in writes for r in s["Resource"]}
    # half the buckets are live: management is not on every bucket, so it stays on exact names, live ones only
    assert written == {f"arn:aws:s3:::big-b{i}" for i in range(1, 150, 2)}
    small = render_layer(plan_for("aws", big_stack(3)), "management")["policies"]
    assert "arn:aws:s3:::big-*" not in {r for d in small for s in d["Statement"] for r in s["Resource"]}


def test_gcp_shape() -> None:
    plan = plan_for("gcp", vendor_principal="release@vendor.iam.gserviceaccount.com", project="acme-prod-1")
    out = render_layer(plan, "management")
    assert {"roles", "bindings"} <= set(out)
    assert "permissions" not in out  # no union: setup creates roles and bindings only
    assert {p for r in out["roles"] for p in r["permissions"]} == plan.management.actions()
    member = "serviceAccount:my-app-mgmt@acme-prod-1.iam.gserviceaccount.com"
    assert {b["member"] for b in out["bindings"]} == {member}
    roles = {r["name"]: set(r["permissions"]) for r in out["roles"]}
    assert all(b["role"] in roles for b in out["bindings"])
    assert out["impersonation"]["member"] == "serviceAccount:release@vendor.iam.gserviceaccount.com"
    # impersonation: a custom role with getAccessToken only, bound on the management account (issue 12)
    imp = out["impersonation"]
    assert imp["custom_role"]["permissions"] == ["iam.serviceAccounts.getAccessToken"]
    assert imp["role"] == imp["custom_role"]["name"] and imp["role"].startswith("projects/acme-prod-1/roles/")
    assert imp["scope"] == "projects/acme-prod-1/serviceAccounts/my-app-mgmt@acme-prod-1.iam.gserviceaccount.com"
    bucket = [b for b in out["bindings"] if b["scope"] == "//storage.googleapis.com/projects/_/buckets/my-app-data"]
    assert bucket and all("storage.objects.get" not in roles[b["role"]] for b in bucket)


def test_azure_shape() -> None:
    plan = plan_for("azure", subscription_id="11111111-2222-3333-4444-555555555555", resource_group="rg-acme")
    out = render_layer(plan, "management")
    # exactly what setup creates: no aggregate role of the layer (setup creates none), only the packed roles
    assert "role_definition" not in out
    definitions = out["role_definitions"]
    assert all(set(d) == {"roleName", "description", "actions", "notActions", "dataActions", "notDataActions",
                          "assignableScopes"} for d in definitions)
    rg = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-acme"
    assert all(a["principal"] == "my-app-management" for a in out["assignments"])
    assignable = {d["roleName"]: d["assignableScopes"] for d in definitions}
    # each role is assignable exactly where it is assigned: the resource group, or (operation polling) the
    # subscription, or (the state store) its own resource group - never the subscription actions "at the group"
    assert all(any(a["scope"].startswith(s) for s in assignable[a["role"]]) for a in out["assignments"])
    polled = [d for d in definitions if any("OperationStatuses/read" in x for x in d["actions"])
              and assignable[d["roleName"]] == [f"/subscriptions/{plan.context.subscription_id}"]]
    assert polled, "the subscription-scope polling role is assignable at the subscription"
    assert all(not d["dataActions"] for d in definitions if d["assignableScopes"] == [rg])
    outside = [a for a in out["assignments"] if not a["scope"].startswith(rg)]
    # only the Container Apps operation-status role, at the subscription, and the state store's roles in its own
    # resource group (DESIGN.md §4a)
    state_rg = f"/subscriptions/{plan.context.subscription_id}/resourceGroups/my-app-state-rg/"
    assert {a["scope"] for a in outside if not a["scope"].startswith(state_rg)} <= {
        f"/subscriptions/{plan.context.subscription_id}"}
    assert len([a for a in outside if a["scope"].startswith(state_rg)]) == 2  # the state container and key
    assert out["federated_credential"]["audiences"] == ["api://AzureADTokenExchange"]
    runtime = render_layer(plan, "runtime", "app")["role_definitions"]
    assert any(d["dataActions"] for d in runtime), "the app's runtime profile reads and writes data"


@pytest.mark.parametrize("platform", ["aws", "gcp", "azure"])
def test_render_all_has_every_layer(platform: str) -> None:
    out = render_all(plan_for(platform))
    assert set(out) == {"provisioning", "management", "runtime"}
    assert set(out["runtime"]) == {"app"}
    json.dumps(out)  # JSON-ready


@pytest.mark.parametrize("platform", ["aws", "gcp", "azure"])
def test_markdown_for_the_security_team(platform: str) -> None:
    plan = plan_for(platform)
    text = render_markdown(plan)
    for heading in ("## 1. Provisioning", "## 2. Management", "### Trust relationship", "## 3. Runtime profile `app`",
                    "## What the vendor can never do"):
        assert heading in text
    for use in plan.management.uses:
        assert f"`{use.set.id}`" in text and use.set.description in text
    assert json.dumps(render_layer(plan, "management"), indent=2) in text


REACH = "### What the vendor can reach through code it deploys"
LIVE_CODE = "the vendor changes it at each release"
FROZEN_CODE = "the image digest pinned at setup; only your admin's next setup changes it"
HAND_OFF = "#### Identity hand-over"


def reach(text: str) -> str:
    return text.split(REACH, 1)[1].split("\n### ", 1)[0]


def compute_stack(platform: str, *, live_api: bool) -> alien.StackSpec:
    """A frozen worker (profile ``jobs``) and, with ``live_api``, a live api (profile ``app``), each with a bucket."""
    stack = (alien.Stack("reach", images=alien.Registry(f"{ECR}/acme" if platform == "aws" else "ghcr.io/acme"))
             .platforms(platform)
             .add(alien.Storage("data"), "frozen").add(alien.Storage("uploads"), "frozen")
             .add(alien.Container("worker", image="worker:1", links=["data"], permissions="jobs"), "frozen")
             .permissions(profiles={"jobs": {}, "app": {}}))
    if live_api:
        stack.add(alien.Container("api", image="api:2", links=["uploads"], permissions="app"), "live")
    return stack.build()


@pytest.mark.parametrize("platform", ["aws", "gcp", "azure"])
def test_reach_lists_frozen_and_live_compute_and_the_union_of_their_profiles(platform: str) -> None:
    plan = plan_for(platform, compute_stack(platform, live_api=True))
    section = reach(render_markdown(plan))
    assert f"| `worker` | frozen | {FROZEN_CODE} | `jobs` | `{plan.runtime['jobs'].identity}` |" in section
    assert f"| `api` | live | {LIVE_CODE} | `app` | `{plan.runtime['app'].identity}` |" in section
    for profile in ("jobs", "app"):
        for grant in plan.runtime[profile].grants:
            assert f"- profile `{profile}`, *{grant.set_id}*:" in section
            assert all(f"`{r}`" in section for r in grant.resources)
    assert HAND_OFF in section and f"| `api` | `{plan.runtime['app'].identity}` |" in section


@pytest.mark.parametrize("platform", ["aws", "gcp", "azure"])
def test_reach_of_a_stack_with_only_frozen_compute_lists_it(platform: str) -> None:
    plan = plan_for(platform, compute_stack(platform, live_api=False))
    section = reach(render_markdown(plan))
    assert f"| `worker` | frozen | {FROZEN_CODE} | `jobs` |" in section and "`api`" not in section
    data = next(g for g in plan.runtime["jobs"].grants if g.set_id == "storage/data-write")
    assert f"- profile `jobs`, *storage/data-write*: `{(*data.actions, *data.data_actions)[0]}`" in section
    assert "no vendor code runs" not in section
    assert HAND_OFF not in section, "the vendor hands no identity to frozen compute"


def test_reach_of_a_stack_without_compute() -> None:
    spec = alien.Stack("store").platforms("azure").add(alien.Storage("data"), "frozen").build()
    section = reach(render_markdown(plan_for("azure", spec)))
    assert "- nothing: the stack has no compute, so no vendor code runs in your account." in section
    assert "| compute |" not in section
