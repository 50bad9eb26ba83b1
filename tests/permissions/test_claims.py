"""Every promise of the customer's document, evaluated against the rendered policies.

The document's "What the vendor can never do" is ``claims(plan)`` and its identity hand-over table is
``hand_over(plan)``. Each claim id has a check per cloud here, evaluated against what setup creates: AWS in the
policy simulator (tests/aws_simulator), GCP by evaluating the custom roles and bindings, Azure by evaluating the
role definitions and assignments. What the vendor would want (its wish list) comes from elsewhere than the
management layer: the admin's provisioning layer, the identity sets, and the data sets bound on every data
resource. Each check also has a positive control, so that it can fail.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Callable, Iterable
from functools import cache

import pytest

import alien_pulumi as alien
from alien_pulumi.model.loader import load_stack
from alien_pulumi.model.naming import resource_names
from alien_pulumi.model.types import DATA_TYPES, Lifecycle, Platform
from alien_pulumi.permissions.claims import HAND_OVER_ACTION, claims, hand_over
from alien_pulumi.permissions.library import permission_set
from alien_pulumi.permissions.plan import BoundGrant, PermissionPlan, derive_plan, profile_of
from alien_pulumi.permissions.render import render_layer
from alien_pulumi.permissions.render.markdown import render_markdown
from tests.aws_simulator import ACCOUNT, simulate
from tests.conftest import ROOT

EXAMPLES = ("my_app", "saas_api", "event_pipeline", "data_connector")


def isolation_stack() -> alien.StackSpec:
    """Live and frozen compute of both kinds, each with its own profile, and data of every type."""
    ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com/acme"
    docs, jobs, items, keys = alien.Storage("docs"), alien.Queue("jobs"), alien.Kv("items"), alien.Vault("keys")
    return (
        alien.Stack("iso", images=alien.Registry("ghcr.io/acme", aws=ecr)).platforms("aws", "gcp", "azure")
        .add(docs, "frozen").add(jobs, "live").add(items, "frozen").add(keys, "frozen")
        .add(alien.Container("web", image="web:1", public=True, links=[alien.read(docs)], permissions="web"), "live")
        .add(alien.Container("batch", image="batch:1", links=[docs, keys], permissions="batch"), "live")
        .add(alien.Container("ledger", image="ledger:1", links=[items], permissions="ledger"), "frozen")
        .add(alien.Function("hook", image="hook:1", links=[alien.write(jobs)], permissions="hook"), "live")
        .add(alien.Function("audit", image="audit:1", links=[items], permissions="audit"), "frozen")
        .permissions(profiles={p: {} for p in ("web", "batch", "ledger", "hook", "audit")})
        .build()
    )


@cache
def plan_of(stack: str, platform: str) -> PermissionPlan:
    spec = isolation_stack() if stack == "isolation" else load_stack(ROOT / "examples" / f"{stack}.py")
    return derive_plan(spec, alien.DeploymentContext.example_context(platform, spec.name))


CASES = [(stack, p) for stack in (*EXAMPLES, "isolation") for p in ("aws", "gcp", "azure")
         if p in {x.value for x in (isolation_stack() if stack == "isolation" else
                                    load_stack(ROOT / "examples" / f"{stack}.py")).platforms}]


def data_wishes(plan: PermissionPlan) -> list[BoundGrant]:
    """Every data grant there is on the stack's data resources: each data set bound on each (a profile holding
    them all, derived like any other), without the configuration reads a data set shares with the type's
    management set (sqs:GetQueueAttributes: a consumer and a heartbeat both read the queue's settings)."""
    spec = plan.spec
    wish = {r.id: [f"{r.kind.value}/{name}" for name in ("data-read", "data-write")
                   if f"{r.kind.value}/{name}" in _set_ids(plan.context.platform)]
            for r in spec.resources if r.kind in DATA_TYPES}
    profiles = {**spec.permissions.profiles, "wish": wish}
    widened = spec.model_copy(update={"permissions": spec.permissions.model_copy(update={"profiles": profiles})})
    grants = derive_plan(widened, plan.context).runtime["wish"].grants
    shared = {a for r in spec.resources if r.kind in DATA_TYPES for a in own_actions(plan, r.kind.value, "management")}
    return [dataclasses.replace(g, actions=tuple(a for a in g.actions if a not in shared),
                                data_actions=tuple(a for a in g.data_actions if a not in shared))
            for g in grants if set(g.actions) - shared or set(g.data_actions) - shared]


@cache
def _set_ids(platform: str) -> frozenset[str]:
    from alien_pulumi.permissions.library import library

    return frozenset(library(Platform(platform)))


def own_actions(plan: PermissionPlan, type_: str, set_name: str) -> set[str]:
    pset = permission_set(plan.context.platform, f"{type_}/{set_name}")
    return pset.actions() | pset.data_actions()


def extended(plan: PermissionPlan) -> set[str]:
    """Resources whose ``provision`` set the stack gives the management identity (``management.extend``), which the
    document names as the exception."""
    spec = plan.spec
    return {r.id for scope, sets in spec.permissions.management.extend.items() for s in sets
            if s.endswith("/provision") for r in spec.resources
            if r.kind.value == s.split("/")[0] and scope in ("*", r.id)}


def resource_wishes(plan: PermissionPlan, lifecycle: Lifecycle | None, beyond: str,
                    skip: set[str] = frozenset()) -> list[tuple[str, str]]:  # type: ignore[assignment]
    """(action, resource) of the admin's provisioning grants on each resource (of ``lifecycle``, not in ``skip``),
    beyond what the type's ``beyond`` set holds: what changing, creating or deleting that resource takes."""
    kinds = {r.id: r for r in plan.spec.resources}
    out = []
    for grant in plan.provisioning.grants:
        res = kinds.get(grant.resource_id or "")
        if (res is None or res.id in skip or grant.scope != "resource"
                or (lifecycle and res.lifecycle is not lifecycle)):
            continue
        held = own_actions(plan, res.kind.value, beyond)
        # on the resource itself (by its physical names), not on what it refers to (a runtime identity it is
        # handed at setup is the hand-over claim's)
        names = resource_names(plan.context.platform, res.kind, plan.context.prefix, res.id).values()
        out += [(a, r) for a in (*grant.actions, *grant.data_actions) if a not in held
                for r in grant.resources if any(n in r for n in names)]
    return out


def identity_wishes(plan: PermissionPlan) -> list[tuple[str, str]]:
    """What changing the identities and their permissions takes (beyond the self-check heartbeat holds)."""
    reads = own_actions(plan, "identity", "heartbeat") if "identity/heartbeat" in _set_ids(
        plan.context.platform.value) else set()
    return [(a, r) for g in plan.provisioning.grants if g.set_id == "identity/provision"
            for a in g.actions if a not in reads for r in g.resources]


# --- AWS: the policy simulator --------------------------------------------------------------------------------

def _concrete(arn: str) -> str:
    return arn.replace("*", "x1")


def aws_results(plan: PermissionPlan, layer: str, pairs: Iterable[tuple[str, str]],
                context: dict[str, str] | None = None, profile: str | None = None) -> list[str]:
    policies = render_layer(plan, layer, profile)["policies"]
    principal = f"arn:aws:iam::{ACCOUNT}:role/{plan.context.identity(layer if layer != 'runtime' else f'rt-{profile}')}"
    requests = [{"principal": principal, "action": a, "resource": _concrete(r), "account": ACCOUNT,
                 "context": context or {}, "identity_policies": policies} for a, r in pairs]
    return [r["result"] for r in simulate(None, requests)] if requests else []


def aws_no_data(plan: PermissionPlan) -> None:
    wishes = [(a, r) for g in data_wishes(plan) for a in (*g.actions, *g.data_actions) for r in g.resources
              if r != "*"]
    assert wishes
    results = aws_results(plan, "management", wishes)
    assert [w for w, r in zip(wishes, results, strict=True) if r == "Allowed"] == []
    # control: a runtime profile linking a data resource is allowed some of them
    controls = [(p, [(a, r) for g in plan.runtime[p].grants if g.set_id.endswith("/data-read") for a in g.actions
                     for r in g.resources if r != "*" and not g.condition][:3]) for p in plan.runtime]
    profile, pairs = next((p, pairs) for p, pairs in controls if pairs)
    assert "Allowed" in aws_results(plan, "runtime", pairs, profile=profile)


def aws_denied(plan: PermissionPlan, wishes: list[tuple[str, str]], control: list[tuple[str, str]],
               control_layer: str = "provisioning") -> None:
    assert wishes
    results = aws_results(plan, "management", wishes)
    assert [w for w, r in zip(wishes, results, strict=True) if r == "Allowed"] == []
    if control:
        assert "Allowed" in aws_results(plan, control_layer, control)


def aws_management_control(plan: PermissionPlan) -> list[tuple[str, str]]:
    """Unconditional management actions on live resources: the management layer is allowed these."""
    return [(a, r) for g in plan.management.grants if g.scope == "resource" and not g.condition
            and g.set_id.endswith("/management") for a in g.actions for r in g.resources][:5]


def aws_frozen_read_only(plan: PermissionPlan) -> None:
    wishes = resource_wishes(plan, Lifecycle.FROZEN, "heartbeat")
    control = aws_management_control(plan)
    aws_denied(plan, wishes, control, "management")


def aws_no_create_delete(plan: PermissionPlan) -> None:
    wishes = resource_wishes(plan, None, "management", extended(plan))
    aws_denied(plan, wishes, wishes[:5])


def aws_own_permissions(plan: PermissionPlan) -> None:
    wishes = identity_wishes(plan)
    aws_denied(plan, wishes, wishes[:5])


def runtime_roles(plan: PermissionPlan) -> dict[str, str]:
    """Identity resource as the hand-over grant names it -> whether it is the management identity."""
    ctx = plan.context
    names = [ctx.identity("management"), *[ctx.identity(f"rt-{p}") for p in plan.runtime]]
    return {aws_role(plan, n) if ctx.platform is Platform.AWS else n: n for n in names}


def aws_role(plan: PermissionPlan, name: str) -> str:
    return f"arn:aws:iam::{plan.context.account_id}:role/{name}"


def aws_hand_over(plan: PermissionPlan) -> None:
    reach = hand_over(plan)
    roles = [aws_role(plan, plan.context.identity("management"))] + [
        aws_role(plan, plan.context.identity(f"rt-{p}")) for p in plan.runtime]
    for rid, given in reach.items():
        res = next(r for r in plan.spec.resources if r.id == rid)
        service = {"container": "ecs-tasks.amazonaws.com", "function": "lambda.amazonaws.com"}[res.kind.value]
        results = aws_results(plan, "management", [("iam:PassRole", r) for r in roles],
                              context={"iam:PassedToService": service})
        allowed = {r for r, result in zip(roles, results, strict=True) if result == "Allowed"}
        assert allowed == set(given), rid
        assert plan.runtime[profile_of(res)].identity in {g.rsplit("/", 1)[-1] for g in given}


def aws_ecs_placement(plan: PermissionPlan) -> None:
    """A live service's update: its own family in its own placement is allowed; another family, a foreign subnet,
    the other public-IP setting or ECS Exec is denied."""
    updates = [g for g in plan.management.grants if "ecs:UpdateService" in g.actions and g.resource_id]
    assert updates
    for grant in updates:
        condition = grant.condition
        own = condition["ArnLikeIfExists"]["ecs:task-definition"].replace("*", "3")
        public_ip = condition["BoolIfExists"]["ecs:auto-assign-public-ip"]
        service = grant.resources[0]
        tries = [({"ecs:task-definition": own}, "Allowed"),
                 ({"ecs:task-definition": own.rsplit("/", 1)[0] + "/zz-foreign:1"}, "denied"),
                 ({"ecs:subnet": ["subnet-0f0e1d2c3b4a59687"]}, "denied"),
                 ({"ecs:enable-execute-command": "true"}, "denied"),
                 ({"ecs:auto-assign-public-ip": "false" if public_ip == "true" else "true"}, "denied")]
        for context, wanted in tries:
            (result,) = aws_results(plan, "management", [("ecs:UpdateService", service)], context=context)
            assert (result == "Allowed") == (wanted == "Allowed"), (grant.resource_id, context, result)


# --- GCP: custom roles and bindings ---------------------------------------------------------------------------

def gcp_holds(plan: PermissionPlan, layer: str, permission: str, scope: str, profile: str | None = None) -> bool:
    out = render_layer(plan, layer, profile)
    roles = {r["name"]: set(r["permissions"]) for r in out["roles"]}
    project = f"projects/{plan.context.project}"
    # a project binding (with or without a condition: counted as holding, the stricter reading) covers everything
    return any(permission in roles[b["role"]] and b["scope"] in (scope, project) for b in out["bindings"])


def gcp_denied(plan: PermissionPlan, wishes: list[tuple[str, str]], control: list[tuple[str, str]],
               control_layer: str = "provisioning") -> None:
    assert wishes
    assert [w for w in wishes if gcp_holds(plan, "management", *w)] == []
    if control and control_layer != "provisioning":  # the admin's layer names no member: nothing to evaluate
        assert any(gcp_holds(plan, control_layer, *c) for c in control)


def state_scopes(plan: PermissionPlan) -> set[str]:
    return {r for g in plan.management.grants if g.set_id == "state/state" for r in g.resources}


def gcp_no_data(plan: PermissionPlan) -> None:
    wishes = [(a, r) for g in data_wishes(plan) for a in (*g.actions, *g.data_actions) for r in g.resources]
    data_permissions = {a for a, _ in wishes}
    out = render_layer(plan, "management")
    roles = {r["name"]: set(r["permissions"]) for r in out["roles"]}
    outside = [(b["scope"], roles[b["role"]] & data_permissions) for b in out["bindings"]
               if roles[b["role"]] & data_permissions and b["scope"] not in state_scopes(plan)]
    assert outside == []
    assert [w for w in wishes if gcp_holds(plan, "management", *w)] == []
    # control: some runtime profile holds data permissions
    assert any(gcp_holds(plan, "runtime", a, r, p) for p in plan.runtime
               for g in plan.runtime[p].grants if g.set_id.endswith("/data-read") for a in g.actions
               for r in g.resources)


def gcp_frozen_read_only(plan: PermissionPlan) -> None:
    control = [(a, r) for g in plan.management.grants if g.scope == "resource" and g.set_id.endswith("/management")
               for a in g.actions for r in g.resources]
    gcp_denied(plan, resource_wishes(plan, Lifecycle.FROZEN, "heartbeat"), control, "management")


def gcp_no_create_delete(plan: PermissionPlan) -> None:
    gcp_denied(plan, resource_wishes(plan, None, "management", extended(plan)), [])


def gcp_own_permissions(plan: PermissionPlan) -> None:
    gcp_denied(plan, identity_wishes(plan), [])


def gcp_hand_over(plan: PermissionPlan) -> None:
    reach = hand_over(plan)
    ctx = plan.context
    accounts = [ctx.identity("management"), *[ctx.identity(f"rt-{p}") for p in plan.runtime]]
    scope = f"//iam.googleapis.com/projects/{ctx.project}/serviceAccounts/{{}}"
    held = {a for a in accounts if gcp_holds(plan, "management", HAND_OVER_ACTION[Platform.GCP], scope.format(a))}
    assert held == {g.rsplit("/", 1)[-1] for given in reach.values() for g in given}
    assert ctx.identity("management") not in held


def gcp_no_operations_list(plan: PermissionPlan) -> None:
    out = render_layer(plan, "management")
    permissions = {p for r in out["roles"] for p in r["permissions"]}
    assert "run.operations.get" in permissions  # the grant the claim is about is there
    assert "run.operations.list" not in permissions


# --- Azure: role definitions and assignments ------------------------------------------------------------------

def azure_holds(plan: PermissionPlan, layer: str, action: str, scope: str, profile: str | None = None) -> bool:
    out = render_layer(plan, layer, profile)
    roles = {d["roleName"]: [*d["actions"], *d["dataActions"]] for d in out["role_definitions"]}
    return any(scope.lower().startswith(a["scope"].lower())
               and any(fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in roles[a["role"]])
               for a in out["assignments"])


def azure_denied(plan: PermissionPlan, wishes: list[tuple[str, str]], control: list[tuple[str, str]],
                 control_layer: str = "management") -> None:
    assert wishes
    assert [w for w in wishes if azure_holds(plan, "management", *w)] == []
    if control:
        assert any(azure_holds(plan, control_layer, *c) for c in control)


def azure_no_data(plan: PermissionPlan) -> None:
    wishes = [(a, r) for g in data_wishes(plan) for a in g.data_actions for r in g.resources]
    out = render_layer(plan, "management")
    data = [(d["roleName"], a["scope"]) for d in out["role_definitions"] if d["dataActions"]
            for a in out["assignments"] if a["role"] == d["roleName"]]
    assert data and all(scope in state_scopes(plan) for _, scope in data)
    azure_denied(plan, wishes, [])
    assert any(azure_holds(plan, "runtime", a, r, p) for p in plan.runtime
               for g in plan.runtime[p].grants for a in g.data_actions for r in g.resources)


def azure_frozen_read_only(plan: PermissionPlan) -> None:
    control = [(a, r) for g in plan.management.grants if g.scope == "resource" and g.set_id.endswith("/management")
               for a in g.actions for r in g.resources]
    azure_denied(plan, resource_wishes(plan, Lifecycle.FROZEN, "heartbeat"), control)


def azure_no_create_delete(plan: PermissionPlan) -> None:
    azure_denied(plan, resource_wishes(plan, None, "management", extended(plan)), [])


def azure_own_permissions(plan: PermissionPlan) -> None:
    azure_denied(plan, identity_wishes(plan), [])


def azure_hand_over(plan: PermissionPlan) -> None:
    reach = hand_over(plan)
    ctx = plan.context
    scope = (f"/subscriptions/{ctx.scope_id}/resourceGroups/{ctx.rg}/providers/Microsoft.ManagedIdentity/"
             "userAssignedIdentities/{}")
    names = [ctx.identity("management"), *[ctx.identity(f"rt-{p}") for p in plan.runtime]]
    held = {n for n in names if azure_holds(plan, "management", HAND_OVER_ACTION[Platform.AZURE], scope.format(n))}
    assert held == {g.rsplit("/", 1)[-1] for given in reach.values() for g in given}
    assert ctx.identity("management") not in held


CHECKS: dict[str, dict[Platform, Callable[[PermissionPlan], None]]] = {
    "no-data": {Platform.AWS: aws_no_data, Platform.GCP: gcp_no_data, Platform.AZURE: azure_no_data},
    "frozen-read-only": {Platform.AWS: aws_frozen_read_only, Platform.GCP: gcp_frozen_read_only,
                         Platform.AZURE: azure_frozen_read_only},
    "no-create-delete": {Platform.AWS: aws_no_create_delete, Platform.GCP: gcp_no_create_delete,
                         Platform.AZURE: azure_no_create_delete},
    "own-permissions": {Platform.AWS: aws_own_permissions, Platform.GCP: gcp_own_permissions,
                        Platform.AZURE: azure_own_permissions},
    "hand-over": {Platform.AWS: aws_hand_over, Platform.GCP: gcp_hand_over, Platform.AZURE: azure_hand_over},
    "no-operations-list": {Platform.GCP: gcp_no_operations_list},
    "ecs-placement": {Platform.AWS: aws_ecs_placement},
}


@pytest.mark.parametrize(("stack", "platform"), CASES)
def test_every_claim_of_the_document_holds(stack: str, platform: str) -> None:
    plan = plan_of(stack, platform)
    text = render_markdown(plan)
    for claim in claims(plan):
        assert f"- {claim.text}" in text  # the document prints the claim the suite evaluates
        check = CHECKS.get(claim.id, {}).get(plan.context.platform)
        assert check is not None, f"no check evaluates the claim {claim.id!r} on {platform}"
        check(plan)


@pytest.mark.parametrize("platform", ["aws", "gcp", "azure"])
def test_hand_over_never_reaches_frozen_only_profiles_or_management(platform: str) -> None:
    plan = plan_of("isolation", platform)
    reach = hand_over(plan)
    assert set(reach) == {"web", "batch", "hook"}  # live compute only
    given = {g.rsplit("/", 1)[-1] for v in reach.values() for g in v}
    ctx = plan.context
    # ledger and audit run only in frozen compute: no release can give their identities to anything
    assert ctx.identity("rt-ledger") not in given and ctx.identity("rt-audit") not in given
    assert ctx.identity("management") not in given
    if platform == "aws":  # iam:PassedToService keeps ECS and Lambda roles apart
        assert {g.rsplit("/", 1)[-1] for g in reach["hook"]} == {ctx.identity("rt-hook")}
        assert {g.rsplit("/", 1)[-1] for g in reach["web"]} == {ctx.identity("rt-web"), ctx.identity("rt-batch")}
    else:  # GCP and Azure check the identity alone: every live compute's identity, for every live compute
        assert all({g.rsplit("/", 1)[-1] for g in v} == {ctx.identity(f"rt-{p}") for p in ("web", "batch", "hook")}
                   for v in reach.values())


def test_a_falsified_claim_fails_its_check() -> None:
    """A management layer that could hand a frozen-only profile's role over: the hand-over check catches it."""
    plan = plan_of("isolation", "aws")
    leaked = dataclasses.replace(next(g for g in plan.management.grants if "iam:PassRole" in g.actions),
                                 resources=(aws_role(plan, plan.context.identity("rt-ledger")),))
    forged = dataclasses.replace(plan, management=dataclasses.replace(
        plan.management, grants=(*plan.management.grants, leaked)))
    with pytest.raises(AssertionError):
        aws_hand_over_reach_only(forged, hand_over(plan))


def aws_hand_over_reach_only(plan: PermissionPlan, reach: dict[str, tuple[str, ...]]) -> None:
    """The hand-over check with the table fixed (the forged plan's own table would list the leak)."""
    roles = [aws_role(plan, plan.context.identity(f"rt-{p}")) for p in plan.runtime]
    results = aws_results(plan, "management", [("iam:PassRole", r) for r in roles],
                          context={"iam:PassedToService": "ecs-tasks.amazonaws.com"})
    allowed = {r for r, result in zip(roles, results, strict=True) if result == "Allowed"}
    assert allowed == set(reach["web"])


@pytest.mark.parametrize("platform", ["aws", "gcp", "azure"])
def test_runtime_grants_name_their_origin_and_links_narrow(platform: str) -> None:
    plan = plan_of("isolation", platform)
    web = plan.runtime["web"]
    # web links docs for reading only: the profile gets storage/data-read, never data-write
    assert "storage/data-read" in web.set_ids() and "storage/data-write" not in web.set_ids()
    assert all("web links docs for read" in g.origins for g in web.grants if g.set_id == "storage/data-read")
    hook = plan.runtime["hook"]
    assert "queue/data-write" in hook.set_ids() and "queue/data-read" not in hook.set_ids()
    batch = plan.runtime["batch"]  # a bare link: read and write, as before
    assert {"storage/data-read", "storage/data-write"} <= batch.set_ids()
    text = render_markdown(plan)
    assert "(from: web links docs for read)" in text


def test_a_link_the_type_cannot_grant_is_refused() -> None:
    with pytest.raises(alien.StackValidationError, match=r"keys.*for write.*vault"):
        (alien.Stack("bad").platforms("aws").add(alien.Vault("keys"), "frozen")
         .add(alien.Container("c", image="ghcr.io/a/c:1", links=[alien.write("keys")]), "live").build())
    with pytest.raises(alien.StackValidationError, match="more than once"):
        (alien.Stack("bad").platforms("aws").add(alien.Storage("d"), "frozen")
         .add(alien.Container("c", image="ghcr.io/a/c:1", links=[alien.read("d"), "d"]), "live").build())
    with pytest.raises(alien.StackValidationError, match="is not a link"):
        (alien.Stack("bad").platforms("aws").add(alien.Storage("d"), "frozen")
         .add(alien.Container("c", image="ghcr.io/a/c:1", links=["d:delete"]), "live").build())



def test_the_family_claim_says_when_a_large_stack_shares_families_per_placement() -> None:
    """Past IAM's managed-policy quota, containers of one placement share an UpdateService statement: the claim
    then says so, and the simulator agrees (a sibling's family is allowed, a foreign one still denied)."""
    from alien_pulumi.permissions.claims import families_shared
    from benchmarks.stacks import stack_of

    small = plan_of("saas_api", "aws")
    assert not families_shared(small)
    assert "another task definition family than its own" in render_markdown(small)
    spec = stack_of(500, ["aws"])
    big = derive_plan(spec, alien.DeploymentContext.example_context("aws", spec.name))
    assert families_shared(big)
    claim = next(c for c in claims(big) if c.id == "ecs-placement")
    assert "placed as it is" in claim.text
    updates = [g for g in big.management.grants if "ecs:UpdateService" in g.actions and g.resource_id]
    mine, sibling = updates[0], next(g for g in updates[1:] if g.condition["BoolIfExists"] == updates[0].condition[
        "BoolIfExists"])
    theirs = sibling.condition["ArnLikeIfExists"]["ecs:task-definition"].replace("*", "1")
    (result,) = aws_results(big, "management", [("ecs:UpdateService", mine.resources[0])],
                            context={"ecs:task-definition": theirs})
    assert result == "Allowed"
    (result,) = aws_results(big, "management", [("ecs:UpdateService", mine.resources[0])],
                            context={"ecs:task-definition": theirs.rsplit("/", 1)[0] + "/zz-foreign:1"})
    assert result != "Allowed"


@pytest.mark.parametrize("stack", ["isolation", "event_pipeline", "my_app"])
def test_no_runtime_role_may_create_network_interfaces(stack: str) -> None:
    """The document says a release cannot move a live Lambda function into a VPC because Lambda refuses a VPC
    configuration unless the execution role may create network interfaces: no runtime profile may."""
    plan = plan_of(stack, "aws")
    assert any(r.kind.value == "function" and r.lifecycle is Lifecycle.LIVE for r in plan.spec.resources)
    assert "ec2:CreateNetworkInterface" in render_markdown(plan)
    network = f"arn:aws:ec2:us-east-1:{ACCOUNT}:network-interface/eni-0123456789abcdef0"
    for profile in plan.runtime:
        assert aws_results(plan, "runtime", [("ec2:CreateNetworkInterface", network)], profile=profile) != [
            "Allowed"], profile
    # control: the action and resource are well-formed - the admin's provisioning layer does not hold it either,
    # but a policy allowing ec2:* would
    allow_all = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}
    (result,) = simulate(None, [{"principal": f"arn:aws:iam::{ACCOUNT}:role/x", "action": "ec2:CreateNetworkInterface",
                                 "resource": network, "account": ACCOUNT, "context": {},
                                 "identity_policies": [allow_all]}])
    assert result["result"] == "Allowed"
