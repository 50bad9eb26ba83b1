"""What the real providers decide about each resource type the programs create, as reviewable data: which input
changes replace the resource (and whether the provider asks for the old one to go first), which inputs are required,
which defaults the provider applies, what a delete leaves behind. The fake provider (fake_provider.py) answers Check,
Diff, Create, Update and Delete from this table; a type it does not know fails the call, naming type and operation.

Property names are the Pulumi SDK's (camelCase). Sources (read for this table; ``tfa`` is
hashicorp/terraform-provider-aws, ``tfg`` hashicorp/terraform-provider-google at e03b7622 (2026-08), ``azn``
pulumi/pulumi-azure-native, ``bridge`` pulumi/pulumi-terraform-bridge at 59de6c66, ``specs``
Azure/azure-rest-api-specs):

- A Terraform ``ForceNew`` argument replaces (bridge ``pkg/tfbridge/provider.go`` Diff: a ``*_REPLACE`` detailed diff
  for the attribute puts its top-level property in ``replaces``). A resource without an Update function has every
  argument ForceNew.
- Delete-before-replace, bridged providers (AWS, GCP): only when the replaced resource's auto-named property was given
  by the program, i.e. is not in the checked inputs' ``__defaults`` (bridge ``pkg/tfbridge/schema.go``
  ``nameRequiresDeleteBeforeReplace``). Auto-named: every resource's TF ``name`` argument (pulumi-aws
  ``provider/autonaming.go``, pulumi-gcp ``prov.SetAutonaming``) and the fields pulumi-aws/pulumi-gcp
  ``resources.go`` name with ``AutoName`` (``function_name`` -> ``name``, ``bucket``, ``account_id``, ``role_id``,
  ``secret_id``). Otherwise the new resource is created before the old one is deleted.
- Delete-before-replace, azure-native: always, unless the old inputs carry ``__createBeforeDelete`` (set by Check
  for a randomly auto-named resource): ``azn provider/pkg/provider/provider.go`` Diff.
- azure-native replaces on a change of any parameter of the resource's path (resource group, its own name, its
  parents' names, ``scope``: ``azn provider/pkg/provider/diff.go`` calculateDetailedDiff), of a ``location``
  (``specs common-types/resource-management/v5/types.json`` TrackedResource: ``x-ms-mutability: [read, create]``)
  and of the properties ``azn provider/pkg/gen/replacement.go`` forceNewMap lists.
- Check: bridged providers report a missing required property as ``Missing required property 'x'`` (bridge
  ``check_failures.go`` missingRequiredKey) and apply only Pulumi-side defaults (auto-names, listed in
  ``__defaults``); Terraform's schema defaults land in the planned state (Create/Update outputs, previews included).
  azure-native's Check fills ``location`` (old inputs, else the provider's ``location``, else the resource group's)
  and reports ``missing required property 'x'`` (``provider.go`` Check, applyDefaults, validateType).
- Previews: a bridged Create preview is Terraform's plan, every computed attribute unknown; an Update preview keeps
  the prior computed values (SDKv2) unless the provider recomputes one (``recomputed``). azure-native previews
  (Create and Update) answer the inputs and every other response property unknown, keeping ``name`` and
  ``location`` on update (``provider.go`` Create/Update, ``convert`` PreviewOutputs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

BRIDGED = "bridged"  # a Terraform provider behind pulumi-terraform-bridge (pulumi-aws, pulumi-gcp)
AZURE_NATIVE = "azure-native"
PROVIDERS = {"aws": BRIDGED, "gcp": BRIDGED, "azure": AZURE_NATIVE}
EVERY_INPUT = frozenset({"*"})

Outputs = Mapping[str, Any]


@dataclass(frozen=True)
class Behaviour:
    token: str
    source: str
    replace: frozenset[str] = frozenset()  # inputs whose change replaces; EVERY_INPUT: all of them
    keep: frozenset[str] = frozenset()  # with EVERY_INPUT: the inputs that still update in place
    required: tuple[str, ...] = ()
    defaults: Mapping[str, Any] = field(default_factory=dict)
    autoname: str | None = None  # the property the provider names when the program does not
    revisions: str | None = None  # a new resource is a new revision of the family this input names (same id)
    unique: tuple[str, ...] = ()  # inputs whose values the cloud refuses to hold twice (besides the name)
    kept_on_delete: Callable[[Outputs], bool] | None = None  # Delete leaves the cloud resource in place
    delete_refused: Callable[[Outputs], str | None] | None = None  # Delete fails with this message
    recomputed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # output -> inputs (or "*") redoing it

    def replaces(self, key: str) -> bool:
        if self.replace == EVERY_INPUT:
            return key not in self.keep
        return key in self.replace


def _flag(name: str, default: bool) -> Callable[[Outputs], bool]:
    return lambda outputs: bool(outputs.get(name, default))


def _iam_member(token: str, parent: tuple[str, ...], source: str) -> Behaviour:
    """A GCP IAM member: no Update function, every argument ForceNew (tfg google/tpgiamresource/resource_iam_member.go:
    role, member, condition ForceNew; the parent's IamSchema ForceNew)."""
    return Behaviour(token, f"tfg google/tpgiamresource/resource_iam_member.go; {source}", replace=EVERY_INPUT,
                     required=(*parent, "role", "member"))


TFA, TFG, AZN = "tfa", "tfg", "azn"
PATH = f"{AZN} diff.go: path parameters"
LOCATION = "specs TrackedResource.location x-ms-mutability [read, create]"

TABLE: dict[str, Behaviour] = {b.token: b for b in [
    # --- AWS (pulumi-aws 7.x, terraform-provider-aws 6.x) ---
    Behaviour("aws:ecs/taskDefinition:TaskDefinition",
              f"{TFA} internal/service/ecs/task_definition.go: every argument ForceNew except tags, skip_destroy, "
              "track_latest; id = family (a new revision keeps it); Delete deregisters unless skip_destroy",
              replace=EVERY_INPUT, keep=frozenset({"tags", "skipDestroy", "trackLatest"}),
              required=("family", "containerDefinitions"), defaults={"skipDestroy": False}, revisions="family",
              kept_on_delete=_flag("skipDestroy", False)),
    Behaviour("aws:ecs/service:Service",
              f"{TFA} internal/service/ecs/service.go: name, cluster, launch_type, iam_role, scheduling_strategy, "
              "deployment_controller.type ForceNew; task_definition, desired_count, network_configuration update",
              replace=frozenset({"name", "cluster", "launchType", "iamRole", "schedulingStrategy",
                                 "deploymentController"}),
              required=("name",), autoname="name",
              defaults={"schedulingStrategy": "REPLICA", "deploymentMaximumPercent": 200,
                        "deploymentMinimumHealthyPercent": 100, "enableExecuteCommand": False}),
    Behaviour("aws:ecs/cluster:Cluster", f"{TFA} internal/service/ecs/cluster.go: name ForceNew",
              replace=frozenset({"name"}), autoname="name"),
    Behaviour("aws:lambda/function:Function",
              f"{TFA} internal/service/lambda/function.go: function_name (Pulumi: name), package_type, "
              "tenancy_config ForceNew; image_uri, memory_size, environment, role, timeout update",
              replace=frozenset({"name", "packageType", "tenancyConfig"}), required=("role",), autoname="name",
              defaults={"memorySize": 128, "timeout": 3, "packageType": "Zip", "reservedConcurrentExecutions": -1,
                        "skipDestroy": False},
              kept_on_delete=_flag("skipDestroy", False)),
    Behaviour("aws:lambda/functionUrl:FunctionUrl",
              f"{TFA} internal/service/lambda/function_url.go: function_name, qualifier ForceNew; "
              "authorization_type, cors update",
              replace=frozenset({"functionName", "qualifier"}), required=("authorizationType", "functionName")),
    Behaviour("aws:lambda/permission:Permission",
              f"{TFA} internal/service/lambda/permission.go: no Update, every argument ForceNew; a function's "
              "statement ids are unique (AddPermission: ResourceConflictException)",
              replace=EVERY_INPUT, required=("action", "function", "principal"), unique=("function", "statementId")),
    Behaviour("aws:lambda/eventSourceMapping:EventSourceMapping",
              f"{TFA} internal/service/lambda/event_source_mapping.go: event_source_arn, "
              "starting_position(_timestamp), topics, queues, self_managed_event_source, "
              "*_kafka_event_source_config ForceNew; function_name, "
              "batch_size update",
              replace=frozenset({"eventSourceArn", "startingPosition", "startingPositionTimestamp", "topics",
                                 "queues", "selfManagedEventSource", "amazonManagedKafkaEventSourceConfig",
                                 "selfManagedKafkaEventSourceConfig"}),
              required=("functionName",), defaults={"enabled": True}),
    Behaviour("aws:cloudwatch/logGroup:LogGroup",
              f"{TFA} internal/service/logs/group.go: name, name_prefix, log_group_class ForceNew",
              replace=frozenset({"name", "namePrefix", "logGroupClass"}), autoname="name",
              defaults={"skipDestroy": False}, kept_on_delete=_flag("skipDestroy", False)),
    Behaviour("aws:cloudwatch/eventRule:EventRule",
              f"{TFA} internal/service/events/rule.go: name, name_prefix, event_bus_name ForceNew",
              replace=frozenset({"name", "namePrefix", "eventBusName"}), autoname="name"),
    Behaviour("aws:cloudwatch/eventTarget:EventTarget",
              f"{TFA} internal/service/events/target.go: rule, target_id, event_bus_name ForceNew; arn updates",
              replace=frozenset({"rule", "targetId", "eventBusName"}), required=("arn", "rule")),
    Behaviour("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
              f"{TFA} internal/service/ec2/vpc_security_group_ingress_rule.go: security_group_id RequiresReplace",
              replace=frozenset({"securityGroupId"}), required=("securityGroupId", "ipProtocol")),
    Behaviour("aws:ec2/securityGroup:SecurityGroup",
              f"{TFA} internal/service/ec2/vpc_security_group.go: name, name_prefix, description, vpc_id ForceNew",
              replace=frozenset({"name", "namePrefix", "description", "vpcId"}), autoname="name"),
    Behaviour("aws:ec2/vpc:Vpc",
              f"{TFA} internal/service/ec2/vpc_.go: cidr_block, ipv4_ipam_pool_id, ipv4_netmask_length ForceNew",
              replace=frozenset({"cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength"}),
              defaults={"enableDnsSupport": True, "instanceTenancy": "default"}),
    Behaviour("aws:ec2/subnet:Subnet",
              f"{TFA} internal/service/ec2/vpc_subnet.go: vpc_id, cidr_block, availability_zone(_id), outpost_arn "
              "ForceNew",
              replace=frozenset({"vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId", "outpostArn"}),
              required=("vpcId",), defaults={"mapPublicIpOnLaunch": False}),
    Behaviour("aws:ec2/internetGateway:InternetGateway",
              f"{TFA} internal/service/ec2/vpc_internet_gateway.go: no ForceNew argument (vpc_id re-attaches)"),
    Behaviour("aws:ec2/eip:Eip",
              f"{TFA} internal/service/ec2/ec2_eip.go: domain, address, customer_owned_ipv4_pool, ipam_pool_id, "
              "network_border_group, public_ipv4_pool ForceNew",
              replace=frozenset({"domain", "address", "customerOwnedIpv4Pool", "ipamPoolId", "networkBorderGroup",
                                 "publicIpv4Pool"})),
    Behaviour("aws:ec2/natGateway:NatGateway",
              f"{TFA} internal/service/ec2/vpc_nat_gateway.go: allocation_id, subnet_id, connectivity_type, "
              "private_ip ForceNew",
              replace=frozenset({"allocationId", "subnetId", "connectivityType", "privateIp"}),
              defaults={"connectivityType": "public"}),
    Behaviour("aws:ec2/routeTable:RouteTable", f"{TFA} internal/service/ec2/vpc_route_table.go: vpc_id ForceNew",
              replace=frozenset({"vpcId"}), required=("vpcId",)),
    Behaviour("aws:ec2/route:Route",
              f"{TFA} internal/service/ec2/vpc_route.go: route_table_id and the destination ForceNew; targets update",
              replace=frozenset({"routeTableId", "destinationCidrBlock", "destinationIpv6CidrBlock",
                                 "destinationPrefixListId"}), required=("routeTableId",)),
    Behaviour("aws:ec2/routeTableAssociation:RouteTableAssociation",
              f"{TFA} internal/service/ec2/vpc_route_table_association.go: subnet_id, gateway_id ForceNew; "
              "route_table_id updates (ReplaceRouteTableAssociation)",
              replace=frozenset({"subnetId", "gatewayId"}), required=("routeTableId",)),
    Behaviour("aws:ecr/pullThroughCacheRule:PullThroughCacheRule",
              f"{TFA} internal/service/ecr/pull_through_cache_rule.go: ecr_repository_prefix, upstream_registry_url, "
              "upstream_repository_prefix ForceNew",
              replace=frozenset({"ecrRepositoryPrefix", "upstreamRegistryUrl", "upstreamRepositoryPrefix"}),
              required=("ecrRepositoryPrefix", "upstreamRegistryUrl")),
    Behaviour("aws:iam/role:Role",
              f"{TFA} internal/service/iam/role.go (website/docs/r/iam_role): name, name_prefix, path ForceNew; "
              "assume_role_policy, description, max_session_duration update",
              replace=frozenset({"name", "namePrefix", "path"}), required=("assumeRolePolicy",), autoname="name",
              defaults={"path": "/", "maxSessionDuration": 3600}),
    Behaviour("aws:iam/policy:Policy",
              f"{TFA} internal/service/iam/policy.go (website/docs/r/iam_policy): name, name_prefix, path, "
              "description ForceNew; policy updates (a new default version)",
              replace=frozenset({"name", "namePrefix", "path", "description"}), required=("policy",),
              autoname="name", defaults={"path": "/"}),
    Behaviour("aws:iam/rolePolicy:RolePolicy",
              f"{TFA} internal/service/iam/role_policy.go: name, name_prefix, role ForceNew; policy updates",
              replace=frozenset({"name", "namePrefix", "role"}), required=("policy", "role"), autoname="name"),
    Behaviour("aws:iam/rolePolicyAttachment:RolePolicyAttachment",
              f"{TFA} internal/service/iam/role_policy_attachment.go: no Update, role and policy_arn ForceNew",
              replace=EVERY_INPUT, required=("role", "policyArn")),
    Behaviour("aws:sqs/queue:Queue",
              f"{TFA} internal/service/sqs/queue.go: name, name_prefix, fifo_queue ForceNew; the rest updates",
              replace=frozenset({"name", "namePrefix", "fifoQueue"}), autoname="name",
              defaults={"visibilityTimeoutSeconds": 30, "messageRetentionSeconds": 345600, "delaySeconds": 0}),
    Behaviour("aws:dynamodb/table:Table",
              f"{TFA} internal/service/dynamodb/table.go: name, hash_key, range_key ForceNew",
              replace=frozenset({"name", "hashKey", "rangeKey"}), required=("hashKey",), autoname="name"),
    Behaviour("aws:s3/bucket:Bucket",
              f"{TFA} internal/service/s3/bucket.go: bucket, bucket_prefix, object_lock_enabled ForceNew "
              "(pulumi-aws resources.go: bucket auto-named)",
              replace=frozenset({"bucket", "bucketPrefix", "objectLockEnabled"}), autoname="bucket",
              defaults={"forceDestroy": False}),
    Behaviour("aws:s3/bucketVersioning:BucketVersioning",
              f"{TFA} internal/service/s3/bucket_versioning.go: bucket, expected_bucket_owner ForceNew",
              replace=frozenset({"bucket", "expectedBucketOwner"}), required=("bucket", "versioningConfiguration")),
    Behaviour("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
              f"{TFA} internal/service/s3/bucket_server_side_encryption_configuration.go: bucket, "
              "expected_bucket_owner ForceNew",
              replace=frozenset({"bucket", "expectedBucketOwner"}), required=("bucket", "rules")),
    Behaviour("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
              f"{TFA} internal/service/s3/bucket_public_access_block.go: bucket ForceNew",
              replace=frozenset({"bucket"}), required=("bucket",)),
    Behaviour("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
              f"{TFA} internal/service/s3/bucket_lifecycle_configuration.go: bucket, expected_bucket_owner "
              "RequiresReplace",
              replace=frozenset({"bucket", "expectedBucketOwner"}), required=("bucket",)),

    # --- GCP (pulumi-gcp 10.x, terraform-provider-google(-beta) 7.x) ---
    Behaviour("gcp:cloudrunv2/service:Service",
              f"{TFG} google/services/cloudrunv2/resource_cloud_run_v2_service.go: name, location, project, tags "
              "ForceNew; template, ingress, labels update; deletion_protection Default true (Delete refused)",
              replace=frozenset({"name", "location", "project", "tags"}), required=("location", "template"),
              autoname="name", defaults={"deletionProtection": True},
              delete_refused=lambda o: None if o.get("deletionProtection") is False else (
                  "cannot destroy service without setting deletion_protection=false and running `terraform apply`"),
              recomputed={"latestReadyRevision": ("template",), "latestCreatedRevision": ("template",)}),
    _iam_member("gcp:cloudrunv2/serviceIamMember:ServiceIamMember", ("name",),
                "google/services/cloudrunv2/iam_cloud_run_v2_service.go (project, location, name ForceNew)"),
    Behaviour("gcp:cloudscheduler/job:Job",
              f"{TFG} google/services/cloudscheduler/resource_cloud_scheduler_job.go: name, region, project ForceNew",
              replace=frozenset({"name", "region", "project"}), autoname="name",
              defaults={"timeZone": "Etc/UTC", "attemptDeadline": "180s"}),
    Behaviour("gcp:compute/network:Network",
              f"{TFG} google/services/compute/resource_compute_network.go: name, auto_create_subnetworks, "
              "description, internal_ipv6_range, network_profile, params, project ForceNew",
              replace=frozenset({"name", "autoCreateSubnetworks", "description", "internalIpv6Range",
                                 "networkProfile", "params", "project"}),
              autoname="name", defaults={"autoCreateSubnetworks": True}),
    Behaviour("gcp:compute/subnetwork:Subnetwork",
              f"{TFG} google/services/compute/resource_compute_subnetwork.go: name, network, region, project, "
              "description, *_ipv6_prefix, params, reserved_internal_range, resolve_subnet_mask ForceNew",
              replace=frozenset({"name", "network", "region", "project", "description", "externalIpv6Prefix",
                                 "internalIpv6Prefix", "params", "reservedInternalRange", "resolveSubnetMask"}),
              required=("network",), autoname="name"),
    Behaviour("gcp:compute/router:Router",
              f"{TFG} google/services/compute/resource_compute_router.go: name, network, region, project, "
              "encrypted_interconnect_router, ncc_gateway, params ForceNew",
              replace=frozenset({"name", "network", "region", "project", "encryptedInterconnectRouter", "nccGateway",
                                 "params"}), autoname="name"),
    Behaviour("gcp:compute/routerNat:RouterNat",
              f"{TFG} google/services/compute/resource_compute_router_nat.go: name, router, region, project, "
              "endpoint_types, initial_nat_ips, type ForceNew",
              replace=frozenset({"name", "router", "region", "project", "endpointTypes", "initialNatIps", "type"}),
              required=("router", "sourceSubnetworkIpRangesToNat"), autoname="name", defaults={"type": "PUBLIC"}),
    Behaviour("gcp:firestore/database:Database",
              f"{TFG} google/services/firestore/resource_firestore_database.go: name, location_id, project, "
              "cmek_config, database_edition, *_data_access_mode, realtime_updates_mode, tags ForceNew; "
              "deletion_policy ABANDON by default: Delete leaves the database",
              replace=frozenset({"name", "locationId", "project", "cmekConfig", "databaseEdition",
                                 "firestoreDataAccessMode", "mongodbCompatibleDataAccessMode",
                                 "realtimeUpdatesMode", "tags"}),
              required=("locationId", "type"), autoname="name", defaults={"deletionPolicy": "ABANDON"},
              kept_on_delete=lambda o: o.get("deletionPolicy", "ABANDON") == "ABANDON"),
    Behaviour("gcp:pubsub/topic:Topic",
              f"{TFG} google/services/pubsub/resource_pubsub_topic.go: name, project, tags ForceNew",
              replace=frozenset({"name", "project", "tags"}), autoname="name"),
    Behaviour("gcp:pubsub/subscription:Subscription",
              f"{TFG} google/services/pubsub/resource_pubsub_subscription.go: name, topic, project, "
              "enable_message_ordering, filter, tags ForceNew; ack_deadline_seconds, push_config, ... update",
              replace=frozenset({"name", "topic", "project", "enableMessageOrdering", "filter", "tags"}),
              required=("topic",), autoname="name", defaults={"messageRetentionDuration": "604800s"}),
    Behaviour("gcp:secretmanager/secret:Secret",
              f"{TFG} google/services/secretmanager/resource_secret_manager_secret.go: secret_id, replication, "
              "project, tags ForceNew (pulumi-gcp secret_manager.go: secret_id auto-named)",
              replace=frozenset({"secretId", "replication", "project", "tags"}), required=("replication",),
              autoname="secretId", defaults={"deletionProtection": False}),
    Behaviour("gcp:serviceaccount/account:Account",
              f"{TFG} google/services/resourcemanager/resource_google_service_account.go: account_id, project "
              "ForceNew (pulumi-gcp resources.go: account_id auto-named)",
              replace=frozenset({"accountId", "project"}), autoname="accountId", defaults={"disabled": False}),
    Behaviour("gcp:projects/iAMCustomRole:IAMCustomRole",
              f"{TFG} google/services/resourcemanager/resource_google_project_iam_custom_role.go: role_id, project "
              "ForceNew; title, permissions, stage update (pulumi-gcp resources.go: role_id auto-named)",
              replace=frozenset({"roleId", "project"}), required=("title", "permissions"), autoname="roleId",
              defaults={"stage": "GA"}),
    Behaviour("gcp:storage/bucket:Bucket",
              f"{TFG} google/services/storage/resource_storage_bucket.go: name, location, project, "
              "enable_object_retention, hierarchical_namespace ForceNew",
              replace=frozenset({"name", "location", "project", "enableObjectRetention", "hierarchicalNamespace"}),
              required=("location",), autoname="name", defaults={"forceDestroy": False, "storageClass": "STANDARD"}),
    Behaviour("gcp:artifactregistry/repository:Repository",
              f"{TFG} google/services/artifactregistry/resource_artifact_registry_repository.go: format, "
              "repository_id, location, mode, remote_repository_config, kms_key_name, project ForceNew",
              replace=frozenset({"format", "repositoryId", "location", "mode", "remoteRepositoryConfig", "kmsKeyName",
                                 "project"}),
              required=("format", "repositoryId"), defaults={"mode": "STANDARD_REPOSITORY"}),
    _iam_member("gcp:projects/iAMMember:IAMMember", ("project",),
                "google/services/resourcemanager/iam_project.go (project ForceNew)"),
    _iam_member("gcp:serviceaccount/iAMMember:IAMMember", ("serviceAccountId",),
                "google/services/resourcemanager/iam_service_account.go (service_account_id ForceNew)"),
    _iam_member("gcp:storage/bucketIAMMember:BucketIAMMember", ("bucket",),
                "google/services/storage/iam_storage_bucket.go (bucket ForceNew)"),
    _iam_member("gcp:pubsub/topicIAMMember:TopicIAMMember", ("topic",),
                "google/services/pubsub/iam_pubsub_topic.go (project, topic ForceNew)"),
    _iam_member("gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember", ("subscription",),
                "google/services/pubsub/iam_pubsub_subscription.go (project, subscription ForceNew)"),
    _iam_member("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", ("cryptoKeyId",),
                "google/services/kms/iam_kms_crypto_key.go (crypto_key_id ForceNew)"),

    # --- Azure (pulumi-azure-native 3.x): path parameters, location, forceNewMap ---
    Behaviour("azure-native:resources:ResourceGroup", f"{PATH}; {LOCATION}; forceNewMap Resources.ResourceGroup",
              replace=frozenset({"resourceGroupName", "location"}), required=("location",),
              autoname="resourceGroupName"),
    Behaviour("azure-native:app:ContainerApp", f"{PATH} (resourceGroupName, containerAppName); {LOCATION}",
              replace=frozenset({"resourceGroupName", "containerAppName", "location"}),
              required=("resourceGroupName", "location"), autoname="containerAppName"),
    Behaviour("azure-native:app:Job", f"{PATH} (resourceGroupName, jobName); {LOCATION}",
              replace=frozenset({"resourceGroupName", "jobName", "location"}),
              required=("resourceGroupName", "location"), autoname="jobName"),
    Behaviour("azure-native:app:ManagedEnvironment", f"{PATH} (resourceGroupName, environmentName); {LOCATION}",
              replace=frozenset({"resourceGroupName", "environmentName", "location"}),
              required=("resourceGroupName", "location"), autoname="environmentName"),
    Behaviour("azure-native:authorization:RoleAssignment",
              f"{PATH} (scope, roleAssignmentName); forceNewMap Authorization.RoleAssignment: principalId, scope",
              replace=frozenset({"scope", "roleAssignmentName", "principalId"}),
              required=("principalId", "roleDefinitionId", "scope"), autoname="roleAssignmentName"),
    Behaviour("azure-native:authorization:RoleDefinition", f"{PATH} (scope, roleDefinitionId)",
              replace=frozenset({"scope", "roleDefinitionId"}), required=("scope",), autoname="roleDefinitionId"),
    Behaviour("azure-native:keyvault:Vault", f"{PATH} (resourceGroupName, vaultName); {LOCATION}",
              replace=frozenset({"resourceGroupName", "vaultName", "location"}),
              required=("resourceGroupName", "location", "properties"), autoname="vaultName"),
    Behaviour("azure-native:managedidentity:UserAssignedIdentity",
              f"{PATH} (resourceGroupName, resourceName); {LOCATION}",
              replace=frozenset({"resourceGroupName", "resourceName", "location"}),
              required=("resourceGroupName", "location"), autoname="resourceName"),
    Behaviour("azure-native:managedidentity:FederatedIdentityCredential",
              f"{PATH} (resourceGroupName, resourceName, federatedIdentityCredentialResourceName)",
              replace=frozenset({"resourceGroupName", "resourceName", "federatedIdentityCredentialResourceName"}),
              required=("resourceGroupName", "resourceName", "issuer", "subject", "audiences"),
              autoname="federatedIdentityCredentialResourceName"),
    Behaviour("azure-native:monitor:DiagnosticSetting", f"{PATH} (resourceUri, name)",
              replace=frozenset({"resourceUri", "name"}), required=("resourceUri",), autoname="name"),
    Behaviour("azure-native:network:VirtualNetwork",
              f"{PATH} (resourceGroupName, virtualNetworkName); forceNewMap Network.VirtualNetwork: location",
              replace=frozenset({"resourceGroupName", "virtualNetworkName", "location"}),
              required=("resourceGroupName",), autoname="virtualNetworkName"),
    Behaviour("azure-native:network:Subnet",
              f"{PATH} (resourceGroupName, virtualNetworkName, subnetName); forceNewMap Network.Subnet: none",
              replace=frozenset({"resourceGroupName", "virtualNetworkName", "subnetName"}),
              required=("resourceGroupName", "virtualNetworkName"), autoname="subnetName"),
    Behaviour("azure-native:operationalinsights:Workspace", f"{PATH} (resourceGroupName, workspaceName); {LOCATION}",
              replace=frozenset({"resourceGroupName", "workspaceName", "location"}),
              required=("resourceGroupName", "location"), autoname="workspaceName"),
    Behaviour("azure-native:servicebus:Namespace", f"{PATH} (resourceGroupName, namespaceName); {LOCATION}",
              replace=frozenset({"resourceGroupName", "namespaceName", "location"}),
              required=("resourceGroupName", "location"), autoname="namespaceName"),
    Behaviour("azure-native:servicebus:Queue",
              f"{PATH} (resourceGroupName, namespaceName, queueName); forceNewMap ServiceBus.Queue: "
              "requiresDuplicateDetection, requiresSession, enablePartitioning",
              replace=frozenset({"resourceGroupName", "namespaceName", "queueName", "requiresDuplicateDetection",
                                 "requiresSession", "enablePartitioning"}),
              required=("resourceGroupName", "namespaceName"), autoname="queueName"),
    Behaviour("azure-native:storage:StorageAccount",
              f"{PATH} (resourceGroupName, accountName); forceNewMap Storage.StorageAccount: isHnsEnabled, location",
              replace=frozenset({"resourceGroupName", "accountName", "location", "isHnsEnabled"}),
              required=("resourceGroupName", "kind", "sku", "location"), autoname="accountName"),
    Behaviour("azure-native:storage:BlobContainer",
              f"{PATH} (resourceGroupName, accountName, containerName); forceNewMap Storage.BlobContainer: none",
              replace=frozenset({"resourceGroupName", "accountName", "containerName"}),
              required=("resourceGroupName", "accountName"), autoname="containerName"),
    Behaviour("azure-native:storage:BlobServiceProperties",
              f"{PATH} (resourceGroupName, accountName, blobServicesName)",
              replace=frozenset({"resourceGroupName", "accountName", "blobServicesName"}),
              required=("resourceGroupName", "accountName")),
    Behaviour("azure-native:storage:ManagementPolicy",
              f"{PATH} (resourceGroupName, accountName, managementPolicyName)",
              replace=frozenset({"resourceGroupName", "accountName", "managementPolicyName"}),
              required=("resourceGroupName", "accountName", "policy")),
    Behaviour("azure-native:storage:Table", f"{PATH} (resourceGroupName, accountName, tableName)",
              replace=frozenset({"resourceGroupName", "accountName", "tableName"}),
              required=("resourceGroupName", "accountName"), autoname="tableName"),
]}


class UnknownType(LookupError):
    """A resource type the table does not know: the fake refuses every call about it."""


def behaviour(token: str, operation: str) -> Behaviour:
    found = TABLE.get(token)
    if found is None:
        raise UnknownType(f"unrecognized resource type ({operation}): {token}: tests/engine/provider_behaviour.py "
                          "has no entry for it (add one, citing the provider's source)")
    return found
