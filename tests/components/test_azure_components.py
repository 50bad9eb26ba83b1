"""Azure components under mocks: both programs, lifecycle options, identities and their roles, grants,
physical names, tags, locations, the security settings the permission sets rely on, and that the permission
sets cover every child the components create (heartbeat = read of every child, management = update of a
live child)."""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any

import pulumi_azure_native as azure
import pytest

import alien_pulumi as alien
from alien_pulumi.components.azure import COMPONENTS, Foundation, Grants, Identities
from alien_pulumi.components.azure.compute import sizing
from alien_pulumi.components.azure.network import subnet_plan
from alien_pulumi.components.base import MANAGED_BY, ProgramKind
from alien_pulumi.model.naming import deployment_names, identity_name, name_rules, resource_names
from alien_pulumi.permissions.library import library
from alien_pulumi.permissions.render import render_layer
from alien_pulumi.programs.build import build
from alien_pulumi.synth import SynthError, SynthResult, run_program, synth
from alien_pulumi.synth.graph import Node
from tests.conftest import EXAMPLES

AZURE = alien.Platform.AZURE
LIFECYCLES = ["frozen", "live"]
TYPES = ["storage", "function", "container", "queue", "kv", "vault", "network"]
# A long prefix and ids, so names are adapted to Azure's limits (storage accounts: 24 of [a-z0-9]).
PREFIX = "acme-customer-production"[:24].rstrip("-")


def full_stack(lifecycle: str, prefix_ids: bool = False) -> alien.StackSpec:
    """Every type with every feature the Azure components handle, all with one lifecycle."""
    pid = "a-rather-long-resource-id-of-32c" if prefix_ids else "data"
    net = alien.Network("net", cidr="10.40.0.0/24", nat=False)
    data = alien.Storage(pid, versioning=True, retention_days=30)
    jobs = alien.Queue("jobs", visibility_timeout_s=600, message_retention_s=1_209_600)
    table = alien.Kv("table")
    vault = alien.Vault("vault")
    worker = alien.Function("worker", image="ghcr.io/acme/worker:1", memory_mb=1024, timeout_s=300,
                            triggers=[alien.on_queue(jobs, batch_size=5)], links=[data], permissions="worker")
    cron = alien.Function("cron", image="ghcr.io/acme/cron:1", triggers=[alien.on_schedule("0 3 * * ?")],
                          links=[table, vault])
    api = alien.Function("api", image="ghcr.io/acme/api:1", public=True, links=[jobs], permissions="api",
                         environment={"LOG_LEVEL": "info", "PORT": "9000"})
    web = alien.Container("web", image="ghcr.io/acme/web:1", cpu=0.5, memory_mb=4096, port=8081, min_replicas=2,
                          max_replicas=5, public=True, health_check_path="/healthz", links=[data, vault],
                          permissions="api")
    stack = alien.Stack("full").platforms("azure")
    for res in (net, data, jobs, table, vault, worker, cron, api, web):
        stack.add(res, lifecycle)
    return stack.permissions(profiles={
        "worker": {"jobs": ["queue/data-read"], pid: ["storage/data-write"]},
        "api": {"jobs": ["queue/data-write"], "vault": ["vault/data-read"]},
    }).build()


def ctx_for(spec: alien.StackSpec, prefix: str = PREFIX) -> alien.DeploymentContext:
    return alien.DeploymentContext.example_context("azure", spec.name, prefix=prefix, region="westeurope")


@cache
def synthesized(lifecycle: str) -> SynthResult:
    spec = full_stack(lifecycle)
    return synth(spec, ctx_for(spec))


def single(kind: str, lifecycle: str) -> alien.StackSpec:
    """One resource of ``kind`` (compute alone, without links or triggers)."""
    make = {
        "storage": lambda: alien.Storage("one"),
        "function": lambda: alien.Function("one", image="ghcr.io/acme/one:1"),
        "container": lambda: alien.Container("one", image="ghcr.io/acme/one:1"),
        "queue": lambda: alien.Queue("one"),
        "kv": lambda: alien.Kv("one"),
        "vault": lambda: alien.Vault("one"),
        "network": lambda: alien.Network("one"),
    }
    return alien.Stack(f"single-{kind}").platforms("azure").add(make[kind](), lifecycle).build()


def of_type(result: SynthResult, token: str) -> list[Node]:
    return [n for n in result.provision.nodes.values() if n.type == token]


def named(result: SynthResult, name: str) -> Node:
    return next(n for n in result.provision.nodes.values() if n.name == name)


def children(result: SynthResult, component: str) -> list[Node]:
    comp = next(n for n in result.provision.components() if n.name == component)
    return result.provision.descendants(comp.urn)


# --- every type x lifecycle, lifecycle options -------------------------------------------------------------


@pytest.mark.parametrize("lifecycle", LIFECYCLES)
@pytest.mark.parametrize("kind", TYPES)
def test_every_type_and_lifecycle_synthesizes(kind: str, lifecycle: str) -> None:
    spec = single(kind, lifecycle)
    result = synth(spec, ctx_for(spec))
    component = next(n for n in result.provision.components() if n.name == "one")
    assert component.type == f"alien:azure:{COMPONENTS[alien.ResourceType(kind)].type_name}"
    assert result.provision.descendants(component.urn)
    assert result.provision.urns() == result.manage.urns()
    assert (result.targets != []) is (lifecycle == "live")


@pytest.mark.parametrize("lifecycle", LIFECYCLES)
def test_components_are_setup_owned_and_use_the_azure_provider(lifecycle: str) -> None:
    result = synthesized(lifecycle)
    # The options table itself is checked for every cloud in tests/components/test_programs.py.
    for component, comp_lifecycle, kids in result.component_rows():
        if component.name in ("foundation", "identities", "grants"):
            assert comp_lifecycle is alien.Lifecycle.FROZEN, "deployment-wide components are setup-owned"
        assert kids, component.urn
        for child in kids:
            assert child.provider.startswith("urn:pulumi:") and "::azure::" in child.provider, child.urn


def test_both_programs_declare_the_same_inputs() -> None:
    result = synthesized("live")
    for urn, node in result.provision.nodes.items():
        assert node.inputs == result.manage.nodes[urn].inputs, urn


def test_targets_are_the_live_components_only() -> None:
    frozen, live = synthesized("frozen"), synthesized("live")
    assert frozen.targets == []
    components = {u.rsplit("::", 1)[1] for u in live.targets if u.count("$") == 0}
    assert components == {r.id for r in full_stack("live").resources}
    assert not any("Foundation" in u or "Identities" in u or "Grants" in u for u in live.targets)


def test_provider_takes_subscription_and_location_from_the_context_only() -> None:
    result = synthesized("live")
    (prov,) = of_type(result, "pulumi:providers:azure-native")
    assert prov.name == "azure"
    assert prov.inputs == {"subscriptionId": result.context.subscription_id, "location": "westeurope",
                           "environment": "public"}


# --- identities, roles and grants --------------------------------------------------------------------------


def role_nodes(result: SynthResult) -> dict[str, Node]:
    return {n.inputs["roleName"]: n for n in of_type(result, "azure-native:authorization:RoleDefinition")}


def definition_from_node(node: Node) -> dict[str, Any]:
    (perm,) = node.inputs["permissions"]
    return {
        "roleName": node.inputs["roleName"],
        "description": node.inputs["description"],
        "actions": perm["actions"],
        "notActions": perm["notActions"],
        "dataActions": perm["dataActions"],
        "notDataActions": perm["notDataActions"],
        "assignableScopes": node.inputs["assignableScopes"],
    }


def assignments_of(result: SynthResult, identity_child: str) -> list[tuple[str, str, str | None]]:
    """(scope, role name, condition) of every assignment whose principal is ``identity_child``."""
    by_id = {f"/subscriptions/{result.context.subscription_id}/providers/Microsoft.Authorization/roleDefinitions/"
             f"{n.inputs['roleDefinitionId']}": name for name, n in role_nodes(result).items()}
    return sorted(
        (n.inputs["scope"], by_id[n.inputs["roleDefinitionId"]], n.inputs.get("condition"))
        for n in of_type(result, "azure-native:authorization:RoleAssignment")
        if n.inputs["principalId"] == f"<principalId of {identity_child}>"
    )


def rendered(entries: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    return sorted((e["scope"], e["role"], e["condition"]) for e in entries)


@pytest.mark.parametrize("lifecycle", LIFECYCLES)
def test_management_roles_and_assignments_equal_the_rendered_layer(lifecycle: str) -> None:
    result = synthesized(lifecycle)
    layer = render_layer(result.plan, "management")
    roles = role_nodes(result)
    for definition in layer["role_definitions"]:
        assert definition_from_node(roles[definition["roleName"]]) == definition
        if " state/state/" in definition["roleName"]:  # the state store's own roles (DESIGN.md §4a): data only
            assert definition["dataActions"] and definition["actions"] == []
            continue
        assert definition["actions"], "every management set grants something"
        assert definition["dataActions"] == []
    assert len([d for d in layer["role_definitions"] if " state/state/" in d["roleName"]]) == 2
    assert assignments_of(result, "identities-management") == rendered(layer["assignments"])
    mgmt = named(result, "identities-management")
    assert mgmt.inputs["resourceName"] == result.context.identity("management")


def test_management_identity_federates_the_vendor_only() -> None:
    result = synthesized("live")
    (fic,) = of_type(result, "azure-native:managedidentity:FederatedIdentityCredential")
    federation = render_layer(result.plan, "management")["federated_credential"]
    assert fic.inputs["issuer"] == federation["issuer"] == result.context.vendor_oidc_issuer
    assert fic.inputs["subject"] == federation["subject"] == result.context.principal
    assert fic.inputs["audiences"] == ["api://AzureADTokenExchange"]
    assert fic.inputs["resourceName"] == result.context.identity("management")
    assert fic.parent == next(c.urn for c in result.provision.components() if c.name == "identities")


@pytest.mark.parametrize("lifecycle", LIFECYCLES)
def test_each_runtime_identity_carries_its_profile_grants(lifecycle: str) -> None:
    result = synthesized(lifecycle)
    roles = role_nodes(result)
    assert set(result.plan.runtime) == {"api", "worker", "default"}
    for profile in result.plan.runtime:
        layer = render_layer(result.plan, "runtime", profile)
        node = named(result, f"identities-rt-{profile}")
        assert node.inputs["resourceName"] == result.context.identity(f"rt-{profile}")
        made = [d for d in layer["role_definitions"] if d["actions"] or d["dataActions"]]
        for definition in made:
            assert definition_from_node(roles[definition["roleName"]]) == definition
        skipped = {d["roleName"] for d in layer["role_definitions"]} - {d["roleName"] for d in made}
        assert all(" function/runtime " in name or " container/runtime " in name for name in skipped)
        assert assignments_of(result, f"identities-rt-{profile}") == rendered(
            [a for a in layer["assignments"] if a["role"] not in skipped])
    # Runtime identities get contents (dataActions), management never does.
    assert any(d["dataActions"] for d in render_layer(result.plan, "runtime", "worker")["role_definitions"])


def app_identity(node: Node) -> list[str]:
    assert node.inputs["identity"]["type"] == "UserAssigned"
    return node.inputs["identity"]["userAssignedIdentities"]


def env_of(node: Node) -> dict[str, str]:
    (container,) = node.inputs["template"]["containers"]
    return {e["name"]: e["value"] for e in container["env"]}


@pytest.mark.parametrize(("compute", "profile"), [("worker", "worker"), ("cron", "default"), ("api", "api"),
                                                  ("web", "api")])
def test_compute_runs_as_its_profile_identity(compute: str, profile: str) -> None:
    result = synthesized("live")
    identity_id = f"identities-rt-{profile}-id"
    nodes = [named(result, f"{compute}-app")] + ([named(result, f"{compute}-job")] if compute != "web" else [])
    for node in nodes:
        assert app_identity(node) == [identity_id]
        assert env_of(node)["AZURE_CLIENT_ID"] == f"<clientId of identities-rt-{profile}>"
    scale = named(result, f"{compute}-app").inputs["template"]["scale"]
    for rule in scale.get("rules", []):
        if "custom" in rule:
            assert rule["custom"]["identity"] == identity_id  # identity-based scaler auth, no secret


def test_role_and_assignment_names_are_stable_guids() -> None:
    first = synthesized("live")
    spec = full_stack("live")
    again = synth(spec, ctx_for(spec))
    for token, key in (("azure-native:authorization:RoleDefinition", "roleDefinitionId"),
                       ("azure-native:authorization:RoleAssignment", "roleAssignmentName")):
        names = [n.inputs[key] for n in of_type(first, token)]
        assert all(str(uuid.UUID(v)) == v for v in names)
        assert len(names) == len(set(names))
        assert sorted(names) == sorted(n.inputs[key] for n in of_type(again, token))


def test_assignments_wait_for_their_role_and_every_resource() -> None:
    result = synthesized("live")
    roles = {n.inputs["roleDefinitionId"]: n for n in of_type(result, "azure-native:authorization:RoleDefinition")}
    for node in of_type(result, "azure-native:authorization:RoleAssignment"):
        assert node.inputs["principalType"] == "ServicePrincipal"
        assert node.parent and node.parent.endswith("::grants")
        role_guid = node.inputs["roleDefinitionId"].rsplit("/", 1)[1]
        assert role_guid in roles
        subscription = f"/subscriptions/{result.context.subscription_id}"
        # the resource group, or the subscription for the operation-status role only (ARM polls live there), or
        # the state store's container and key for its own roles, defined in the state's resource group
        state_rg = f"{subscription}/resourceGroups/{result.context.state_names()['state_resource_group']}"
        assert node.inputs["scope"].startswith(f"{subscription}/resourceGroups/{result.context.rg}/") or (
            node.inputs["scope"] == subscription and roles[role_guid].inputs["scope"] == subscription) or (
            node.inputs["scope"].startswith(f"{state_rg}/") and roles[role_guid].inputs["scope"] == state_rg)


def test_management_outputs() -> None:
    spec = full_stack("frozen")
    captured: dict[str, Any] = {}

    def program() -> None:
        env = build(spec, ctx_for(spec), ProgramKind.PROVISION)
        captured.update(env.identities.management_outputs())

    run_program(program, "alien", PREFIX)
    assert set(captured) == {"client_id", "tenant_id", "principal_id", "identity_id", "subscription_id",
                             "resource_group", "federated_credential_subject"}
    assert captured["resource_group"] == f"{PREFIX}-rg"
    assert captured["subscription_id"] == ctx_for(spec).subscription_id


# --- names, tags, locations --------------------------------------------------------------------------------


@pytest.mark.parametrize("long_ids", [False, True])
def test_physical_names_come_from_naming_and_fit(long_ids: bool) -> None:
    spec = full_stack("frozen", prefix_ids=long_ids)
    ctx = ctx_for(spec, PREFIX if long_ids else "acme-prod")  # long: every name is adapted to its limit
    result = synth(spec, ctx)
    pid = "a-rather-long-resource-id-of-32c" if long_ids else "data"
    checks: list[tuple[str, str, str, str, alien.ResourceType]] = [
        (f"{pid}-account", "accountName", pid, "name", alien.ResourceType.STORAGE),
        (f"{pid}-container", "containerName", pid, "container", alien.ResourceType.STORAGE),
        ("table-account", "accountName", "table", "name", alien.ResourceType.KV),
        ("table-table", "tableName", "table", "table", alien.ResourceType.KV),
        ("jobs-namespace", "namespaceName", "jobs", "name", alien.ResourceType.QUEUE),
        ("jobs-queue", "queueName", "jobs", "queue", alien.ResourceType.QUEUE),
        ("vault-vault", "vaultName", "vault", "name", alien.ResourceType.VAULT),
        ("net-vnet", "virtualNetworkName", "net", "name", alien.ResourceType.NETWORK),
        ("worker-app", "containerAppName", "worker", "name", alien.ResourceType.FUNCTION),
        ("worker-job", "jobName", "worker", "name", alien.ResourceType.FUNCTION),
        ("web-app", "containerAppName", "web", "name", alien.ResourceType.CONTAINER),
    ]
    for child, key, res_id, name_key, kind in checks:
        value = named(result, child).inputs[key]
        assert value == resource_names(AZURE, kind, ctx.prefix, res_id)[name_key], child
        assert not name_rules(AZURE, kind)[name_key].violations(value), (child, value)
    account = named(result, f"{pid}-account").inputs["accountName"]
    assert account.isalnum() and len(account) <= 24
    deployment = deployment_names(AZURE, ctx.prefix)
    assert named(result, "foundation-rg").inputs["resourceGroupName"] == ctx.rg == deployment["resource_group"]
    assert named(result, "foundation-environment").inputs["environmentName"] == deployment["environment"]
    assert named(result, "foundation-logs").inputs["workspaceName"] == f"{ctx.prefix}-logs"
    for node in of_type(result, "azure-native:managedidentity:UserAssignedIdentity"):
        role = node.name.removeprefix("identities-")
        assert node.inputs["resourceName"] == identity_name(AZURE, ctx.prefix, role) == ctx.identity(role)
    # Every grant's scope names what the components created (the templates use the same names).
    created = {v for n in result.provision.nodes.values() for k, v in n.inputs.items()
               if k.endswith("Name") and k != "roleName" and isinstance(v, str)}
    for layer in [render_layer(result.plan, "management")] + [render_layer(result.plan, "runtime", p)
                                                               for p in result.plan.runtime]:
        for entry in layer["assignments"]:
            if "/resourceGroups/" + ctx.state_names()["state_resource_group"] + "/" in entry["scope"]:
                # the state store (DESIGN.md §4a) exists before the program: the bootstrap creates it by its names
                assert entry["scope"].rsplit("/", 1)[1] in ctx.state_names().values(), entry["scope"]
                continue
            assert entry["scope"].rsplit("/", 1)[1] in created, entry["scope"]


TAGGED = {
    "azure-native:resources:ResourceGroup", "azure-native:operationalinsights:Workspace",
    "azure-native:app:ManagedEnvironment", "azure-native:app:ContainerApp", "azure-native:app:Job",
    "azure-native:storage:StorageAccount", "azure-native:servicebus:Namespace", "azure-native:keyvault:Vault",
    "azure-native:network:VirtualNetwork", "azure-native:managedidentity:UserAssignedIdentity",
}
# Sub-resources, extension resources and directory objects: ARM gives them no tags and no location.
UNTAGGED = {
    "azure-native:storage:BlobContainer", "azure-native:storage:BlobServiceProperties",
    "azure-native:storage:ManagementPolicy", "azure-native:storage:Table", "azure-native:servicebus:Queue",
    "azure-native:network:Subnet", "azure-native:monitor:DiagnosticSetting",
    "azure-native:managedidentity:FederatedIdentityCredential", "azure-native:authorization:RoleDefinition",
    "azure-native:authorization:RoleAssignment",
}


@pytest.mark.parametrize("lifecycle", LIFECYCLES)
def test_tags_and_location_on_everything_that_takes_them(lifecycle: str) -> None:
    result = synthesized(lifecycle)
    seen = set()
    for component, comp_lifecycle, kids in result.component_rows():
        for child in kids:
            seen.add(child.type)
            assert child.type in TAGGED | UNTAGGED, f"classify {child.type}"
            if child.type in TAGGED:
                assert child.inputs["tags"] == {"alien-stack": "full", "alien-resource": component.name,
                                                "alien-lifecycle": comp_lifecycle.value,
                                                "managed-by": MANAGED_BY}, child.urn
                assert child.inputs["location"] == "westeurope", child.urn
            else:
                assert "tags" not in child.inputs and "location" not in child.inputs, child.urn
    assert seen == TAGGED | UNTAGGED


# --- what each component creates ---------------------------------------------------------------------------


def test_storage_is_entra_only_with_versioning_and_retention() -> None:
    result = synthesized("frozen")
    account = named(result, "data-account").inputs
    assert account["allowSharedKeyAccess"] is False
    assert account["allowBlobPublicAccess"] is False
    assert account["minimumTlsVersion"] == "TLS1_2"
    assert account["enableHttpsTrafficOnly"] is True
    assert account["defaultToOAuthAuthentication"] is True
    assert named(result, "data-container").inputs["publicAccess"] == "None"
    assert named(result, "data-blob-service").inputs["isVersioningEnabled"] is True
    (rule,) = named(result, "data-lifecycle").inputs["policy"]["rules"]
    actions = rule["definition"]["actions"]
    assert actions["baseBlob"]["delete"]["daysAfterModificationGreaterThan"] == 30
    assert actions["version"]["delete"]["daysAfterCreationGreaterThan"] == 30
    assert named(result, "table-account").inputs["allowSharedKeyAccess"] is False


def test_storage_without_retention_has_a_disabled_policy() -> None:
    """Retention on/off on a live storage is an update of the policy, never a create or delete."""
    spec = single("storage", "live")
    result = synth(spec, ctx_for(spec))
    (rule,) = named(result, "one-lifecycle").inputs["policy"]["rules"]
    assert rule["enabled"] is False
    assert "version" not in rule["definition"]["actions"]
    assert named(result, "one-blob-service").inputs["isVersioningEnabled"] is False


def test_queue_disables_local_auth() -> None:
    result = synthesized("frozen")
    namespace = named(result, "jobs-namespace").inputs
    assert namespace["disableLocalAuth"] is True
    queue = named(result, "jobs-queue").inputs
    assert queue["lockDuration"] == "PT5M"  # 600 s capped at Service Bus' 5 minutes
    assert queue["defaultMessageTimeToLive"] == "P14D"


def test_vault_is_rbac_only_and_empty() -> None:
    result = synthesized("frozen")
    props = named(result, "vault-vault").inputs["properties"]
    assert props["enableRbacAuthorization"] is True
    assert "accessPolicies" not in props
    assert props["tenantId"] == "<tenantId of identities-management>"  # from the identity, not configured
    assert props["sku"] == {"family": "A", "name": "standard"}


def test_nothing_handles_secrets_keys_or_contents() -> None:
    result = synthesized("live")
    # No secret, key, access policy, SAS/authorization rule, blob or entity resources: only the reviewed types.
    assert {n.type for n in result.provision.nodes.values() if n.custom} <= (
        TAGGED | UNTAGGED | {"pulumi:providers:azure-native"})
    for app in of_type(result, "azure-native:app:ContainerApp") + of_type(result, "azure-native:app:Job"):
        assert "secrets" not in app.inputs["configuration"]
        assert "registries" not in app.inputs["configuration"]
    environment = named(result, "foundation-environment").inputs
    assert environment["appLogsConfiguration"] == {"destination": "azure-monitor"}  # no shared key


def test_environment_logs_go_to_the_workspace_and_sit_in_the_apps_subnet() -> None:
    result = synthesized("live")
    setting = named(result, "foundation-environment-logs").inputs
    assert setting["resourceUri"] == "foundation-environment-id"
    assert setting["workspaceId"] == "foundation-logs-id"
    assert setting["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]
    environment = named(result, "foundation-environment").inputs
    assert environment["vnetConfiguration"]["infrastructureSubnetId"] == "net-subnet-apps-id"
    assert environment["workloadProfiles"][0]["workloadProfileType"] == "Consumption"
    apps = named(result, "net-subnet-apps").inputs
    assert apps["delegations"] == [{"name": "container-apps", "serviceName": "Microsoft.App/environments"}]
    assert apps["addressPrefix"] == "10.40.0.0/25"
    assert named(result, "net-subnet-default").inputs["addressPrefix"] == "10.40.0.128/25"
    for app in of_type(result, "azure-native:app:ContainerApp"):
        assert app.inputs["managedEnvironmentId"] == "foundation-environment-id"
        assert app.inputs["workloadProfileName"] == "Consumption"


def test_no_compute_no_environment_and_no_apps_subnet() -> None:
    spec = alien.Stack("plain").platforms("azure").add(alien.Network("net"), "frozen").add(
        alien.Storage("data"), "frozen").build()
    result = synth(spec, ctx_for(spec))
    types = {n.type for n in result.provision.nodes.values()}
    assert "azure-native:app:ManagedEnvironment" not in types
    assert "azure-native:operationalinsights:Workspace" not in types
    assert [n.name for n in of_type(result, "azure-native:network:Subnet")] == ["net-subnet-default"]


def test_compute_without_network_gets_an_environment_without_vnet() -> None:
    spec = single("container", "live")
    result = synth(spec, ctx_for(spec))
    assert "vnetConfiguration" not in named(result, "foundation-environment").inputs


def test_subnet_plan_fits_every_allowed_cidr() -> None:
    for prefix in range(16, 25):
        plan = subnet_plan(f"10.0.0.0/{prefix}")
        apps = plan["apps"]
        assert int(apps.split("/")[1]) <= 27  # a workload-profiles environment needs at least a /27
        assert apps != plan["default"]


def test_function_scales_to_zero_with_queue_and_http_rules() -> None:
    result = synthesized("live")
    worker = named(result, "worker-app").inputs
    scale = worker["template"]["scale"]
    assert scale["minReplicas"] == 0
    rules = {r["name"]: r for r in scale["rules"]}
    assert rules["queue-jobs"]["custom"] == {
        "type": "azure-servicebus",
        "metadata": {"namespace": f"{PREFIX}-jobs", "queueName": "jobs", "messageCount": "5"},
        "identity": "identities-rt-worker-id",
    }
    assert "http" in rules
    assert worker["configuration"]["ingress"]["external"] is False
    assert named(result, "api-app").inputs["configuration"]["ingress"]["external"] is True
    env = env_of(named(result, "worker-app"))
    # The trigger's queue and the links reach the app; the spec's variables win over the defaults.
    assert env["ALIEN_JOBS_QUEUE"] == "jobs"
    assert env["ALIEN_JOBS_NAMESPACE"] == f"{PREFIX}-jobs.servicebus.windows.net"
    assert env["ALIEN_DATA_CONTAINER"] == "data"
    assert env_of(named(result, "api-app"))["PORT"] == "9000"
    assert env_of(named(result, "api-app"))["LOG_LEVEL"] == "info"
    cpu, memory = sizing(1024)
    (container,) = worker["template"]["containers"]
    assert container["resources"] == {"cpu": cpu, "memory": memory} == {"cpu": 0.5, "memory": "1Gi"}


def test_function_schedule_is_a_job_and_every_function_has_one() -> None:
    result = synthesized("live")
    cron = named(result, "cron-job").inputs["configuration"]
    assert cron["triggerType"] == "Schedule"
    assert cron["scheduleTriggerConfig"]["cronExpression"] == "0 3 * * *"  # `?` is `*`
    assert cron["replicaTimeout"] == 30
    worker = named(result, "worker-job").inputs["configuration"]
    assert worker["triggerType"] == "Manual"
    assert worker["replicaTimeout"] == 300
    assert "scheduleTriggerConfig" not in worker
    assert named(result, "cron-job").inputs["template"] == {
        "containers": named(result, "cron-app").inputs["template"]["containers"]}


def test_two_schedules_on_one_function_are_refused() -> None:
    fn = alien.Function("fn", image="ghcr.io/acme/fn:1",
                        triggers=[alien.on_schedule("0 3 * * *"), alien.on_schedule("0 4 * * *")])
    spec = alien.Stack("two").platforms("azure").add(fn, "live").build()
    with pytest.raises(SynthError, match="at most one schedule trigger"):
        synth(spec, ctx_for(spec))


def test_container_keeps_replicas_port_and_probes() -> None:
    result = synthesized("live")
    web = named(result, "web-app").inputs
    assert web["template"]["scale"]["minReplicas"] == 2
    assert web["template"]["scale"]["maxReplicas"] == 5
    assert web["configuration"]["ingress"] == {"external": True, "targetPort": 8081, "transport": "auto",
                                               "allowInsecure": False}
    (container,) = web["template"]["containers"]
    assert {p["type"] for p in container["probes"]} == {"Liveness", "Readiness"}
    assert all(p["httpGet"] == {"path": "/healthz", "port": 8081} for p in container["probes"])
    assert container["resources"] == {"cpu": 2.0, "memory": "4Gi"}  # 4096 MiB needs 2 vCPU (2 GiB per vCPU)


@pytest.mark.parametrize(("memory", "cpu", "expected"), [
    (128, 0.25, (0.25, "0.5Gi")), (512, 0.25, (0.25, "0.5Gi")), (1024, 0.25, (0.5, "1Gi")),
    (1536, 0.25, (0.75, "1.5Gi")), (2048, 1.0, (1.0, "2Gi")), (8192, 0.25, (4.0, "8Gi")), (512, 4.0, (4.0, "8Gi")),
])
def test_sizing_pairs(memory: int, cpu: float, expected: tuple[float, str]) -> None:
    assert sizing(memory, cpu) == expected


# --- permission sets cover what the components create ------------------------------------------------------

# Read and (for a live child) update action of every child type; None = setup-only by design (see the sets).
OPERATIONS: dict[str, tuple[str, str | None]] = {
    "azure-native:storage:StorageAccount": ("Microsoft.Storage/storageAccounts/read", None),
    # No field a release may change (storage `updates`: versioning, retention_days) is the container's.
    "azure-native:storage:BlobContainer": ("Microsoft.Storage/storageAccounts/blobServices/containers/read", None),
    "azure-native:storage:BlobServiceProperties": ("Microsoft.Storage/storageAccounts/blobServices/read",
                                                   "Microsoft.Storage/storageAccounts/blobServices/write"),
    "azure-native:storage:ManagementPolicy": ("Microsoft.Storage/storageAccounts/managementPolicies/read",
                                              "Microsoft.Storage/storageAccounts/managementPolicies/write"),
    # kv `updates: []` on Azure: nothing a release applies, so no write.
    "azure-native:storage:Table": ("Microsoft.Storage/storageAccounts/tableServices/tables/read", None),
    "azure-native:servicebus:Namespace": ("Microsoft.ServiceBus/namespaces/read", None),
    "azure-native:servicebus:Queue": ("Microsoft.ServiceBus/namespaces/queues/read",
                                      "Microsoft.ServiceBus/namespaces/queues/write"),
    "azure-native:keyvault:Vault": ("Microsoft.KeyVault/vaults/read", None),
    "azure-native:network:VirtualNetwork": ("Microsoft.Network/virtualNetworks/read", None),
    "azure-native:network:Subnet": ("Microsoft.Network/virtualNetworks/subnets/read",
                                    "Microsoft.Network/virtualNetworks/subnets/write"),
    "azure-native:app:ContainerApp": ("Microsoft.App/containerApps/read", "Microsoft.App/containerApps/write"),
    "azure-native:app:Job": ("Microsoft.App/jobs/read", "Microsoft.App/jobs/write"),
}
FOUNDATION_READS = {
    "azure-native:app:ManagedEnvironment": "Microsoft.App/managedEnvironments/read",
    "azure-native:operationalinsights:Workspace": "Microsoft.OperationalInsights/workspaces/read",
    "azure-native:monitor:DiagnosticSetting": "Microsoft.Insights/diagnosticSettings/read",
}


def test_heartbeat_reads_and_management_updates_every_child() -> None:
    result = synthesized("live")
    sets = library(AZURE)
    for component in result.provision.components():
        kind = component.type.rsplit(":", 1)[1].lower()
        if kind in ("foundation", "identities", "grants"):
            continue
        heartbeat = sets[f"{kind}/heartbeat"].actions()
        management = sets[f"{kind}/management"].actions()
        for child in result.provision.descendants(component.urn):
            read, write = OPERATIONS[child.type]
            assert read in heartbeat, (kind, child.type)
            if write is not None:
                assert write in management, (kind, child.type)
            else:
                assert read.removesuffix("/read") + "/write" not in management, (kind, child.type, "setup-only")
            assert not sets[f"{kind}/heartbeat"].data_actions() and not sets[f"{kind}/management"].data_actions()
        if kind in ("function", "container"):
            # The app's PUT links the environment and the runtime identity.
            assert {"Microsoft.App/managedEnvironments/join/action",
                    "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"} <= management
    for child in children(result, "foundation"):
        if child.type in FOUNDATION_READS:
            for kind in ("function", "container"):
                # The Foundation is never refreshed by a heartbeat: its reads are the admin's read-back only.
                assert FOUNDATION_READS[child.type] not in sets[f"{kind}/management"].actions()
                assert FOUNDATION_READS[child.type] in sets[f"{kind}/provision"].actions()
                assert "Microsoft.OperationalInsights/workspaces/sharedKeys/action" not in sets[
                    f"{kind}/management"].actions()


# --- SDK classes, invokes, examples ------------------------------------------------------------------------


def test_a_misspelt_argument_raises() -> None:
    with pytest.raises(TypeError):
        azure.app.IngressArgs(exteral=True)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        azure.storage.SkuArgs(nmae="Standard_LRS")  # type: ignore[call-arg]

    def program() -> None:
        azure.storage.StorageAccount("x", acount_name="y", resource_group_name="rg", kind="StorageV2",
                                     sku=azure.storage.SkuArgs(name="Standard_LRS"))

    with pytest.raises(TypeError):
        run_program(program, "alien", "misspelt")


def test_an_invoke_fails_under_the_mocks_and_no_component_makes_one() -> None:
    def program() -> None:
        azure.app.get_container_app(container_app_name="x", resource_group_name="rg")

    with pytest.raises(Exception, match="unexpected invoke"):
        run_program(program, "alien", "invoke")
    assert synthesized("live").provision.nodes  # the full stack ran through the same mocks


def test_deployment_wide_components_are_the_contract_classes() -> None:
    assert {Foundation.type_name, Identities.type_name, Grants.type_name} == {"Foundation", "Identities", "Grants"}
    assert {k.value for k in COMPONENTS} == set(TYPES)
    assert all(c.cloud is AZURE for c in COMPONENTS.values())


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_synthesizes_on_azure(example: Any) -> None:
    spec = alien.load_stack(example)
    result = synth(spec, alien.DeploymentContext.example_context("azure", spec.name))
    live = {r.id for r in spec.resources if r.lifecycle is alien.Lifecycle.LIVE}
    assert {u.rsplit("::", 1)[1] for u in result.targets if u.count("$") == 0} == live
