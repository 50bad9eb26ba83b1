"""Every value of a registry survives its upgrade to head (issue 25, item 4).

A registry is built at each schema revision with a value in every column of every table (JSON documents with
every key their model has filled, contexts and records of the shape of their time), upgraded by opening it with
today's Registry, and compared row by row, column by column and JSON key by JSON key with what was written: equal,
or changed exactly as the revisions say (written out below from what each one documents, not from its code):

- 0002: each run of version 1 that finished an attempt gets that attempt in the attempt log (seconds unknown: 0);
- 0003: a deployment gets its target (platform:account/project/subscription:prefix) and no bundle; its context,
  and its record's, keep only the fields their cloud uses, with one region: the one that cloud used;
- 0004: runs are numbered in the order they were written;
- 0006: a deployment keeps its setup record (its record when setup wrote it, else the latest record a request
  applied); a version-1 request reads as version 2 built on the record it names, and an open one built on
  another record than that setup record is superseded.

Then today's models read every row back (contexts, records, bundles, specs, results, requests).

SQLite registries at versions 1-3 are written by the hand-written migrations themselves (the pre-SQLAlchemy
module, read from git), marked with ``PRAGMA user_version`` only, as vendors have them; later ones by the
Alembic revisions. PostgreSQL registries start at revision 0004: PostgreSQL came with the Alembic registry,
whose first head was 0004, and a fresh database is brought to head in one transaction, so no PostgreSQL registry
was ever at 0001-0003 (and 0003's rewrite of old contexts runs on SQLite only)."""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.runtime.environment import EnvironmentContext

from alien_pulumi.automation.run import RunKind, RunResult, RunStatus
from alien_pulumi.deploy.bundle import SetupBundle
from alien_pulumi.deploy.request import SetupRequest
from alien_pulumi.fleet import schema
from alien_pulumi.fleet.registry import (
    ALEMBIC,
    LEGACY_VERSIONS,
    SCHEMA_VERSION,
    SCRIPT,
    Registry,
    database_url,
)
from alien_pulumi.model.context import OPTIONAL, REQUIRED, DeploymentContext
from alien_pulumi.model.record import ReleaseRecord, RequestAnswer, StateEntry
from alien_pulumi.model.types import Platform
from alien_pulumi.permissions import derive_plan, render_all
from tests.conftest import quickstart
from tests.fleet.legacy_registry import legacy_registry
from tests.postgres_server import PostgresServer

# (database, revision): see the module's docstring for why PostgreSQL starts at 0004.
CASES = [("sqlite", r) for r in range(1, SCHEMA_VERSION + 1)] + [
    ("postgresql", r) for r in range(4, SCHEMA_VERSION + 1)]
# Columns the database numbers itself (an identity, an autoincrement key): read back, then compared.
ASSIGNED = {("runs", "seq"), ("heartbeats", "id")}
# Insertion order (foreign keys first).
TABLES = ("releases", "deployments", "rollouts", "runs", "run_attempts", "heartbeats", "setup_requests")
KEYS = {"deployments": ("name",), "releases": ("id",), "rollouts": ("id",), "runs": ("id",),
        "run_attempts": ("run_id", "attempt"), "heartbeats": ("id",), "setup_requests": ("id",),
        "alembic_version": ("version_num",)}
# The fields of a context before revision 0003 (the model of that time): every cloud's, one region each.
OLD_CONTEXT_FIELDS = {"platform", "prefix", "stack", "region", "account_id", "partition", "project", "gcp_region",
                      "subscription_id", "resource_group", "location", "vendor_principal", "vendor_oidc_issuer",
                      "external_id"}
REGION_FIELD = {"aws": "region", "gcp": "gcp_region", "azure": "location"}  # the one each cloud used then

SPEC = quickstart()
VENDOR_ROLE = "arn:aws:iam::111122223333:role/vendor-release"
VENDOR_SA = "vendor-release@vendor-project.iam.gserviceaccount.com"
EXTERNAL = "ext-7Hq2Lw9Zt4Rk8Pm3Xv6Nc1Bd5Fg0Js2Ya"

# name -> (platform, the program of its record: provision = setup, manage = a release; None: registered only)
DEPLOYMENTS = {"acme": ("aws", "provision"), "globex": ("gcp", "manage"), "initech": ("azure", "provision"),
               "hooli": ("aws", None)}


def old_context(name: str, platform: str) -> dict[str, Any]:
    """A context as the model before 0003 wrote it: every field of every cloud filled, each cloud's region in its
    own field and another value in the others."""
    return {
        "platform": platform, "prefix": name, "stack": SPEC.name,
        "region": "eu-west-3" if platform == "aws" else "ap-south-1",
        "account_id": "210987654321", "partition": "aws",
        "project": f"{name}-project-1" if platform == "gcp" else "other-project-1",
        "gcp_region": "europe-west4" if platform == "gcp" else "asia-east1",
        "subscription_id": "0f1e2d3c-4b5a-6978-8a9b-acbdcedf0f1e",
        "resource_group": f"{name}-resources",
        "location": "westeurope" if platform == "azure" else "northeurope",
        "vendor_principal": {"aws": VENDOR_ROLE, "gcp": VENDOR_SA, "azure": "system:serviceaccount:vendor:release"}[
            platform],
        "vendor_oidc_issuer": "https://oidc.vendor.example.com/issuer",
        "external_id": EXTERNAL,
    }


def own_fields(old: dict[str, Any]) -> dict[str, Any]:
    """What 0003 makes of an old context: the fields its cloud uses (today's model says which), and the region
    the cloud used."""
    platform = Platform(old["platform"])
    used = {"platform", "prefix", "stack", *REQUIRED[platform], *OPTIONAL[platform]}
    return {**{k: v for k, v in old.items() if k in used}, "region": old[REGION_FIELD[platform.value]]}


def new_context(name: str, platform: str) -> DeploymentContext:
    """A context of today: every field its cloud uses filled."""
    common = {"prefix": name, "access_until": "2031-06-30T18:00:00Z", "revoked_at": "2026-11-30T08:15:00Z"}
    fields: dict[str, dict[str, str]] = {
        "aws": {"account_id": "210987654321" if name == "acme" else "310987654321", "region": "eu-west-3",
                "partition": "aws", "vendor_principal": VENDOR_ROLE, "external_id": EXTERNAL},
        "gcp": {"project": f"{name}-project-1", "region": "europe-west4", "vendor_principal": VENDOR_SA},
        "azure": {"subscription_id": "0f1e2d3c-4b5a-6978-8a9b-acbdcedf0f1e", "region": "westeurope",
                  "resource_group": f"{name}-resources", "vendor_oidc_issuer": "https://oidc.vendor.example.com/i",
                  "vendor_principal": "system:serviceaccount:vendor:release"},
    }
    return DeploymentContext.create(platform, SPEC.name, **common, **fields[platform])


def management(platform: str, name: str) -> str:
    return json.dumps({"aws": {"role_arn": f"arn:aws:iam::210987654321:role/{name}-management",
                               "external_id": EXTERNAL},
                       "gcp": {"service_account": f"{name}-management@{name}-project-1.iam.gserviceaccount.com",
                               "project": f"{name}-project-1"},
                       "azure": {"client_id": "11111111-2222-4333-8444-555555555555",
                                 "tenant_id": "66666666-7777-4888-9999-aaaaaaaaaaaa"}}[platform], sort_keys=True)


def record(name: str, platform: str, program: str, release: str, revision: int) -> str:
    """A record with every field filled; before 0003 of that time's shape (version 1, the old context)."""
    ctx = new_context(name, platform)
    new = ReleaseRecord(
        release=release, deployment=name, program=program, created_at="2026-03-01T10:00:00+00:00", context=ctx,
        spec=SPEC, digest=SPEC.digest(), frozen_digest=SPEC.frozen_digest(),
        permissions=render_all(derive_plan(SPEC, ctx)), targets=[f"{platform}:{ctx.scope_id}"],
        outputs={"management_identity": json.loads(management(platform, name)), "endpoint": "https://app.example"},
        operations={"create": 12, "same": 3}, pending_setup=["grant storage/data-read to profile app"],
        backend=f"s3://{name}-state?region=eu-west-3", secrets_provider=f"awskms://alias/{name}-pulumi-state",
        versions={"pulumi": "3.140.0", "pulumi-aws": "6.60.0"},
        setup_request=RequestAnswer(id="sr-0", digest=SPEC.digest(), reviewed_at="2026-02-28T09:00:00+00:00"),
        checkpoint=[StateEntry(urn=f"urn:pulumi:{name}::{SPEC.name}::aws:s3/bucket:Bucket::data",
                               type="aws:s3/bucket:Bucket", owned=True, provider="urn:pulumi:provider::aws::default",
                               id=f"{name}-data", inputs={"bucket": f"{name}-data", "versioning": True})])
    data = json.loads(new.model_dump_json())
    assert_filled(data, f"record of {name}")
    if revision >= 3:
        return new.model_dump_json()
    for later in ("backend", "secrets_provider", "versions", "setup_request", "checkpoint"):
        del data[later]  # record version 2's fields
    return json.dumps({**data, "record_version": 1, "context": old_context(name, platform)})


def result(run: str, deployment: str, kind: RunKind, status: RunStatus) -> str:
    return RunResult(
        run_id=run, deployment=deployment, kind=kind, status=status,
        operations={f"urn:pulumi:{deployment}::my-app::aws:lambda/function:Function::api": "update"},
        summary={"update": 1, "same": 7}, outputs={"url": "https://api.example"},
        health={"api": {"state": "present", "fields": {}}}, error="one line of what went wrong", seconds=12.25,
        versions={"pulumi": "3.140.0"}, state_digest="ab" * 32,
        checkpoint=[StateEntry(urn="urn:pulumi:x::y::t::n", type="t", owned=False, id="n")],
        attribution={"principal": VENDOR_ROLE, "started_at": "2026-03-03T10:00:00Z"},
    ).model_dump_json()


def request_document(rid: str, name: str, platform: str, deployed: dict[str, str], revision: int) -> str:
    """A setup request with every field filled: version 1 before revision 0006 (no ``setup``), else version 2."""
    data: dict[str, Any] = {
        "kind": "alien-pulumi/setup-request", "request_version": 1 if revision < 6 else 2, "id": rid,
        "deployment": name, "platform": platform, "release": "v2", "created_at": "2026-03-04T12:00:00+00:00",
        "deployed": deployed,
        "permissions": [{"layer": "management", "identity": f"{name}-management", "changes": [
            {"change": "grant", "action": "s3:PutBucketPolicy", "resource": f"arn:aws:s3:::{name}-data",
             "condition": "aws:ResourceTag/alien=yes"},
            {"change": "revoke", "action": "s3:GetBucketTagging", "resource": "*", "condition": "c"}]}],
        "frozen_changes": [{"resource": "data", "field": "versioning", "old": False, "new": True}],
        "resources": [{"resource": "worker", "type": "function", "lifecycle": "live", "change": "added",
                       "detail": "a new live function"}],
        "reasons": ["the management identity needs s3:PutBucketPolicy"],
        "stack": json.loads(SPEC.to_json()), "digest": SPEC.digest(),
    }
    if revision >= 6:
        data["setup"] = deployed
        SetupRequest.model_validate(data)
    assert_filled(data, f"request {rid}")
    return json.dumps(data)


def ref(release: str) -> dict[str, str]:
    return {"release": release, "digest": SPEC.digest(), "frozen_digest": SPEC.frozen_digest()}


def assert_filled(data: dict[str, Any], where: str) -> None:
    """Every key of a document holds a value (a context's fields of other clouds excepted: its cloud never uses
    them, and today's model refuses them)."""
    for key, value in data.items():
        if key == "context" and isinstance(value, dict) and "platform" in value:
            platform = Platform(value["platform"])
            other = set(value) - {"platform", "prefix", "stack", "example", *REQUIRED[platform], *OPTIONAL[platform]}
            assert_filled({k: v for k, v in value.items() if k not in other | {"example"}}, f"{where}.context")
        elif isinstance(value, dict):
            assert value, f"{where}.{key} is empty"
        else:
            assert value not in (None, "", []), f"{where}.{key} is empty"


def fixture_rows(revision: int) -> dict[str, list[dict[str, Any]]]:
    """A value in every column the registry has at ``revision`` (and in those of later revisions, left out when
    the table does not have them yet)."""
    t = "2026-03-0{}T10:00:00.123456+00:00".format
    rows: dict[str, list[dict[str, Any]]] = {
        "releases": [{"id": release, "stack": SPEC.name, "digest": SPEC.digest(),
                      "frozen_digest": SPEC.frozen_digest(), "spec": SPEC.to_json(indent=None), "created_at": t(1)}
                     for release in ("v1", "v2")],
        "deployments": [],
        "rollouts": [
            {"id": "ro-1", "release_id": "v1", "status": "completed", "created_at": t(2), "finished_at": t(3),
             "plan": json.dumps({"waves": "1,100%", "sizes": [1, 2], "halt_after_failures": 1, "kind": "release",
                                 "deployments": 3}, sort_keys=True)},
            {"id": "ro-2", "release_id": "v2", "status": "running", "created_at": t(4), "finished_at": None,
             "plan": json.dumps({"waves": "1", "sizes": [1], "halt_after_failures": 2, "kind": "release",
                                 "deployments": 1}, sort_keys=True)}],
        # In the order written: 0004 numbers them so.
        "runs": [
            {"id": "ro-1:acme", "rollout_id": "ro-1", "deployment": "acme", "kind": "release", "wave": 1,
             "attempt": 3, "status": "succeeded", "started_at": t(2), "finished_at": t(3),
             "result": result("ro-1:acme", "acme", RunKind.RELEASE, RunStatus.SUCCEEDED), "error": None},
            {"id": "ro-1:globex", "rollout_id": "ro-1", "deployment": "globex", "kind": "release", "wave": 2,
             "attempt": 2, "status": "failed", "started_at": t(2), "finished_at": t(3),
             "result": result("ro-1:globex", "globex", RunKind.RELEASE, RunStatus.FAILED),
             "error": "pulumi up failed: the update was refused"},
            {"id": "ro-2:initech", "rollout_id": "ro-2", "deployment": "initech", "kind": "release", "wave": 1,
             "attempt": 1, "status": "running", "started_at": t(4), "finished_at": None, "result": None,
             "error": None},
            {"id": "hb-acme", "rollout_id": None, "deployment": "acme", "kind": "heartbeat", "wave": None,
             "attempt": 1, "status": "succeeded", "started_at": t(5), "finished_at": t(6),
             "result": result("hb-acme", "acme", RunKind.HEARTBEAT, RunStatus.SUCCEEDED), "error": None}],
        "run_attempts": [
            {"run_id": "ro-1:acme", "attempt": 1, "status": "locked", "finished_at": t(2), "seconds": 0.25,
             "error": "the stack is locked by another update"},
            {"run_id": "ro-1:acme", "attempt": 2, "status": "failed", "finished_at": t(2), "seconds": 12.5,
             "error": "the worker stopped"},
            {"run_id": "ro-1:acme", "attempt": 3, "status": "succeeded", "finished_at": t(3), "seconds": 30.75,
             "error": None},
            {"run_id": "ro-1:globex", "attempt": 2, "status": "failed", "finished_at": t(3), "seconds": 8.5,
             "error": "pulumi up failed: the update was refused"}],
        "heartbeats": [
            {"deployment": name, "checked_at": t(5 + i), "health": json.dumps(
                {"api": {"state": "present"}, "data": {"state": "drifted", "fields": ["versioning"]}}, sort_keys=True)}
            for i, name in enumerate(("acme", "globex"))],
        "setup_requests": [],
    }
    for name, (platform, program) in DEPLOYMENTS.items():
        if program is None and revision < 3:
            continue  # registration without a setup record came with revision 0003
        ctx = new_context(name, platform)
        rows["deployments"].append({
            "name": name, "platform": platform,
            "context": ctx.model_dump_json() if revision >= 3 else json.dumps(old_context(name, platform)),
            "management": management(platform, name),
            "record": record(name, platform, program, "r-5" if program == "manage" else "setup-1", revision)
            if program else None,
            "updated_at": t(3), "target": ctx.target,
            "bundle": SetupBundle(deployment=name, platform=Platform(platform),
                                  context={k: v for k, v in ctx.facts().items() if k != "revoked_at"},
                                  backend="https://api.pulumi.com/acme-vendor",
                                  created_at="2026-02-27T08:00:00+00:00").model_dump_json(),
            # The setup record (0006): the record setup wrote, else the one the last applied request brought.
            "setup_record": record(name, platform, "provision", "setup-2", revision) if program else None,
        })
    if revision >= 5:
        applied = record("globex", "gcp", "provision", "setup-2", revision)
        rows["setup_requests"] = [
            # two applied requests: the later one's record is globex's setup record
            {"id": "sr-0", "deployment": "globex", "release_id": "v1", "digest": SPEC.digest(),
             "request": request_document("sr-0", "globex", "gcp", ref("setup-0"), revision), "status": "applied",
             "requested_at": t(2), "reviewed_at": t(2), "applied_at": t(3),
             "record": record("globex", "gcp", "provision", "setup-1", revision), "superseded_by": None},
            {"id": "sr-1", "deployment": "globex", "release_id": "v2", "digest": SPEC.digest(),
             "request": request_document("sr-1", "globex", "gcp", ref("setup-1"), revision), "status": "applied",
             "requested_at": t(4), "reviewed_at": t(5), "applied_at": t(6), "record": applied,
             "superseded_by": None},
            # superseded already (on another base than the setup record): keeps what superseded it
            {"id": "sr-2", "deployment": "acme", "release_id": "v2", "digest": SPEC.digest(),
             "request": request_document("sr-2", "acme", "aws", ref("r-0"), revision), "status": "superseded",
             "requested_at": t(4), "reviewed_at": None, "applied_at": None, "record": None, "superseded_by": "sr-3"},
            # built on acme's setup record: stays open
            {"id": "sr-3", "deployment": "acme", "release_id": "v2", "digest": SPEC.digest(),
             "request": request_document("sr-3", "acme", "aws", ref("setup-1"), revision), "status": "open",
             "requested_at": t(5), "reviewed_at": None, "applied_at": None, "record": None, "superseded_by": None},
            # built on globex's release record, not on the setup record sr-1 applied: superseded by 0006
            {"id": "sr-4", "deployment": "globex", "release_id": "v2", "digest": SPEC.digest(),
             "request": request_document("sr-4", "globex", "gcp", ref("r-5"), revision), "status": "open",
             "requested_at": t(7), "reviewed_at": None, "applied_at": None, "record": None, "superseded_by": None}]
        if revision >= 6:  # as 0006 left them
            rows["setup_requests"][4].update(status="superseded", superseded_by="sr-1")
    if revision < 3:
        for name, (platform, _) in DEPLOYMENTS.items():
            assert set(old_context(name, platform)) == OLD_CONTEXT_FIELDS
            assert None not in old_context(name, platform).values()
    for row in rows["deployments"]:
        for column in ("context", "bundle"):
            data = json.loads(row[column])
            assert_filled({"context": data} if column == "context" else data, f"{row['name']}.{column}")
    return rows


# Building the registry at a revision, reading it ----------------------------------------------------------------

def build_at(revision: int, url: sa.URL, tmp: Path) -> sa.Engine:
    """An empty registry at ``revision``, as the code of that revision left it."""
    if url.get_backend_name() == "sqlite" and revision <= LEGACY_VERSIONS:
        legacy = sqlite3.connect(url.database or "", isolation_level=None)
        assert legacy_registry(tmp).migrate(legacy, target=revision) == 0
        legacy.close()
        return sa.create_engine(url)
    engine = sa.create_engine(url)
    target = f"{revision:04d}"
    with engine.begin() as conn, EnvironmentContext(
            ALEMBIC, SCRIPT, destination_rev=target, fn=lambda rev, _ctx: SCRIPT._upgrade_revs(target, rev)) as env:
        env.configure(connection=conn, target_metadata=schema.metadata, transactional_ddl=True)
        env.run_migrations()
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(f"PRAGMA user_version = {revision}")
    return engine


def write(engine: sa.Engine, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Every row into the tables the database has, one at a time (the order runs are numbered in); every column
    of those tables must get a value from ``rows`` (a new column needs one here)."""
    meta = sa.MetaData()
    meta.reflect(engine)
    with engine.begin() as conn:
        for name in TABLES:
            if name not in meta.tables:
                continue
            table = meta.tables[name]
            columns = set(table.c.keys()) - {c for t, c in ASSIGNED if t == name}
            assert rows[name], f"no rows for {name}"
            for row in rows[name]:
                missing = columns - set(row)
                assert not missing, f"the fixture gives {name} no value for {sorted(missing)}"
                conn.execute(table.insert().values({k: v for k, v in row.items() if k in columns}))
    assert set(meta.tables) - {"alembic_version"} <= set(TABLES)


def read(engine: sa.Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, in key order."""
    meta = sa.MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        return {name: [dict(r) for r in conn.execute(
                    sa.select(table).order_by(*(table.c[k] for k in KEYS[name]))).mappings()]
                for name, table in meta.tables.items()}


def assert_every_column_written(written: dict[str, list[dict[str, Any]]]) -> None:
    """The fixture's point: no column is empty in every row, so a migration losing a column's values shows."""
    for table, rows in written.items():
        if table == "alembic_version":
            continue
        assert rows, f"{table} has no rows"
        for column in rows[0]:
            assert any(r[column] is not None for r in rows), f"{table}.{column} holds no value"


# What the revisions since do to what was written ----------------------------------------------------------------

@dataclass(frozen=True)
class Doc:
    """A JSON document a revision rewrote: compared parsed, key by key."""

    value: Any


@dataclass(frozen=True)
class Matches:
    pattern: str


def expected_at_head(written: dict[str, list[dict[str, Any]]], revision: int) -> dict[str, list[dict[str, Any]]]:
    out = {table: [dict(r) for r in rows] for table, rows in written.items() if table != "alembic_version"}
    out["alembic_version"] = [{"version_num": f"{SCHEMA_VERSION:04d}"}]
    if revision < 2:
        out["run_attempts"] = [
            {"run_id": r["id"], "attempt": r["attempt"], "status": r["status"], "finished_at": r["finished_at"],
             "seconds": 0.0, "error": r["error"]}
            for r in written["runs"] if r["finished_at"] is not None and r["attempt"] > 0
            and r["status"] in ("succeeded", "failed")]
        out["run_attempts"].sort(key=lambda r: (r["run_id"], r["attempt"]))
    if revision < 3:
        for row in out["deployments"]:
            context = own_fields(json.loads(row["context"]))
            row["context"] = Doc(context)
            row["target"] = DeploymentContext.model_validate(context).target
            row["bundle"] = None
            if row["record"] is not None:
                data = json.loads(row["record"])
                row["record"] = Doc({**data, "context": own_fields(data["context"])})
    if revision < 4:
        order = [r["id"] for r in fixture_rows(revision)["runs"]]  # as written: 0004 numbers them so
        for row in out["runs"]:
            row["seq"] = order.index(row["id"]) + 1
    if revision < 5:
        out["setup_requests"] = []
    if revision < 6:
        applied = sorted((r for r in written.get("setup_requests", []) if r["status"] == "applied"),
                         key=lambda r: r["applied_at"])
        for row in out["deployments"]:
            document = row["record"].value if isinstance(row["record"], Doc) else (
                json.loads(row["record"]) if row["record"] else None)
            if document and document["program"] == "provision":
                row["setup_record"] = Doc(document)
            else:
                answered = [r["record"] for r in applied if r["deployment"] == row["name"]]
                row["setup_record"] = Doc(json.loads(answered[-1])) if answered else None
        bases = {row["name"]: {k: row["setup_record"].value[k] for k in ("release", "digest", "frozen_digest")}
                 for row in out["deployments"] if row["setup_record"] is not None}
        for row in out["setup_requests"]:
            data = json.loads(row["request"])
            if data["request_version"] != 1:
                continue
            row["request"] = Doc({**data, "request_version": 2, "setup": data["deployed"]})
            if row["status"] == "open" and data["deployed"] != bases.get(row["deployment"]):
                row["status"], row["superseded_by"] = "superseded", Matches(r"version 2")
    return out


def differences(expected: Any, actual: Any, where: str) -> list[str]:
    """Where ``actual`` differs from ``expected``, key by key inside JSON documents."""
    if isinstance(expected, Doc):
        return differences(expected.value, json.loads(actual), where) if isinstance(actual, str) else [
            f"{where}: expected a document, got {actual!r}"]
    if isinstance(expected, Matches):
        return [] if isinstance(actual, str) and re.search(expected.pattern, actual) else [
            f"{where}: expected text matching {expected.pattern!r}, got {actual!r}"]
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = [f"{where}.{k}: lost (was {expected[k]!r:.80})" for k in expected if k not in actual]
        found += [f"{where}.{k}: added ({actual[k]!r:.80})" for k in actual if k not in expected]
        return found + [d for k in expected if k in actual for d in differences(expected[k], actual[k], f"{where}.{k}")]
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [d for i, (e, a) in enumerate(zip(expected, actual, strict=True))
                for d in differences(e, a, f"{where}[{i}]")]
    if expected != actual:
        if isinstance(expected, str) and isinstance(actual, str) and expected[:1] in "{[":
            try:  # an untouched document changed: say where inside it
                return [f"{where} (text changed)", *differences(json.loads(expected), json.loads(actual), where)]
            except json.JSONDecodeError:
                pass
        return [f"{where}: expected {expected!r:.120}, got {actual!r:.120}"]
    return []


def compare(expected: dict[str, list[dict[str, Any]]], actual: dict[str, list[dict[str, Any]]]) -> list[str]:
    found = [f"table {t}: missing at head" for t in expected if t not in actual]
    found += [f"table {t}: not expected" for t in actual if t not in expected]
    for table in (t for t in expected if t in actual):
        def keyed(rows: list[dict[str, Any]], table: str = table) -> dict[tuple[Any, ...], dict[str, Any]]:
            return {tuple(r[k] for k in KEYS[table]): r for r in rows}
        want, have = keyed(expected[table]), keyed(actual[table])
        found += [f"{table}{key}: row lost" for key in want if key not in have]
        found += [f"{table}{key}: row added" for key in have if key not in want]
        for key in (k for k in want if k in have):
            columns = set(want[key]) | set(have[key])
            found += [d for c in sorted(columns)
                      for d in differences(want[key].get(c, "<no column>"), have[key].get(c, "<no column>"),
                                           f"{table}{list(key)}.{c}")]
    return found


# The test ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("backend", "revision"), CASES, ids=[f"{b}-{r:04d}" for b, r in CASES])
def test_a_registry_at_each_revision_keeps_every_value_at_head(backend: str, revision: int, tmp_path: Path,
                                                                request: pytest.FixtureRequest) -> None:
    given = None
    if backend == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres")
        given = server.new_database()
    url = database_url(tmp_path, given)
    engine = build_at(revision, url, tmp_path)
    rows = fixture_rows(revision)
    write(engine, rows)
    written = read(engine)
    engine.dispose()
    assert_every_column_written(written)
    if revision < 3:  # the old contexts hold every cloud's field, each cloud's region apart
        assert {json.loads(r["context"])["gcp_region"] for r in written["deployments"]} == {"europe-west4",
                                                                                             "asia-east1"}

    with Registry(tmp_path, url=given) as reg:
        assert reg.schema_version == SCHEMA_VERSION
        after = read(reg.engine)
        expected = expected_at_head(written, revision)
        assert compare(expected, after) == []

        # Today's models read every value back, as written (or as the revisions made it).
        regions = {"acme": "eu-west-3", "globex": "europe-west4", "initech": "westeurope", "hooli": "eu-west-3"}
        for row in expected["deployments"]:
            name = row["name"]
            deployment = reg.get_deployment(name)
            context = row["context"].value if isinstance(row["context"], Doc) else json.loads(row["context"])
            assert deployment.context == DeploymentContext.model_validate(context)
            assert deployment.context.region == regions[name]
            assert deployment.management == json.loads(row["management"])
            if row["record"] is not None:
                document = row["record"].value if isinstance(row["record"], Doc) else json.loads(row["record"])
                assert deployment.record == ReleaseRecord.model_validate(document)
                assert deployment.record is not None and deployment.record.context.region == regions[name]
            assert deployment.bundle == (json.loads(row["bundle"]) if row["bundle"] else None)
            if row["setup_record"] is not None:
                assert reg.setup_record(name) == ReleaseRecord.model_validate(row["setup_record"].value
                                                                              if isinstance(row["setup_record"], Doc)
                                                                              else json.loads(row["setup_record"]))
        for release in expected["releases"]:
            assert reg.get_release(release["id"]).spec == SPEC
        results = {r.id: r.result for r in reg.runs()}
        assert results == {r["id"]: RunResult.model_validate_json(r["result"]) if r["result"] else None
                           for r in expected["runs"]}
        assert [(a.attempt, a.seconds) for a in reg.attempts("ro-1:globex")] == [
            (2, 8.5 if revision >= 2 else 0.0)]
        for name in ("acme", "globex"):
            for entry in reg.setup_requests(name):
                assert entry.request.request_version == 2 and entry.request.setup == entry.request.deployed
