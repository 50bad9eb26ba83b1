"""AWS components under mocks: what each program declares, with which options, names, tags and identities,
and whether the permission sets cover the provider's read of every child the components create."""

from __future__ import annotations

import inspect
import json
from functools import cache
from pathlib import Path

import pulumi_aws as aws
import pytest

import alien_pulumi as alien
from alien_pulumi.components.aws.container import fargate_size, log_group_name
from alien_pulumi.components.aws.function import PlatformLimitError, aws_cron
from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.naming import deployment_names, name_rules, resource_names
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import Lifecycle, Platform, ResourceType
from alien_pulumi.permissions.placement import fill_subnets, placement_values
from alien_pulumi.permissions.render import render_layer
from alien_pulumi.synth import Node, SynthResult, run_program, synth

ECR = "111122223333.dkr.ecr.us-east-1.amazonaws.com"  # AWS runs ECR images only (DESIGN.md §4b)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
TAG_KEYS = {"alien-stack", "alien-resource", "alien-lifecycle", "managed-by"}
LIFECYCLES = [Lifecycle.FROZEN, Lifecycle.LIVE]


# ------------------------------------------------------------------ stacks


def one_of(kind: ResourceType, lifecycle: Lifecycle) -> StackSpec:
    """A stack exercising ``kind`` with every option its AWS component branches on."""
    lc = lifecycle.value
    stack = alien.Stack(f"t-{kind.value}-{lc}").platforms("aws")
    if kind is ResourceType.STORAGE:
        stack.add(alien.Storage("data", versioning=True, retention_days=30), lc)
    elif kind is ResourceType.QUEUE:
        stack.add(alien.Queue("jobs", visibility_timeout_s=60), lc)
    elif kind is ResourceType.KV:
        stack.add(alien.Kv("cache"), lc)
    elif kind is ResourceType.VAULT:
        stack.add(alien.Vault("secrets"), lc)
    elif kind is ResourceType.NETWORK:
        stack.add(alien.Network("net", cidr="10.1.0.0/24", zones=3, nat=True), lc)
    elif kind is ResourceType.FUNCTION:
        jobs = alien.Queue("jobs")
        stack.add(jobs, "frozen")
        stack.add(alien.Function("api", image="123456789012.dkr.ecr.us-east-1.amazonaws.com/api:1", public=True,
                                 links=[jobs], triggers=[alien.on_queue(jobs, batch_size=5)],
                                 environment={"MODE": "api"}), lc)
        stack.add(alien.Function("cron", image="123456789012.dkr.ecr.us-east-1.amazonaws.com/cron:1",
                                 triggers=[alien.on_schedule("*/10 1-5 * * MON-FRI")], permissions="batch"), lc)
        stack.permissions(profiles={"batch": {"jobs": ["queue/data-write"]}})
    elif kind is ResourceType.CONTAINER:
        stack.add(alien.Network("net", nat=True), "frozen")
        stack.add(alien.Container("web", image=f"{ECR}/acme/web:1", public=True, port=8443), lc)
        stack.add(alien.Container("worker", image=f"{ECR}/acme/worker:1", permissions="worker"), lc)
        stack.permissions(profiles={"worker": {}})
    return stack.build()


def containers_without_network(lifecycle: Lifecycle = Lifecycle.LIVE) -> StackSpec:
    return (alien.Stack("t-bare").platforms("aws")
            .add(alien.Container("web", image=f"{ECR}/acme/web:1", public=True), lifecycle.value)
            .add(alien.Container("worker", image=f"{ECR}/acme/worker:1"), lifecycle.value)
            .build())


def ctx_for(spec: StackSpec) -> DeploymentContext:
    return DeploymentContext.example_context("aws", spec.name)


@cache
def synthesized(kind: ResourceType, lifecycle: Lifecycle) -> SynthResult:
    spec = one_of(kind, lifecycle)
    return synth(spec, ctx_for(spec))


@cache
def example(path: Path) -> SynthResult:
    spec = alien.load_stack(path)
    return synth(spec, ctx_for(spec))


@cache
def bare() -> SynthResult:
    spec = containers_without_network()
    return synth(spec, ctx_for(spec))


def all_results() -> list[SynthResult]:
    return ([synthesized(k, lc) for k in ResourceType for lc in LIFECYCLES]
            + [example(p) for p in EXAMPLES] + [bare()])


def custom(result: SynthResult, type_: str | None = None) -> list[Node]:
    return [n for n in result.provision.nodes.values()
            if n.custom and not n.type.startswith("pulumi:providers:") and (type_ is None or n.type == type_)]


def one(result: SynthResult, type_: str, name: str | None = None) -> Node:
    found = [n for n in custom(result, type_) if name is None or n.name == name]
    assert len(found) == 1, (type_, name, [n.name for n in found])
    return found[0]


def placed_subnets(result: SynthResult) -> dict[str, object]:
    """Each container's subnet sentinel (permissions/placement.py) -> the subnets its service runs in."""
    services = {n.name: n.inputs for n in custom(result, "aws:ecs/service:Service")}
    return {placement_values(result.spec, res, result.context)["subnets"]:
            services[f"{res.id}-service"]["networkConfiguration"]["subnets"]  # type: ignore[index]
            for res in result.spec.resources if res.kind is ResourceType.CONTAINER}


def component_of(result: SynthResult, node: Node) -> Node:
    while node.parent is not None:
        node = result.provision.nodes[node.parent]
    return node


# ------------------------------------------------------------------ synthesis and options


@pytest.mark.parametrize("lifecycle", LIFECYCLES, ids=lambda lc: lc.value)
@pytest.mark.parametrize("kind", list(ResourceType), ids=lambda k: k.value)
def test_every_type_and_lifecycle_synthesizes(kind: ResourceType, lifecycle: Lifecycle) -> None:
    result = synthesized(kind, lifecycle)
    component = next(c for c in result.provision.components() if c.type == f"alien:aws:{kind.name.title()}")
    assert result.manage.urns() == result.provision.urns()
    if kind is ResourceType.VAULT:
        assert result.provision.descendants(component.urn) == []  # a name prefix, no cloud resource
    else:
        assert result.provision.descendants(component.urn)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_synthesize_on_aws(path: Path) -> None:
    result = example(path)
    assert {c.name for c in result.provision.components()} >= {"foundation", "identities", "grants"}


def test_components_use_the_explicit_provider() -> None:
    # The options table of every child is checked for every cloud in tests/components/test_programs.py.
    for result in all_results():
        for component, _, _ in result.component_rows():
            assert component.provider == "" or component.provider.startswith("urn:")


def test_every_child_uses_the_explicit_provider() -> None:
    for result in all_results():
        for node in custom(result):
            assert "pulumi:providers:aws::aws::" in node.provider, node.urn


def test_management_targets_are_the_live_components() -> None:
    result = synthesized(ResourceType.FUNCTION, Lifecycle.LIVE)
    live = {c.urn for c in result.provision.components() if c.name in ("api", "cron")}
    targets = set(result.targets)
    assert live <= targets
    assert all(component_of(result, result.provision.nodes[t]).urn in live for t in targets)


# ------------------------------------------------------------------ identities


def test_management_identity_is_exactly_the_management_layer() -> None:
    for result in all_results():
        rendered = render_layer(result.plan, "management")
        ctx = result.context
        role = one(result, "aws:iam/role:Role", "identities-management")
        assert role.inputs["name"] == ctx.identity("management")
        assert json.loads(role.inputs["assumeRolePolicy"]) == rendered["trust_policy"]
        assert role.inputs["maxSessionDuration"] == 3600
        policies = sorted((n for n in custom(result, "aws:iam/policy:Policy")
                           if n.name.startswith("identities-management-")), key=lambda n: n.name)
        # setup puts the ids of the subnets each service runs in in the place of their sentinel
        assert [json.loads(p.inputs["policy"]) for p in policies] == fill_subnets(rendered["policies"],
                                                                                placed_subnets(result))
        assert [p.inputs["name"] for p in policies] == [
            ctx.identity(f"management-{i}") for i in range(1, len(policies) + 1)]
        attachments = [n for n in custom(result, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                       if n.name.startswith("identities-management-")]
        assert len(attachments) == len(policies)
        assert all(a.inputs["role"] == ctx.identity("management") for a in attachments)


def test_runtime_identities_carry_their_profile_and_run_the_compute() -> None:
    for result in all_results():
        ctx = result.context
        for profile in result.plan.runtime:
            rendered = render_layer(result.plan, "runtime", profile)
            role = one(result, "aws:iam/role:Role", f"identities-rt-{profile}")
            assert role.inputs["name"] == ctx.identity(f"rt-{profile}")
            assert json.loads(role.inputs["assumeRolePolicy"]) == rendered["trust_policy"]
            policies = sorted((n for n in custom(result, "aws:iam/policy:Policy")
                               if n.name.startswith(f"identities-rt-{profile}-")), key=lambda n: n.name)
            assert [json.loads(p.inputs["policy"]) for p in policies] == rendered["policies"]
            assert all(p.inputs["name"].startswith(f"{ctx.prefix}-rt-") for p in policies)
        for res in result.spec.resources:
            profile = res.profile or "default"
            role_arn = f"<arn of identities-rt-{profile}>"  # the mock's placeholder output
            if res.kind is ResourceType.FUNCTION:
                assert one(result, "aws:lambda/function:Function", f"{res.id}-function").inputs["role"] == role_arn
            if res.kind is ResourceType.CONTAINER:
                task = one(result, "aws:ecs/taskDefinition:TaskDefinition", f"{res.id}-task")
                assert task.inputs["taskRoleArn"] == role_arn == task.inputs["executionRoleArn"]


def test_management_outputs() -> None:
    result = synthesized(ResourceType.KV, Lifecycle.FROZEN)
    # offline: the example external id, marked as an example (a real context needs the vendor's own)
    assert result.context.example and len(result.context.external) >= 32


# ------------------------------------------------------------------ names and tags


PRIMARY = {
    "aws:s3/bucket:Bucket": ("bucket", ResourceType.STORAGE),
    "aws:lambda/function:Function": ("name", ResourceType.FUNCTION),
    "aws:ecs/service:Service": ("name", ResourceType.CONTAINER),
    "aws:ecs/taskDefinition:TaskDefinition": ("family", ResourceType.CONTAINER),
    "aws:sqs/queue:Queue": ("name", ResourceType.QUEUE),
    "aws:dynamodb/table:Table": ("name", ResourceType.KV),
    "aws:cloudwatch/eventRule:EventRule": ("name", ResourceType.FUNCTION),
}


def test_physical_names_come_from_naming_and_fit() -> None:
    checked = set()
    for result in all_results():
        ctx = result.context
        for node in custom(result):
            if node.type in PRIMARY:
                key, kind = PRIMARY[node.type]
                res_id = component_of(result, node).name
                expected = resource_names(Platform.AWS, kind, ctx.prefix, res_id)["name"]
                assert node.inputs[key] == expected, node.urn
                assert not name_rules(Platform.AWS, kind)["name"].violations(expected)
                checked.add(node.type)
            if node.type == "aws:ecs/cluster:Cluster":
                assert node.inputs["name"] == deployment_names(Platform.AWS, ctx.prefix)["cluster"]
            if node.type == "aws:cloudwatch/logGroup:LogGroup":
                assert node.inputs["name"] == log_group_name(ctx.prefix, component_of(result, node).name)
            if node.type == "aws:ec2/vpc:Vpc" and component_of(result, node).name != "foundation":
                expected = resource_names(Platform.AWS, ResourceType.NETWORK, ctx.prefix,
                                          component_of(result, node).name)["name"]
                assert node.inputs["tags"]["Name"] == expected
    assert checked == set(PRIMARY)


def test_long_names_fit_aws_limits() -> None:
    spec = (alien.Stack("s").platforms("aws")
            .add(alien.Storage("a-very-long-resource-id-of-32ch"), "frozen")
            .add(alien.Function("another-long-resource-id-of-32c", image=f"{ECR}/i:1"), "live")
            .build())
    prefix = "acme-corporation-prodapp1"[:24]
    result = synth(spec, DeploymentContext.example_context("aws", "s", prefix=prefix))
    bucket = one(result, "aws:s3/bucket:Bucket").inputs["bucket"]
    function = one(result, "aws:lambda/function:Function").inputs["name"]
    assert len(bucket) <= 63 and len(function) <= 64
    for role in custom(result, "aws:iam/role:Role"):
        assert len(role.inputs["name"]) <= 64
    for policy in custom(result, "aws:iam/policy:Policy"):
        assert len(policy.inputs["name"]) <= 128 and policy.inputs["name"].startswith(f"{prefix}-")


def sdk_class(type_token: str) -> type:
    """The pulumi_aws class of a type token such as ``aws:ec2/vpc:Vpc``."""
    module = type_token.split(":")[1].split("/")[0]
    package = getattr(aws, module, None) or getattr(aws, f"{module}_")
    return getattr(package, type_token.rsplit(":", 1)[1])


def test_tags_on_everything_that_takes_them() -> None:
    for result in all_results():
        for node in custom(result):
            if "tags" in inspect.signature(sdk_class(node.type)._internal_init).parameters:
                tags = node.inputs.get("tags") or {}
                assert TAG_KEYS <= set(tags), node.urn
                assert tags["alien-stack"] == result.spec.name


# ------------------------------------------------------------------ SDK classes and invokes


def test_misspelt_argument_to_a_real_sdk_class_raises() -> None:
    with pytest.raises(TypeError):
        aws.s3.Bucket("x", bucket_nam="typo")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        aws.lambda_.Function("x", package_typ="Image")  # type: ignore[call-arg]


def test_an_invoke_would_fail_the_synth() -> None:
    def program() -> None:
        aws.get_caller_identity()

    with pytest.raises(Exception, match="unexpected invoke"):
        run_program(program, "alien", "invoke-check")


# ------------------------------------------------------------------ per type


def test_storage_children() -> None:
    result = synthesized(ResourceType.STORAGE, Lifecycle.LIVE)
    assert one(result, "aws:s3/bucket:Bucket").inputs["forceDestroy"] is False
    pab = one(result, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(pab[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    versioning = one(result, "aws:s3/bucketVersioning:BucketVersioning").inputs
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    one(result, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    one(result, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")


def test_function_children() -> None:
    result = synthesized(ResourceType.FUNCTION, Lifecycle.LIVE)
    api = one(result, "aws:lambda/function:Function", "api-function").inputs
    assert api["packageType"] == "Image"
    assert api["environment"]["variables"] == {"MODE": "api", "ALIEN_JOBS_QUEUE_URL": "<url of jobs-queue>"}
    assert one(result, "aws:lambda/functionUrl:FunctionUrl").inputs["authorizationType"] == "NONE"
    url_invoke = one(result, "aws:lambda/permission:Permission", "api-url-invoke").inputs
    assert url_invoke["action"] == "lambda:InvokeFunction" and url_invoke["invokedViaFunctionUrl"] is True
    mapping = one(result, "aws:lambda/eventSourceMapping:EventSourceMapping").inputs
    assert mapping["eventSourceArn"] == "<arn of jobs-queue>" and mapping["batchSize"] == 5
    assert mapping["tags"]["alien-stack"] == result.spec.name  # heartbeat reads mappings by this tag
    rule = one(result, "aws:cloudwatch/eventRule:EventRule").inputs
    assert rule["scheduleExpression"] == "cron(0/10 1-5 ? * 2,3,4,5,6 *)"
    assert one(result, "aws:cloudwatch/eventTarget:EventTarget").inputs["arn"] == "<arn of cron-function>"
    schedule = one(result, "aws:lambda/permission:Permission", "cron-schedule-invoke").inputs
    assert schedule["principal"] == "events.amazonaws.com" and schedule["sourceArn"] == "<arn of cron-schedule>"
    assert "api-url" not in {n.name for n in custom(result) if n.name.startswith("cron")}


def test_function_rejects_two_schedules() -> None:
    spec = (alien.Stack("s").platforms("aws")
            .add(alien.Function("f", image=f"{ECR}/i:1", triggers=[alien.on_schedule("0 1 * * *"),
                                                           alien.on_schedule("0 2 * * *")]), "live")
            .build())
    with pytest.raises(PlatformLimitError, match="one schedule"):
        synth(spec, ctx_for(spec))


def test_container_children_in_the_stack_network() -> None:
    result = synthesized(ResourceType.CONTAINER, Lifecycle.LIVE)
    ctx = result.context
    cluster = one(result, "aws:ecs/cluster:Cluster")
    assert component_of(result, cluster).name == "foundation"
    assert one(result, "aws:ec2/vpc:Vpc").parent is not None  # only the stack's network, no implicit one
    assert component_of(result, one(result, "aws:ec2/vpc:Vpc")).name == "net"
    web = one(result, "aws:ecs/service:Service", "web-service").inputs
    worker = one(result, "aws:ecs/service:Service", "worker-service").inputs
    assert web["cluster"] == "<arn of foundation-cluster>"
    assert web["launchType"] == "FARGATE" and web["desiredCount"] == 1
    assert web["networkConfiguration"]["assignPublicIp"] is True
    assert web["networkConfiguration"]["subnets"] == ["net-public-a-id", "net-public-b-id"]
    assert worker["networkConfiguration"]["assignPublicIp"] is False
    assert worker["networkConfiguration"]["subnets"] == ["net-private-a-id", "net-private-b-id"]
    assert web["networkConfiguration"]["securityGroups"] == ["net-compute-sg-id"]
    ingress = one(result, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").inputs
    assert (ingress["fromPort"], ingress["toPort"], ingress["securityGroupId"]) == (8443, 8443, "net-compute-sg-id")
    task = one(result, "aws:ecs/taskDefinition:TaskDefinition", "web-task").inputs
    assert task["family"] == web["name"] and task["skipDestroy"] is True
    assert (task["cpu"], task["memory"]) == ("512", "1024")
    definition = json.loads(task["containerDefinitions"])[0]
    assert definition["portMappings"] == [{"containerPort": 8443, "protocol": "tcp"}]
    assert definition["logConfiguration"]["options"]["awslogs-group"] == log_group_name(ctx.prefix, "web")


def test_containers_without_a_network_get_the_foundations_vpc() -> None:
    result = bare()
    vpc = one(result, "aws:ec2/vpc:Vpc")
    assert component_of(result, vpc).name == "foundation"
    assert not custom(result, "aws:ec2/natGateway:NatGateway")
    service = one(result, "aws:ecs/service:Service", "worker-service").inputs
    assert service["networkConfiguration"]["assignPublicIp"] is True  # image pull without NAT
    assert service["networkConfiguration"]["securityGroups"] == ["foundation-compute-sg-id"]
    assert one(result, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").inputs[
        "securityGroupId"] == "foundation-compute-sg-id"


def test_no_cluster_without_containers() -> None:
    result = synthesized(ResourceType.FUNCTION, Lifecycle.LIVE)
    assert not custom(result, "aws:ecs/cluster:Cluster") and not custom(result, "aws:ec2/vpc:Vpc")


def test_network_children() -> None:
    result = synthesized(ResourceType.NETWORK, Lifecycle.FROZEN)
    subnets = {n.name: n.inputs for n in custom(result, "aws:ec2/subnet:Subnet")}
    assert set(subnets) == {f"net-{kind}-{z}" for kind in ("public", "private") for z in "abc"}
    assert subnets["net-public-a"]["availabilityZone"] == "us-east-1a"
    assert subnets["net-public-a"]["cidrBlock"] == "10.1.0.0/27"
    assert subnets["net-private-c"]["cidrBlock"] == "10.1.0.192/27"
    one(result, "aws:ec2/natGateway:NatGateway")
    one(result, "aws:ec2/eip:Eip")
    routes = {n.name: n.inputs for n in custom(result, "aws:ec2/route:Route")}
    assert routes["net-public-default-route"]["gatewayId"] == "net-igw-id"
    assert routes["net-private-default-route"]["natGatewayId"] == "net-nat-id"
    sg = one(result, "aws:ec2/securityGroup:SecurityGroup").inputs
    assert "ingress" not in sg and sg["egress"][0]["cidrBlocks"] == ["0.0.0.0/0"]


def test_queue_kv_vault() -> None:
    queue = one(synthesized(ResourceType.QUEUE, Lifecycle.FROZEN), "aws:sqs/queue:Queue").inputs
    assert queue["visibilityTimeoutSeconds"] == 60 and queue["sqsManagedSseEnabled"] is True
    table = one(synthesized(ResourceType.KV, Lifecycle.FROZEN), "aws:dynamodb/table:Table").inputs
    assert table["billingMode"] == "PAY_PER_REQUEST"
    assert (table["hashKey"], table["rangeKey"]) == ("pk", "sk")
    assert table["attributes"] == [{"name": "pk", "type": "S"}, {"name": "sk", "type": "S"}]
    vault = synthesized(ResourceType.VAULT, Lifecycle.LIVE)
    assert not custom(vault, None) or all(component_of(vault, n).name != "secrets" for n in custom(vault))


# ------------------------------------------------------------------ the sets cover every child's read


# What the provider's read of each resource type calls (IAM actions), from terraform-provider-aws.
READS: dict[str, set[str]] = {
    "aws:s3/bucketVersioning:BucketVersioning": {"s3:GetBucketVersioning"},
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration":
        {"s3:GetEncryptionConfiguration"},
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": {"s3:GetBucketPublicAccessBlock"},
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": {"s3:GetLifecycleConfiguration"},
    "aws:lambda/function:Function": {"lambda:GetFunction", "lambda:ListVersionsByFunction"},
    "aws:lambda/functionUrl:FunctionUrl": {"lambda:GetFunctionUrlConfig"},
    "aws:lambda/permission:Permission": {"lambda:GetPolicy"},
    "aws:lambda/eventSourceMapping:EventSourceMapping": {"lambda:GetEventSourceMapping", "lambda:ListTags"},
    "aws:cloudwatch/eventRule:EventRule": {"events:DescribeRule", "events:ListTagsForResource"},
    "aws:cloudwatch/eventTarget:EventTarget": {"events:ListTargetsByRule"},
    "aws:ecs/cluster:Cluster": {"ecs:DescribeClusters"},
    "aws:ecs/taskDefinition:TaskDefinition": {"ecs:DescribeTaskDefinition"},
    "aws:ecs/service:Service": {"ecs:DescribeServices"},
    "aws:cloudwatch/logGroup:LogGroup": {"logs:DescribeLogGroups", "logs:ListTagsLogGroup",
                                         "logs:ListTagsForResource"},
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {"ec2:DescribeSecurityGroupRules"},
    "aws:sqs/queue:Queue": {"sqs:GetQueueAttributes", "sqs:ListQueueTags"},
    "aws:dynamodb/table:Table": {"dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups",
                                 "dynamodb:DescribeTimeToLive", "dynamodb:ListTagsOfResource"},
    "aws:ec2/vpc:Vpc": {"ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:DescribeRouteTables",
                        "ec2:DescribeNetworkAcls", "ec2:DescribeSecurityGroups"},
    "aws:ec2/subnet:Subnet": {"ec2:DescribeSubnets"},
    "aws:ec2/internetGateway:InternetGateway": {"ec2:DescribeInternetGateways"},
    "aws:ec2/routeTable:RouteTable": {"ec2:DescribeRouteTables"},
    "aws:ec2/route:Route": {"ec2:DescribeRouteTables"},
    "aws:ec2/routeTableAssociation:RouteTableAssociation": {"ec2:DescribeRouteTables"},
    "aws:ec2/eip:Eip": {"ec2:DescribeAddresses", "ec2:DescribeAddressesAttribute"},
    "aws:ec2/natGateway:NatGateway": {"ec2:DescribeNatGateways"},
    "aws:ec2/securityGroup:SecurityGroup": {"ec2:DescribeSecurityGroups"},
    "aws:iam/role:Role": {"iam:GetRole", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies"},
    "aws:iam/policy:Policy": {"iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyTags"},
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": {"iam:ListAttachedRolePolicies"},
}
# DESIGN.md "Health": the bucket resource's read starts with HeadBucket (s3:ListBucket = listing contents);
# its health comes from direct configuration reads, so only the admin's setup holds its read.
SETUP_READ_ONLY = {"aws:s3/bucket:Bucket": {"s3:ListBucket", "s3:GetBucketTagging", "s3:GetBucketPolicy"}}


def test_every_created_type_has_its_read_listed() -> None:
    created = {n.type for r in all_results() for n in custom(r)}
    assert created <= set(READS) | set(SETUP_READ_ONLY), created - set(READS) - set(SETUP_READ_ONLY)


def test_heartbeat_covers_the_read_of_every_child() -> None:
    """The management layer (every resource's heartbeat) covers the read of each child of every resource
    component and of the Foundation; identities are setup-owned, their reads are the admin's."""
    for result in all_results():
        management = result.plan.management.actions()
        provisioning = result.plan.provisioning.actions()
        for node in custom(result):
            owner = component_of(result, node).name
            if node.type in SETUP_READ_ONLY:
                assert not SETUP_READ_ONLY[node.type] <= management
                assert SETUP_READ_ONLY[node.type] <= provisioning, node.urn
                continue
            reads = READS[node.type]
            assert reads <= provisioning, (node.urn, reads - provisioning)
            if owner != "identities":
                assert reads <= management, (node.urn, reads - management)


def test_management_updates_a_live_function_and_container() -> None:
    for kind, updates in [(ResourceType.FUNCTION, {"lambda:UpdateFunctionCode", "lambda:UpdateFunctionConfiguration",
                                                   "lambda:UpdateEventSourceMapping", "iam:PassRole"}),
                          (ResourceType.CONTAINER, {"ecs:RegisterTaskDefinition", "ecs:UpdateService",
                                                    "iam:PassRole"})]:
        assert updates <= synthesized(kind, Lifecycle.LIVE).plan.management.actions()
        assert not updates & synthesized(kind, Lifecycle.FROZEN).plan.management.actions()


# ------------------------------------------------------------------ helpers


@pytest.mark.parametrize(("unix", "expected"), [
    ("0 3 * * *", "cron(0 3 * * ? *)"),
    ("*/15 * * * *", "cron(0/15 * * * ? *)"),
    ("30 6 1 * *", "cron(30 6 1 * ? *)"),
    ("0 9 * * 1-5", "cron(0 9 ? * 2,3,4,5,6 *)"),
    ("0 9 * * MON-FRI", "cron(0 9 ? * 2,3,4,5,6 *)"),
    ("0 0 * * 0", "cron(0 0 ? * 1 *)"),
    ("0 0 * * 7", "cron(0 0 ? * 1 *)"),
    ("0 0 * * 5-7", "cron(0 0 ? * 1,6,7 *)"),
    ("0 0 * * */2", "cron(0 0 ? * 1,3,5,7 *)"),
    ("0 12 */2 * *", "cron(0 12 1/2 * ? *)"),
    ("0 12 * JAN,JUL *", "cron(0 12 * JAN,JUL ? *)"),
])
def test_aws_cron(unix: str, expected: str) -> None:
    assert aws_cron(unix) == expected


@pytest.mark.parametrize("unix", ["0 0 1 * 1", "0 0 * * 6-1", "0 0 * * funday"])
def test_aws_cron_refuses(unix: str) -> None:
    with pytest.raises(PlatformLimitError):
        aws_cron(unix)


@pytest.mark.parametrize(("cpu", "memory", "expected"), [
    (0.25, 512, (256, 512)), (0.5, 512, (512, 1024)), (0.5, 1024, (512, 1024)), (1, 1024, (1024, 2048)),
    (1, 2048, (1024, 2048)), (0.25, 3000, (512, 3072)), (2, 8192, (2048, 8192)), (4, 8192, (4096, 8192)),
    (0.3, 1024, (512, 1024)),
])
def test_fargate_size(cpu: float, memory: int, expected: tuple[int, int]) -> None:
    assert fargate_size(cpu, memory) == expected


def test_components_registry() -> None:
    from alien_pulumi.components import aws as aws_components

    assert set(aws_components.COMPONENTS) == set(ResourceType)
    for kind, cls in aws_components.COMPONENTS.items():
        assert cls.kind is kind and cls.cloud is Platform.AWS

