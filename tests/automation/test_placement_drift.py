"""Heartbeat placement (automation/placement.py): the expectation table of every cloud checked against what the
components actually declare (both programs synthesized under mocks that answer ids and ARNs as the clouds form
them), each expectation shown to catch a change of its own field, and the read taken from the refresh's outputs
events, never from the state it started from."""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
from pulumi.automation import EngineEvent
from pulumi.runtime import mocks as pulumi_mocks

import alien_pulumi as alien
from alien_pulumi.automation.events import EventRecorder
from alien_pulumi.automation.health import health_from_refresh, merge, refresh_targets
from alien_pulumi.automation.placement import EXPECTATIONS, lookup, placement_health, show, urn_name, urn_type
from alien_pulumi.model.types import Platform
from alien_pulumi.synth import SynthResult, synth
from alien_pulumi.synth.mocks import SynthMocks

ECR = "111122223333.dkr.ecr.us-east-1.amazonaws.com"
PLATFORMS = ["aws", "gcp", "azure"]
Read = dict[str, dict[str, Any]]


def stack(network: bool = True) -> alien.StackSpec:
    """A private container, a public one, and a public function with a queue trigger, on a NAT network."""
    jobs = alien.Queue("jobs")
    worker = alien.Container("worker", image=f"{ECR}/acme/worker:1.0", port=8080, links=[jobs], permissions="app")
    web = alien.Container("web", image=f"{ECR}/acme/web:1.0", port=8080, public=True)
    api = alien.Function("api", image=f"{ECR}/acme/api:1.0", public=True, triggers=[alien.on_queue(jobs)],
                         permissions="app")
    built = alien.Stack("place").platforms(*PLATFORMS)
    if network:
        built.add(alien.Network("net", nat=True), "frozen")
    built.add(jobs, "frozen").add(worker, "live").add(web, "live").add(api, "live")
    return built.permissions(profiles={"app": {"jobs": ["queue/data-read"]}}).build()


def cloud_like(args: pulumi_mocks.MockResourceArgs, ctx: alien.DeploymentContext, new: Any) -> tuple[Any, Any]:
    """The synth mocks' answer, with the ids and ARNs a compute is handed formed as the cloud forms them."""
    rid, state = new(args)
    inputs = args.inputs
    if args.typ == "aws:iam/role:Role":
        state["arn"] = f"arn:aws:iam::{ctx.account_id}:role/{inputs['name']}"
    arm = {"azure-native:managedidentity:UserAssignedIdentity": ("Microsoft.ManagedIdentity/userAssignedIdentities",
                                                                 "resourceName"),
           "azure-native:app:ManagedEnvironment": ("Microsoft.App/managedEnvironments", "environmentName")}
    if args.typ in arm:
        kind, name = arm[args.typ]
        rid = (f"/subscriptions/{ctx.subscription_id}/resourceGroups/{inputs['resourceGroupName']}/providers/"
               f"{kind}/{inputs[name]}")
    return rid, state


@cache
def synthesized(platform: str, network: bool = True) -> tuple[SynthResult, Read]:
    """The stack synthesized for ``platform``, and every custom resource as a refresh would read it unchanged:
    type, id and outputs (inputs echoed, ids and ARNs as the cloud forms them)."""
    spec = stack(network)
    ctx = alien.DeploymentContext.example_context(platform, spec.name, prefix="acme")
    answers: dict[tuple[str, str], tuple[Any, Any]] = {}
    original = SynthMocks.new_resource

    def new_resource(self: SynthMocks, args: pulumi_mocks.MockResourceArgs) -> tuple[Any, Any]:
        answers[(args.typ, args.name)] = cloud_like(args, ctx, lambda a: original(self, a))
        return answers[(args.typ, args.name)]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SynthMocks, "new_resource", new_resource)
        result = synth(spec, ctx)
    read = {}
    for node in result.provision.nodes.values():
        if node.custom and (node.type, node.name) in answers:
            rid, state = answers[(node.type, node.name)]
            read[node.urn] = {"type": node.type, "id": rid, "outputs": {**copy.deepcopy(state), "id": rid}}
    return result, read


def recorder_of(targets: dict[str, str], read: Read) -> EventRecorder:
    recorder = EventRecorder(set())
    for urn in targets:
        recorder.operations[urn] = "refresh"
        if urn in read:
            recorder.read[urn] = copy.deepcopy(read[urn])
    return recorder


def heartbeat(platform: str, edit: Callable[[Read], None] | None = None, network: bool = True,
              state: Any = None) -> dict[str, dict[str, Any]]:
    result, read = synthesized(platform, network)
    targets = refresh_targets(result)
    recorder = recorder_of(targets, read)
    if edit:
        edit(recorder.read)
    return placement_health(result.spec, result.context, recorder, targets, state)


def assign(node: Any, path: str, value: Any) -> None:
    """Set ``path`` in ``node`` (creating what is missing); a ``[*]`` segment sets it in every item (one if none)."""
    head, _, rest = path.partition(".")
    key = head.removesuffix("[*]")
    if head.endswith("[*]"):
        items = node.get(key) or [{}]
        node[key] = items
        for item in items:
            assign(item, rest, value)
    elif rest:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        assign(node[key], rest, value)
    else:
        node[key] = value


def changed(value: Any) -> Any:
    """Some other value of the same shape: what a vendor's update would leave."""
    if isinstance(value, bool) or value is None:
        return not value
    if isinstance(value, str):
        return f"vendor-{value}"
    if isinstance(value, list):
        return [changed(value[0]) if value else "vendor"]
    if isinstance(value, dict):
        return {"/vendor/identity": {}}
    return value + 1


def compute_children(platform: str, network: bool = True) -> list[tuple[str, str]]:
    """(URN, resource id) of every refreshed child of a compute that the table names."""
    result, _ = synthesized(platform, network)
    table = EXPECTATIONS[Platform(platform)]
    return [(urn, rid) for urn, rid in refresh_targets(result).items()
            if rid in ("worker", "web", "api") and urn_type(urn) in table]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_what_the_components_declare_is_what_the_table_expects(platform: str) -> None:
    """Unchanged, every compute is where the table expects it (no drift, nothing unresolved), and every type the
    table names is a child of some compute: a component change the table does not follow fails here."""
    health = heartbeat(platform)
    assert health == {rid: {"state": "present", "fields": []} for rid in ("worker", "web", "api")}
    assert {urn_type(urn) for urn, _ in compute_children(platform)} == set(EXPECTATIONS[Platform(platform)])


@pytest.mark.parametrize("platform", PLATFORMS)
def test_each_expectation_catches_a_change_of_its_field(platform: str) -> None:
    _, read = synthesized(platform)
    cases = 0
    for urn, rid in compute_children(platform):
        for expect in EXPECTATIONS[Platform(platform)][urn_type(urn)]:
            found = lookup(read[urn]["outputs"], expect.path)
            value = changed(found[0] if expect.path.count("[*]") and found else
                            None if expect.path.count("[*]") else found)

            def edit(outputs: Read, urn: str = urn, path: str = expect.path, value: Any = value) -> None:
                assign(outputs[urn]["outputs"], path, value)

            health = heartbeat(platform, edit)
            entry = health[rid]
            assert entry["state"] == "drifted", (urn, expect.path, health)
            named = f"{urn_name(urn)}.{expect.path}: "
            assert [f for f in entry["fields"] if f.startswith(named)], (expect.path, entry)
            assert all(e == {"state": "present", "fields": []} for r, e in health.items() if r != rid), health
            cases += 1
    assert cases >= 8


@pytest.mark.parametrize(("platform", "child", "path", "value", "field"), [
    ("aws", "api-function", "role", "arn:aws:iam::123456789012:role/vendor-own",
     "api-function.role: arn:aws:iam::123456789012:role/vendor-own (spec: arn:aws:iam::123456789012:role/acme-rt-app)"),
    ("aws", "web-task", "taskRoleArn", "arn:aws:iam::123456789012:role/acme-management",
     "web-task.taskRoleArn: arn:aws:iam::123456789012:role/acme-management "
     "(spec: arn:aws:iam::123456789012:role/acme-rt-default)"),
    ("aws", "worker-service", "networkConfiguration.assignPublicIp", True,
     "worker-service.networkConfiguration.assignPublicIp: true (spec: false)"),
    ("aws", "web-service", "networkConfiguration.assignPublicIp", False,
     "web-service.networkConfiguration.assignPublicIp: false (spec: true)"),
    ("aws", "worker-service", "networkConfiguration.subnets", ["net-public-a-id"],
     "worker-service.networkConfiguration.subnets: [net-public-a-id] (spec: [net-private-a-id, net-private-b-id])"),
    ("aws", "api-url", "authorizationType", "AWS_IAM", "api-url.authorizationType: AWS_IAM (spec: NONE)"),
    ("gcp", "worker-service", "invokerIamDisabled", True, "worker-service.invokerIamDisabled: true (spec: false)"),
    ("gcp", "api-service", "template.serviceAccount", "acme-mgmt@acme-customer-prod.iam.gserviceaccount.com",
     "api-service.template.serviceAccount: acme-mgmt@acme-customer-prod.iam.gserviceaccount.com "
     "(spec: acme-rt-app@acme-customer-prod.iam.gserviceaccount.com)"),
    ("gcp", "worker-service", "template.vpcAccess", None,
     "worker-service.template.vpcAccess.networkInterfaces[*].network: [] (spec: [acme-net])"),
    ("azure", "worker-app", "configuration.ingress.external", True,
     "worker-app.configuration.ingress.external: true (spec: false)"),
    ("azure", "web-app", "configuration.ingress.external", False,
     "web-app.configuration.ingress.external: false (spec: true)"),
    ("azure", "worker-app", "identity.type", "SystemAssigned, UserAssigned",
     "worker-app.identity.type: SystemAssigned, UserAssigned (spec: UserAssigned)"),
])
def test_the_field_says_what_was_found_and_what_the_spec_says(platform: str, child: str, path: str, value: Any,
                                                              field: str) -> None:
    def edit(read: Read) -> None:
        (urn,) = [u for u in read if urn_name(u) == child]
        assign(read[urn]["outputs"], path, value)

    health = heartbeat(platform, edit)
    rid = child.split("-")[0]
    assert health[rid]["state"] == "drifted" and field in health[rid]["fields"], health[rid]


def test_an_azure_identity_swapped_or_added_is_named_and_ids_compare_case_insensitively() -> None:
    _, read = synthesized("azure")
    (urn,) = [u for u in read if urn_name(u) == "api-app"]
    ours = next(iter(read[urn]["outputs"]["identity"]["userAssignedIdentities"]))
    vendors = ours.rsplit("/", 1)[0] + "/acme-management"

    def upper(read: Read) -> None:
        read[urn]["outputs"]["identity"]["userAssignedIdentities"] = {ours.upper(): {}}
        read[urn]["outputs"]["managedEnvironmentId"] = read[urn]["outputs"]["managedEnvironmentId"].lower()

    assert heartbeat("azure", upper)["api"] == {"state": "present", "fields": []}

    def added(read: Read) -> None:
        read[urn]["outputs"]["identity"]["userAssignedIdentities"] = {ours: {}, vendors: {}}

    (field,) = heartbeat("azure", added)["api"]["fields"]
    assert field == f"api-app.identity.userAssignedIdentities: [{vendors}, {ours}] (spec: [{ours}])"


def test_placement_ids_of_a_network_the_refresh_did_not_read_come_from_the_state_read_once() -> None:
    """Without a Network, AWS containers run in the Foundation's VPC, which a heartbeat does not refresh: the subnet
    and security group ids come from the state, exported once and only when needed; without it, not checked."""
    result, read = synthesized("aws", network=False)
    assert not [u for u in refresh_targets(result) if "Foundation" in u]
    foundation = [{"urn": u, **row} for u, row in read.items() if "alien:aws:Foundation$" in u]
    exports: list[int] = []

    def export() -> dict[str, Any]:
        exports.append(1)
        return {"resources": foundation}

    assert heartbeat("aws", network=False, state=export) == {r: {"state": "present", "fields": []}
                                                             for r in ("worker", "web", "api")}
    assert exports == [1]

    def moved(read: Read) -> None:
        (urn,) = [u for u in read if urn_name(u) == "worker-service"]
        read[urn]["outputs"]["networkConfiguration"]["subnets"] = ["subnet-vendor"]

    worker = heartbeat("aws", moved, network=False, state=export)["worker"]
    assert worker["state"] == "drifted"
    assert "worker-service.networkConfiguration.subnets: [subnet-vendor] (spec: [foundation-public-a-id, " \
           "foundation-public-b-id])" in worker["fields"]

    unknown = heartbeat("aws", network=False, state=lambda: {"resources": []})["worker"]
    assert unknown["state"] == "unknown" and any("subnets: not checked (no Subnet named" in f
                                                 for f in unknown["fields"]), unknown

    exports.clear()
    assert heartbeat("aws", state=export)["worker"]["state"] == "present"
    assert exports == [], "the stack's Network was refreshed: no export"


def test_a_compute_child_reported_without_outputs_is_unknown_and_a_gone_one_left_to_the_refresh() -> None:
    result, read = synthesized("gcp")
    targets = refresh_targets(result)
    recorder = recorder_of(targets, read)
    (service,) = [u for u in targets if urn_name(u) == "worker-service"]
    (api,) = [u for u in targets if urn_name(u) == "api-service"]
    del recorder.read[service]
    recorder.gone.add(api)
    del recorder.read[api]
    health = placement_health(result.spec, result.context, recorder, targets)
    assert health["worker"] == {"state": "unknown", "fields": ["worker-service: outputs not reported by the refresh"]}
    assert "api" not in health
    merged = merge(health_from_refresh(recorder, targets), health)
    assert merged["api"]["state"] == "missing" and merged["worker"]["state"] == "unknown"


def _event(kind: str, op: str, role: str, diffs: list[str] | None = None) -> EngineEvent:
    urn = "urn:pulumi:acme::alien::alien:aws:Function$aws:lambda/function:Function::api-function"
    state = {"type": "aws:lambda/function:Function", "urn": urn, "id": "acme-api", "parent": "", "provider": "",
             "outputs": {"role": role}}
    old = {**state, "outputs": {"role": "arn:aws:iam::123456789012:role/acme-rt-app"}}
    meta = {"op": op, "urn": urn, "type": state["type"], "old": old, "new": state, "provider": ""}
    if diffs:
        meta["diffs"] = diffs
    return EngineEvent.from_json({"sequence": 1, "timestamp": 1, kind: {"metadata": meta}})


def test_the_read_is_the_outputs_event_not_the_pre_event_that_carries_the_state() -> None:
    """The real engine's refresh pre-event carries the state as ``new``; its outputs event, what the read found."""
    recorder = EventRecorder(set())
    urn = "urn:pulumi:acme::alien::alien:aws:Function$aws:lambda/function:Function::api-function"
    recorder(_event("resourcePreEvent", "refresh", "arn:aws:iam::123456789012:role/acme-rt-app"))
    assert urn not in recorder.read
    recorder(_event("resOutputsEvent", "update", "arn:aws:iam::123456789012:role/vendor-own", ["role"]))
    assert recorder.read[urn]["outputs"] == {"role": "arn:aws:iam::123456789012:role/vendor-own"}
    assert recorder.read[urn]["id"] == "acme-api" and recorder.diffs[urn] == ["role"]


def test_show() -> None:
    values: list[Any] = [None, True, "x", ["b", "a"], {"k": {}}, 3]
    assert [show(v) for v in values] == ["absent", "true", "x", "[b, a]", "[k]", "3"]
