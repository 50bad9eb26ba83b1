"""Where the management identity is bound, computed here from the model's naming rules and ARM / GCP resource
name formats - not from the renderer - for a stack of every type, all live (issue 12, Deliver 7).

A grant moved to the resource group, the subscription or an unconditioned project binding fails these tests.
"""

from __future__ import annotations

import alien_pulumi as alien
from alien_pulumi.model.naming import deployment_names, resource_names
from alien_pulumi.model.types import Platform, ResourceType
from alien_pulumi.permissions import derive_plan, render_layer

PREFIX = "acme-myapp"
IDS = {ResourceType.STORAGE: "data", ResourceType.QUEUE: "jobs", ResourceType.KV: "kv", ResourceType.VAULT: "vault",
       ResourceType.FUNCTION: "api", ResourceType.CONTAINER: "web", ResourceType.NETWORK: "net"}
# Unconditioned project bindings GCP cannot narrow: operation polls only (their grants say what they expose).
ECR = "111122223333.dkr.ecr.us-east-1.amazonaws.com"  # AWS runs ECR images only
GCP_PROJECT_WIDE = {"run.operations.get", "compute.globalOperations.get", "compute.regionOperations.get"}


def stack() -> alien.StackSpec:
    builder = alien.Stack(PREFIX).platforms("aws", "gcp", "azure")
    for res in (alien.Storage(IDS[ResourceType.STORAGE]), alien.Queue(IDS[ResourceType.QUEUE]),
                alien.Kv(IDS[ResourceType.KV]), alien.Vault(IDS[ResourceType.VAULT]),
                alien.Function(IDS[ResourceType.FUNCTION], image=f"{ECR}/acme/api:1"),
                alien.Container(IDS[ResourceType.CONTAINER], image=f"{ECR}/acme/web:1"),
                alien.Network(IDS[ResourceType.NETWORK], nat=True)):
        builder.add(res, "live")
    return builder.build()


def names(platform: Platform, kind: ResourceType) -> dict[str, str]:
    return resource_names(platform, kind, PREFIX, IDS[kind])


def test_azure_management_is_assigned_on_each_resource_never_the_resource_group() -> None:
    ctx = alien.DeploymentContext.example_context("azure", PREFIX)
    group = deployment_names(Platform.AZURE, PREFIX)["resource_group"]
    rg = f"/subscriptions/{ctx.subscription_id}/resourceGroups/{group}"
    st, q, kv = (names(Platform.AZURE, k) for k in (ResourceType.STORAGE, ResourceType.QUEUE, ResourceType.KV))
    fn, web, net = (names(Platform.AZURE, k)["name"] for k in (ResourceType.FUNCTION, ResourceType.CONTAINER,
                                                               ResourceType.NETWORK))
    expected = {
        f"/providers/Microsoft.Storage/storageAccounts/{st['name']}",
        f"/providers/Microsoft.Storage/storageAccounts/{st['name']}/blobServices/default/containers/{st['container']}",
        f"/providers/Microsoft.ServiceBus/namespaces/{q['name']}",
        f"/providers/Microsoft.ServiceBus/namespaces/{q['name']}/queues/{q['queue']}",
        f"/providers/Microsoft.Storage/storageAccounts/{kv['name']}",
        f"/providers/Microsoft.Storage/storageAccounts/{kv['name']}/tableServices/default/tables/{kv['table']}",
        f"/providers/Microsoft.App/containerApps/{fn}", f"/providers/Microsoft.App/jobs/{fn}",
        f"/providers/Microsoft.App/containerApps/{web}",
        f"/providers/Microsoft.App/managedEnvironments/{deployment_names(Platform.AZURE, PREFIX)['environment']}",
        f"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{ctx.identity('rt-default')}",
        f"/providers/Microsoft.Network/virtualNetworks/{net}",
        f"/providers/Microsoft.KeyVault/vaults/{names(Platform.AZURE, ResourceType.VAULT)['name']}",
    }
    rendered = render_layer(derive_plan(stack(), ctx), "management")
    scopes = {a["scope"] for a in rendered["assignments"]}
    subscription = f"/subscriptions/{ctx.subscription_id}"
    state = ctx.state_names()
    state_rg = f"/subscriptions/{ctx.subscription_id}/resourceGroups/{state['state_resource_group']}"
    state_scopes = {
        f"{state_rg}/providers/Microsoft.Storage/storageAccounts/{state['state_account']}/blobServices/default/"
        f"containers/{state['state_container']}",
        f"{state_rg}/providers/Microsoft.KeyVault/vaults/{state['state_vault']}/keys/{state['state_key']}",
    }
    assert scopes == {rg + s for s in expected} | {subscription} | state_scopes
    assert rg not in scopes
    # the state store (DESIGN.md §4a): roles of their own, dataActions only, assignable at the state's group only
    definitions = {d["roleName"]: d for d in rendered["role_definitions"]}
    for x in rendered["assignments"]:
        definition = definitions[x["role"]]
        if x["scope"] in state_scopes:
            assert not definition["actions"] and definition["dataActions"], definition
            assert definition["assignableScopes"] == [state_rg]
        else:
            assert not definition["dataActions"], definition
    # at the subscription: only the Container Apps operation-status reads (ARM's polling URL lives there)
    roles = {d["roleName"]: set(d["actions"]) for d in rendered["role_definitions"]}
    at_subscription = {a for x in rendered["assignments"] if x["scope"] == subscription for a in roles[x["role"]]}
    assert at_subscription == {"Microsoft.App/locations/containerappOperationStatuses/read",
                               "Microsoft.App/locations/containerappsjobOperationStatuses/read",
                               "Microsoft.Network/locations/operations/read"}
    assert {a["principal"] for a in rendered["assignments"]} == {ctx.identity("management")}


def test_gcp_management_is_bound_on_each_resource_or_by_condition() -> None:
    ctx = alien.DeploymentContext.example_context("gcp", PREFIX)
    project = ctx.project
    rendered = render_layer(derive_plan(stack(), ctx), "management")
    roles = {r["name"]: set(r["permissions"]) for r in rendered["roles"]}
    name = {k: names(Platform.GCP, k)["name"] for k in IDS}
    expected_resources = {
        f"//storage.googleapis.com/projects/_/buckets/{name[ResourceType.STORAGE]}",
        f"//pubsub.googleapis.com/projects/{project}/topics/{name[ResourceType.QUEUE]}",
        f"//pubsub.googleapis.com/projects/{project}/subscriptions/{name[ResourceType.QUEUE]}",
        f"//run.googleapis.com/projects/{project}/locations/{ctx.gcp_region}/services/{name[ResourceType.FUNCTION]}",
        f"//run.googleapis.com/projects/{project}/locations/{ctx.gcp_region}/services/{name[ResourceType.CONTAINER]}",
        f"//iam.googleapis.com/projects/{project}/serviceAccounts/{ctx.identity('rt-default')}",
    }
    state = ctx.state_names()
    state_key = (f"//cloudkms.googleapis.com/projects/{project}/locations/{ctx.gcp_region}/keyRings/"
                 f"{state['state_key_ring']}/cryptoKeys/{state['state_key']}")
    expected_resources |= {f"//storage.googleapis.com/projects/_/buckets/{state['state_bucket']}", state_key}
    on_resources = {b["scope"] for b in rendered["bindings"] if b["scope"] != f"projects/{project}"}
    assert on_resources == expected_resources
    assert {p for b in rendered["bindings"] if b["scope"] == state_key for p in roles[b["role"]]} == {
        "cloudkms.cryptoKeyVersions.useToEncrypt", "cloudkms.cryptoKeyVersions.useToDecrypt"}
    for b in rendered["bindings"]:
        assert b["member"] == f"serviceAccount:{ctx.identity('management')}"
        if b["scope"] != f"projects/{project}":
            continue
        if b["condition"] is None:
            assert roles[b["role"]] <= GCP_PROJECT_WIDE, roles[b["role"]]
        else:  # every alternative of the condition names one of the stack's own resources
            for alternative in b["condition"]["expression"].split("||"):
                assert any(f'/{n}"' in alternative or f'/{n}/' in alternative or f'"{n}-' in alternative
                           for n in name.values()), alternative
    # the service accounts the vendor may act as: the one runtime account live compute runs as, never management
    act_as = {b["scope"] for b in rendered["bindings"] if "iam.serviceAccounts.actAs" in roles[b["role"]]}
    assert act_as == {f"//iam.googleapis.com/projects/{project}/serviceAccounts/{ctx.identity('rt-default')}"}
