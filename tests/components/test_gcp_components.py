"""GCP components under mocks: every type x lifecycle, the lifecycle options of DESIGN.md §4, the identities
and bindings against the rendered layers, physical names, labels, triggers, and that the real SDK classes
check argument names and that no component reads the cloud (invokes)."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

import pulumi
import pulumi_gcp as gcp
import pytest

import alien_pulumi as alien
from alien_pulumi.components.gcp.container import container_size
from alien_pulumi.model.naming import identity_name, name_rules, resource_names
from alien_pulumi.model.types import Platform, ResourceType
from alien_pulumi.permissions.plan import profile_of
from alien_pulumi.permissions.render import render_layer
from alien_pulumi.programs import PROJECT, ProgramKind, build
from alien_pulumi.synth import SynthResult, run_program, synth
from alien_pulumi.synth.graph import Node

LIFECYCLES = ["frozen", "live"]
TYPES = [t.value for t in ResourceType]

BUCKET = "gcp:storage/bucket:Bucket"
SERVICE = "gcp:cloudrunv2/service:Service"
TOPIC = "gcp:pubsub/topic:Topic"
SUBSCRIPTION = "gcp:pubsub/subscription:Subscription"
DATABASE = "gcp:firestore/database:Database"
SECRET = "gcp:secretmanager/secret:Secret"
NETWORK = "gcp:compute/network:Network"
SUBNETWORK = "gcp:compute/subnetwork:Subnetwork"
ROUTER = "gcp:compute/router:Router"
NAT = "gcp:compute/routerNat:RouterNat"
JOB = "gcp:cloudscheduler/job:Job"
ACCOUNT = "gcp:serviceaccount/account:Account"
ROLE = "gcp:projects/iAMCustomRole:IAMCustomRole"
SA_MEMBER = "gcp:serviceaccount/iAMMember:IAMMember"
RUN_MEMBER = "gcp:cloudrunv2/serviceIamMember:ServiceIamMember"

# The inverse of the component's scope mapping, written independently: an IAM member's inputs -> its scope.
SCOPE_OF: dict[str, Callable[[dict[str, Any]], str]] = {
    "gcp:storage/bucketIAMMember:BucketIAMMember":
        lambda i: f"//storage.googleapis.com/projects/_/buckets/{i['bucket']}",
    "gcp:pubsub/topicIAMMember:TopicIAMMember":
        lambda i: f"//pubsub.googleapis.com/projects/{i['project']}/topics/{i['topic']}",
    "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember":
        lambda i: f"//pubsub.googleapis.com/projects/{i['project']}/subscriptions/{i['subscription']}",
    RUN_MEMBER:
        lambda i: f"//run.googleapis.com/projects/{i['project']}/locations/{i['location']}/services/{i['name']}",
    SA_MEMBER: lambda i: f"//iam.googleapis.com/{i['serviceAccountId']}",
    "gcp:projects/iAMMember:IAMMember": lambda i: f"projects/{i['project']}",
    "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": lambda i: f"//cloudkms.googleapis.com/{i['cryptoKeyId']}",
}
# Resources that would hold or read contents: the programs never declare them.
DATA_TYPES = {"gcp:storage/bucketObject:BucketObject", "gcp:secretmanager/secretVersion:SecretVersion",
              "gcp:firestore/document:Document", "gcp:serviceaccount/key:Key", "gcp:storage/hmacKey:HmacKey"}


def single(kind: str, lifecycle: str, **fields: Any) -> alien.StackSpec:
    """A stack with one resource of ``kind`` (plus the queue a triggered function needs)."""
    stack = alien.Stack(f"one-{kind}").platforms("gcp")
    if kind == "function":
        jobs = alien.Queue("jobs")
        stack.add(jobs, "frozen")
        res: Any = alien.Function("it", image="ghcr.io/acme/fn:1", triggers=[alien.on_queue(jobs)], **fields)
    elif kind == "container":
        res = alien.Container("it", image="ghcr.io/acme/web:1", **fields)
    else:
        res = {"storage": alien.Storage, "queue": alien.Queue, "kv": alien.Kv, "vault": alien.Vault,
               "network": alien.Network}[kind]("it", **fields)
    return stack.add(res, lifecycle).build()


def every(lifecycle: str, *, extend: bool = False) -> alien.StackSpec:
    """Every type and feature: network with NAT, public compute, both trigger kinds, links, two profiles."""
    net = alien.Network("net", cidr="10.20.0.0/20", nat=True)
    data = alien.Storage("data", versioning=True, retention_days=30)
    jobs = alien.Queue("jobs", message_retention_s=1_209_600)
    table = alien.Kv("table")
    vault = alien.Vault("vault")
    fn = alien.Function("fn", image="ghcr.io/acme/fn:1.0", memory_mb=6144, public=True, links=[data, jobs, vault],
                        triggers=[alien.on_queue(jobs), alien.on_schedule("0 3 * * ?")], permissions="app",
                        environment={"MODE": "test", "PORT": "9999"})
    web = alien.Container("web", image="ghcr.io/acme/web:1.0", cpu=0.5, min_replicas=0, max_replicas=4, port=9090,
                          links=[data, table], health_check_path="/healthz")
    worker = alien.Container("worker", image="ghcr.io/acme/worker:1.0", permissions="app")
    stack = alien.Stack("every").platforms("gcp")
    for res in (net, data, jobs, table, vault, fn, web, worker):
        stack.add(res, lifecycle)
    management = {"extend": {"fn": ["function/provision"]}} if extend else None
    return stack.permissions(profiles={"app": {"jobs": ["queue/data-read"], "data": ["storage/data-read"]}},
                             management=management).build()


@cache
def synthesized(lifecycle: str) -> SynthResult:
    spec = every(lifecycle)
    return synth(spec, alien.DeploymentContext.example_context("gcp", spec.name))


@cache
def synthesized_one(kind: str, lifecycle: str) -> SynthResult:
    spec = single(kind, lifecycle)
    return synth(spec, alien.DeploymentContext.example_context("gcp", spec.name, prefix="acme-one"))


def nodes(result: SynthResult, type_: str) -> list[Node]:
    return [n for n in result.provision.nodes.values() if n.type == type_]


def node(result: SynthResult, name: str) -> Node:
    (found,) = [n for n in result.provision.nodes.values() if n.name == name]
    return found


def component(result: SynthResult, name: str) -> Node:
    (found,) = [n for n in result.provision.components() if n.name == name]
    return found


def children(result: SynthResult, name: str) -> list[Node]:
    return result.provision.descendants(component(result, name).urn)


def bindings_of(result: SynthResult, member: str) -> list[dict[str, Any]]:
    """Every IAM member in Grants for ``member``, as rendered bindings."""
    out = []
    for child in children(result, "grants"):
        if child.type in SCOPE_OF and child.inputs["member"] == member:
            out.append({"role": child.inputs["role"], "member": member, "scope": SCOPE_OF[child.type](child.inputs),
                        "condition": child.inputs.get("condition")})
    return out


def key(binding: dict[str, Any]) -> tuple[str, str, str, str]:
    return binding["role"], binding["member"], binding["scope"], repr(sorted((binding["condition"] or {}).items()))


# -- every type x lifecycle ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lifecycle", LIFECYCLES)
@pytest.mark.parametrize("kind", TYPES)
def test_every_type_and_lifecycle_synthesizes_with_the_lifecycle_options(kind: str, lifecycle: str) -> None:
    result = synthesized_one(kind, lifecycle)
    comp = component(result, "it")
    assert comp.type == f"alien:gcp:{kind.capitalize()}"
    kids = result.provision.descendants(comp.urn)
    assert kids and all(k.custom for k in kids)
    frozen = lifecycle == "frozen"
    for child in kids:
        manage = result.manage.nodes[child.urn].options
        assert (child.options.protect, child.options.retain_on_delete, child.options.ignore_changes) == (
            frozen, frozen, ()), child.urn
        assert (manage.protect, manage.retain_on_delete, manage.ignore_changes) == (
            frozen, frozen, ("*",) if frozen else ()), child.urn
        assert child.provider.startswith(f"urn:pulumi:acme-one::{PROJECT}::pulumi:providers:gcp::gcp::"), child.urn
    targets = set(result.targets)
    assert (comp.urn in targets) is (not frozen)


@pytest.mark.parametrize("lifecycle", LIFECYCLES)
def test_deployment_wide_components_are_frozen_in_both_programs(lifecycle: str) -> None:
    result = synthesized(lifecycle)
    for name in ("foundation", "identities", "grants"):
        kept = name == "foundation"  # permissions stay revocable by the next setup
        for child in children(result, name):
            manage = result.manage.nodes[child.urn].options
            assert (child.options.protect, child.options.retain_on_delete, child.options.ignore_changes) == (
                kept, kept, ())
            assert (manage.protect, manage.retain_on_delete, manage.ignore_changes) == (kept, kept, ("*",))
            assert child.urn not in result.targets
    assert not children(result, "foundation")  # GCP needs nothing deployment-wide


def test_live_targets_are_the_resource_components_only() -> None:
    result = synthesized("live")
    top = {u.rsplit("::", 1)[1] for u in result.targets if u.count("$") == 0}
    assert top == {"net", "data", "jobs", "table", "vault", "fn", "web", "worker"}


# -- identities ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("extend", [False, True])
def test_management_identity_roles_and_bindings_equal_the_rendered_layer(extend: bool) -> None:
    spec = every("live", extend=extend)
    ctx = alien.DeploymentContext.example_context("gcp", spec.name)
    result = synth(spec, ctx)
    rendered = render_layer(result.plan, "management")
    email = ctx.identity("management")

    (account,) = [n for n in children(result, "identities") if n.name == "identities-management"]
    assert account.inputs["accountId"] == email.split("@")[0] == identity_name(Platform.GCP, ctx.prefix, "management")
    assert account.inputs["project"] == ctx.project

    roles = {n.inputs["roleId"]: n.inputs for n in nodes(result, ROLE)}
    for role in rendered["roles"]:
        if role["permissions"]:
            assert roles[role["id"]]["permissions"] == role["permissions"]
            assert (roles[role["id"]]["title"], roles[role["id"]]["description"]) == (role["title"],
                                                                                      role["description"])
    bound = bindings_of(result, f"serviceAccount:{email}")
    assert bound
    assert sorted(map(key, bound)) == sorted(map(key, rendered["bindings"]))
    assert {b["role"].rsplit("/", 1)[1] for b in bound} <= set(roles)

    impersonation = [n for n in children(result, "identities") if n.type == SA_MEMBER]
    assert [(n.inputs["role"], n.inputs["member"], n.inputs["serviceAccountId"]) for n in impersonation] == [
        (rendered["impersonation"]["role"], f"serviceAccount:{ctx.principal}", rendered["impersonation"]["scope"])]
    # The vendor's principal gets nothing else, anywhere.
    assert [n for n in result.provision.nodes.values() if n.inputs.get("member") == f"serviceAccount:{ctx.principal}"
            ] == impersonation


def test_every_custom_role_is_rendered_unique_and_fits() -> None:
    result = synthesized("live")
    rendered_roles = {r["id"]: r for layer in ("management",) for r in render_layer(result.plan, layer)["roles"]}
    for profile in result.plan.runtime:
        rendered_roles.update({r["id"]: r for r in render_layer(result.plan, "runtime", profile)["roles"]})
    impersonation = render_layer(result.plan, "management")["impersonation"]["custom_role"]
    rendered_roles[impersonation["id"]] = impersonation
    created = [n.inputs["roleId"] for n in nodes(result, ROLE)]
    assert len(created) == len(set(created))
    assert set(created) == {rid for rid, r in rendered_roles.items() if r["permissions"]}
    (imp,) = [n for n in nodes(result, ROLE) if n.inputs["roleId"] == impersonation["id"]]
    assert imp.inputs["permissions"] == ["iam.serviceAccounts.getAccessToken"]
    for role in nodes(result, ROLE):
        assert 3 <= len(role.inputs["roleId"]) <= 64 and role.inputs["stage"] == "GA"
        assert len(role.inputs["title"]) <= 100 and len(role.inputs["description"]) <= 256


def test_each_runtime_identity_carries_its_profile_and_runs_its_compute() -> None:
    result = synthesized("live")
    spec, ctx = result.spec, result.context
    for profile in result.plan.runtime:
        email = ctx.identity(f"rt-{profile}")
        (account,) = [n for n in nodes(result, ACCOUNT) if n.name == f"identities-rt-{profile}"]
        assert account.inputs["accountId"] == email.split("@")[0]
        rendered = render_layer(result.plan, "runtime", profile)
        assert sorted(map(key, bindings_of(result, f"serviceAccount:{email}"))) == sorted(
            map(key, rendered["bindings"]))
    for res in spec.resources:
        if res.kind in (ResourceType.FUNCTION, ResourceType.CONTAINER):
            service = node(result, f"{res.id}-service")
            assert service.inputs["template"]["serviceAccount"] == ctx.identity(f"rt-{profile_of(res)}")
    assert node(result, "web-service").inputs["template"]["serviceAccount"].startswith("every-rt-default@")
    assert node(result, "fn-service").inputs["template"]["serviceAccount"].startswith("every-rt-app@")


def test_management_outputs_name_the_service_account() -> None:
    spec = every("frozen")
    ctx = alien.DeploymentContext.example_context("gcp", spec.name)
    seen: dict[str, str] = {}

    def program() -> None:
        env = build(spec, ctx, ProgramKind.PROVISION)
        for name, value in env.identities.management_outputs().items():
            pulumi.Output.from_input(value).apply(lambda v, name=name: seen.setdefault(name, v))

    run_program(program, PROJECT, ctx.prefix)
    assert seen == {"service_account": ctx.identity("management"), "project": ctx.project}


# -- resources -------------------------------------------------------------------------------------------------


def test_physical_names_come_from_naming_and_fit() -> None:
    result = synthesized("frozen")
    ctx = result.context
    primary = {BUCKET: "data", SERVICE: None, TOPIC: "jobs", DATABASE: "table", NETWORK: "net", SUBNETWORK: "net",
               ROUTER: "net", NAT: "net"}
    for type_, rid in primary.items():
        for n in nodes(result, type_):
            owner = rid or n.name.rsplit("-", 1)[0]
            res = result.spec.resource(owner)
            names = resource_names(Platform.GCP, res.kind, ctx.prefix, res.id)
            assert n.inputs["name"] == names["name"], n.urn
            assert not name_rules(Platform.GCP, res.kind)["name"].violations(n.inputs["name"])
    assert node(result, "jobs-subscription").inputs["name"] == "every-jobs"
    secret = node(result, "vault-anchor").inputs["secretId"]
    assert secret.startswith(resource_names(Platform.GCP, ResourceType.VAULT, ctx.prefix, "vault")["name"] + "-")
    for account in nodes(result, ACCOUNT):
        role = account.name.removeprefix("identities-")
        assert account.inputs["accountId"] == identity_name(Platform.GCP, ctx.prefix, role)
        assert re.fullmatch(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", account.inputs["accountId"])


def test_long_names_are_fitted_by_naming() -> None:
    long_id = "a" * 32
    spec = alien.Stack("s").platforms("gcp").add(alien.Function(long_id, image="x/y:1"), "frozen").build()
    ctx = alien.DeploymentContext.example_context("gcp", "s", prefix="p" * 24)
    result = synth(spec, ctx)
    name = node(result, f"{long_id}-service").inputs["name"]
    assert name == resource_names(Platform.GCP, ResourceType.FUNCTION, ctx.prefix, long_id)["name"]
    assert len(name) <= 49


def test_labels_on_everything_that_takes_them() -> None:
    result = synthesized("live")
    labelled = {BUCKET, SERVICE, TOPIC, SUBSCRIPTION, SECRET}
    for n in result.provision.nodes.values():
        if n.type in labelled:
            labels = n.inputs["labels"]
            assert labels["alien-stack"] == "every" and labels["managed-by"] == "alien-pulumi", n.urn
            assert labels["alien-resource"] in {"data", "jobs", "vault", "fn", "web", "worker"}, n.urn


def test_storage_bucket() -> None:
    bucket = node(synthesized("frozen"), "data-bucket").inputs
    assert bucket["uniformBucketLevelAccess"] is True and bucket["publicAccessPrevention"] == "enforced"
    assert bucket["forceDestroy"] is False and bucket["project"] == "acme-customer-prod"
    assert bucket["versioning"] == {"enabled": True} and bucket["location"] == "US-CENTRAL1"
    assert [r["condition"] for r in bucket["lifecycleRules"]] == [{"age": 30, "withState": "LIVE"},
                                                                  {"daysSinceNoncurrentTime": 30}]
    plain = node(synthesized_one("storage", "frozen"), "it-bucket").inputs
    assert "lifecycleRules" not in plain and plain["versioning"] == {"enabled": False}


def test_queue_topic_and_pull_subscription() -> None:
    result = synthesized("frozen")
    topic, sub = node(result, "jobs-topic").inputs, node(result, "jobs-subscription").inputs
    assert topic["messageRetentionDuration"] == "1209600s"  # a topic keeps up to 31 days
    assert sub["messageRetentionDuration"] == "604800s"  # a subscription at most 7
    assert sub["topic"] == topic["name"] and sub["expirationPolicy"] == {"ttl": ""}
    assert "pushConfig" not in sub and sub["ackDeadlineSeconds"] == 30


def test_kv_firestore_database() -> None:
    db = node(synthesized("frozen"), "table-database").inputs
    assert (db["type"], db["deletionPolicy"], db["locationId"], db["project"]) == (
        "FIRESTORE_NATIVE", "DELETE", "us-central1", "acme-customer-prod")


def test_vault_declares_metadata_only() -> None:
    result = synthesized("live")
    (anchor,) = children(result, "vault")
    assert anchor.type == SECRET and anchor.inputs["replication"] == {"auto": {}}
    assert not [n for n in result.provision.nodes.values() if n.type in DATA_TYPES]
    assert not [n for n in result.provision.nodes.values() if "secretData" in n.inputs]


def test_network_with_and_without_nat() -> None:
    result = synthesized("frozen")
    assert node(result, "net-network").inputs["autoCreateSubnetworks"] is False
    sub = node(result, "net-subnetwork").inputs
    assert (sub["ipCidrRange"], sub["network"], sub["region"]) == ("10.20.0.0/20", "every-net", "us-central1")
    assert node(result, "net-nat").inputs["router"] == node(result, "net-router").inputs["name"]
    plain = synthesized_one("network", "frozen")
    assert {n.type for n in children(plain, "it")} == {NETWORK, SUBNETWORK}


def test_compute_services() -> None:
    result = synthesized("live")
    fn = node(result, "fn-service").inputs
    template = fn["template"]
    (container,) = template["containers"]
    assert template["scaling"] == {"minInstanceCount": 0}
    assert template["maxInstanceRequestConcurrency"] == 1 and template["timeout"] == "30s"
    assert container["resources"] == {"limits": {"cpu": "2", "memory": "6144Mi"}, "cpuIdle": True}
    env = {e["name"]: e["value"] for e in container["envs"]}
    assert env == {"MODE": "test", "ALIEN_DATA_BUCKET": "every-data",
                   "ALIEN_JOBS_TOPIC": "projects/acme-customer-prod/topics/every-jobs",
                   "ALIEN_JOBS_SUBSCRIPTION": "projects/acme-customer-prod/subscriptions/every-jobs",
                   "ALIEN_VAULT_SECRET_PREFIX": "projects/acme-customer-prod/secrets/every-vault-"}  # no PORT
    assert fn["deletionProtection"] is False and fn["ingress"] == "INGRESS_TRAFFIC_ALL"
    assert template["vpcAccess"] == {"egress": "ALL_TRAFFIC",
                                     "networkInterfaces": [{"network": "every-net", "subnetwork": "every-net"}]}

    web = node(result, "web-service").inputs["template"]
    assert web["scaling"] == {"minInstanceCount": 1, "maxInstanceCount": 4}  # a container never scales to zero
    (container,) = web["containers"]
    assert container["resources"]["limits"] == {"cpu": "1", "memory": "1024Mi"}
    assert container["resources"]["cpuIdle"] is False and container["ports"] == {"containerPort": 9090}
    assert container["startupProbe"] == {"httpGet": {"path": "/healthz", "port": 9090}}
    assert "vpcAccess" not in node(synthesized_one("container", "live"), "it-service").inputs["template"]


@pytest.mark.parametrize(("cpu", "memory", "expected"), [
    (0.25, 512, ("1", 512)), (1, 4096, ("1", 4096)), (1, 6144, ("2", 6144)), (1.5, 1024, ("2", 1024)),
    (3, 1024, ("4", 2048)), (4, 8192, ("4", 8192)),
])
def test_container_size_is_a_valid_cloud_run_size(cpu: float, memory: int, expected: tuple[str, int]) -> None:
    assert container_size(cpu, memory) == expected


def test_public_invoker_bindings_are_setup_owned() -> None:
    result = synthesized("live")
    public = [n for n in children(result, "grants") if n.type == RUN_MEMBER and n.inputs["member"] == "allUsers"]
    assert [(n.inputs["name"], n.inputs["role"]) for n in public] == [("every-fn", "roles/run.invoker")]
    assert not [n for n in result.provision.nodes.values()
                if n.inputs.get("member") == "allUsers" and n.urn not in {p.urn for p in public}]
    assert not set(result.targets) & {p.urn for p in public}


def test_triggers_push_and_schedule_as_the_runtime_identity() -> None:
    result = synthesized("live")
    rt = result.context.identity("rt-app")
    push = node(result, "grants-trigger-fn-0").inputs
    assert push["name"] == "every-fn_t0" and push["topic"] == "every-jobs"
    assert push["pushConfig"]["oidcToken"]["serviceAccountEmail"] == rt
    assert push["pushConfig"]["pushEndpoint"] == push["pushConfig"]["oidcToken"]["audience"] == "<uri of fn-service>"
    assert push["messageRetentionDuration"] == "604800s" and push["expirationPolicy"] == {"ttl": ""}
    # Setup-owned triggers derive nothing from live fields (timeout_s), so a release never leaves them behind.
    assert push["ackDeadlineSeconds"] == 600
    job = node(result, "grants-trigger-fn-1")
    assert job.type == JOB
    assert (job.inputs["name"], job.inputs["schedule"], job.inputs["timeZone"]) == ("every-fn_t1", "0 3 * * *",
                                                                                  "Etc/UTC")
    assert job.inputs["httpTarget"]["oidcToken"]["serviceAccountEmail"] == rt
    assert job.inputs["attemptDeadline"] == "1800s"
    # The runtime identity may invoke its own function (its triggers authenticate as it).
    invoke = [b for b in bindings_of(result, f"serviceAccount:{rt}") if b["scope"].endswith("/services/every-fn")]
    assert invoke and all("_function_runtime" in b["role"] for b in invoke)


def test_no_data_resources_and_no_keys_anywhere() -> None:
    for lifecycle in LIFECYCLES:
        result = synthesized(lifecycle)
        assert not [n for n in result.provision.nodes.values() if n.type in DATA_TYPES]


# -- the SDK and the mocks -------------------------------------------------------------------------------------


def test_a_misspelt_argument_to_a_real_sdk_class_raises() -> None:
    def misspelt_resource() -> None:
        gcp.storage.Bucket("b", name="x", location="US", uniform_bucket_level_acess=True)

    def misspelt_args_class() -> None:
        gcp.cloudrunv2.ServiceTemplateArgs(containerz=[])

    with pytest.raises(TypeError, match="uniform_bucket_level_acess"):
        run_program(misspelt_resource, PROJECT, "typo")
    with pytest.raises(TypeError, match="containerz"):
        misspelt_args_class()


def test_an_invoke_would_fail_and_none_happens() -> None:
    def reads_the_cloud() -> None:
        pulumi.export("project", gcp.organizations.get_project().number)

    with pytest.raises(Exception, match="unexpected invoke"):
        run_program(reads_the_cloud, PROJECT, "invoke")
    for lifecycle in LIFECYCLES:  # synth runs under the same mocks: getting here means no invoke happened
        assert synthesized(lifecycle).provision.nodes


# -- a role per grant: a project-level grant never carries its set's resource-level permissions ------------------


def test_no_resource_level_permission_is_bound_project_wide() -> None:
    result = synthesized("live")
    rendered = render_layer(result.plan, "management")
    permissions = {r["name"]: set(r["permissions"]) for r in rendered["roles"]}
    project_wide = set()
    for binding in rendered["bindings"]:
        if binding["scope"].startswith("projects/") and binding["condition"] is None:
            project_wide |= permissions[binding["role"]]
    assert project_wide <= {"run.operations.get", "compute.globalOperations.get", "compute.regionOperations.get"}


# -- the sets are sufficient for what the components declare ------------------------------------------------------

# The provider's read (heartbeat) and update (management) permission of every child type a resource component
# declares (sets/gcp/*.yaml headers). A child type missing here fails the test: its sets must be checked first.
READ_UPDATE: dict[str, tuple[str, str | None]] = {
    BUCKET: ("storage.buckets.get", "storage.buckets.update"),
    SERVICE: ("run.services.get", "run.services.update"),
    TOPIC: ("pubsub.topics.get", "pubsub.topics.update"),
    SUBSCRIPTION: ("pubsub.subscriptions.get", "pubsub.subscriptions.update"),
    DATABASE: ("datastore.databases.getMetadata", "datastore.databases.update"),
    SECRET: ("secretmanager.secrets.get", "secretmanager.secrets.update"),
    NETWORK: ("compute.networks.get", "compute.networks.update"),
    SUBNETWORK: ("compute.subnetworks.get", "compute.subnetworks.update"),
    ROUTER: ("compute.routers.get", "compute.routers.update"),
    NAT: ("compute.routers.get", "compute.routers.update"),  # a NAT is read and patched through its router
}


def _names_child(binding: dict[str, Any], physical: str) -> bool:
    """Whether a rendered binding is placed on (or conditioned to) the child with this physical name."""
    if binding["scope"].endswith(f"/{physical}"):
        return True
    quoted = re.findall(r'"([^"]*)"', (binding["condition"] or {}).get("expression", ""))
    return any(q.endswith(f"/{physical}") or (q.endswith("-") and physical.startswith(q)) for q in quoted)


@pytest.mark.parametrize("lifecycle", LIFECYCLES)
def test_management_layer_reads_every_child_and_updates_every_live_child(lifecycle: str) -> None:
    result = synthesized(lifecycle)
    rendered = render_layer(result.plan, "management")
    permissions = {r["name"]: set(r["permissions"]) for r in rendered["roles"]}
    for res in result.spec.resources:
        for child in children(result, res.id):
            read, update = READ_UPDATE[child.type]
            physical = child.inputs.get("name") or child.inputs["secretId"]
            held = set().union(*(permissions[b["role"]] for b in rendered["bindings"] if _names_child(b, physical)))
            assert read in held, (child.urn, read)
            if lifecycle == "live" and res.kind is not ResourceType.NETWORK:  # network: only `zones` is live
                assert update in held, (child.urn, update)
            if res.kind in (ResourceType.FUNCTION, ResourceType.CONTAINER) and lifecycle == "live":
                runtime_sa = child.inputs["template"]["serviceAccount"]
                act_as = [b for b in rendered["bindings"] if b["scope"].endswith(f"/serviceAccounts/{runtime_sa}")]
                assert any("iam.serviceAccounts.actAs" in permissions[b["role"]] for b in act_as), child.urn
    # ...and never anything on the management identity itself but the vendor's impersonation.
    assert not [b for b in rendered["bindings"] if result.context.identity("management") in b["scope"]]
