"""A fake cloud behind Pulumi's ResourceProvider gRPC protocol: the engine starts it as
``pulumi-resource-<name>`` (see ``plugins.install``) exactly as it starts a real provider plugin.

One implementation serves every cloud; what differs between AWS, GCP and Azure (the version, how a physical
name, an id and the computed outputs look) is data in ``CLOUDS``. State lives in a directory (one JSON file
per resource, ``FakeCloud`` reads and edits it for tests: drift, deletion); every call is appended to
``calls.jsonl`` with the credential variables the plugin process saw.

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

    def _file(self, token: str, rid: str) -> Path:
        # Ids are unique per type only (an S3 bucket and its public access block share the bucket's name).
        return self.root / "resources" / (_digest(token, rid)[:24] + ".json")

    def get(self, token: str, rid: str) -> dict[str, Any] | None:
        file = self._file(token, rid)
        return json.loads(file.read_text()) if file.exists() else None

    def put(self, record: dict[str, Any]) -> None:
        file = self._file(record["type"], record["id"])
        tmp = file.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=1, sort_keys=True))
        tmp.replace(file)

    def remove(self, token: str, rid: str) -> None:
        self._file(token, rid).unlink(missing_ok=True)

    def resources(self) -> list[dict[str, Any]]:
        return [json.loads(f.read_text()) for f in sorted((self.root / "resources").glob("*.json"))]

    def find(self, urn_suffix: str) -> dict[str, Any]:
        """The one resource whose URN ends with ``urn_suffix`` (e.g. ``'::acme-data-bucket'``)."""
        found = [r for r in self.resources() if r["urn"].endswith(urn_suffix)]
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
        self.remove(found["type"], found["id"])

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

    def physical_name(urn: str, inputs: dict[str, Any]) -> str:
        present = [inputs[f] for f in cloud.name_fields if isinstance(inputs.get(f), str) and inputs[f] != UNKNOWN]
        if present:
            return present[-1] if cloud_key in LAST_NAME_WINS else present[0]
        return f"{urn.rsplit('::', 1)[-1]}-{_digest(urn)[:7]}"  # auto-naming, as the real providers do

    def token(urn: str) -> str:
        return urn.split("::")[-2].split("$")[-1]

    def computed(urn: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        res = Resource(token(urn), physical_name(urn, inputs), inputs, config)
        outputs = {"name": res.name, **inputs, **cloud.outputs(res)}
        rid = outputs[cloud.id_field] if cloud.id_field else outputs.get("id") or res.name
        if "iam" in res.kind.lower() and res.kind.endswith(("Member", "Binding")):
            # An IAM member is identified by what it binds, whom and with which role (as the real providers do).
            rid = f"{rid}/{inputs.get('role')}/{inputs.get('member') or inputs.get('members')}"
        outputs["id"] = rid
        return rid, outputs

    def changed(olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
        return sorted(k for k in set(olds) | set(news) if olds.get(k) != news.get(k))

    def diff_response(keys: list[str]) -> Any:
        if not keys:
            return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_NONE)
        detailed = {k: provider_pb2.PropertyDiff(kind=provider_pb2.PropertyDiff.UPDATE, inputDiff=True) for k in keys}
        return provider_pb2.DiffResponse(changes=provider_pb2.DiffResponse.DIFF_SOME, diffs=keys,
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
            record("Check", request)
            return provider_pb2.CheckResponse(inputs=request.news)

        def Diff(self, request: Any, context: Any) -> Any:
            olds = to_dict(request.old_inputs) or to_dict(request.olds)
            keys = changed({k: v for k, v in olds.items() if k != "__defaults"}, to_dict(request.news))
            record("Diff", request, fields=keys)
            return diff_response(keys)

        def Create(self, request: Any, context: Any) -> Any:
            inputs = to_dict(request.properties)
            rid, outputs = computed(request.urn, inputs)
            record("Create", request, preview=request.preview, resource_id=rid)
            if request.preview:
                return provider_pb2.CreateResponse(properties=to_struct(outputs))
            if fake.get(token(request.urn), rid) is not None:
                context.abort(grpc.StatusCode.ALREADY_EXISTS, f"{cloud.package}: {rid} already exists")
            fake.put({"id": rid, "type": token(request.urn), "urn": request.urn, "inputs": inputs, "outputs": outputs})
            return provider_pb2.CreateResponse(id=rid, properties=to_struct(outputs))

        def Read(self, request: Any, context: Any) -> Any:
            found = fake.get(token(request.urn), request.id)
            record("Read", request, found=found is not None)
            if found is None:  # an empty id tells the engine the resource is gone
                return provider_pb2.ReadResponse()
            return provider_pb2.ReadResponse(id=request.id, properties=to_struct(found["outputs"]),
                                             inputs=to_struct(found["inputs"]))

        def Update(self, request: Any, context: Any) -> Any:
            news = to_dict(request.news)
            record("Update", request, preview=request.preview,
                   fields=changed(to_dict(request.old_inputs) or to_dict(request.olds), news))
            _, outputs = computed(request.urn, news)
            outputs["id"] = request.id
            if request.preview:
                return provider_pb2.UpdateResponse(properties=to_struct(outputs))
            fake.wait_while_held()
            if fake.get(token(request.urn), request.id) is None:
                context.abort(grpc.StatusCode.NOT_FOUND, f"{cloud.package}: {request.id} does not exist")
            fake.put({"id": request.id, "type": token(request.urn), "urn": request.urn, "inputs": news,
                      "outputs": outputs})
            return provider_pb2.UpdateResponse(properties=to_struct(outputs))

        def Delete(self, request: Any, context: Any) -> Any:
            record("Delete", request)
            fake.remove(token(request.urn), request.id)
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
