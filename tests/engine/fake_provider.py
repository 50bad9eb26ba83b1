"""A fake cloud behind Pulumi's ResourceProvider gRPC protocol: the engine starts it as
``pulumi-resource-<name>`` (see ``plugins.install``) exactly as it starts a real provider plugin.

One implementation serves every cloud; what differs between AWS, GCP and Azure (the version, how a physical
name, an id and the computed outputs look) is data in ``CLOUDS``. What each resource type's real provider decides
(which changes replace, delete-before-replace, required inputs, defaults, what a delete leaves) is the cited table of
``provider_behaviour.py``: Check, Diff, Create, Update and Delete answer from it as the real providers do, previews
answer computed outputs unknown, and a type the table does not know fails the call naming type and operation.
State lives in a directory (one JSON file per resource, ``FakeCloud`` reads and edits it for tests: drift,
deletion); every call is appended to ``calls.jsonl`` with the credential variables the plugin process saw.

Run: ``python -m tests.engine.fake_provider <cloud> <version> <state-dir> [engine-address ...]``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import uuid
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alien_pulumi.automation.credentials import SCRUBBED_PREFIXES
from tests.engine.provider_behaviour import AZURE_NATIVE, BRIDGED, PROVIDERS, Behaviour, UnknownType, behaviour

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's sentinel for a value known only after apply
ACCOUNT = "123456789012"  # the fake AWS account every ARN carries
HOLD_LIMIT = 600.0  # seconds an update waits at most for release_updates
Outputs = Callable[["Resource"], dict[str, Any]]


@dataclass
class Resource:
    """What a cloud's output templates see of one resource."""

    token: str  # aws:sqs/queue:Queue
    name: str  # the physical name
    inputs: dict[str, Any]
    config: dict[str, Any]  # the provider's configuration (region, project, subscription...)
    revision: int = 1  # of a family of revisions (ECS task definitions)

    @property
    def module(self) -> str:
        return self.token.split(":")[1].split("/")[0]

    @property
    def kind(self) -> str:
        return self.token.rsplit(":", 1)[-1]


def _digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def _aws(r: Resource) -> dict[str, Any]:
    region = r.config.get("region", "us-east-1")
    arn = f"arn:aws:{r.module}:{region}:{ACCOUNT}:{r.kind.lower()}/{r.name}"
    special: dict[str, dict[str, Any]] = {
        "s3": {"arn": f"arn:aws:s3:::{r.name}", "bucketDomainName": f"{r.name}.s3.amazonaws.com",
               "bucketRegionalDomainName": f"{r.name}.s3.{region}.amazonaws.com", "region": region},
        "sqs": {"arn": f"arn:aws:sqs:{region}:{ACCOUNT}:{r.name}",
                "url": f"https://sqs.{region}.amazonaws.com/{ACCOUNT}/{r.name}"},
        "iam": {"arn": f"arn:aws:iam::{ACCOUNT}:{r.kind.lower()}/{r.name}", "uniqueId": "AROA" + _digest(r.name)[:17]},
        "lambda": {"arn": f"arn:aws:lambda:{region}:{ACCOUNT}:function:{r.name}",
                   "invokeArn": f"arn:aws:apigateway:{region}:lambda:path/functions/{r.name}/invocations",
                   "functionUrl": f"https://{_digest(r.name)[:32]}.lambda-url.{region}.on.aws/",
                   "qualifiedArn": f"arn:aws:lambda:{region}:{ACCOUNT}:function:{r.name}:1", "version": "1"},
        "dynamodb": {"arn": f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{r.name}"},
        "ecs": {"arn": f"arn:aws:ecs:{region}:{ACCOUNT}:{r.kind[0].lower() + r.kind[1:]}/{r.name}"},
        "kms": {"arn": f"arn:aws:kms:{region}:{ACCOUNT}:key/{uuid.uuid5(uuid.NAMESPACE_URL, r.name)}",
                "keyId": str(uuid.uuid5(uuid.NAMESPACE_URL, r.name))},
    }
    if r.kind == "TaskDefinition":  # its ARN names the revision (task_definition.go: id = family)
        family = f"arn:aws:ecs:{region}:{ACCOUNT}:task-definition/{r.name}"
        special["ecs"] = {"arn": f"{family}:{r.revision}", "arnWithoutRevision": family, "revision": r.revision}
    return {"arn": arn, **special.get(r.module, {}), "tagsAll": r.inputs.get("tags") or {}}


def _gcp(r: Resource) -> dict[str, Any]:
    project = r.inputs.get("project") or r.config.get("project", "fake-project")
    region = r.inputs.get("location") or r.config.get("region", "us-central1")
    outputs: dict[str, Any] = {"project": project, "selfLink": f"https://www.googleapis.com/{r.module}/v1/"
                               f"projects/{project}/{r.kind.lower()}s/{r.name}"}
    if r.kind == "Account":  # serviceaccount
        email = f"{r.inputs.get('accountId', r.name)}@{project}.iam.gserviceaccount.com"
        outputs |= {"email": email, "member": f"serviceAccount:{email}", "uniqueId": str(int(_digest(email)[:15], 16)),
                    "name": f"projects/{project}/serviceAccounts/{email}"}
    elif r.module == "storage" and r.kind == "Bucket":
        outputs |= {"url": f"gs://{r.name}"}
    elif r.module == "cloudrunv2" and r.kind == "Service":
        # A new template is a new revision (its name changes with the template).
        revision = f"projects/{project}/locations/{region}/services/{r.name}/revisions/{r.name}-" \
                   f"{_digest(json.dumps(r.inputs.get('template'), sort_keys=True))[:5]}"
        outputs |= {"uri": f"https://{r.name}-{_digest(r.name)[:10]}-uc.a.run.app", "location": region,
                    "latestReadyRevision": revision, "latestCreatedRevision": revision}
    elif r.module == "cloudrunv2":
        outputs |= {"uri": f"https://{r.name}-{_digest(r.name)[:10]}-uc.a.run.app", "location": region}
    elif r.module == "pubsub":
        outputs |= {"id": f"projects/{project}/{r.kind.lower()}s/{r.name}"}
    elif r.module == "projects" and r.kind == "IAMCustomRole":
        outputs |= {"name": f"projects/{project}/roles/{r.inputs.get('roleId', r.name)}"}
    return outputs


# ARM resource types the generic ``Microsoft.<Module>/<kind>s`` gets wrong, where a test compares ids with ARM's.
ARM_TYPES = {"UserAssignedIdentity": "Microsoft.ManagedIdentity/userAssignedIdentities"}


def _azure(r: Resource) -> dict[str, Any]:
    sub = r.config.get("subscriptionId", "00000000-0000-0000-0000-000000000000")
    group = r.inputs.get("resourceGroupName", r.name)
    kind = r.kind[0].lower() + r.kind[1:] + "s"
    scope = f"/subscriptions/{sub}/resourceGroups/{group}"
    arm_type = ARM_TYPES.get(r.kind, f"Microsoft.{r.module.capitalize()}/{kind}")
    outputs: dict[str, Any] = {"id": scope if r.kind == "ResourceGroup" else f"{scope}/providers/{arm_type}/{r.name}",
                               "location": r.inputs.get("location") or r.config.get("location", "eastus")}
    identity = r.inputs.get("identity")
    if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), list):
        # ARM takes identity ids as a list and answers a map of id -> {principalId, clientId}.
        outputs["identity"] = {**identity, "userAssignedIdentities": {
            i: {"principalId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{i}/principal")),
                "clientId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{i}/client"))}
            for i in identity["userAssignedIdentities"] if isinstance(i, str)}}
    if r.kind == "UserAssignedIdentity":
        ids = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"{r.name}/{k}")) for k in ("principal", "client", "tenant")]
        outputs |= dict(zip(("principalId", "clientId", "tenantId"), ids, strict=True))
    elif r.kind == "StorageAccount":
        outputs |= {"primaryEndpoints": {"blob": f"https://{r.name}.blob.core.windows.net/",
                                         "queue": f"https://{r.name}.queue.core.windows.net/",
                                         "table": f"https://{r.name}.table.core.windows.net/"}}
    elif r.kind == "Vault":
        outputs |= {"properties": {**(r.inputs.get("properties") or {}), "vaultUri": f"https://{r.name}.vault.azure.net/"}}
    elif r.kind in ("ContainerApp", "ManagedEnvironment"):
        outputs |= {"latestRevisionFqdn": f"{r.name}.fake.{outputs['location']}.azurecontainerapps.io",
                    "defaultDomain": f"fake.{outputs['location']}.azurecontainerapps.io",
                    "staticIp": "10.0.0.4"}
    return outputs


@dataclass(frozen=True)
class Cloud:
    """What a cloud's plugin looks like from outside: its package and SDK, where a resource keeps its physical
    name, and the outputs the cloud computes."""

    package: str  # the plugin name: pulumi-resource-<package>
    sdk: str  # the Python distribution whose version the programs request
    name_fields: tuple[str, ...]
    outputs: Outputs
    id_field: str | None = None  # an output that is the resource's id (else the physical name)
    extra_invokes: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = field(default_factory=dict)


CLOUDS = {
    "aws": Cloud("aws", "pulumi_aws", ("name", "bucket", "functionName", "roleName", "clusterName", "family"), _aws,
                 extra_invokes={"aws:index/getCallerIdentity:getCallerIdentity": lambda _: {
                     "accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:root", "userId": ACCOUNT}}),
    "gcp": Cloud("gcp", "pulumi_gcp", ("name", "accountId", "roleId", "secretId", "topic"), _gcp),
    "azure": Cloud("azure-native", "pulumi_azure_native",
                   ("resourceGroupName", "accountName", "vaultName", "namespaceName", "resourceName", "name",
                    "containerAppName", "environmentName", "jobName", "roleAssignmentName", "tableName",
                    "queueName", "containerName", "virtualNetworkName", "subnetName"), _azure, id_field="id"),
}
# Azure resources name themselves by their most specific name field, the last one present.
LAST_NAME_WINS = {"azure"}


def credentials() -> dict[str, str]:
    """The cloud credential variables of this process (values shortened: tests compare who, not secrets)."""
    return {k: v[:64] for k, v in sorted(os.environ.items()) if k.startswith(SCRUBBED_PREFIXES)}


class FakeCloud:
    """The fake cloud's state directory: resources by id, the call log, and test hooks to drift or delete."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        (self.root / "resources").mkdir(parents=True, exist_ok=True)

    def _file(self, token: str, key: str) -> Path:
        # Ids are unique per type only (an S3 bucket and its public access block share the bucket's name); the
        # revisions of a family share its id and are told apart by their key (their ARN).
        return self.root / "resources" / (_digest(token, key)[:24] + ".json")

    def get(self, token: str, key: str) -> dict[str, Any] | None:
        file = self._file(token, key)
        return json.loads(file.read_text()) if file.exists() else None

    def put(self, record: dict[str, Any]) -> None:
        file = self._file(record["type"], record.get("key") or record["id"])
        tmp = file.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=1, sort_keys=True))
        tmp.replace(file)

    def remove(self, token: str, key: str) -> None:
        self._file(token, key).unlink(missing_ok=True)

    def retain(self, token: str, key: str) -> None:
        """A delete the provider answers without deleting (skip_destroy, deletion_policy ABANDON): the resource
        stays in the cloud, out of the engine's state."""
        record = self.get(token, key)
        if record is not None:
            self.put(record | {"retained": True})

    def resources(self) -> list[dict[str, Any]]:
        return [json.loads(f.read_text()) for f in sorted((self.root / "resources").glob("*.json"))]

    def find(self, urn_suffix: str) -> dict[str, Any]:
        """The one resource whose URN ends with ``urn_suffix`` (e.g. ``'::acme-data-bucket'``) that the engine
        manages (a retained one, left in the cloud by a delete, is not)."""
        found = [r for r in self.resources() if r["urn"].endswith(urn_suffix) and not r.get("retained")]
        if len(found) != 1:
            raise LookupError(f"{len(found)} fake resources end with {urn_suffix!r}")
        return found[0]

    def drift(self, urn_suffix: str, **fields: Any) -> dict[str, Any]:
        """Change fields of a resource behind the engine's back (as someone in the console would)."""
        record = self.find(urn_suffix)
        record["inputs"] |= fields
        record["outputs"] |= fields
        self.put(record)
        return record

    def delete(self, urn_suffix: str) -> None:
        found = self.find(urn_suffix)
        self.remove(found["type"], found.get("key") or found["id"])

    def hold_updates(self) -> None:
        """Make every real update wait until ``release_updates``: a run updating then holds the stack's lock until
        the test has seen what it waits for (whatever the machine's load), not for a number of seconds."""
        (self.root / "hold").touch()

    def release_updates(self) -> None:
        (self.root / "hold").unlink(missing_ok=True)

    def wait_while_held(self) -> None:
        """Called by an update: wait for ``release_updates`` (at most HOLD_LIMIT seconds, so that a test that
        failed before releasing them leaves no plugin behind for long)."""
        deadline = time.monotonic() + HOLD_LIMIT
        while (self.root / "hold").exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    def log(self, entry: dict[str, Any]) -> None:
        with open(self.root / "calls.jsonl", "a") as out:
            out.write(json.dumps(entry, sort_keys=True) + "\n")

    def calls(self) -> list[dict[str, Any]]:
        file = self.root / "calls.jsonl"
        return [json.loads(line) for line in file.read_text().splitlines()] if file.exists() else []

    def clear_calls(self) -> None:
        (self.root / "calls.jsonl").unlink(missing_ok=True)


# --- What the real providers answer, from provider_behaviour's table (pure: tested without a plugin) ---

RESERVED = "__"  # the providers' own keys in checked inputs: __defaults (bridge), __createBeforeDelete (azure-native)
CREATE_BEFORE_DELETE = "__createBeforeDelete"
PLAN_KNOWN = {"aws": {"tagsAll"}}  # computed, yet known in the plan (the provider's CustomizeDiff computes it)


def plain(values: dict[str, Any]) -> dict[str, Any]:
    """Inputs without the providers' reserved keys."""
    return {k: v for k, v in values.items() if not k.startswith(RESERVED)}


def _location(value: Any) -> Any:
    """azure-native compares locations ignoring case and spaces ("East US" is "eastus": diff.go)."""
    return value.replace(" ", "").lower() if isinstance(value, str) else value


def changed(olds: dict[str, Any], news: dict[str, Any], cloud: str = "") -> list[str]:
    olds, news = plain(olds), plain(news)
    same = {k for k in set(olds) & set(news) if k == "location" and PROVIDERS.get(cloud) == AZURE_NATIVE
            and _location(olds[k]) == _location(news[k])}
    return sorted(k for k in set(olds) | set(news) if k not in same and olds.get(k) != news.get(k))


def auto_name(cloud: str, urn: str, seed: bytes) -> str:
    """A provider's auto-name: the resource's name with a random suffix (the engine's seed, random per run)."""
    name, suffix = urn.rsplit("::", 1)[-1], _digest(urn, seed.hex())
    return f"{name}-{suffix[:7]}" if PROVIDERS[cloud] == BRIDGED else f"{name}{suffix[:8]}"


def check(cloud: str, b: Behaviour, urn: str, olds: dict[str, Any], news: dict[str, Any], seed: bytes,
          config: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Check as the provider answers it: its Check-time defaults applied, and a failure for every required input
    missing, worded as the provider words it. Bridged: the auto-name (kept from the old inputs when it was one),
    listed in ``__defaults``. azure-native: the auto-name (random: ``__createBeforeDelete``) and the location."""
    kind, news = PROVIDERS[cloud], dict(news)
    defaulted: list[str] = []
    name = b.autoname
    if name and news.get(name) is None:
        old = olds.get(name)
        if kind == BRIDGED:
            reuse = old is not None and name in (olds.get("__defaults") or [])
        else:
            reuse = old is not None
        news[name] = old if reuse else auto_name(cloud, urn, seed)
        defaulted.append(name)
        if kind == AZURE_NATIVE and (not reuse or olds.get(CREATE_BEFORE_DELETE)):
            news[CREATE_BEFORE_DELETE] = True
    if kind == AZURE_NATIVE and "location" in b.replace and news.get("location") is None:
        location = olds.get("location") or config.get("location")
        if location:
            news["location"] = location
    if kind == BRIDGED:
        news["__defaults"] = sorted(defaulted)
    failures = []
    for prop in b.required:
        if news.get(prop) is None:
            if kind == BRIDGED:  # bridge check_failures.go missingRequiredKey
                failures.append(f"Missing required property '{prop}'")
            else:  # azure-native provider.go validateType
                hint = (". Either set it explicitly or configure it with 'pulumi config set azure-native:location "
                        "<value>'.") if prop == "location" else ""
                failures.append(f"missing required property '{prop}'{hint}")
    return news, failures


def diff(cloud: str, b: Behaviour, olds: dict[str, Any], news: dict[str, Any]) -> tuple[list[str], list[str], bool]:
    """(changed inputs, those that replace, delete before replace) as the provider's Diff answers them."""
    keys = changed(olds, news, cloud)
    replaces = [k for k in keys if b.replaces(k)]
    if not replaces:
        return keys, [], False
    if PROVIDERS[cloud] == AZURE_NATIVE:  # provider.go Diff: unless randomly auto-named
        return keys, replaces, not olds.get(CREATE_BEFORE_DELETE)
    # bridge nameRequiresDeleteBeforeReplace: an auto-named property the program set itself.
    defaults = news.get("__defaults")
    named = b.autoname is not None and isinstance(defaults, list) and news.get(b.autoname) is not None \
        and b.autoname not in defaults
    return keys, replaces, named


def _unknown_inside(given: Any, computed: Any) -> Any:
    """An input as a preview answers it: what the program gave, with what the cloud adds inside it unknown."""
    if isinstance(given, dict) and isinstance(computed, dict):
        return {**{k: UNKNOWN for k in computed}, **{k: _unknown_inside(v, computed.get(k)) for k, v in given.items()}}
    if isinstance(given, list | dict) and isinstance(computed, list | dict) and type(given) is not type(computed):
        return UNKNOWN  # the cloud answers another shape (ARM: identity ids in, a map of them out)
    return given


def preview_create(cloud: str, b: Behaviour, inputs: dict[str, Any], outputs: dict[str, Any]) -> dict[str, Any]:
    """A Create preview: the inputs with everything the cloud computes unknown (Terraform's plan knows its schema
    defaults and what its CustomizeDiff computes, ``PLAN_KNOWN``)."""
    inputs = plain(inputs)
    planned = PLAN_KNOWN.get(cloud, set()) | (set(b.defaults) if PROVIDERS[cloud] == BRIDGED else set())
    result: dict[str, Any] = {}
    for key, value in outputs.items():
        if key in inputs:
            result[key] = _unknown_inside(inputs[key], value)
        elif key in planned:
            result[key] = value
        elif key != "id":
            result[key] = UNKNOWN
    return result


def preview_update(cloud: str, b: Behaviour, news: dict[str, Any], outputs: dict[str, Any], state: dict[str, Any],
                   fields: list[str]) -> dict[str, Any]:
    """An Update preview. Bridged (Terraform SDKv2): the new inputs, computed values as before unless the provider
    recomputes them for a changed input (``recomputed``: unknown). azure-native: the new inputs, every other response
    property unknown but ``name`` and ``location``, kept from the old state."""
    news = plain(news)
    result: dict[str, Any] = {"id": outputs["id"]}
    for key, value in outputs.items():
        if key == "id":
            continue
        if key in news:
            result[key] = _unknown_inside(news[key], value) if PROVIDERS[cloud] == AZURE_NATIVE else news[key]
        elif PROVIDERS[cloud] == AZURE_NATIVE:
            result[key] = state[key] if key in ("name", "location") and key in state else UNKNOWN
        elif any(f in fields or f == "*" for f in b.recomputed.get(key, ())):
            result[key] = UNKNOWN
        else:
            result[key] = value
    return result


def serve(cloud_key: str, version: str, state_dir: str) -> None:
    import grpc
    from google.protobuf import empty_pb2, json_format, struct_pb2
    from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

    cloud = CLOUDS[cloud_key]
    fake = FakeCloud(Path(state_dir))
    config: dict[str, Any] = {}

    def to_dict(s: struct_pb2.Struct) -> dict[str, Any]:
        return json_format.MessageToDict(s) if s is not None else {}

    def to_struct(d: dict[str, Any]) -> struct_pb2.Struct:
        out = struct_pb2.Struct()
        out.update(d)
        return out

    def record(method: str, request: Any = None, **extra: Any) -> None:
        entry = {"plugin": cloud.package, "version": version, "method": method, "pid": os.getpid(),
                 "time": time.time(), "credentials": credentials(), **extra}
        for attr in ("urn", "id", "type", "tok"):
            value = getattr(request, attr, None)
            if value:
                entry[attr] = value
        fake.log(entry)

    def physical_name(urn: str, inputs: dict[str, Any], b: Behaviour | None = None) -> str:
        present = [inputs[f] for f in cloud.name_fields if isinstance(inputs.get(f), str) and inputs[f] != UNKNOWN]
        if present:
            return present[-1] if cloud_key in LAST_NAME_WINS else present[0]
        # Nameless: the id the cloud gives, which a replacement changes (it differs in a replacing input).
        identity = json.dumps({k: v for k, v in inputs.items() if b is None or b.replaces(k)}, sort_keys=True)
        return f"{urn.rsplit('::', 1)[-1]}-{_digest(urn, identity)[:7]}"

    def token(urn: str) -> str:
        return urn.split("::")[-2].split("$")[-1]

    def known(urn: str, operation: str, context: Any) -> Behaviour:
        """The table's entry for the URN's type; a type it does not know fails the call, as the real providers
        fail one they do not know ("unrecognized resource type")."""
        try:
            return behaviour(token(urn), operation)
        except UnknownType as exc:
            record(operation, urn=urn, refused=str(exc))
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{cloud.package}: {exc}")
            raise  # abort raises; this keeps the type checker's flow honest

    def computed(urn: str, inputs: dict[str, Any], b: Behaviour, revision: int = 1) -> tuple[str, dict[str, Any]]:
        """The outputs of a resource with these inputs: the inputs, the provider's defaults for what they leave
        out (the planned state), and what the cloud computes."""
        inputs = plain(inputs)
        res = Resource(token(urn), physical_name(urn, inputs, b), inputs, config, revision)
        outputs = {"name": res.name, **b.defaults, **inputs, **cloud.outputs(res)}
        rid = outputs[cloud.id_field] if cloud.id_field else outputs.get("id") or res.name
        if "iam" in res.kind.lower() and res.kind.endswith(("Member", "Binding")):
            # An IAM member is identified by what it binds, whom and with which role (as the real providers do).
            rid = f"{rid}/{inputs.get('role')}/{inputs.get('member') or inputs.get('members')}"
        outputs["id"] = rid
        return rid, outputs

    def key_of(b: Behaviour, rid: str, state: dict[str, Any]) -> str:
        """Where the fake keeps a resource: its id, or for a revision its ARN (the provider reads it by ARN)."""
        return str(state.get("arn") or rid) if b.revisions else rid

    def diff_response(keys: list[str], replaces: tuple[str, ...] | list[str] = (), delete_first: bool = False,
                      olds: dict[str, Any] | None = None, news: dict[str, Any] | None = None) -> Any:
        if not keys:
            return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)
        kinds = provider_pb2.PropertyDiff
        detailed = {}
        for k in keys:
            added, deleted = olds is not None and k not in olds, news is not None and k not in news
            kind = (kinds.ADD_REPLACE if added else kinds.DELETE_REPLACE if deleted else kinds.UPDATE_REPLACE) \
                if k in replaces else (kinds.ADD if added else kinds.DELETE if deleted else kinds.UPDATE)
            detailed[k] = kinds(kind=kind, inputDiff=True)
        return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_SOME, diffs=keys,
                                         replaces=list(replaces), deleteBeforeReplace=delete_first,
                                         detailedDiff=detailed, hasDetailedDiff=True)

    class Provider(provider_pb2_grpc.ResourceProviderServicer):
        def GetPluginInfo(self, request: Any, context: Any) -> Any:
            return plugin_pb2.PluginInfo(version=version)

        def GetSchema(self, request: Any, context: Any) -> Any:
            record("GetSchema")
            return provider_pb2.GetSchemaResponse(schema=json.dumps({"name": cloud.package, "version": version}))

        def CheckConfig(self, request: Any, context: Any) -> Any:
            record("CheckConfig", request)
            return provider_pb2.CheckResponse(inputs=request.news)

        def DiffConfig(self, request: Any, context: Any) -> Any:
            record("DiffConfig", request)
            olds = to_dict(request.old_inputs) or to_dict(request.olds)
            return diff_response(changed(olds, to_dict(request.news)))

        def Configure(self, request: Any, context: Any) -> Any:
            config.clear()
            config.update(to_dict(request.args) or {k.rsplit(":", 1)[-1]: v for k, v in request.variables.items()})
            record("Configure", config=sorted(config))
            return provider_pb2.ConfigureResponse(acceptSecrets=True, supportsPreview=True, acceptResources=True)

        def Check(self, request: Any, context: Any) -> Any:
            b = known(request.urn, "Check", context)
            news, failures = check(cloud_key, b, request.urn, to_dict(request.olds), to_dict(request.news),
                                   bytes(request.randomSeed), config)
            record("Check", request, failures=failures)
            return provider_pb2.CheckResponse(inputs=to_struct(news),
                                              failures=[provider_pb2.CheckFailure(reason=f) for f in failures])

        def Diff(self, request: Any, context: Any) -> Any:
            b = known(request.urn, "Diff", context)
            olds = to_dict(request.old_inputs) or to_dict(request.olds)
            news = to_dict(request.news)
            keys, replaces, delete_first = diff(cloud_key, b, olds, news)
            record("Diff", request, fields=keys, replaces=replaces, delete_before_replace=delete_first)
            return diff_response(keys, replaces, delete_first, plain(olds), plain(news))

        def Create(self, request: Any, context: Any) -> Any:
            b = known(request.urn, "Create", context)
            inputs, tok = plain(to_dict(request.properties)), token(request.urn)
            revision = 1
            if b.revisions and not request.preview:  # a family's next revision (ECS: RegisterTaskDefinition)
                family = inputs.get(b.revisions)
                revision = 1 + max((r["outputs"].get("revision", 1) for r in fake.resources()
                                    if r["type"] == tok and r["id"] == family), default=0)
            rid, outputs = computed(request.urn, inputs, b, revision)
            if request.preview:
                answer = preview_create(cloud_key, b, inputs, outputs)
                record("Create", request, preview=True, unknown=sorted(k for k, v in answer.items() if v == UNKNOWN))
                return provider_pb2.CreateResponse(properties=to_struct(answer))
            record("Create", request, preview=False, resource_id=rid)
            key = key_of(b, rid, outputs)
            if fake.get(tok, key) is not None:
                context.abort(grpc.StatusCode.ALREADY_EXISTS, f"{cloud.package}: {rid} already exists")
            if b.unique:
                wanted = {k: inputs.get(k) for k in b.unique}
                if any(r["type"] == tok and not r.get("retained") and {k: r["inputs"].get(k) for k in b.unique} ==
                       wanted for r in fake.resources()):
                    context.abort(grpc.StatusCode.ALREADY_EXISTS, f"{cloud.package}: {wanted} already exists")
            fake.put({"id": rid, "key": key, "type": tok, "urn": request.urn, "inputs": inputs, "outputs": outputs})
            return provider_pb2.CreateResponse(id=rid, properties=to_struct(outputs))

        def Read(self, request: Any, context: Any) -> Any:
            b = known(request.urn, "Read", context)
            found = fake.get(token(request.urn), key_of(b, request.id, to_dict(request.properties)))
            record("Read", request, found=found is not None)
            if found is None:  # an empty id tells the engine the resource is gone
                return provider_pb2.ReadResponse()
            # The checked inputs' reserved keys (__defaults...) are the provider's, kept across a read.
            reserved = {k: v for k, v in to_dict(request.inputs).items() if k.startswith("__")}
            return provider_pb2.ReadResponse(id=request.id, properties=to_struct(found["outputs"]),
                                             inputs=to_struct({**found["inputs"], **reserved}))

        def Update(self, request: Any, context: Any) -> Any:
            b = known(request.urn, "Update", context)
            news, state = plain(to_dict(request.news)), to_dict(request.olds)
            fields = changed(to_dict(request.old_inputs) or state, news, cloud_key)
            _, outputs = computed(request.urn, news, b, int(state.get("revision") or 1))
            outputs["id"] = request.id
            if request.preview:
                answer = preview_update(cloud_key, b, news, outputs, state, fields)
                record("Update", request, preview=True, fields=fields,
                       unknown=sorted(k for k, v in answer.items() if v == UNKNOWN))
                return provider_pb2.UpdateResponse(properties=to_struct(answer))
            record("Update", request, preview=False, fields=fields)
            fake.wait_while_held()
            key = key_of(b, request.id, state)
            if fake.get(token(request.urn), key) is None:
                context.abort(grpc.StatusCode.NOT_FOUND, f"{cloud.package}: {request.id} does not exist")
            fake.put({"id": request.id, "key": key, "type": token(request.urn), "urn": request.urn, "inputs": news,
                      "outputs": outputs})
            return provider_pb2.UpdateResponse(properties=to_struct(outputs))

        def Delete(self, request: Any, context: Any) -> Any:
            b = known(request.urn, "Delete", context)
            state = to_dict(request.properties)
            refused = b.delete_refused(state) if b.delete_refused else None
            kept = bool(b.kept_on_delete and b.kept_on_delete(state))
            record("Delete", request, kept=kept, refused=refused)
            if refused:
                context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"{cloud.package}: {refused}")
            key = key_of(b, request.id, state)
            if kept:  # the provider only forgets it (skip_destroy, deletion_policy ABANDON)
                fake.retain(token(request.urn), key)
            else:
                fake.remove(token(request.urn), key)
            return empty_pb2.Empty()

        def Invoke(self, request: Any, context: Any) -> Any:
            record("Invoke", request)
            answer = cloud.extra_invokes.get(request.tok)
            if answer is None:
                context.abort(grpc.StatusCode.UNIMPLEMENTED, f"the fake {cloud.package} has no invoke {request.tok}")
            return provider_pb2.InvokeResponse(**{"return": to_struct(answer(to_dict(request.args)))})

        def Cancel(self, request: Any, context: Any) -> Any:
            return empty_pb2.Empty()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(Provider(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    record("Start", argv=sys.argv[4:])
    print(port, flush=True)  # the engine reads the port from the plugin's first line of output
    server.wait_for_termination()


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2], sys.argv[3])
