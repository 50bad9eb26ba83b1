"""The setup record's copy in the customer's cloud (DESIGN.md §1a): the baseline the admin's next run checks the
state against, kept where the management identity cannot write.

The management identity must write the stack's state to release, so the state is never its own evidence. The
admin's local record is one baseline, but only on the machine that ran the last setup; a setup from a fresh
machine (a CI runner, a colleague's laptop) would have none, and would take a tampered state as it finds it. So
every setup on the deployment's own store also writes its record to the store, at a place no management grant
covers: AWS ``alien-setup/record.json`` beside ``.pulumi/`` in the state bucket (the state set grants object
access under ``.pulumi/`` only); GCP a bucket of its own with no binding for the management identity; Azure a
container of its own in the state account, outside the management identity's container-scoped assignment. The
admin's runs read it with the admin's credentials, and the later of it and the local record is the baseline.

The per-cloud adapters hold only the SDK calls; the clients are the bootstrap's (``state_store``): AWS a boto3
session, GCP ``GcpClients``, Azure ``AzureClients``. The SDKs are imported when a copy is read or written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alien_pulumi.deploy.state_store import StateStore, StateStoreError, azure_clients, gcp_clients, store_urls
from alien_pulumi.errors import StackLoadError
from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.record import ReleaseRecord
from alien_pulumi.model.types import Platform


def keeps_copy(ctx: DeploymentContext, store: StateStore, engine: str) -> bool:
    """Setup keeps a copy when it runs on the deployment's own store in the customer's cloud; local (file://),
    external and simulated runs have no store to keep it in."""
    return not engine.startswith("simulated:") and store.backend_url == store_urls(ctx)[0]


def copy_url(ctx: DeploymentContext) -> str:
    """Where the copy is, as the admin reads it."""
    names = ctx.state_names()
    if ctx.platform is Platform.AWS:
        return f"s3://{names['state_bucket']}/{names['setup_record']}"
    if ctx.platform is Platform.GCP:
        return f"gs://{names['setup_bucket']}/{names['setup_record']}"
    return (f"https://{names['state_account']}.blob.core.windows.net/{names['setup_container']}/"
            f"{names['setup_record']}")


class _Copy:
    """One cloud's object: ``put`` the record's bytes, ``get`` them (None: no copy yet)."""

    failures: tuple[type[BaseException], ...] = ()

    def __init__(self, ctx: DeploymentContext, session: Any) -> None:
        raise NotImplementedError

    def put(self, data: bytes) -> None:
        raise NotImplementedError

    def get(self) -> bytes | None:
        raise NotImplementedError


class _Aws(_Copy):
    def __init__(self, ctx: DeploymentContext, session: Any) -> None:
        import boto3
        import botocore.exceptions

        self.failures = (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)
        self.s3 = (session or boto3.session.Session()).client("s3", region_name=ctx.region)
        names = ctx.state_names()
        self.bucket, self.key = names["state_bucket"], names["setup_record"]

    def put(self, data: bytes) -> None:
        # The bucket's default encryption (SSE-KMS with the state key) applies; no ACL: the bucket enforces owner.
        self.s3.put_object(Bucket=self.bucket, Key=self.key, Body=data, ContentType="application/json")

    def get(self) -> bytes | None:
        try:
            body: bytes = self.s3.get_object(Bucket=self.bucket, Key=self.key)["Body"].read()
        except (self.s3.exceptions.NoSuchKey, self.s3.exceptions.NoSuchBucket):
            return None  # no store yet: no setup kept a copy (the management identity cannot delete a bucket)
        return body


class _Gcp(_Copy):
    def __init__(self, ctx: DeploymentContext, clients: Any) -> None:
        import google.api_core.exceptions
        import google.auth.exceptions

        self.failures = (google.api_core.exceptions.GoogleAPIError, google.auth.exceptions.GoogleAuthError)
        storage = (clients or gcp_clients(ctx)).storage
        names = ctx.state_names()
        self.blob = storage.bucket(names["setup_bucket"]).blob(names["setup_record"])

    def put(self, data: bytes) -> None:
        self.blob.upload_from_string(data, content_type="application/json")

    def get(self) -> bytes | None:
        from google.api_core.exceptions import NotFound

        try:
            data: bytes = self.blob.download_as_bytes()
        except NotFound:
            return None
        return data


class _Azure(_Copy):
    def __init__(self, ctx: DeploymentContext, clients: Any) -> None:
        import azure.core.exceptions

        self.failures = (azure.core.exceptions.AzureError,)
        names = ctx.state_names()
        service = (clients or azure_clients(ctx)).blobs
        self.blob = service.get_blob_client(names["setup_container"], names["setup_record"])

    def put(self, data: bytes) -> None:
        from azure.storage.blob import ContentSettings

        self.blob.upload_blob(data, overwrite=True, content_settings=ContentSettings(content_type="application/json"))

    def get(self) -> bytes | None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            data: bytes = self.blob.download_blob().readall()
        except ResourceNotFoundError:
            return None
        return data


_COPIES: dict[Platform, type[_Copy]] = {Platform.AWS: _Aws, Platform.GCP: _Gcp, Platform.AZURE: _Azure}


@dataclass(frozen=True)
class _Opened:
    copy: _Copy
    url: str


def _open(ctx: DeploymentContext, session: Any) -> _Opened:
    return _Opened(_COPIES[ctx.platform](ctx, session), copy_url(ctx))


def save(ctx: DeploymentContext, record: ReleaseRecord, session: Any = None) -> str:
    """Write ``record`` as the deployment's copy (with the admin's credentials); where it went."""
    opened = _open(ctx, session)
    try:
        opened.copy.put(record.model_dump_json(indent=2).encode())
    except opened.copy.failures as exc:
        raise StateStoreError(f"the setup record could not be kept at {opened.url}: {exc}; the admin's credentials "
                              "need the provisioning layer's state/provision set") from None
    return opened.url


def load(ctx: DeploymentContext, session: Any = None) -> ReleaseRecord | None:
    """The deployment's copy (None: no setup kept one yet)."""
    opened = _open(ctx, session)
    try:
        data = opened.copy.get()
    except opened.copy.failures as exc:
        raise StateStoreError(f"the setup record kept at {opened.url} could not be read: {exc}; the admin's "
                              "credentials need the provisioning layer's state/provision set") from None
    if data is None:
        return None
    try:
        text = data.decode()
    except UnicodeDecodeError:
        raise StackLoadError(f"{opened.url}: not a release record (not UTF-8)") from None
    return ReleaseRecord.from_json(text, opened.url)


@dataclass(frozen=True)
class Baseline:
    """The admin's last setup record and where it was read (None: no setup recorded anywhere)."""

    record: ReleaseRecord | None
    source: str


def last_setup(ctx: DeploymentContext, local: Path, *, cloud: bool, session: Any = None) -> Baseline:
    """The later of the local record and the cloud copy (``cloud``: the deployment keeps one). Both are written
    only by the admin's setups, so the later one is the last setup, from whichever machine ran it."""
    found = [(ReleaseRecord.from_json(local.read_text(), str(local)), str(local))] if local.exists() else []
    if cloud:
        kept = load(ctx, session)
        if kept is not None:
            found.append((kept, copy_url(ctx)))
    if not found:
        return Baseline(None, "")
    record, source = max(found, key=lambda pair: pair[0].created_at)
    return Baseline(record, source)
