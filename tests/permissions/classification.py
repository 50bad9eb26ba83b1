"""An independent classification of every action that can reach the management layer (DESIGN.md §2, §7).

Data exclusion is an allow-list: an action of a heartbeat, management (or any other set the management layer
may hold: every set but ``provision``, ``runtime`` and ``data-*``) is

- ``metadata``: a read that a source no one here wrote calls metadata-only -
  AWS: policy_sentry access level Read or List *and* allowed by AWS's managed policies SecurityAudit or
  ViewOnlyAccess (the documents moto ships);
  GCP: in the predefined roles roles/viewer, roles/iam.securityReviewer, roles/browser,
  roles/storage.bucketViewer or roles/datastore.keyVisualizerViewer, *minus* the permissions of Google's content
  roles (GCP_CONTENT_ROLES: objects, secret payloads, messages, documents, log entries, table rows) that no
  narrow metadata role holds;
  Azure: a control-plane ``*/read`` action (Azure's data reads are dataActions) that is a real operation of its
  resource provider in the built-in roles catalog;
- ``reason``: anything else (writes, and reads no metadata source lists) - allowed only with a written
  justification in the set file (``justifications``), which the customer's document shows;
- ``never``: contents or keys whatever the justification - AWS data-plane actions (DESIGN.md §4 names
  s3:ListBucket although AWS's metadata policies allow it), permissions management other than iam:PassRole;
  GCP permissions of the content roles; Azure operations that hand out keys, SAS, secrets or credentials,
  and dataActions.
  The one documented exception is the ``state`` set (DESIGN.md §4a: the deployment's own Pulumi state), whose
  data actions need a justification instead.
"""

from __future__ import annotations

import fnmatch
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tests.permissions.sets_data import load_catalog, sets_dir

METADATA, REASON, NEVER = "metadata", "reason", "never"
STATE_SET = "state"
NOT_MANAGEMENT = ("provision", "runtime")

# AWS: contents (objects and their keys, items, messages, secret values, parameters, keys' plaintext, log events,
# code) - never in a set the management layer may hold, even where a metadata policy allows it.
AWS_DATA_PLANE = (
    "s3:GetObject*", "s3:PutObject*", "s3:DeleteObject*", "s3:ListBucket*", "s3:ListMultipartUploadParts",
    "s3:RestoreObject", "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
    "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:PartiQL*",
    "dynamodb:GetRecords", "dynamodb:ExportTableToPointInTime", "sqs:ReceiveMessage", "sqs:SendMessage",
    "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:PurgeQueue", "secretsmanager:GetSecretValue",
    "secretsmanager:BatchGetSecretValue", "secretsmanager:PutSecretValue", "ssm:GetParameter*", "kms:Decrypt",
    "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "logs:GetLogEvents", "logs:FilterLogEvents",
    "logs:GetLogRecord", "logs:Unmask", "logs:StartQuery", "logs:GetQueryResults", "logs:StartLiveTail",
    "lambda:InvokeFunction", "lambda:InvokeFunctionUrl", "ecs:ExecuteCommand", "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
)
AWS_METADATA_POLICIES = ("SecurityAudit", "ViewOnlyAccess")
AWS_PERMISSIONS_ALLOWED = {"iam:PassRole"}  # handing live compute its runtime role (DESIGN.md §2)

# Narrow roles that hold metadata only, and the broad viewer and security reviewer roles, which also hold some
# contents (document, log entry and row reads; object listing), hence the content roles are subtracted from them.
GCP_NARROW_METADATA_ROLES = ("roles/browser", "roles/storage.bucketViewer", "roles/datastore.keyVisualizerViewer")
GCP_METADATA_ROLES = ("roles/viewer", "roles/iam.securityReviewer", *GCP_NARROW_METADATA_ROLES)
GCP_CONTENT_ROLES = (
    "roles/storage.objectViewer", "roles/storage.objectUser", "roles/secretmanager.secretAccessor",
    "roles/secretmanager.secretVersionManager", "roles/pubsub.subscriber", "roles/pubsub.publisher",
    "roles/datastore.viewer", "roles/datastore.user", "roles/logging.viewer", "roles/logging.privateLogViewer",
    "roles/bigquery.dataViewer", "roles/spanner.databaseReader",
)
# What the content roles hold besides contents: attaching a subscription to a topic (receiving still needs
# pubsub.subscriptions.consume, a content permission).
GCP_CONTENT_ROLE_CONFIG = frozenset({"pubsub.topics.attachSubscription"})
# Azure operations that hand out keys, SAS tokens, connection strings, secret values or credentials.
AZURE_SECRET_WORDS = re.compile(r"list.*(key|secret|sas|credential|connectionstring)|regeneratekey|sharedkeys|"
                                r"getsecret|/secrets/(read|getsecret)|/list/action$", re.IGNORECASE)
AZURE_OPERATION = re.compile(r"^Microsoft\.[A-Za-z][A-Za-z0-9]*(/[A-Za-z][A-Za-z0-9]*)+/(read|write|delete|action)$")


def reaches_management(set_name: str) -> bool:
    """Can the management layer hold this set? Every set but provision (only through extend, whose own
    checks are in the cloud tests), runtime and data sets."""
    return set_name not in NOT_MANAGEMENT and not set_name.startswith("data-")


# ---------------------------------------------------------------- sources


@cache
def _aws_metadata_patterns() -> tuple[str, ...]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    policies = json.loads(aws_managed_policies_data)
    patterns: list[str] = []
    for name in AWS_METADATA_POLICIES:
        for st in policies[name]["Document"]["Statement"]:
            if st.get("Effect") == "Allow":
                acts = st.get("Action", [])
                patterns += [acts] if isinstance(acts, str) else list(acts)
    return tuple(p.lower() for p in patterns)


@cache
def aws_access_level(action: str) -> str | None:
    from policy_sentry.querying.actions import get_action_data

    service, name = action.split(":", 1)
    rows = [r for r in ((get_action_data(service, name) or {}).get(service) or [])
            if r["action"].lower() == action.lower()]
    return rows[0]["access_level"] if rows else None


def aws_in_metadata_policies(action: str) -> bool:
    return any(fnmatch.fnmatch(action.lower(), p) for p in _aws_metadata_patterns())


@cache
def _gcp_sets() -> tuple[frozenset[str], frozenset[str]]:
    roles = load_catalog("gcp-predefined-roles.json.gz")
    narrow = {p for r in GCP_NARROW_METADATA_ROLES for p in roles[r]["permissions"]}
    content = frozenset(p for r in GCP_CONTENT_ROLES for p in roles[r]["permissions"])
    content = content - narrow - GCP_CONTENT_ROLE_CONFIG
    metadata = frozenset(p for r in GCP_METADATA_ROLES for p in roles[r]["permissions"]) - content
    return metadata, content


@cache
def _azure_patterns() -> tuple[tuple[str, ...], tuple[str, ...]]:
    roles = load_catalog("azure-built-in-roles.json.gz")
    actions = {a for r in roles.values() for perm in r["permissions"] for a in perm.get("actions") or []}
    data = {a for r in roles.values() for perm in r["permissions"] for a in perm.get("dataActions") or []}
    return tuple(sorted(actions)), tuple(sorted(data))


@cache
def _azure_data_plane(action: str) -> bool:
    """A data-plane operation (blob reads, key use): the catalog lists it by name as a dataAction and never as
    an action. Its name alone can look like a control-plane read (``.../blobs/read``)."""
    actions, data = _azure_patterns()
    lowered = action.lower()
    return lowered in {d.lower() for d in data} and lowered not in {a.lower() for a in actions}


def _azure_is_real_read(action: str) -> bool:
    """A ``*/read`` of a resource type some built-in role names (not only matched by ``*/read``)."""
    if not AZURE_OPERATION.match(action) or not action.endswith("/read"):
        return False
    rtype = action.lower().rsplit("/", 1)[0] + "/"
    actions, data = _azure_patterns()
    return any(p.lower().startswith(rtype) for p in (*actions, *data))


# ---------------------------------------------------------------- classification


@cache
def contents(cloud: str, action: str) -> bool:
    """Does the action read or write contents, or hand out keys (whatever set holds it)?"""
    if cloud == "aws":
        return any(fnmatch.fnmatch(action.lower(), p.lower()) for p in AWS_DATA_PLANE)
    if cloud == "gcp":
        return action in _gcp_sets()[1]
    if cloud == "azure":
        return bool(AZURE_SECRET_WORDS.search(action)) or _azure_data_plane(action)
    raise ValueError(cloud)


@cache
def classify(cloud: str, action: str, set_name: str = "management") -> str:
    """``metadata``, ``reason`` or ``never`` (see the module docstring)."""
    verdict = _classify(cloud, action)
    return REASON if verdict == NEVER and set_name == STATE_SET else verdict


def _classify(cloud: str, action: str) -> str:
    if cloud == "aws":
        level = aws_access_level(action)
        if level is None or contents(cloud, action):
            return NEVER
        if level == "Permissions management":
            return REASON if action in AWS_PERMISSIONS_ALLOWED else NEVER
        if level in ("Read", "List") and aws_in_metadata_policies(action):
            return METADATA
        return REASON
    if cloud == "gcp":
        if contents(cloud, action):
            return NEVER
        return METADATA if action in _gcp_sets()[0] else REASON
    if cloud == "azure":
        if contents(cloud, action):
            return NEVER
        return METADATA if _azure_is_real_read(action) else REASON
    raise ValueError(cloud)


# ---------------------------------------------------------------- set files (every file, including later ones)


def set_files(cloud: str) -> dict[str, dict[str, Any]]:
    return {p.stem: yaml.safe_load(p.read_text()) for p in sorted(sets_dir(cloud).glob("*.yaml"))}


def set_file_path(cloud: str, stem: str) -> Path:
    return sets_dir(cloud) / f"{stem}.yaml"


def own_actions(body: dict[str, Any]) -> set[str]:
    return {a for g in body.get("grants") or [] for a in (*(g.get("actions") or []), *(g.get("data_actions") or []))}


def unjustified(cloud: str, doc: dict[str, Any]) -> list[str]:
    """Every action of a management-reachable set of one file that is neither metadata nor justified, and every
    action that is never allowed."""
    reasons = doc.get("justifications") or {}
    bad = []
    for set_name, body in doc["sets"].items():
        if not reaches_management(set_name):
            continue
        for action in sorted(own_actions(body)):
            verdict = classify(cloud, action, set_name)
            if verdict == NEVER:
                bad.append(f"{doc['type']}/{set_name}: {action} is never allowed (contents or keys)")
            elif verdict == REASON and not str(reasons.get(action) or "").strip():
                bad.append(f"{doc['type']}/{set_name}: {action} is not metadata by "
                           f"{'policy_sentry + SecurityAudit/ViewOnlyAccess' if cloud == 'aws' else 'the catalog'}"
                           " and has no justification")
    return bad
