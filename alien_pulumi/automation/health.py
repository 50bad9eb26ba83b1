"""Heartbeat health: present, drifted (which fields) or missing, per resource of the stack.

Refreshed resources report through the engine's refresh preview: the refresh's diff (cloud against state), and for
compute the identity, placement and ingress the cloud has, against what the spec dictates (automation/placement.py:
the state is the vendor's to write, so agreeing with it proves nothing there). An AWS S3 bucket is never refreshed
(its read starts with HeadBucket = s3:ListBucket, a contents permission management never holds,
DESIGN.md §4): its health comes from direct configuration reads made here with the management
identity's credentials.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from alien_pulumi.automation.events import EventRecorder
from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.naming import resource_names
from alien_pulumi.model.resources import StorageSpec
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import Platform, ResourceType
from alien_pulumi.synth.synth import SynthResult

# Resource types a heartbeat must not refresh, and why (their read needs a contents permission).
NOT_REFRESHED = {"aws:s3/bucket:Bucket": "HeadBucket needs s3:ListBucket (object listing)"}
PRESENT, UNKNOWN, DRIFTED, MISSING = "present", "unknown", "drifted", "missing"
# Worst wins. Unknown (a child the refresh said nothing of) is never taken for present: the heartbeat fails closed.
_RANK = {PRESENT: 0, UNKNOWN: 1, DRIFTED: 2, MISSING: 3}


def worse(a: str, b: str) -> str:
    """The worse of two states."""
    return b if _RANK[b] > _RANK[a] else a


def refresh_targets(result: SynthResult) -> dict[str, str]:
    """URN -> resource id of every child of every resource component (frozen and live) a heartbeat
    refreshes; deployment-wide components (identities, grants, foundation) are not resources of the stack."""
    ids = {r.id for r in result.spec.resources}
    targets = {}
    for component, _, children in result.component_rows():
        if component.name not in ids:
            continue
        for child in children:
            if child.custom and child.type not in NOT_REFRESHED:
                targets[child.urn] = component.name
    return targets


def merge(*healths: Mapping[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Worst state per resource over several sources; fields add up."""
    out: dict[str, dict[str, Any]] = {}
    for health in healths:
        for rid, entry in health.items():
            current = out.setdefault(rid, {"state": PRESENT, "fields": []})
            current["fields"] = current["fields"] + list(entry.get("fields", []))
            current["state"] = worse(current["state"], entry["state"])
    return out


def health_from_refresh(recorder: EventRecorder, targets: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """Worst state over each resource's children: missing > drifted > unknown > present. A child the refresh
    reported nothing of is unknown, named in the fields: only what the engine saw counts as present."""
    health: dict[str, dict[str, Any]] = {}
    for urn, rid in targets.items():
        name = urn.rsplit("::", 1)[-1]
        if urn in recorder.gone:
            state, fields = MISSING, []
        elif recorder.diffs.get(urn):
            state, fields = DRIFTED, [f"{name}.{d}" for d in recorder.diffs[urn]]
        elif urn in recorder.operations:
            state, fields = PRESENT, []
        else:
            state, fields = UNKNOWN, [f"{name}: not reported by the refresh"]
        entry = health.setdefault(rid, {"state": state, "fields": []})
        entry["fields"] += fields
        entry["state"] = worse(entry["state"], state)
    return health


def s3_endpoint(backend: str | None) -> str | None:
    """The ``endpoint`` query parameter of an ``s3://`` backend URL (Pulumi's diy backend, gocloud's s3blob)."""
    if not backend or not backend.startswith("s3://"):
        return None
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(backend).query)).get("endpoint")


def _bucket_health(s3: Any, bucket: str, res: StorageSpec, stack: str) -> dict[str, Any]:
    import botocore.exceptions

    fields = []
    try:
        s3.get_bucket_location(Bucket=bucket)
    except botocore.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] in ("NoSuchBucket", "404"):
            return {"state": MISSING, "fields": []}
        raise
    status = s3.get_bucket_versioning(Bucket=bucket).get("Status", "never enabled")
    if (status == "Enabled") != res.versioning:
        fields.append(f"versioning: {status}")
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    algorithms = {r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules}
    if algorithms != {"AES256"}:
        fields.append(f"encryption: {sorted(algorithms)}")
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    if not all(block.values()):
        fields.append("public_access_block: " + ", ".join(k for k, v in block.items() if not v))
    tags = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=bucket).get("TagSet", [])}
    if tags.get("alien-stack") != stack:
        fields.append(f"tags.alien-stack: {tags.get('alien-stack')!r}")
    return {"state": DRIFTED if fields else PRESENT, "fields": fields}


def aws_bucket_health(spec: StackSpec, ctx: DeploymentContext, s3: Any = None,
                      backend: str | None = None) -> dict[str, dict[str, Any]]:
    """Direct configuration reads of every bucket of the stack (credentials from the environment). ``backend``:
    the deployment's state URL; an ``s3://`` one naming an ``endpoint`` says where this account's S3 API is
    reached (a VPC or FIPS endpoint, or a stand-in), and the buckets are read there too."""
    if ctx.platform is not Platform.AWS:
        return {}
    import boto3

    s3 = s3 or boto3.client("s3", region_name=ctx.region, endpoint_url=s3_endpoint(backend))
    out = {}
    for res in spec.resources:
        if isinstance(res, StorageSpec) and res.kind is ResourceType.STORAGE:
            bucket = resource_names(Platform.AWS, res.kind, ctx.prefix, res.id)["name"]
            out[res.id] = _bucket_health(s3, bucket, res, spec.name)
    return out
