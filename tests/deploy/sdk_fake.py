"""A recording HTTP answerer for the GCP and Azure SDK-contract tests of the state store bootstrap and of
``preflight --live`` (no GCS, Cloud KMS, IAM or ARM emulator exists here). The real SDK clients run unchanged over
it: google-cloud-storage takes a ``requests`` session (``_http=``), google-cloud-kms's REST transport is a
``requests`` session, and azure-core's ``RequestsTransport`` takes one (``transport=``); this adapter is mounted on
those sessions. It records every request (method, path, query, JSON body, Authorization header) and answers like
the clouds' REST APIs for the few resources a store has: a GET of what is absent is a 404 in the cloud's error
shape, a create stores its body, a PATCH merges.
GCP's testIamPermissions (``POST {v}/{resource}:testIamPermissions``, GCS's ``GET b/{bucket}/iam/testPermissions``)
answers from ``granted`` (full resource name -> permissions), as GCP does: the asked ones held, the key omitted when
none is; a resource ``granted`` does not hold is a 404. Azure's permissions API is a GET of a stored ``{"value":
[...]}`` resource.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests
import urllib3
from requests.adapters import BaseAdapter


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    authorization: str | None = None  # the request's Authorization header: whose credentials it carried


def merge_patch(into: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """JSON merge patch (RFC 7396), as ARM's PATCH of a Container App or job applies it: a null removes the key."""
    for key, value in patch.items():
        if value is None:
            into.pop(key, None)
        elif isinstance(value, dict) and isinstance(into.get(key), dict):
            merge_patch(into[key], value)
        else:
            into[key] = copy.deepcopy(value)
    return into


def _merge(into: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value
    return into


class FakeCloud(BaseAdapter):
    """``resources``: path (lower case) -> the resource's JSON. ``deny``: (method, path prefix) answered 403."""

    def __init__(self) -> None:
        super().__init__()
        self.resources: dict[str, dict[str, Any]] = {}
        self.calls: list[Call] = []
        self.deny: set[tuple[str, str]] = set()
        self.granted: dict[str, set[str]] = {}  # GCP full resource name -> what testIamPermissions grants
        self.objects: dict[str, bytes] = {}  # object contents (see _object)

    def writes(self) -> list[Call]:
        return [c for c in self.calls if c.method != "GET"]

    def send(self, request: requests.PreparedRequest, **_: Any) -> requests.Response:  # type: ignore[override]
        url = urlsplit(str(request.url))
        raw = request.body.encode() if isinstance(request.body, str) else request.body or b""
        stored = _object_key(url.netloc, url.path)
        data = None if stored is not None or not raw else json.loads(raw)
        call = Call(str(request.method), url.path, parse_qs(url.query), data, request.headers.get("Authorization"))
        self.calls.append(call)
        if any(call.method == m and call.path.lower().startswith(p.lower()) for m, p in self.deny):
            return answer(request, 403, {"error": {"code": 403 if "googleapis" in str(url.netloc) else
                                                         "AuthorizationFailed", "message": "denied by the test"}})
        if stored is not None:
            return self._object(request, stored, bytes(raw))
        status, payload = self._route(url.netloc, call)
        return answer(request, status, payload)

    def _object(self, request: requests.PreparedRequest, key: str, raw: bytes) -> requests.Response:
        """Object contents (GCS's upload and download endpoints, Azure blobs), kept in ``objects`` by
        ``gs://bucket/name`` or ``https://account.blob.core.windows.net/container/blob``."""
        azure = key.startswith("https://")
        if request.method in ("POST", "PUT"):
            if azure:
                self.objects[key] = raw
                return answer(request, 201, None, {"ETag": '"0x1"', "Last-Modified": "Mon, 07 Dec 2026 10:00:00 GMT",
                                                   "x-ms-request-server-encrypted": "true"})
            name, content = _multipart(request, raw)
            self.objects[f"{key}/{name}"] = content
            bucket = key.removeprefix("gs://")
            return answer(request, 200, {"kind": "storage#object", "bucket": bucket, "name": name,
                                         "size": str(len(content)), "generation": "1"})
        if key not in self.objects:
            if azure:
                return answer(request, 404, None, {"x-ms-error-code": "BlobNotFound"})
            return answer(request, 404, {"error": {"code": 404, "message": f"{key} not found"}})
        content = self.objects[key]
        headers = {"Content-Length": str(len(content)), "Content-Type": "application/octet-stream"}
        if azure:
            headers.update({"x-ms-blob-type": "BlockBlob", "ETag": '"0x1"',
                            "Last-Modified": "Mon, 07 Dec 2026 10:00:00 GMT",
                            "Content-Range": f"bytes 0-{len(content) - 1}/{len(content)}"})
            return answer(request, 206, content, headers)
        return answer(request, 200, content, headers)

    def close(self) -> None:
        pass

    def _test_iam_permissions(self, host: str, call: Call) -> tuple[int, Any] | None:
        if call.method == "POST" and call.path.endswith(":testIamPermissions"):
            resource = f"//{host}/{call.path.split('/', 2)[2].removesuffix(':testIamPermissions')}"  # less /v1
            asked, extra = (call.body or {}).get("permissions", []), {}
        elif host == "storage.googleapis.com" and call.path.endswith("/iam/testPermissions"):
            bucket = call.path.removeprefix("/storage/v1/b/").removesuffix("/iam/testPermissions")
            resource = f"//{host}/projects/_/buckets/{bucket}"
            asked, extra = call.query.get("permissions", []), {"kind": "storage#testIamPermissionsResponse"}
        else:
            return None
        if resource not in self.granted:
            return 404, {"error": {"code": 404, "message": f"{resource} not found", "status": "NOT_FOUND"}}
        held = [p for p in asked if p in self.granted[resource]]
        return 200, {**extra, **({"permissions": held} if held else {})}

    def _route(self, host: str, call: Call) -> tuple[int, Any]:
        tested = self._test_iam_permissions(host, call)
        if tested is not None:
            return tested
        key = call.path.lower()
        if host == "storage.googleapis.com" and call.method == "POST" and key == "/storage/v1/b":
            # GCS answers the location upper case, whatever the request's case
            bucket = {**copy.deepcopy(call.body), "location": call.body.get("location", "US").upper(),
                      "kind": "storage#bucket"}
            key = f"/storage/v1/b/{call.body['name']}".lower()
            if key in self.resources:
                return 409, {"error": {"code": 409, "message": "already exists"}}
            self.resources[key] = bucket
            return 200, bucket
        if host == "cloudkms.googleapis.com" and call.method == "POST":
            child = call.query.get("keyRingId") or call.query.get("cryptoKeyId") or [""]
            kind = "keyRings" if "keyRingId" in call.query else "cryptoKeys"
            name = f"{call.path.removeprefix('/v1/').rsplit('/', 1)[0]}/{kind}/{child[0]}"
            resource = {**copy.deepcopy(call.body or {}), "name": name}
            self.resources[f"/v1/{name}".lower()] = resource
            return 200, resource
        if call.method == "GET":
            if key in self.resources:
                return 200, self.resources[key]
            if key.endswith("/blobservices/default"):  # every storage account has its blob service
                return 200, {"name": "default", "properties": {}}
            code = 404 if "googleapis" in host else "ResourceNotFound"
            return 404, {"error": {"code": code, "message": f"{call.path} not found"}}
        if call.method == "PUT":
            resource = {**copy.deepcopy(call.body or {}), "id": call.path, "name": call.path.rsplit("/", 1)[-1]}
            resource.setdefault("properties", {})["provisioningState"] = "Succeeded"
            self.resources[key] = resource
            return 200, resource
        if call.method == "PATCH":
            if key not in self.resources:
                return 404, {"error": {"code": "ResourceNotFound", "message": f"{call.path} not found"}}
            return 200, _merge(self.resources[key], copy.deepcopy(call.body or {}))
        return 400, {"error": {"code": 400, "message": f"the fake does not answer {call.method} {call.path}"}}


def _object_key(host: str, path: str) -> str | None:
    """The object a request reads or writes (None: not an object request)."""
    if host == "storage.googleapis.com":
        for endpoint in ("/upload/storage/v1/b/", "/download/storage/v1/b/"):
            if path.startswith(endpoint):
                bucket, _, name = path.removeprefix(endpoint).partition("/o")
                return f"gs://{bucket}" + (f"/{unquote(name.removeprefix('/'))}" if name else "")
    if host.endswith(".blob.core.windows.net"):
        return f"https://{host}{unquote(path)}"
    return None


def _multipart(request: requests.PreparedRequest, raw: bytes) -> tuple[str, bytes]:
    """GCS's multipart upload: the object's JSON metadata (its name), then its contents."""
    from email.parser import BytesParser

    kind = request.headers["Content-Type"]
    kind = kind.decode() if isinstance(kind, bytes) else kind
    message = BytesParser().parsebytes(f"Content-Type: {kind}\r\n\r\n".encode() + raw)
    metadata, content = [part.get_payload(decode=True) for part in message.get_payload()]
    return json.loads(metadata)["name"], content


def answer(request: requests.PreparedRequest, status: int, body: Any,
           headers: dict[str, str] | None = None) -> requests.Response:
    """An answer as the clouds' REST APIs give it (JSON, or ``body`` as it is when bytes, or none), readable by
    requests and azure-core alike."""
    content = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    headers = headers or {"Content-Type": "application/json"}
    response = requests.Response()
    response.status_code = status
    # azure-core reads the urllib3 response under requests' (content length checks, streaming)
    response.raw = urllib3.HTTPResponse(body=io.BytesIO(content), status=status, preload_content=False,
                                        headers=headers)
    response._content = content
    response.headers.update(headers)
    response.url = str(request.url)
    response.request = request
    response.reason = {200: "OK", 201: "Created", 206: "Partial Content", 403: "Forbidden", 404: "Not Found",
                       409: "Conflict"}.get(status, "Error")
    return response


def session(cloud: BaseAdapter) -> requests.Session:
    """A session for azure-core's RequestsTransport."""
    out = requests.Session()
    out.mount("https://", cloud)
    return out


def gcp_session(cloud: FakeCloud) -> requests.Session:
    """google-auth's session (the storage client asks it about mTLS) with anonymous credentials."""
    from google.auth.credentials import AnonymousCredentials
    from google.auth.transport.requests import AuthorizedSession

    out = AuthorizedSession(AnonymousCredentials())
    out.mount("https://", cloud)
    return out


class Token:
    """An azure-core TokenCredential whose token carries the admin's tenant (``tid``), as Entra ID's do."""

    def __init__(self, tenant: str) -> None:
        claims = base64.urlsafe_b64encode(json.dumps({"tid": tenant}).encode()).decode().rstrip("=")
        self.token = f"e30.{claims}.sig"

    def get_token(self, *scopes: str, **_: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken(self.token, int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, **_: Any) -> Any:
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo(self.token, int(time.time()) + 3600)
