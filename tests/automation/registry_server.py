"""A real image registry on loopback for the digest tests: Debian's ``docker-registry`` (the CNCF distribution
reference server), started with its own config in a temporary folder and stopped after the test. Images are
pushed with plain registry API v2 calls (blob uploads, manifest PUT), as any client pushes them."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import bcrypt
import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
START_TIMEOUT_S = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LocalRegistry:
    host: str
    auth: tuple[str, str] | None
    realm: str | None = None  # the token service, when the registry uses the Bearer flow

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def push(self, repository: str, tag: str, content: bytes = b"layer") -> str:
        """Push a one-layer image; return its manifest digest (sha256 of the manifest bytes)."""
        headers: dict[str, str] = {}
        if self.realm is not None:  # the pusher's own token, with push on the repository
            token = httpx.get(self.realm, auth=self.auth, params={"service": "alien-test-registry",
                                                                 "scope": f"repository:{repository}:pull,push"})
            headers["Authorization"] = f"Bearer {token.json()['token']}"
        with httpx.Client(base_url=self.url, auth=None if self.realm else self.auth, headers=headers,
                          timeout=10) as client:
            config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers",
                                 "diff_ids": [f"sha256:{hashlib.sha256(content).hexdigest()}"]}}).encode()
            blobs = [(self._blob(client, repository, blob), len(blob)) for blob in (config, content)]
            manifest = json.dumps({
                "schemaVersion": 2, "mediaType": MANIFEST_V2,
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                           "digest": blobs[0][0], "size": blobs[0][1]},
                "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                            "digest": blobs[1][0], "size": blobs[1][1]}],
            }).encode()
            put = client.put(f"/v2/{repository}/manifests/{tag}", content=manifest,
                             headers={"Content-Type": MANIFEST_V2})
            assert put.status_code == 201, put.text
            digest = f"sha256:{hashlib.sha256(manifest).hexdigest()}"
            assert put.headers["Docker-Content-Digest"] == digest
            return digest

    @staticmethod
    def _blob(client: httpx.Client, repository: str, blob: bytes) -> str:
        digest = f"sha256:{hashlib.sha256(blob).hexdigest()}"
        start = client.post(f"/v2/{repository}/blobs/uploads/")
        assert start.status_code == 202, start.text
        # The upload URL carries its own state in the query string: add the digest to it, not instead of it.
        target = httpx.URL(start.headers["Location"]).copy_merge_params({"digest": digest})
        done = client.put(target, content=blob,
                          headers={"Content-Type": "application/octet-stream"})
        assert done.status_code == 201, done.text
        return digest


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _libtrust_key_id(key: rsa.RSAPrivateKey) -> str:
    """The key id distribution looks trusted keys up by: base32 of 240 bits of SHA-256 of the public key's DER,
    in groups of four."""
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    text = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(text[i:i + 4] for i in range(0, len(text), 4))


@contextmanager
def token_service(root: Path, service: str, auth: tuple[str, str] | None) -> Iterator[tuple[str, Path]]:
    """A token server for the registry's Bearer flow on loopback: checks Basic credentials (when given), signs
    an RS256 token granting pull on the requested scope. Yields the realm URL and the certificate bundle."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "alien-test-token")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1)).sign(key, hashes.SHA256()))
    bundle = root / "token.crt"
    bundle.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    kid = _libtrust_key_id(key)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            expected = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode() if auth else None
            if expected is not None and self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.end_headers()
                return
            query = parse_qs(urlparse(self.path).query)
            access = []
            for scope in query.get("scope", []):
                kind, repo, actions = scope.split(":")
                access.append({"type": kind, "name": repo, "actions": actions.split(",")})
            issued = int(time.time())
            header = {"typ": "JWT", "alg": "RS256", "kid": kid}
            claims = {"iss": "alien-test-issuer", "sub": auth[0] if auth else "", "aud": service,
                      "exp": issued + 300, "nbf": issued - 10, "iat": issued, "jti": str(issued), "access": access}
            signing = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
            signature = key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
            body = json.dumps({"token": f"{signing}.{_b64url(signature)}", "expires_in": 300}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:  # quiet test output
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/token", bundle
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def local_registry(root: Path, auth: tuple[str, str] | None = None, token: bool = False) -> Iterator[LocalRegistry]:
    if token:
        with token_service(root, "alien-test-registry", auth) as (realm, bundle):
            with _registry(root, auth, {"token": {"realm": realm, "service": "alien-test-registry",
                                                  "issuer": "alien-test-issuer",
                                                  "rootcertbundle": str(bundle)}}) as registry:
                registry.realm = realm
                yield registry
        return
    with _registry(root, auth, None) as registry:
        yield registry


@contextmanager
def _registry(root: Path, auth: tuple[str, str] | None, token: dict[str, object] | None) -> Iterator[LocalRegistry]:
    binary = shutil.which("docker-registry")
    assert binary, "docker-registry is not installed (apt-get install docker-registry; .ci/run does it)"
    port = free_port()
    config: dict[str, object] = {
        "version": 0.1,
        "log": {"level": "warn"},
        "storage": {"filesystem": {"rootdirectory": str(root / "data")}, "delete": {"enabled": True}},
        "http": {"addr": f"127.0.0.1:{port}"},
    }
    if token is not None:
        config["auth"] = token
    elif auth is not None:
        hashed = bcrypt.hashpw(auth[1].encode(), bcrypt.gensalt(rounds=4)).decode()
        (root / "htpasswd").write_text(f"{auth[0]}:{hashed}\n")
        config["auth"] = {"htpasswd": {"realm": "alien-test", "path": str(root / "htpasswd")}}
    (root / "config.yml").write_text(json.dumps(config))  # JSON is YAML
    log = (root / "registry.log").open("w")
    process = subprocess.Popen([binary, "serve", str(root / "config.yml")], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v2/", timeout=1).status_code in (200, 401):
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, (root / "registry.log").read_text()
            assert time.monotonic() < deadline, "docker-registry did not start"
            time.sleep(0.1)
        yield LocalRegistry(f"127.0.0.1:{port}", auth)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def docker_config(folder: Path, host: str, user: str, password: str) -> Path:
    """A Docker config as ``docker login`` writes it."""
    folder.mkdir(parents=True, exist_ok=True)
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    (folder / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}))
    return folder
