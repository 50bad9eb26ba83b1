"""Resolve image tags to digests before a release (DESIGN.md §4b): the release deploys, and its record keeps,
exactly the manifest that was resolved, so a tag moved later never changes what a deployment runs.

Resolution speaks the registry HTTP API v2 (the OCI distribution spec): ``HEAD /v2/<name>/manifests/<tag>``
with the manifest media types accepted, the digest from ``Docker-Content-Digest``. A 401 answers with
``WWW-Authenticate``: ``Basic`` (retry with the vendor's credentials) or ``Bearer realm=,service=,scope=`` (the
token flow: fetch a token from the realm, with the credentials when there are any, and retry with it).
Credentials are the vendor's, read from its Docker config (``$DOCKER_CONFIG/config.json`` or
``~/.docker/config.json``, ``auths.<host>.auth``), as ``docker login`` writes them; no credential helper is run.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from alien_pulumi.errors import AlienError
from alien_pulumi.model.images import ImageRef, image_reference
from alien_pulumi.model.resources import ComputeSpec
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import Lifecycle, Platform
from alien_pulumi.model.validation import parse_spec

MANIFEST_TYPES = ", ".join([
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')
TIMEOUT_S = 10.0
# Docker Hub's API lives on another host than its references, and docker login stores its credentials under
# the index's name.
API_HOST = {"docker.io": "registry-1.docker.io"}
CREDENTIAL_HOST = {"docker.io": "index.docker.io"}


class DigestError(AlienError):
    """An image tag could not be resolved: nothing was deployed, the message names the resource and image."""

    exit_code = 2


@dataclass(frozen=True)
class ImageChange:
    """One compute's image, pinned: the reference as written and the digest it resolved to."""

    resource: str
    image: str
    digest: str
    lifecycle: Lifecycle

    def __str__(self) -> str:
        # A frozen pin is named as such: unless it is the digest already deployed, preflight reports a frozen change.
        frozen = " (frozen)" if self.lifecycle is Lifecycle.FROZEN else ""
        return f"{self.resource}.image{frozen}: {self.image} -> {self.digest}"

    def to_json(self) -> dict[str, str]:
        return {"resource": self.resource, "image": self.image, "digest": self.digest,
                "lifecycle": self.lifecycle.value}


def docker_credentials(config_dir: str | Path | None = None) -> dict[str, tuple[str, str]]:
    """``host -> (username, password)`` from the Docker config (absent file: no credentials)."""
    root = Path(config_dir or os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")
    try:
        data = json.loads((root / "config.json").read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise DigestError(f"{root / 'config.json'}: not a Docker config ({exc})") from None
    out: dict[str, tuple[str, str]] = {}
    for host, entry in (data.get("auths") or {}).items():
        auth = entry.get("auth") if isinstance(entry, Mapping) else None
        if auth:
            user, _, password = base64.b64decode(auth).decode().partition(":")
            out[re.sub(r"^https?://", "", host).rstrip("/").removesuffix("/v1")] = (user, password)
    return out


def _scheme(host: str) -> str:
    """HTTPS everywhere but a registry on loopback (a local registry in tests and development)."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    try:
        loopback = ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        loopback = name == "localhost"
    return "http" if loopback else "https"


class Resolver:
    """Resolves references to digests with one HTTP client; remembers each answer for the run."""

    def __init__(self, credentials: Mapping[str, tuple[str, str]] | None = None,
                 client: httpx.Client | None = None) -> None:
        self.credentials = dict(docker_credentials() if credentials is None else credentials)
        self.client = client or httpx.Client(timeout=TIMEOUT_S, follow_redirects=True)
        self._known: dict[str, str] = {}

    def digest(self, ref: ImageRef) -> str:
        if ref.digest:
            return ref.digest
        key = str(ref)
        if key not in self._known:
            self._known[key] = self._resolve(ref)
        return self._known[key]

    def _resolve(self, ref: ImageRef) -> str:
        api = API_HOST.get(ref.host, ref.host)
        url = f"{_scheme(api)}://{api}/v2/{ref.path}/manifests/{ref.reference}"
        headers = {"Accept": MANIFEST_TYPES}
        try:
            response = self.client.head(url, headers=headers)
            if response.status_code == 401:
                headers["Authorization"] = self._authorization(ref, response.headers.get("WWW-Authenticate", ""))
                response = self.client.head(url, headers=headers)
        except httpx.HTTPError as exc:
            raise DigestError(f"{ref}: registry {ref.host} is unreachable ({exc.__class__.__name__}: {exc})") from None
        if response.status_code == 404:
            raise DigestError(f"{ref}: no such tag or repository on {ref.host}")
        if response.status_code in (401, 403):
            raise DigestError(f"{ref}: {ref.host} refused the vendor's credentials (HTTP {response.status_code}); "
                              f"log in with docker login {ref.host}")
        if response.status_code != 200:
            raise DigestError(f"{ref}: {ref.host} answered HTTP {response.status_code}")
        digest = response.headers.get("Docker-Content-Digest", "")
        if not DIGEST.match(digest):
            raise DigestError(f"{ref}: {ref.host} sent no sha256 Docker-Content-Digest (got {digest!r})")
        return digest

    def _authorization(self, ref: ImageRef, challenge: str) -> str:
        scheme, _, params = challenge.partition(" ")
        creds = self.credentials.get(ref.host) or self.credentials.get(CREDENTIAL_HOST.get(ref.host, ""))
        basic = base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode() if creds else None
        if scheme.lower() == "basic":
            if basic is None:
                raise DigestError(f"{ref}: {ref.host} needs credentials; log in with docker login {ref.host}")
            return f"Basic {basic}"
        if scheme.lower() != "bearer":
            raise DigestError(f"{ref}: {ref.host} asks for an unsupported authentication {scheme!r}")
        fields = dict(_CHALLENGE.findall(params))
        if "realm" not in fields:
            raise DigestError(f"{ref}: {ref.host} sent a Bearer challenge without a realm")
        query = {k: v for k, v in (("service", fields.get("service")),
                                   ("scope", fields.get("scope") or f"repository:{ref.path}:pull")) if v}
        token_response = self.client.get(fields["realm"], params=query,
                                         headers={"Authorization": f"Basic {basic}"} if basic else {})
        if token_response.status_code != 200:
            raise DigestError(f"{ref}: the token service of {ref.host} answered HTTP {token_response.status_code}")
        body = token_response.json()
        token = body.get("token") or body.get("access_token")
        if not token:
            raise DigestError(f"{ref}: the token service of {ref.host} returned no token")
        return f"Bearer {token}"


def pin_images(spec: StackSpec, targets: Iterable[tuple[Platform, str]], resolver: Resolver) -> tuple[StackSpec,
                                                                                                    list[ImageChange]]:
    """The spec with every compute image, frozen and live, pinned to its digest (``api:1.4.2@sha256:...``), and
    the changes. ``targets`` are the (platform, region) pairs the release deploys to (a location may name
    ``{region}``).

    Every target's reference must resolve to the same digest (a vendor replicating to ECR keeps the manifest),
    since the spec holds one image per resource. Frozen compute is pinned too, because a tag is pulled again for
    each new replica (DESIGN.md §1a): its pinned image equal to the deployed one is no change, a moved tag is a
    frozen change that preflight reports and only the admin's setup applies. Raises ``DigestError`` before
    anything runs."""
    data = spec.model_dump(mode="json")
    changes: list[ImageChange] = []
    for index, res in enumerate(spec.resources):
        if not isinstance(res, ComputeSpec):
            continue
        registry = res.images if res.images is not None else spec.images
        found: dict[str, str] = {}
        for platform, region in targets:
            ref = image_reference(res.image, registry, platform).in_region(region)
            try:
                found[str(ref)] = resolver.digest(ref)
            except DigestError as exc:
                raise DigestError(f"{res.id}.image ({platform.value}): {exc}") from None
        digests = set(found.values())
        if len(digests) > 1:
            listed = ", ".join(f"{ref} = {d}" for ref, d in sorted(found.items()))
            raise DigestError(f"{res.id}.image: the registries hold different manifests for {res.image} ({listed})")
        if not digests:
            continue
        digest = digests.pop()
        if "@" not in res.image:  # already pinned by the vendor: kept as written
            data["resources"][index]["image"] = f"{res.image}@{digest}"
            changes.append(ImageChange(res.id, res.image, digest, res.lifecycle))
    return parse_spec(data), changes
