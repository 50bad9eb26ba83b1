"""Network placement of a live ECS service (sets/aws/container.yaml, permissions/placement.py): the management
role's ecs:UpdateService, evaluated by a real AWS policy simulator (iam-simulate) on the policies the provisioning
program attaches, may roll the service to a revision of its own family and set its count, and never moves it out of
the subnets setup placed it in, changes its public IP, or enables ECS Exec.

The requests carry what terraform-provider-aws's resourceServiceUpdate sends (service.go): only the fields that
changed, so a release of a new revision sets ecs:task-definition alone, and a network change sets ecs:subnet and
ecs:auto-assign-public-ip together (values as the ECS developer guide gives them: subnet ids, "true"/"false")."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest

import alien_pulumi as alien
from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.naming import resource_names
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import Platform, ResourceType
from alien_pulumi.permissions import derive_plan, render_layer
from alien_pulumi.permissions.placement import fill_subnets, placement_values, sentinels
from alien_pulumi.permissions.render.aws import POLICY_LIMIT, split_documents, statements
from alien_pulumi.programs.build import PROJECT, provisioning_program
from alien_pulumi.synth import SynthResult, run_program, synth
from tests.aws_simulator import ACCOUNT, simulate

ECR = "111122223333.dkr.ecr.us-east-1.amazonaws.com"
REGION = "eu-west-1"
PREFIX = "acme"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/{PREFIX}-management/alien-r1-acme"
FOREIGN_SUBNET = "subnet-0f00dfeedf00dfeed"  # a subnet of the account setup never placed the service in


def ctx_for(spec: StackSpec) -> DeploymentContext:
    return DeploymentContext.create("aws", spec.name, prefix=PREFIX, account_id=ACCOUNT, region=REGION,
                                    vendor_principal="arn:aws:iam::111122223333:role/alien-release",
                                    external_id="x7Kq2Vb9mT4wLz8Rj3Nc6Hy1Pd5Fs0Ga2Ue7Qo9Wi4E")


def containers(stack: alien.Stack) -> alien.Stack:
    return (stack.add(alien.Container("web", image=f"{ECR}/acme/web:1", public=True, port=8443), "live")
            .add(alien.Container("worker", image=f"{ECR}/acme/worker:1"), "live"))


# A network with NAT: the public web runs in the public subnets with a public IP, the private worker in the private
# subnets without one. Without NAT (or without a network: the Foundation's VPC) both run public.
STACKS = {
    "nat": lambda: containers(alien.Stack("placed").platforms("aws").add(alien.Network("net", zones=3, nat=True),
                                                                         "frozen")).build(),
    "no-nat": lambda: containers(alien.Stack("placed").platforms("aws").add(alien.Network("net"), "frozen")).build(),
    "bare": lambda: containers(alien.Stack("placed").platforms("aws")).build(),
}


@cache
def synthesized(stack: str) -> SynthResult:
    spec = STACKS[stack]()
    return synth(spec, ctx_for(spec))


def custom(result: SynthResult, type_: str) -> dict[str, Any]:
    return {n.name: n for n in result.provision.nodes.values() if n.custom and n.type == type_}


def attached(result: SynthResult) -> list[dict[str, Any]]:
    """The management role's policies as the provisioning program attaches them."""
    policies = custom(result, "aws:iam/policy:Policy")
    names = sorted((n for n in policies if n.startswith("identities-management-")),
                   key=lambda n: int(n.rsplit("-", 1)[-1]))
    return [json.loads(str(policies[n].inputs["policy"])) for n in names]


def network_configuration(result: SynthResult, res_id: str) -> dict[str, Any]:
    config = custom(result, "aws:ecs/service:Service")[f"{res_id}-service"].inputs["networkConfiguration"]
    assert isinstance(config, dict)
    return config


def name(res_id: str) -> str:
    return resource_names(Platform.AWS, ResourceType.CONTAINER, PREFIX, res_id)["name"]


def service_arn(res_id: str) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{PREFIX}/{name(res_id)}"


def revision(family: str, number: int = 7) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:{number}"


def update_service(policies: list[dict[str, Any]], calls: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """The simulator's result of each (container id, request context) UpdateService call, in one run."""
    results = simulate(None, [{"principal": SESSION, "action": "ecs:UpdateService", "resource": service_arn(res_id),
                               "account": ACCOUNT, "context": context, "identity_policies": policies}
                              for res_id, context in calls])
    return [str(r["result"]) for r in results]


def network(subnets: list[str], public_ip: bool) -> dict[str, Any]:
    """The keys of a request that sends a network configuration (expandNetworkConfiguration sends both)."""
    return {"ecs:subnet": subnets, "ecs:auto-assign-public-ip": str(public_ip).lower()}


def placed(result: SynthResult, res_id: str) -> dict[str, Any]:
    """The network keys of a request that resends the service's own placement, unchanged."""
    config = network_configuration(result, res_id)
    return network(list(config["subnets"]), bool(config["assignPublicIp"]))


# ---------------------------------------------------------------- the simulator


def test_a_release_as_the_provider_sends_it_is_allowed() -> None:
    result = synthesized("nat")
    calls: list[tuple[str, dict[str, Any]]] = []
    for res_id in ("web", "worker"):
        calls += [
            (res_id, {"ecs:task-definition": revision(name(res_id))}),  # a new revision: its ARN only
            (res_id, {}),  # desired count or deployment settings only: no condition key at all
            (res_id, {"ecs:task-definition": revision(name(res_id)), "ecs:enable-execute-command": "false",
                      **placed(result, res_id)}),  # everything resent as setup left it
        ]
    assert update_service(attached(result), calls) == ["Allowed"] * len(calls)


def test_a_subnet_outside_the_services_subnets_is_denied() -> None:
    result = synthesized("nat")
    own = list(network_configuration(result, "worker")["subnets"])
    public = list(network_configuration(result, "web")["subnets"])
    assert own == ["net-private-a-id", "net-private-b-id", "net-private-c-id"]
    assert update_service(attached(result), [
        ("worker", network(own, False)),
        ("worker", network(own[:1], False)),  # fewer of its own subnets: still where setup placed it
        ("worker", network([*own, FOREIGN_SUBNET], False)),
        ("worker", network([FOREIGN_SUBNET], False)),
        ("worker", network(public, False)),  # the stack's public subnets are not the private worker's
        ("web", network([*public[:1], FOREIGN_SUBNET], True)),
    ]) == ["Allowed", "Allowed", "ImplicitlyDenied", "ImplicitlyDenied", "ImplicitlyDenied", "ImplicitlyDenied"]


def test_a_private_service_in_private_subnets_is_refused_a_public_ip() -> None:
    result = synthesized("nat")
    subnets = list(network_configuration(result, "worker")["subnets"])
    assert network_configuration(result, "worker")["assignPublicIp"] is False
    assert update_service(attached(result), [
        ("worker", network(subnets, True)),
        ("worker", network(subnets, False)),
        ("worker", {"ecs:auto-assign-public-ip": "true"}),
    ]) == ["ImplicitlyDenied", "Allowed", "ImplicitlyDenied"]


def test_a_public_service_keeps_exactly_its_public_ip() -> None:
    result = synthesized("nat")
    subnets = list(network_configuration(result, "web")["subnets"])
    assert network_configuration(result, "web")["assignPublicIp"] is True
    assert update_service(attached(result), [("web", network(subnets, True)), ("web", network(subnets, False))]) == [
        "Allowed", "ImplicitlyDenied"]


def test_ecs_exec_is_never_enabled() -> None:
    result = synthesized("nat")
    assert update_service(attached(result), [
        ("web", {"ecs:enable-execute-command": "true"}),
        ("worker", {"ecs:enable-execute-command": "true", "ecs:task-definition": revision(name("worker"))}),
        ("worker", {"ecs:enable-execute-command": "false"}),
    ]) == ["ImplicitlyDenied", "ImplicitlyDenied", "Allowed"]


def test_only_a_revision_of_the_containers_own_family() -> None:
    result = synthesized("nat")
    assert update_service(attached(result), [
        ("web", {"ecs:task-definition": revision(name("web"), 1)}),
        ("web", {"ecs:task-definition": revision(name("worker"))}),  # the stack's other container
        ("web", {"ecs:task-definition": revision(f"{name('web')}-x")}),  # a family its name is a prefix of
        ("web", {"ecs:task-definition": revision("someone-elses-app")}),
        ("web", {"ecs:task-definition": f"arn:aws:ecs:{REGION}:444455556666:task-definition/{name('web')}:7"}),
    ]) == ["Allowed", "ImplicitlyDenied", "ImplicitlyDenied", "ImplicitlyDenied", "ImplicitlyDenied"]


@pytest.mark.parametrize("stack", ["no-nat", "bare"])
def test_without_private_subnets_both_run_public_and_stay_there(stack: str) -> None:
    result = synthesized(stack)
    owner = "net" if stack == "no-nat" else "foundation"
    for res_id in ("web", "worker"):
        config = network_configuration(result, res_id)
        assert config["subnets"] == [f"{owner}-public-a-id", f"{owner}-public-b-id"]
        assert config["assignPublicIp"] is True
    subnets = list(network_configuration(result, "worker")["subnets"])
    assert update_service(attached(result), [
        ("worker", network(subnets, True)),
        ("worker", network(subnets, False)),
        ("worker", network([*subnets, FOREIGN_SUBNET], True)),
        ("web", network(subnets, True)),
    ]) == ["Allowed", "ImplicitlyDenied", "ImplicitlyDenied", "Allowed"]


def test_an_unfilled_sentinel_refuses_every_network_change_and_nothing_else() -> None:
    # The offline render as is (were it ever attached): it names no subnet id, so it fails closed.
    result = synthesized("nat")
    rendered = render_layer(result.plan, "management")["policies"]
    assert update_service(rendered, [
        ("worker", placed(result, "worker")),
        ("worker", {"ecs:task-definition": revision(name("worker"))}),
    ]) == ["ImplicitlyDenied", "Allowed"]


# ---------------------------------------------------------------- the provisioning program


def update_statement(policies: list[dict[str, Any]], res_id: str) -> dict[str, Any]:
    (stmt,) = [s for doc in policies for s in doc["Statement"]
               if "ecs:UpdateService" in s["Action"] and s["Resource"] == [service_arn(res_id)]]
    return stmt


@pytest.mark.parametrize("stack", list(STACKS))
def test_the_attached_policy_holds_the_ids_of_the_subnets_the_service_is_placed_in(stack: str) -> None:
    result = synthesized(stack)
    for res_id in ("web", "worker"):
        config = network_configuration(result, res_id)
        condition = update_statement(attached(result), res_id)["Condition"]
        assert condition["ForAllValues:StringEquals"] == {"ecs:subnet": config["subnets"]}
        assert condition["BoolIfExists"] == {"ecs:auto-assign-public-ip": str(config["assignPublicIp"]).lower()}
        assert condition["StringEqualsIfExists"] == {"ecs:enable-execute-command": "false"}
        assert condition["ArnLikeIfExists"] == {
            "ecs:task-definition": f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{name(res_id)}:*"}
        service = custom(result, "aws:ecs/service:Service")[f"{res_id}-service"]
        assert service.inputs["enableExecuteCommand"] is False


@pytest.mark.parametrize("stack", list(STACKS))
def test_the_attached_policy_is_the_rendered_layer_with_the_subnets_filled_in(stack: str) -> None:
    result = synthesized(stack)
    rendered = render_layer(result.plan, "management")["policies"]
    expected: dict[str, list[str]] = {}
    for res in result.spec.resources:
        if res.kind is ResourceType.CONTAINER:
            sentinel = placement_values(result.spec, res, result.context)["subnets"]
            expected[sentinel] = list(network_configuration(result, res.id)["subnets"])
    assert sorted(expected) == sentinels(rendered)
    assert attached(result) == fill_subnets(rendered, expected)
    assert sentinels(attached(result)) == []


def test_the_document_names_the_subnets_until_setup_creates_them() -> None:
    rendered = render_layer(synthesized("nat").plan, "management")["policies"]
    assert update_statement(rendered, "worker")["Condition"]["ForAllValues:StringEquals"] == {
        "ecs:subnet": "alien:subnets/net/private"}
    assert update_statement(rendered, "web")["Condition"]["ForAllValues:StringEquals"] == {
        "ecs:subnet": "alien:subnets/net/public"}
    bare = render_layer(synthesized("bare").plan, "management")["policies"]
    assert update_statement(bare, "worker")["Condition"]["ForAllValues:StringEquals"] == {
        "ecs:subnet": "alien:subnets/foundation/public"}


@pytest.mark.parametrize("stack", ["nat", "bare"])
def test_the_management_policy_waits_for_the_subnets(stack: str) -> None:
    spec = STACKS[stack]()
    registrations = run_program(provisioning_program(spec, ctx_for(spec)), PROJECT, PREFIX)
    order = [r.urn for r in registrations]
    subnets = {r.urn for r in registrations if r.type == "aws:ec2/subnet:Subnet"}
    policies = [r for r in registrations if r.type == "aws:iam/policy:Policy"
                and r.name.startswith("identities-management-")]
    holding = [p for p in policies if "ecs:UpdateService" in str(p.inputs["policy"])]
    assert holding and subnets
    for policy in holding:
        # the policy's input comes from the subnets' outputs: the engine creates them first
        assert subnets <= set(policy.dependencies), policy.name
        assert max(order.index(s) for s in subnets) < order.index(policy.urn)


def test_fill_refuses_a_sentinel_without_subnets() -> None:
    doc = {"Condition": {"ForAllValues:StringEquals": {"ecs:subnet": "alien:subnets/net/private"}}}
    assert fill_subnets(doc, {"alien:subnets/net/private": ["subnet-1", "subnet-2"]}) == {
        "Condition": {"ForAllValues:StringEquals": {"ecs:subnet": ["subnet-1", "subnet-2"]}}}
    with pytest.raises(ValueError, match="no subnets"):
        fill_subnets(doc, {"alien:subnets/net/public": ["subnet-1"]})


@pytest.mark.parametrize("count", [20, 40, 60])  # 60: packed
def test_filled_documents_still_fit_a_managed_policy(count: int) -> None:
    # The renderer splits documents with each sentinel counted at three full-length subnet ids (counted as the
    # sentinel alone, 20 containers already overflow a policy once filled).
    stack = alien.Stack("wide").platforms("aws").add(alien.Network("net", zones=3, nat=True), "frozen")
    for i in range(count):
        stack.add(alien.Container(f"c{i:02d}", image=f"{ECR}/acme/c:1", public=i % 2 == 0), "live")
    spec = stack.build()
    ctx = ctx_for(spec)
    rendered = render_layer(derive_plan(spec, ctx), "management")["policies"]
    longest = {s: [f"subnet-{z}{'f' * 16}" for z in "abc"] for s in sentinels(rendered)}
    for doc in fill_subnets(rendered, longest):
        assert len(json.dumps(doc, separators=(",", ":"))) <= POLICY_LIMIT


def test_packed_policies_keep_each_placement_apart() -> None:
    # Past IAM's 10 managed policies the renderer packs: the UpdateService statements of the containers sharing a
    # placement become one (render/aws.py PACKED_KEYS), families joined; no service may leave its placement.
    stack = alien.Stack("wide").platforms("aws").add(alien.Network("net", zones=3, nat=True), "frozen")
    for i in range(60):
        stack.add(alien.Container(f"c{i:02d}", image=f"{ECR}/acme/c:1", public=i % 2 == 0), "live")
    spec = stack.build()
    plan = derive_plan(spec, ctx_for(spec))
    assert len(split_documents(statements(plan.management))) > 10  # exact ARNs would not fit the role
    rendered = render_layer(plan, "management")["policies"]
    assert len(rendered) <= 10
    by_tier = {"public": [f"c{i:02d}" for i in range(0, 60, 2)], "private": [f"c{i:02d}" for i in range(1, 60, 2)]}
    updates = [s for doc in rendered for s in doc["Statement"] if "ecs:UpdateService" in s["Action"]]
    assert len(updates) == 2
    for stmt in updates:
        tier = stmt["Condition"]["ForAllValues:StringEquals"]["ecs:subnet"].rsplit("/", 1)[1]
        assert stmt["Resource"] == [service_arn(c) for c in by_tier[tier]]
        assert stmt["Condition"]["ArnLikeIfExists"]["ecs:task-definition"] == [
            f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{name(c)}:*" for c in by_tier[tier]]
    subnets = {f"alien:subnets/net/{tier}": [f"subnet-0{tier[:3]}{z}" for z in "abc"] for tier in by_tier}
    policies = fill_subnets(rendered, subnets)
    assert update_service(policies, [
        ("c01", network(subnets["alien:subnets/net/private"], False)),
        ("c01", network(subnets["alien:subnets/net/private"], True)),
        ("c01", network(subnets["alien:subnets/net/public"], False)),
        ("c01", {"ecs:task-definition": revision(name("c01"))}),
        ("c01", {"ecs:task-definition": revision(name("c00"))}),  # a public container's family
        ("c01", {"ecs:task-definition": revision(name("c03"))}),  # packed: a family of the same placement
        ("c01", {"ecs:enable-execute-command": "true"}),
    ]) == ["Allowed", "ImplicitlyDenied", "ImplicitlyDenied", "Allowed", "ImplicitlyDenied", "Allowed",
           "ImplicitlyDenied"]
