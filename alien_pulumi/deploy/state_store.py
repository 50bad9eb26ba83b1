"""The deployment's state store in the customer's cloud (DESIGN.md §4a), bootstrapped before setup with the
admin's credentials: the backend both parties' runs use, and the key that is the stack's secrets provider.

One shape on every cloud: a store is a list of ``Part``s (bucket, key, ...), each found, else created, and an
existing one is brought to what the store needs (``settle``: the fields it set are reported) or refused when it
cannot be (``StateStoreError`` naming the part and field). Nothing is ever deleted or weakened. The store is
not a resource of the stack, so no `pulumi destroy` can remove it: it is frozen and retained by construction,
and removing it is the customer's own decision. The per-cloud adapters hold only what differs: the SDK calls.
The SDKs are imported when a bootstrap runs, so the offline commands never load them.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from alien_pulumi.errors import AutomationError
from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.types import Platform

KEY_ROTATION_S = 90 * 24 * 3600  # GCP state key rotation (AWS: KMS's yearly automatic rotation)
SOFT_DELETE_DAYS = 30  # Azure blob and container soft delete of the state container


class StateStoreError(AutomationError):
    """The state store could not be created or is not what setup needs."""


@dataclass(frozen=True)
class StateStore:
    backend_url: str
    secrets_provider: str
    created: list[str] = field(default_factory=list)  # what this bootstrap created (empty: all existed)
    kept: list[str] = field(default_factory=list)  # what already existed (with the fields it set right)

    def login_lines(self, stack: str) -> list[str]:
        """What an admin who runs plain `pulumi up` types, in order."""
        return [f"pulumi login '{self.backend_url}'",
                f"pulumi stack init {stack} --secrets-provider '{self.secrets_provider}'"]


def store_urls(ctx: DeploymentContext) -> tuple[str, str]:
    """Backend URL and secrets provider of the deployment's store (they follow from its names alone)."""
    names = ctx.state_names()
    if ctx.platform is Platform.AWS:
        return (f"s3://{names['state_bucket']}?region={ctx.region}",
                f"awskms://{names['state_key']}?region={ctx.region}")
    if ctx.platform is Platform.GCP:
        return f"gs://{names['state_bucket']}", f"gcpkms://{gcp_key_name(ctx)}"
    return (f"azblob://{names['state_container']}?storage_account={names['state_account']}",
            f"azurekeyvault://{names['state_vault']}.vault.azure.net/keys/{names['state_key']}")


def gcp_key_name(ctx: DeploymentContext) -> str:
    names = ctx.state_names()
    return f"{gcp_key_ring_name(ctx)}/cryptoKeys/{names['state_key']}"


def gcp_key_ring_name(ctx: DeploymentContext) -> str:
    return f"projects/{ctx.project}/locations/{ctx.region}/keyRings/{ctx.state_names()['state_key_ring']}"


def _nothing_to_settle(_: Any) -> list[str]:
    return []


@dataclass(frozen=True)
class Part:
    """One piece of a store: how to find it (None: absent), create it, and settle an existing one."""

    what: str  # "GCS bucket acme-state-p", as the admin reads it
    find: Callable[[], Any]
    create: Callable[[], Any]
    settle: Callable[[Any], list[str]] = _nothing_to_settle


class Adapter:
    """A cloud's store: its parts in order (a later part may use what an earlier one found or created), the
    SDK errors a refusal raises, and how to say what the cloud answered."""

    cloud: str
    failures: tuple[type[BaseException], ...] = ()
    no_credentials: tuple[type[BaseException], ...] = ()  # the SDK found no credentials at all (not a refusal)
    login = ""

    def parts(self) -> Sequence[Part]:
        raise NotImplementedError

    def explain(self, exc: BaseException) -> str:
        return str(exc)


def bootstrap(ctx: DeploymentContext, session: Any = None) -> StateStore:
    """Create (or find) the store of ``ctx``. ``session``: the cloud SDK clients to use (AWS a boto3 session;
    GCP ``GcpClients``; Azure ``AzureClients``), else the admin's ambient credentials."""
    if ctx.example:
        raise StateStoreError("the state store of an example context is never created: give the deployment's "
                              "setup bundle or every context flag")
    adapter = ADAPTERS[ctx.platform](ctx, session)
    created: list[str] = []
    kept: list[str] = []
    what = f"the {adapter.cloud} clients"
    try:
        for part in adapter.parts():
            what = part.what
            found = part.find()
            if found is None:
                part.create()
                created.append(part.what)
            else:
                fixed = part.settle(found)
                kept.append(part.what + (f" (set {', '.join(fixed)})" if fixed else ""))
    except adapter.no_credentials as exc:
        raise StateStoreError(f"no {adapter.cloud} credentials for the state store bootstrap ({exc}): sign in as the "
                              f"admin ({adapter.login}) and run again; nothing was created") from None
    except adapter.failures as exc:
        raise StateStoreError(f"{adapter.cloud} refused the state store bootstrap at {what}: {adapter.explain(exc)}; "
                              "the admin's credentials need the provisioning layer's state/provision set") from None
    backend, secrets = store_urls(ctx)
    return StateStore(backend, secrets, created, kept)


def store_tags(ctx: DeploymentContext) -> dict[str, str]:
    """Tags (labels) of every part of a store: whose state it is (the AWS state set's key condition reads it)."""
    return {"alien-state": ctx.prefix, "alien-stack": ctx.stack}


def ambient(cloud: str, login: str, make: Callable[[], Any], missing: type[Exception]) -> Any:
    """The SDK clients on the admin's ambient credentials, or a clear error saying how to sign in."""
    try:
        return make()
    except missing as exc:
        raise StateStoreError(f"no {cloud} credentials for the state store bootstrap ({exc}): run `{login}` as the "
                              "admin") from None


def refuse(what: str, field_name: str, found: Any, wanted: Any, why: str) -> StateStoreError:
    found = getattr(found, "value", found)  # an SDK enum: its wire value
    return StateStoreError(f"{what} exists with {field_name} = {found!r}, the state store needs {wanted!r} ({why}); "
                           "the bootstrap never moves or replaces an existing store: fix it or choose another prefix")


class _Aws(Adapter):
    cloud = "AWS"

    def __init__(self, ctx: DeploymentContext, session: Any) -> None:
        import boto3
        import botocore.exceptions

        self.failures = (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)
        self.no_credentials = (botocore.exceptions.NoCredentialsError,)
        self.login = "aws sso login, or AWS_PROFILE / AWS_ACCESS_KEY_ID"
        self.ctx = ctx
        session = session or boto3.session.Session()
        self.s3 = session.client("s3", region_name=ctx.region)
        self.kms = session.client("kms", region_name=ctx.region)
        names = ctx.state_names()
        self.bucket, self.alias = names["state_bucket"], names["state_key"]
        self.key_arn = ""
        self.tags = store_tags(ctx)

    def parts(self) -> Sequence[Part]:
        return [Part(f"KMS key {self.alias}", self._find_key, self._create_key),
                Part(f"S3 bucket {self.bucket}", self._find_bucket, self._create_bucket, self._configure)]

    def explain(self, exc: BaseException) -> str:
        response = getattr(exc, "response", None)
        if response is None:
            return f"could not reach AWS: {exc}"
        error = response.get("Error", {})
        return f"{getattr(exc, 'operation_name', '')}: {error.get('Code')}: {error.get('Message')}"

    def _find_key(self) -> Any:
        try:
            self.key_arn = self.kms.describe_key(KeyId=self.alias)["KeyMetadata"]["Arn"]
        except self.kms.exceptions.NotFoundException:
            return None
        return self.key_arn

    def _create_key(self) -> None:
        key = self.kms.create_key(Description=f"Pulumi secrets and state encryption of deployment {self.ctx.prefix}",
                                  Tags=[{"TagKey": k, "TagValue": v} for k, v in self.tags.items()])["KeyMetadata"]
        self.key_arn = key["Arn"]
        self.kms.enable_key_rotation(KeyId=key["KeyId"])
        self.kms.create_alias(AliasName=self.alias, TargetKeyId=key["KeyId"])

    def _find_bucket(self) -> Any:
        import botocore.exceptions

        try:
            return self.s3.head_bucket(Bucket=self.bucket)
        except botocore.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code in ("404", "NoSuchBucket", "NotFound"):
                return None
            if code in ("403", "AccessDenied"):
                raise StateStoreError(f"the S3 bucket name {self.bucket} is taken by another AWS account (or the "
                                      "admin may not read it): the state store cannot be created under it") from None
            raise

    def _create_bucket(self) -> None:
        options = {} if self.ctx.region == "us-east-1" else {
            "CreateBucketConfiguration": {"LocationConstraint": self.ctx.region}}
        try:
            self.s3.create_bucket(Bucket=self.bucket, ObjectOwnership="BucketOwnerEnforced", **options)
        except self.s3.exceptions.BucketAlreadyExists:
            raise StateStoreError(f"the S3 bucket name {self.bucket} is taken by another AWS account: the state "
                                  "store cannot be created under it") from None
        self._configure(None)

    def _configure(self, _: Any) -> list[str]:
        # Applied every time (S3 puts are idempotent): a bootstrap run again restores what the store must be.
        ctx, bucket = self.ctx, self.bucket
        self.s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})
        self.s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        self.s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": self.key_arn},
            "BucketKeyEnabled": True}]})
        self.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
            "Sid": "TlsOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": [f"arn:{ctx.partition}:s3:::{bucket}", f"arn:{ctx.partition}:s3:::{bucket}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}))
        self.s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [
            {"Key": k, "Value": v} for k, v in self.tags.items()]})
        return []


@dataclass(frozen=True)
class GcpClients:
    """The GCP SDK clients a bootstrap uses (a test passes its own transports)."""

    storage: Any  # google.cloud.storage.Client
    kms: Any  # google.cloud.kms.KeyManagementServiceClient


def gcp_clients(ctx: DeploymentContext) -> GcpClients:
    """The clients on the admin's application-default credentials."""
    import google.auth.exceptions

    def make() -> GcpClients:
        import google.auth
        from google.cloud import kms, storage  # type: ignore[attr-defined]

        credentials, _ = google.auth.default()
        # REST, like the storage client: one transport (requests), and the one the contract tests drive.
        return GcpClients(storage.Client(project=ctx.project, credentials=credentials),
                          kms.KeyManagementServiceClient(credentials=credentials, transport="rest"))

    return ambient("GCP", "gcloud auth application-default login", make,
                   google.auth.exceptions.DefaultCredentialsError)


class _Gcp(Adapter):
    cloud = "GCP"

    def __init__(self, ctx: DeploymentContext, clients: GcpClients | None) -> None:
        import google.api_core.exceptions
        import google.auth.exceptions

        self.failures = (google.api_core.exceptions.GoogleAPIError, google.auth.exceptions.GoogleAuthError)
        self.ctx = ctx
        self.labels = store_tags(ctx)
        self.clients = clients or gcp_clients(ctx)
        names = ctx.state_names()
        self.bucket_names = (names["state_bucket"], names["setup_bucket"])

    def parts(self) -> Sequence[Part]:
        ring, key = gcp_key_ring_name(self.ctx), gcp_key_name(self.ctx)
        # The setup bucket holds the setup record's copy (deploy/setup_copy.py): the same rules, and no binding
        # of the management identity, so its writes to the state bucket cannot reach it.
        return [*(Part(f"GCS bucket {name}", self._bucket(self.clients.storage.lookup_bucket, name),
                       self._bucket(self._create_bucket, name), functools.partial(self._settle_bucket, name))
                  for name in self.bucket_names),
                Part(f"Cloud KMS key ring {ring}", self._getter(self.clients.kms.get_key_ring, ring),
                     self._create_key_ring),
                Part(f"Cloud KMS key {key}", self._getter(self.clients.kms.get_crypto_key, key),
                     self._create_key, self._settle_key)]

    def explain(self, exc: BaseException) -> str:
        return getattr(exc, "message", None) or str(exc)

    @staticmethod
    def _getter(get: Callable[..., Any], name: str) -> Callable[[], Any]:
        def find() -> Any:
            from google.api_core.exceptions import NotFound

            try:
                return get(name=name)
            except NotFound:
                return None
        return find

    @staticmethod
    def _bucket(act: Callable[..., Any], name: str) -> Callable[..., Any]:
        """``act`` on the bucket ``name``; a name another project holds is refused, naming the bucket."""
        def run(*found: Any) -> Any:
            from google.api_core.exceptions import Conflict, Forbidden

            try:
                return act(name, *found)
            except (Conflict, Forbidden):
                raise StateStoreError(f"the GCS bucket name {name} is taken by another project (or the admin may "
                                      "not read it): the state store cannot be created under it") from None
        return run

    def _create_bucket(self, name: str) -> None:
        bucket = self.clients.storage.bucket(name)
        bucket.iam_configuration.uniform_bucket_level_access_enabled = True
        bucket.iam_configuration.public_access_prevention = "enforced"
        bucket.versioning_enabled = True
        bucket.labels = self.labels
        self.clients.storage.create_bucket(bucket, project=self.ctx.project, location=self.ctx.region)

    def _settle_bucket(self, name: str, bucket: Any) -> list[str]:
        what = f"GCS bucket {name}"
        if (bucket.location or "").lower() != self.ctx.region:
            raise refuse(what, "location", bucket.location, self.ctx.region.upper(), "the deployment's region")
        fixed = []
        iam = bucket.iam_configuration
        if not iam.uniform_bucket_level_access_enabled:
            iam.uniform_bucket_level_access_enabled = True
            fixed.append("iamConfiguration.uniformBucketLevelAccess")
        if iam.public_access_prevention != "enforced":
            iam.public_access_prevention = "enforced"
            fixed.append("iamConfiguration.publicAccessPrevention")
        if not bucket.versioning_enabled:
            bucket.versioning_enabled = True
            fixed.append("versioning")
        if any(bucket.labels.get(k) != v for k, v in self.labels.items()):
            bucket.labels = {**bucket.labels, **self.labels}
            fixed.append("labels")
        if fixed:
            bucket.patch()
        return fixed

    def _create_key_ring(self) -> None:
        self.clients.kms.create_key_ring(parent=f"projects/{self.ctx.project}/locations/{self.ctx.region}",
                                         key_ring_id=self.ctx.state_names()["state_key_ring"], key_ring={})

    def _rotation(self) -> dict[str, Any]:
        from datetime import datetime, timedelta, timezone

        return {"rotation_period": timedelta(seconds=KEY_ROTATION_S),
                "next_rotation_time": datetime.now(timezone.utc) + timedelta(seconds=KEY_ROTATION_S)}

    def _create_key(self) -> None:
        from google.cloud import kms

        self.clients.kms.create_crypto_key(
            parent=gcp_key_ring_name(self.ctx), crypto_key_id=self.ctx.state_names()["state_key"],
            crypto_key={"purpose": kms.CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT, "labels": self.labels,
                        **self._rotation()})

    def _settle_key(self, key: Any) -> list[str]:
        from google.cloud import kms

        if key.purpose != kms.CryptoKey.CryptoKeyPurpose.ENCRYPT_DECRYPT:
            raise refuse(f"Cloud KMS key {gcp_key_name(self.ctx)}", "purpose", key.purpose.name, "ENCRYPT_DECRYPT",
                         "gcpkms:// encrypts and decrypts the stack's data key")
        if key.rotation_period:
            return []
        self.clients.kms.update_crypto_key(crypto_key={"name": key.name, **self._rotation()},
                                           update_mask={"paths": ["rotation_period", "next_rotation_time"]})
        return ["rotationPeriod"]


@dataclass(frozen=True)
class AzureClients:
    """The Azure SDK clients a bootstrap uses (a test passes its own ``transport=``), and the admin's tenant."""

    resources: Any  # azure.mgmt.resource.resources.ResourceManagementClient
    storage: Any  # azure.mgmt.storage.StorageManagementClient
    keyvault: Any  # azure.mgmt.keyvault.KeyVaultManagementClient
    tenant_id: str
    blobs: Any = None  # azure.storage.blob.BlobServiceClient of the state account: the setup record's copy


def tenant_of(credential: Any) -> str:
    """The admin's tenant, from the ``tid`` claim of their own ARM token: no permission and no extra API."""
    token = credential.get_token("https://management.azure.com/.default").token
    payload = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["tid"])


def azure_clients(ctx: DeploymentContext) -> AzureClients:
    """The clients on the admin's Entra ID credentials (``az login``, a managed identity, ...)."""
    import azure.core.exceptions

    def make() -> AzureClients:
        from azure.identity import DefaultAzureCredential
        from azure.mgmt.keyvault import KeyVaultManagementClient
        from azure.mgmt.resource.resources import ResourceManagementClient
        from azure.mgmt.storage import StorageManagementClient
        from azure.storage.blob import BlobServiceClient

        credential = DefaultAzureCredential()
        subscription = str(ctx.subscription_id)
        return AzureClients(ResourceManagementClient(credential, subscription),
                            StorageManagementClient(credential, subscription),
                            KeyVaultManagementClient(credential, subscription), tenant_of(credential),
                            BlobServiceClient(blob_endpoint(ctx), credential))

    return ambient("Azure", "az login", make, azure.core.exceptions.ClientAuthenticationError)


def blob_endpoint(ctx: DeploymentContext) -> str:
    return f"https://{ctx.state_names()['state_account']}.blob.core.windows.net"


class _Azure(Adapter):
    cloud = "Azure"

    def __init__(self, ctx: DeploymentContext, clients: AzureClients | None) -> None:
        import azure.core.exceptions

        self.failures = (azure.core.exceptions.AzureError,)
        self.ctx = ctx
        self.names = ctx.state_names()
        self.rg = self.names["state_resource_group"]
        self.tags = store_tags(ctx)
        self.clients = clients or azure_clients(ctx)

    def parts(self) -> Sequence[Part]:
        account, container, vault, key = (self.names[k] for k in ("state_account", "state_container", "state_vault",
                                                                  "state_key"))
        storage, keyvault = self.clients.storage, self.clients.keyvault
        return [
            Part(f"resource group {self.rg}", self._found(self.clients.resources.resource_groups.get, self.rg),
                 self._create_rg, self._in_location(f"resource group {self.rg}")),
            Part(f"storage account {account}", self._found(storage.storage_accounts.get_properties, self.rg, account),
                 self._create_account, self._settle_account),
            Part(f"blob service of {account}", self._found(storage.blob_services.get_service_properties, self.rg,
                                                            account),
                 self._set_blob_service, self._settle_blob_service),
            # The setup container holds the setup record's copy (deploy/setup_copy.py): private like the state
            # container, and outside the management identity's assignment, which is on the state container only.
            *(Part(f"blob container {name}", self._found(storage.blob_containers.get, self.rg, account, name),
                   functools.partial(self._create_container, name), functools.partial(self._settle_container, name))
              for name in (container, self.names["setup_container"])),
            Part(f"Key Vault {vault}", self._found(keyvault.vaults.get, self.rg, vault), self._create_vault,
                 self._settle_vault),
            Part(f"Key Vault key {key}", self._found(keyvault.keys.get, self.rg, vault, key), self._create_key,
                 self._settle_key),
        ]

    def explain(self, exc: BaseException) -> str:
        error = getattr(exc, "error", None)  # ARM's error body (code, message), when it answered one
        if error is not None and error.code:
            return f"{error.code}: {error.message}"
        return getattr(exc, "message", None) or str(exc)

    @staticmethod
    def _found(get: Callable[..., Any], *args: str) -> Callable[[], Any]:
        def find() -> Any:
            from azure.core.exceptions import ResourceNotFoundError

            try:
                return get(*args)
            except ResourceNotFoundError:
                return None
        return find

    def _in_location(self, what: str) -> Callable[[Any], list[str]]:
        def settle(found: Any) -> list[str]:
            if found.location != self.ctx.region:
                raise refuse(what, "location", found.location, self.ctx.region, "the deployment's location")
            return []
        return settle

    def _create_rg(self) -> None:
        self.clients.resources.resource_groups.create_or_update(
            self.rg, {"location": self.ctx.region, "tags": self.tags})

    def _account_rules(self) -> dict[str, Any]:
        # No anonymous blobs, no shared keys (every access is an Entra ID identity with a role), TLS 1.2, HTTPS.
        return {"allow_blob_public_access": False, "allow_shared_key_access": False, "minimum_tls_version": "TLS1_2",
                "enable_https_traffic_only": True}

    def _create_account(self) -> None:
        from azure.mgmt.storage.models import Sku, StorageAccountCreateParameters

        # Locally redundant: geo-redundancy would copy the state out of the deployment's location.
        self.clients.storage.storage_accounts.begin_create(self.rg, self.names["state_account"],
                                                           StorageAccountCreateParameters(
            sku=Sku(name="Standard_LRS"), kind="StorageV2", location=self.ctx.region, tags=self.tags,
            **self._account_rules())).result()

    def _settle_account(self, account: Any) -> list[str]:
        from azure.mgmt.storage.models import StorageAccountUpdateParameters

        self._in_location(f"storage account {self.names['state_account']}")(account)
        names = {"allow_blob_public_access": "allowBlobPublicAccess", "allow_shared_key_access":
                 "allowSharedKeyAccess", "minimum_tls_version": "minimumTlsVersion", "enable_https_traffic_only":
                 "supportsHttpsTrafficOnly"}
        wrong = {k: v for k, v in self._account_rules().items() if getattr(account, k) != v}
        if wrong:
            self.clients.storage.storage_accounts.update(self.rg, self.names["state_account"],
                                                         StorageAccountUpdateParameters(**wrong))
        return [names[k] for k in wrong]

    def _blob_rules(self) -> Any:
        from azure.mgmt.storage.models import BlobServiceProperties

        retention = {"enabled": True, "days": SOFT_DELETE_DAYS}
        return BlobServiceProperties({"properties": {"isVersioningEnabled": True, "deleteRetentionPolicy": retention,
                                                     "containerDeleteRetentionPolicy": retention}})

    def _set_blob_service(self) -> None:
        self.clients.storage.blob_services.set_service_properties(self.rg, self.names["state_account"],
                                                                  self._blob_rules())

    def _settle_blob_service(self, found: Any) -> list[str]:
        wrong = [name for name, ok in (
            ("isVersioningEnabled", found.is_versioning_enabled),
            ("deleteRetentionPolicy", found.delete_retention_policy and found.delete_retention_policy.enabled),
            ("containerDeleteRetentionPolicy", found.container_delete_retention_policy
             and found.container_delete_retention_policy.enabled)) if not ok]
        if wrong:
            self._set_blob_service()
        return wrong

    @staticmethod
    def _private() -> Any:
        from azure.mgmt.storage.models import BlobContainer

        return BlobContainer({"properties": {"publicAccess": "None"}})

    def _create_container(self, name: str) -> None:
        self.clients.storage.blob_containers.create(self.rg, self.names["state_account"], name, self._private())

    def _settle_container(self, name: str, container: Any) -> list[str]:
        if (container.public_access or "None") == "None":
            return []
        self.clients.storage.blob_containers.update(self.rg, self.names["state_account"], name, self._private())
        return ["publicAccess"]

    def _create_vault(self) -> None:
        from azure.mgmt.keyvault.models import Sku, VaultCreateOrUpdateParameters, VaultProperties

        # RBAC authorization: the management identity's only key rights are its state role on this key.
        self.clients.keyvault.vaults.begin_create_or_update(self.rg, self.names["state_vault"],
                                                            VaultCreateOrUpdateParameters(
            location=self.ctx.region, tags=self.tags, properties=VaultProperties(
                tenant_id=self.clients.tenant_id, sku=Sku(family="A", name="standard"),
                enable_rbac_authorization=True, enable_soft_delete=True, enable_purge_protection=True))).result()

    def _settle_vault(self, vault: Any) -> list[str]:
        from azure.mgmt.keyvault.models import VaultPatchParameters, VaultPatchProperties

        self._in_location(f"Key Vault {self.names['state_vault']}")(vault)
        wrong = {k: True for k, v in (("enableRbacAuthorization", vault.properties.enable_rbac_authorization),
                                      ("enablePurgeProtection", vault.properties.enable_purge_protection)) if not v}
        if wrong:
            self.clients.keyvault.vaults.update(self.rg, self.names["state_vault"],
                                                VaultPatchParameters(properties=VaultPatchProperties(wrong)))
        return list(wrong)

    def _create_key(self) -> None:
        from azure.mgmt.keyvault.models import KeyCreateParameters, KeyProperties

        # RSA: the azurekeyvault secrets provider wraps the stack's data key with RSA-OAEP-256.
        self.clients.keyvault.keys.create_if_not_exist(self.rg, self.names["state_vault"], self.names["state_key"],
                                                       KeyCreateParameters(tags=self.tags, properties=KeyProperties(
            kty="RSA", key_size=3072, key_ops=["encrypt", "decrypt"])))

    def _settle_key(self, key: Any) -> list[str]:
        what = f"Key Vault key {self.names['state_key']}"
        if key.properties.kty not in ("RSA", "RSA-HSM"):
            raise refuse(what, "kty", key.properties.kty, "RSA", "azurekeyvault:// wraps with RSA-OAEP-256")
        ops = set(key.properties.key_ops or ["encrypt", "decrypt"])  # none listed: every operation is allowed
        if not {"encrypt", "decrypt"} <= ops:
            raise refuse(what, "key_ops", sorted(ops), ["decrypt", "encrypt"], "the secrets provider needs both")
        return []


ADAPTERS: dict[Platform, Callable[[DeploymentContext, Any], Adapter]] = {
    Platform.AWS: _Aws, Platform.GCP: _Gcp, Platform.AZURE: _Azure}
