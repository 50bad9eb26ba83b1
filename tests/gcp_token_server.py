"""Google's token endpoints on loopback, for runs that impersonate a service account in another process (the
engine tests' management runs): the OAuth token endpoint a service-account key file names (``token_uri``) and
the IAM Credentials ``generateAccessToken``. google-auth runs unchanged against it: it signs a real JWT with the
key, sends it, and impersonates with the token it got back; the server checks that chain."""

from __future__ import annotations

import contextlib
import datetime
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

BASE_TOKEN = "vendor-base-token"


def management_token(account: str) -> str:
    return f"impersonated:{account}"


@dataclass
class TokenServer:
    url: str
    impersonated: list[str] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)  # accounts the caller may not impersonate
    disabled: set[str] = field(default_factory=set)  # accounts their project disabled
    api_disabled: bool = False  # the IAM Credentials API is not enabled in the caller's project

    def key_file(self, path: Path, email: str) -> Path:
        """A real service-account key file (a fresh RSA key) whose token endpoint is this server."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
        path.write_text(json.dumps({"type": "service_account", "project_id": "vendor-ops", "private_key_id": "k1",
                                    "private_key": pem, "client_email": email, "client_id": "1",
                                    "token_uri": f"{self.url}/token"}))
        return path


@contextlib.contextmanager
def token_server() -> Iterator[TokenServer]:
    server_ref: dict[str, TokenServer] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            if self.path == "/token":
                grant = parse_qs(body)
                ok = grant.get("grant_type") == ["urn:ietf:params:oauth:grant-type:jwt-bearer"] and "assertion" in grant
                self._answer(200 if ok else 400, {"access_token": BASE_TOKEN, "expires_in": 3600,
                                                  "token_type": "Bearer"} if ok else {"error": "invalid_grant"})
                return
            account = self.path.split("/serviceAccounts/", 1)[-1].removesuffix(":generateAccessToken")
            google = server_ref["s"]
            if google.api_disabled:
                self._answer(403, {"error": {"code": 403, "status": "PERMISSION_DENIED", "message":
                                             "IAM Service Account Credentials API has not been used in project 1 "
                                             "before or it is disabled.", "details": [
                                                 {"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                                  "reason": "SERVICE_DISABLED", "domain": "googleapis.com"}]}})
                return
            if account in google.disabled:
                self._answer(400, {"error": {"code": 400, "status": "FAILED_PRECONDITION",
                                             "message": "Precondition check failed."}})
                return
            if self.headers.get("Authorization") != f"Bearer {BASE_TOKEN}" or account in google.refused:
                self._answer(403, {"error": {"code": 403, "status": "PERMISSION_DENIED", "message":
                                             "Permission 'iam.serviceAccounts.getAccessToken' denied on resource "
                                             "(or it may not exist)."}})
                return
            server_ref["s"].impersonated.append(account)
            lifetime = int(json.loads(body)["lifetime"].rstrip("s"))
            expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=lifetime)
            self._answer(200, {"accessToken": management_token(account),
                               "expireTime": expires.strftime("%Y-%m-%dT%H:%M:%SZ")})

        def _answer(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    server_ref["s"] = TokenServer(f"http://127.0.0.1:{httpd.server_address[1]}")
    try:
        yield server_ref["s"]
    finally:
        httpd.shutdown()
        httpd.server_close()
