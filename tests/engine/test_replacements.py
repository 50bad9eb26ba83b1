"""The fake providers decide as the real ones do (provider_behaviour.py): a change replaces what the real provider
replaces, deleting first where it must; Check applies its defaults and refuses a missing required input; previews
answer computed outputs unknown; a type the table does not know fails the call. And what the stricter fake shows of
a release: on AWS a live container's change is a new task definition revision (the old one kept: skip_destroy), the
run record names it ``replaced`` once, and the release report says so.

The first tests ask the table and the fake's pure answers (no engine); ``plugin`` talks to a fake plugin process over
gRPC, as the engine does; the last ones run the real engine."""

from __future__ import annotations

import importlib
import inspect
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import alien_pulumi as alien
from alien_pulumi.automation.run import RunKind
from alien_pulumi.fleet.registry import Registry
from alien_pulumi.synth import synth
from benchmarks.bench_engine import CONTEXT  # the deployment context the engine benchmark uses
from tests.engine.fake_provider import (
    CREATE_BEFORE_DELETE,
    UNKNOWN,
    check,
    diff,
    preview_create,
    preview_update,
)
from tests.engine.fixtures import Engine
from tests.engine.flows import HERE, changed, registered, setup, stack_state, vendor
from tests.engine.harness import plugin_version
from tests.engine.provider_behaviour import TABLE, UnknownType, behaviour
from tests.engine.test_lifecycle import heartbeat
from tests.gcp_token_server import TokenServer

ROOT = Path(__file__).resolve().parents[2]
COMPONENTS = ROOT / "alien_pulumi" / "components"
SDKS = {"aws": "pulumi_aws", "gcp": "pulumi_gcp", "azure": "pulumi_azure_native"}


# --- the table: every type the programs create, and no other ---

def sdk_tokens() -> dict[str, str]:
    """Every provider resource class the components name (``aws.ecs.TaskDefinition``, or through a module alias such
    as ``ar = gcp.artifactregistry``) -> its type token, read from the SDK class's source (what it registers)."""
    named: set[tuple[str, str, str]] = set()
    for source in COMPONENTS.rglob("*.py"):
        text = source.read_text()
        named |= set(re.findall(r"\b(aws|gcp|azure)\.([a-z_0-9]+)\.([A-Z]\w+)\b", text))
        for alias, cloud, module in re.findall(r"^\s*(\w+) = (aws|gcp|azure)\.([a-z_0-9]+)$", text, re.M):
            named |= {(cloud, module, name) for name in re.findall(rf"\b{alias}\.([A-Z]\w+)\(", text)}
    found: dict[str, str] = {}
    for cloud, module, name in sorted(named):
        cls = getattr(importlib.import_module(f"{SDKS[cloud]}.{module}"), name)
        if not inspect.isclass(cls) or name.endswith("Args") or not hasattr(cls, "get"):
            continue  # an args class or an enum, not a resource
        token = re.search(r"__init__\(\s*'([^']+)'", inspect.getsource(inspect.getmodule(cls)))
        assert token, f"{cloud}.{module}.{name}: no type token in its SDK source"
        found[f"{cloud}.{module}.{name}"] = token.group(1)
    return found


def every_kind(platforms: tuple[str, ...] = ("aws", "gcp", "azure")) -> alien.StackSpec:
    """One of everything on every cloud: a network with NAT, data of each kind, a public function with a queue and a
    schedule trigger, a public container; images the registry mirrors."""
    digest = "@sha256:" + "6" * 64
    net, jobs, kv = alien.Network("net", nat=True), alien.Queue("jobs"), alien.Kv("kv")
    data, vault = alien.Storage("data", versioning=True, retention_days=30), alien.Vault("vault")
    fn = alien.Function("fn", image=f"fn:1{digest}", links=[jobs, kv, data, vault], permissions="app", public=True,
                        triggers=[alien.on_queue(jobs), alien.on_schedule("0 * * * *")])
    # From quay.io: AWS pulls it through an ECR pull-through cache, GCP through an Artifact Registry remote repository.
    web = alien.Container("web", image=f"quay.io/acme/web:1{digest}", links=[kv], permissions="app", public=True)
    registry = alien.Registry("ghcr.io/acme", aws="111122223333.dkr.ecr.us-east-1.amazonaws.com/acme")
    stack = alien.Stack("every", images=registry).platforms(*platforms)
    for res in (net, jobs, kv, data, vault):
        stack.add(res, "frozen")
    return stack.add(fn, "live").add(web, "live").permissions(profiles={"app": {"*": ["queue/data-write"]}}).build()


def test_the_table_knows_every_type_the_components_create() -> None:
    tokens = sdk_tokens()
    assert len(tokens) > 60, tokens
    missing = {cls: token for cls, token in tokens.items() if token not in TABLE}
    assert not missing, f"types the components create and provider_behaviour.py does not know: {missing}"
    # ...and the table names no type the components do not create (a stale entry reads as coverage).
    assert set(TABLE) <= set(tokens.values()), set(TABLE) - set(tokens.values())


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_what_synth_registers_is_known_and_given_every_required_input(cloud: str) -> None:
    """Both programs of a stack of every kind, as synth registers them: each custom resource's type is in the table,
    and no input the provider requires is missing (what the stricter Check would refuse)."""
    ctx = alien.DeploymentContext.create(cloud, "acme", prefix="acme", **CONTEXT[cloud])  # type: ignore[arg-type]
    result = synth(every_kind(), ctx)
    for graph in (result.provision, result.manage):
        for node in graph.nodes.values():
            if not node.custom or node.type.startswith("pulumi:providers:"):
                continue
            b = behaviour(node.type, "Check")
            missing = [p for p in b.required if p not in node.inputs and p != b.autoname]
            assert not missing, f"{node.type} {node.name}: required {missing} missing"


def test_a_type_the_table_does_not_know_is_refused_naming_it_and_the_operation() -> None:
    with pytest.raises(UnknownType, match=r"unrecognized resource type \(Diff\): aws:ec2/instance:Instance"):
        behaviour("aws:ec2/instance:Instance", "Diff")


def test_every_entry_cites_its_source() -> None:
    for token, entry in TABLE.items():
        assert re.match(r"(tfa|tfg|azn) ", entry.source), (token, entry.source)
        assert entry.replace or "no ForceNew" in entry.source, f"{token}: no replacing input, and no source saying so"


# --- Diff, as the real providers answer it ---

TASK = behaviour("aws:ecs/taskDefinition:TaskDefinition", "Diff")
TASK_INPUTS = {"family": "acme-worker", "cpu": "256", "memory": "512", "containerDefinitions": "[{}]",
               "skipDestroy": True, "tags": {"a": "1"}, "__defaults": []}


@pytest.mark.parametrize("field", ["containerDefinitions", "cpu", "memory", "executionRoleArn"])
def test_any_change_to_an_ecs_task_definition_replaces_it_creating_first(field: str) -> None:
    keys, replaces, delete_first = diff("aws", TASK, TASK_INPUTS, TASK_INPUTS | {field: "changed"})
    assert keys == replaces == [field] and delete_first is False, "family is not auto-named: create before delete"


def test_an_ecs_task_definition_updates_its_tags_and_skip_destroy_in_place() -> None:
    keys, replaces, _ = diff("aws", TASK, TASK_INPUTS, TASK_INPUTS | {"tags": {"a": "2"}, "skipDestroy": False})
    assert keys == ["skipDestroy", "tags"] and replaces == []


def test_a_lambda_function_updates_image_environment_memory_in_place_and_replaces_on_a_new_name() -> None:
    function = behaviour("aws:lambda/function:Function", "Diff")
    olds = {"name": "acme-api", "imageUri": "a@sha256:1", "memorySize": 512, "environment": {"variables": {}},
            "packageType": "Image", "role": "arn:role", "__defaults": []}
    news = olds | {"imageUri": "a@sha256:2", "memorySize": 1024, "environment": {"variables": {"A": "1"}}}
    assert diff("aws", function, olds, news) == (["environment", "imageUri", "memorySize"], [], False)
    # The program names it: a new name is deleted first (its old name would otherwise still be taken).
    assert diff("aws", function, olds, olds | {"name": "acme-api2"}) == (["name"], ["name"], True)
    # Auto-named (the name is in __defaults): created first.
    auto = olds | {"__defaults": ["name"]}
    assert diff("aws", function, auto, auto | {"packageType": "Zip"}) == (["packageType"], ["packageType"], False)


@pytest.mark.parametrize("field", ["name", "location"])
def test_a_cloud_run_service_is_replaced_on_a_new_name_or_location(field: str) -> None:
    service = behaviour("gcp:cloudrunv2/service:Service", "Diff")
    olds = {"name": "acme-api", "location": "us-central1", "project": "p", "template": {"containers": []},
            "__defaults": []}
    assert diff("gcp", service, olds, olds | {field: "other"}) == ([field], [field], True)
    assert diff("gcp", service, olds, olds | {"template": {"containers": [{}]}}) == (["template"], [], False)


@pytest.mark.parametrize("field", ["containerAppName", "resourceGroupName", "location"])
def test_a_container_app_is_replaced_deleting_first_on_a_new_name_group_or_location(field: str) -> None:
    app = behaviour("azure-native:app:ContainerApp", "Diff")
    olds = {"containerAppName": "acme-api", "resourceGroupName": "rg", "location": "eastus", "template": {}}
    assert diff("azure", app, olds, olds | {field: "westus"}) == ([field], [field], True)
    assert diff("azure", app, olds, olds | {"template": {"containers": []}}) == (["template"], [], False)
    # ARM locations ignore case and spaces; a randomly auto-named app is created before the old one goes.
    assert diff("azure", app, olds, olds | {"location": "East US"}) == ([], [], False)
    random = olds | {CREATE_BEFORE_DELETE: True}
    assert diff("azure", app, random, random | {"location": "westus"}) == (["location"], ["location"], False)


# --- Check ---

def test_check_refuses_a_missing_required_input_in_the_providers_words() -> None:
    urn = "urn:pulumi:acme::alien::aws:ecs/taskDefinition:TaskDefinition::worker-task"
    _, failures = check("aws", TASK, urn, {}, {"family": "acme-worker"}, b"", {})
    assert failures == ["Missing required property 'containerDefinitions'"]
    vault = behaviour("azure-native:keyvault:Vault", "Check")
    _, failures = check("azure", vault, urn, {}, {"vaultName": "v", "location": "eastus"}, b"", {})
    assert failures == ["missing required property 'resourceGroupName'", "missing required property 'properties'"]


def test_check_auto_names_what_the_program_does_not_name_and_keeps_the_name_after() -> None:
    policy = behaviour("aws:iam/rolePolicy:RolePolicy", "Check")
    urn = "urn:pulumi:acme::alien::aws:iam/rolePolicy:RolePolicy::revoked"
    first, failures = check("aws", policy, urn, {}, {"role": "r", "policy": "{}"}, b"seed-1", {})
    assert not failures and first["name"].startswith("revoked-") and first["__defaults"] == ["name"]
    again, _ = check("aws", policy, urn, first, {"role": "r", "policy": "{}"}, b"seed-2", {})
    assert again["name"] == first["name"], "the old auto-name is kept"
    replacement, _ = check("aws", policy, urn, {}, {"role": "r", "policy": "{}"}, b"seed-2", {})
    assert replacement["name"] != first["name"], "a replacement's Check (no olds) names it anew"
    named, _ = check("aws", policy, urn, {}, {"role": "r", "policy": "{}", "name": "mine"}, b"", {})
    assert named["name"] == "mine" and named["__defaults"] == []


def test_azure_check_defaults_the_location_from_the_provider() -> None:
    identity = behaviour("azure-native:managedidentity:UserAssignedIdentity", "Check")
    urn = "urn:pulumi:acme::alien::azure-native:managedidentity:UserAssignedIdentity::rt"
    news, failures = check("azure", identity, urn, {}, {"resourceName": "rt", "resourceGroupName": "rg"}, b"",
                           {"location": "westeurope"})
    assert news["location"] == "westeurope" and not failures
    _, failures = check("azure", identity, urn, {}, {"resourceName": "rt", "resourceGroupName": "rg"}, b"", {})
    assert failures and failures[0].startswith("missing required property 'location'. Either set it explicitly")


# --- previews ---

def test_a_create_preview_answers_computed_outputs_unknown_and_planned_defaults_known() -> None:
    function = behaviour("aws:lambda/function:Function", "Create")
    inputs = {"name": "acme-api", "role": "arn:role", "__defaults": []}
    outputs = {"name": "acme-api", "role": "arn:role", "memorySize": 128, "arn": "arn:aws:lambda:...", "id": "x",
               "tagsAll": {}}
    assert preview_create("aws", function, inputs, outputs) == {
        "name": "acme-api", "role": "arn:role", "memorySize": 128, "arn": UNKNOWN, "tagsAll": {}}
    vault = behaviour("azure-native:keyvault:Vault", "Create")
    given = {"vaultName": "v", "properties": {"tenantId": "t"}, "identity": {"userAssignedIdentities": ["id1"]}}
    answered = {**given, "id": "/subscriptions/...", "properties": {"tenantId": "t", "vaultUri": "https://v"},
                "identity": {"userAssignedIdentities": {"id1": {"principalId": "p"}}}}
    assert preview_create("azure", vault, given, answered) == {
        "vaultName": "v", "properties": {"tenantId": "t", "vaultUri": UNKNOWN}, "identity": {
            "userAssignedIdentities": UNKNOWN}}


def test_an_update_preview_answers_what_the_provider_recomputes_unknown() -> None:
    service = behaviour("gcp:cloudrunv2/service:Service", "Update")
    outputs = {"id": "s", "name": "acme-api", "template": {"x": 2}, "uri": "https://u", "latestReadyRevision": "r2"}
    state = {"id": "s", "name": "acme-api", "template": {"x": 1}, "uri": "https://u", "latestReadyRevision": "r1"}
    assert preview_update("gcp", service, {"name": "acme-api", "template": {"x": 2}}, outputs, state, ["template"]) \
        == {"id": "s", "name": "acme-api", "template": {"x": 2}, "uri": "https://u", "latestReadyRevision": UNKNOWN}
    app = behaviour("azure-native:app:ContainerApp", "Update")
    outputs = {"id": "/a", "name": "app", "location": "eastus", "template": {}, "latestRevisionFqdn": "f2"}
    state = {"id": "/a", "name": "app", "location": "East US", "template": {}, "latestRevisionFqdn": "f1"}
    assert preview_update("azure", app, {"template": {}}, outputs, state, ["template"]) == {
        "id": "/a", "name": "app", "location": "East US", "template": {}, "latestRevisionFqdn": UNKNOWN}


# --- the fake plugin over gRPC, as the engine calls it ---

@pytest.fixture
def plugin(tmp_path: Path) -> Iterator[Any]:
    """A fake AWS and a fake GCP plugin process, and a ResourceProvider stub of each (by cloud)."""
    import grpc
    from pulumi.runtime.proto import provider_pb2_grpc

    processes, stubs = [], {}
    try:
        for cloud in ("aws", "gcp"):
            command = [sys.executable, "-m", "tests.engine.fake_provider", cloud, plugin_version(cloud),
                       str(tmp_path / cloud)]
            process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
            processes.append(process)
            assert process.stdout is not None
            port = process.stdout.readline().strip()
            stubs[cloud] = provider_pb2_grpc.ResourceProviderStub(grpc.insecure_channel(f"127.0.0.1:{port}"))
        yield stubs
    finally:
        for process in processes:
            process.kill()
            process.wait()


def struct(values: dict[str, Any]) -> Any:
    from google.protobuf import struct_pb2

    out = struct_pb2.Struct()
    out.update(values)
    return out


def test_the_plugin_refuses_every_call_about_an_unknown_type_naming_it(plugin: Any) -> None:
    import grpc
    from pulumi.runtime.proto import provider_pb2

    urn = "urn:pulumi:acme::alien::aws:ec2/instance:Instance::box"
    calls = {"Check": provider_pb2.CheckRequest(urn=urn, news=struct({})),
             "Diff": provider_pb2.DiffRequest(urn=urn, id="i-1", olds=struct({}), news=struct({})),
             "Create": provider_pb2.CreateRequest(urn=urn, properties=struct({})),
             "Delete": provider_pb2.DeleteRequest(urn=urn, id="i-1", properties=struct({}))}
    for operation, request in calls.items():
        with pytest.raises(grpc.RpcError) as refused:
            getattr(plugin["aws"], operation)(request)
        assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert f"unrecognized resource type ({operation}): aws:ec2/instance:Instance" in refused.value.details()


def test_the_plugin_previews_unknowns_checks_and_refuses_a_protected_delete(plugin: Any) -> None:
    import grpc
    from google.protobuf import json_format
    from pulumi.runtime.proto import provider_pb2

    urn = "urn:pulumi:acme::alien::aws:ecs/taskDefinition:TaskDefinition::worker-task"
    checked = plugin["aws"].Check(provider_pb2.CheckRequest(urn=urn, news=struct({"family": "acme-worker"})))
    assert [f.reason for f in checked.failures] == ["Missing required property 'containerDefinitions'"]
    inputs = {"family": "acme-worker", "containerDefinitions": "[]", "cpu": "256"}
    preview = plugin["aws"].Create(provider_pb2.CreateRequest(urn=urn, properties=struct(inputs), preview=True))
    answered = json_format.MessageToDict(preview.properties)
    assert answered["arn"] == answered["revision"] == UNKNOWN and answered["family"] == "acme-worker"
    assert answered["skipDestroy"] is False, "the provider's default, known in the plan"

    # Cloud Run refuses to delete a service whose deletion_protection is left at its default (true).
    service = "urn:pulumi:acme::alien::gcp:cloudrunv2/service:Service::api-service"
    with pytest.raises(grpc.RpcError) as refused:
        plugin["gcp"].Delete(provider_pb2.DeleteRequest(urn=service, id="s", properties=struct({"name": "s"})))
    assert refused.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "deletion_protection=false" in refused.value.details()
    plugin["gcp"].Delete(provider_pb2.DeleteRequest(urn=service, id="s", properties=struct(
        {"name": "s", "deletionProtection": False})))


# --- the real engine ---

SMALL = HERE / "stacks" / "small.py"
DIGEST, NEXT = "sha256:" + "4" * 64, "sha256:" + "7" * 64
WORKER = f'alien.Container("worker", image="worker:2.0.0@{DIGEST}", cpu=0.25, memory_mb=512, port=8080, ' \
         'links=[jobs], permissions="app")'
WRITES = {"Create", "Update", "Delete"}
# What a new image recomputes, unknown in the preview of the update (Cloud Run: TF keeps computed values unless
# recomputed; azure-native: every response property but name and location).
RECOMPUTED = {"gcp": "latestReadyRevision", "azure": "latestRevisionFqdn"}
# The container's compute resource per cloud: what its release changes.
COMPUTE = {"aws": "aws:ecs/taskDefinition:TaskDefinition", "gcp": "gcp:cloudrunv2/service:Service",
           "azure": "azure-native:app:ContainerApp"}


def with_worker(tmp_path: Path) -> Path:
    stack = changed(tmp_path, 'cache = alien.Kv("cache")', f'cache = alien.Kv("cache")\nworker = {WORKER}')
    return changed(tmp_path, '.add(api, "live")', '.add(api, "live").add(worker, "live")', stack)


def release_text(state: Path, stack: Path, release: str) -> str:
    result = vendor("release", stack, "-d", "acme", "--state-dir", state, "--release-id", release)
    assert result.exit_code == 0, result.output
    return str(result.output)


def run_operations(state: Path) -> dict[str, str]:
    """The step list of the deployment's latest release run, as the registry recorded its result."""
    with Registry(state) as registry:
        runs = [r for r in registry.runs(deployment="acme") if r.kind is RunKind.RELEASE and r.result is not None]
        assert runs and runs[-1].result is not None
        return runs[-1].result.operations


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_a_live_container_release_replaces_the_task_definition_on_aws_and_updates_elsewhere(
        cloud: str, engine: Engine, management: TokenServer, tmp_path: Path) -> None:
    fake, state = engine.clouds[cloud], tmp_path / "state"
    stack = with_worker(tmp_path)
    up = setup(stack, cloud, state)
    assert up.exit_code == 0, up.output
    registered(state)
    fake.clear_calls()
    newer = changed(tmp_path, f"worker:2.0.0@{DIGEST}", f"worker:2.1.0@{NEXT}", stack)
    # The release's preview first (the pull request check): what it says, and what the plugin answered it.
    previewed = vendor("preview", newer, "-d", "acme", "--state-dir", state)
    assert previewed.exit_code == 0, previewed.output
    previews = {(c["method"], c["urn"].rsplit("::", 1)[-1]): c["unknown"] for c in fake.calls() if c.get("preview")}
    fake.clear_calls()
    text = release_text(state, newer, "r2")

    calls = [c for c in fake.calls() if not c.get("preview")]
    writes = [(c["method"], c["urn"].rsplit("::", 1)[-1]) for c in calls if c["method"] in WRITES]
    operations = {urn.rsplit("::", 1)[-1]: op for urn, op in run_operations(state).items() if op != "same"}
    record = Registry(state).get_deployment("acme").record
    assert record is not None
    if cloud != "aws":  # Cloud Run and Container Apps take a new image as an update of the service / app
        compute = next(u for u in {c["urn"] for c in calls if c["method"] == "Update"} if COMPUTE[cloud] in u)
        assert writes == [("Update", compute.rsplit("::", 1)[-1])], writes
        # The preview of that update: what the new revision computes is known only after it.
        assert RECOMPUTED[cloud] in previews[("Update", compute.rsplit("::", 1)[-1])], previews
        assert set(operations.values()) == {"update"} and record.operations.get("update") == 1, operations
        assert f"updated {compute.rsplit('::', 1)[-1]}" in text
        assert re.search(r"succeeded: \d+ same, 1 update$", previewed.output, re.M), previewed.output
        return

    # AWS: every task definition argument is ForceNew, so a new image is a new revision of the family, created
    # before the old one is deleted (the family is no auto-name); the service then runs it; the old revision's
    # delete only forgets it (skip_destroy: DeregisterTaskDefinition is never called).
    assert writes == [("Create", "worker-task"), ("Update", "worker-service"), ("Delete", "worker-task")], writes
    assert {"arn", "revision"} <= set(previews[("Create", "worker-task")]), "the new revision's ARN: after apply"
    (delete,) = [c for c in calls if c["method"] == "Delete"]
    assert delete["kept"] is True
    revisions = sorted((r["outputs"]["revision"], bool(r.get("retained"))) for r in fake.resources()
                       if r["type"] == COMPUTE["aws"])
    assert revisions == [(1, True), (2, False)], "the old revision stays registered, out of the state"
    current = fake.find("::worker-task")["outputs"]["arn"]
    assert current.endswith("task-definition/acme-worker:2")
    assert fake.find("::worker-service")["outputs"]["taskDefinition"] == current

    # The record: the task definition once, replaced (not its last step, delete-replaced); the counts likewise.
    assert operations == {"worker-task": "replaced", "worker-service": "update"}, operations
    assert record.operations.get("replaced") == 1 and record.operations.get("update") == 1, record.operations
    assert "replace" not in record.operations and "delete-replaced" not in json.dumps(record.operations)
    assert "acme: replaced worker-task; updated worker-service" in text, text
    assert re.search(r"succeeded: 1 replaced, \d+ same, 1 update$", previewed.output, re.M), previewed.output
    states = {r["urn"].rsplit("::", 1)[-1]: r for r in stack_state(state)["resources"]}
    assert states["worker-task"]["outputs"]["revision"] == 2
    assert heartbeat(state)["worker"] == {"state": "present", "fields": []}, "the service runs the new revision"


def test_a_live_function_release_updates_it_in_place(engine: Engine, management: TokenServer,
                                                     tmp_path: Path) -> None:
    fake, state = engine.clouds["aws"], tmp_path / "state"
    assert setup(SMALL, "aws", state).exit_code == 0
    registered(state)
    fake.clear_calls()
    # A new image (small.py's DIGEST) and more memory.
    newer = changed(tmp_path, '"4" * 64', '"7" * 64', changed(tmp_path, "memory_mb=512", "memory_mb=1024"))
    result = vendor("release", newer, "-d", "acme", "--state-dir", state, "--release-id", "r2", "--json")
    assert result.exit_code == 0, result.output
    changes = json.loads(result.stdout)["deployments"]["acme"]["changes"]
    assert {urn.rsplit("::", 1)[-1]: op for urn, op in changes.items()} == {"api-function": "update"}
    writes = [(c["method"], c["urn"].rsplit("::", 1)[-1]) for c in fake.calls()
              if c["method"] in WRITES and not c.get("preview")]
    assert writes == [("Update", "api-function")]
    (update,) = [c for c in fake.calls() if c["method"] == "Update" and not c["preview"]]
    assert update["fields"] == ["imageUri", "memorySize"]
    record = Registry(state).get_deployment("acme").record
    assert record is not None and record.operations.get("update") == 1 and "replaced" not in record.operations
    assert "updated api-function" in release_text(state, changed(tmp_path, "memory_mb=1024", "memory_mb=2048",
                                                                 newer), "r3")


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_a_setup_adding_resources_replaces_nothing_already_deployed(cloud: str) -> None:
    """Both programs of a small stack and of the same stack grown (more resources, links and permissions: on AWS more
    policy documents): what both declare is updated at most, by the table's rules, never replaced. Found by the table:
    the AWS policies' descriptions counted the role's documents, and a description change replaces an IAM policy."""
    from benchmarks.stacks import stack_of

    ctx = alien.DeploymentContext.create(cloud, "acme", prefix="acme", **CONTEXT[cloud])  # type: ignore[arg-type]
    small, grown = (synth(stack_of(n, (cloud,)).model_copy(update={"name": "grow"}), ctx) for n in (3, 40))
    replaced = []
    for program in ("provision", "manage"):
        before, after = getattr(small, program).nodes, getattr(grown, program).nodes
        for urn, node in before.items():
            if node.custom and not node.type.startswith("pulumi:providers:") and urn in after:
                _, replaces, _ = diff(cloud, behaviour(node.type, "Diff"), node.inputs, after[urn].inputs)
                replaced += [f"{program} {node.name}: {replaces}"] if replaces else []
    assert not replaced, replaced


# --- the record's naming of a replacement (automation/events.py) ---

def engine_event(**event: Any) -> Any:
    from pulumi.automation import EngineEvent

    return EngineEvent.from_json({"sequence": 1, "timestamp": 1, **event})


def step(op: str, urn: str) -> Any:
    return engine_event(resourcePreEvent={"metadata": {"op": op, "urn": urn, "type": urn.split("::")[-2]}})


@pytest.mark.parametrize("order", [["create-replacement", "replace", "delete-replaced"],
                                   ["delete-replaced", "replace", "create-replacement"]])
def test_the_record_names_a_replaced_resource_once_replaced(order: list[str]) -> None:
    """Create-before-delete or delete-before-replace: one ``replaced`` entry for the resource, never its last step
    (``delete-replaced`` reads as deleted); the engine's summary counts it once, ``replace``, recorded ``replaced``.
    The engine's own steps stay what the admin's guard checks (state_guard.DELETING)."""
    from alien_pulumi.automation.events import EventRecorder
    from alien_pulumi.automation.state_guard import DELETING

    task = "urn:pulumi:acme::alien::alien:aws:Container$aws:ecs/taskDefinition:TaskDefinition::worker-task"
    service = "urn:pulumi:acme::alien::alien:aws:Container$aws:ecs/service:Service::worker-service"
    lines: list[str] = []
    recorder = EventRecorder({task, service}, lines.append)
    for op in order[:2]:
        recorder(step(op, task))
    recorder(step("update", service))
    recorder(step(order[2], task))
    assert recorder.steps() == {task: "replaced", service: "update"}
    assert recorder.counts() == {"replaced": 1, "update": 1}, "counted from the steps when no summary came"
    recorder(engine_event(summaryEvent={"maybeCorrupt": False, "durationSeconds": 1, "PolicyPacks": {},
                                        "resourceChanges": {"replace": 1, "update": 1, "same": 3}}))
    assert recorder.counts() == {"replaced": 1, "update": 1, "same": 3}
    assert recorder.operations[task] in DELETING, "the guard still sees the engine's deleting step"
    assert any(order[0] in line and line.endswith(" worker-task") for line in lines), lines
