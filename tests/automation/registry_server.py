"""A real image registry on loopback for the digest tests: Debian's ``docker-registry`` (the CNCF distribution
reference server), started with its own config in a temporary folder and stopped after the test. Images are
pushed with plain registry API v2 calls (blob uploads, manifest PUT), as any client pushes them."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import bcrypt
import httpx

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

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def push(self, repository: str, tag: str, content: bytes = b"layer") -> str:
        """Push a one-layer image; return its manifest digest (sha256 of the manifest bytes)."""
        with httpx.Client(base_url=self.url, auth=self.auth, timeout=10) as client:
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


@contextmanager
def local_registry(root: Path, auth: tuple[str, str] | None = None) -> Iterator[LocalRegistry]:
    binary = shutil.which("docker-registry")
    assert binary, "docker-registry is not installed (apt-get install docker-registry; .ci/run does it)"
    port = free_port()
    config: dict[str, object] = {
        "version": 0.1,
        "log": {"level": "warn"},
        "storage": {"filesystem": {"rootdirectory": str(root / "data")}, "delete": {"enabled": True}},
        "http": {"addr": f"127.0.0.1:{port}"},
    }
    if auth is not None:
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
