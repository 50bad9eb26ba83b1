"""Where a stack's images come from, and how each platform's compute pulls them (DESIGN.md §4b).

A stack declares its vendor registry once (``Stack(..., images=Registry("ghcr.io/acme", aws=...))``) and a
compute resource may override it; ``image="api:1.4.2"`` is relative to the registry, a reference with a host
is taken as written. Each platform then pulls by one of three routes, chosen for the least trust:

- ``direct``: the platform pulls the vendor's reference itself; the vendor allows it on its own registry
  (``alien-pulumi registry-access`` prints what). AWS: cross-account ECR (Lambda runs only ECR images, and
  does not trigger a pull-through cache's first pull, so functions always pull the vendor's ECR); GCP:
  Artifact Registry / gcr.io (reader for the customer's Cloud Run service agent) and public Docker Hub;
  Azure: Container Apps pulls any public registry.
- ``cache`` (AWS, containers only): an ECR pull-through cache rule in the customer's account for an upstream
  that needs no credentials (ECR Public, Quay, registry.k8s.io); ECS pulls the cached copy.
- ``remote`` (GCP): an Artifact Registry remote repository in the customer's project mirrors another public
  registry (ghcr.io, Quay...); Cloud Run pulls the mirror.

Upstreams that need credentials are pulled only directly from the vendor's cloud registry on that cloud,
never through a secret in the customer's account: a rule error says which registry to declare instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from alien_pulumi.model.types import Platform, ResourceType

DOCKER_HUB = "docker.io"
_HOST_PART = re.compile(r"^[a-zA-Z0-9.-]+(:[0-9]+)?$")
_PATH = re.compile(r"^[a-z0-9]+([._-]+[a-z0-9]+)*(/[a-z0-9]+([._-]+[a-z0-9]+)*)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
ECR_HOST = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr(-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?$")
AR_HOST = re.compile(r"^(?P<location>[a-z0-9-]+)-docker\.pkg\.dev$")
GCR_HOST = re.compile(r"^([a-z]+\.)?gcr\.io$")
# ECR pull-through cache upstreams that need no credentials (the others need a Secrets Manager secret in the
# customer's account, which this project never creates: see the module docstring), and the short alias each
# cache rule's repository prefix carries.
ECR_CACHE_UPSTREAMS = {"public.ecr.aws": "ecrp", "quay.io": "quay", "registry.k8s.io": "k8s"}


class ImageError(ValueError):
    """An image reference that cannot be read or pulled; the message states the rule."""


@dataclass(frozen=True)
class ImageRef:
    """``host/path[:tag][@digest]`` with Docker's defaults filled in (docker.io, library/, latest)."""

    host: str
    path: str
    tag: str | None = None
    digest: str | None = None

    def __str__(self) -> str:
        return f"{self.host}/{self.path}{self.suffix}"

    @property
    def suffix(self) -> str:
        return (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    @property
    def reference(self) -> str:
        """What the registry API names the manifest by: the digest when pinned, else the tag."""
        return self.digest or self.tag or "latest"

    def pinned(self, digest: str) -> ImageRef:
        return ImageRef(self.host, self.path, self.tag, digest)


def has_host(text: str) -> bool:
    first, sep, _ = text.partition("/")
    return bool(sep) and ("." in first or ":" in first or first == "localhost")


def parse_image(text: str) -> ImageRef:
    """Parse a full reference (Docker's rules: the first part is a host when it has a dot, a port or is
    localhost; no host means Docker Hub)."""
    rest, _, digest = text.partition("@")
    host = DOCKER_HUB
    if has_host(rest):
        host, _, rest = rest.partition("/")
    path, tag = rest, None
    if ":" in rest.rsplit("/", 1)[-1]:
        path, _, tag = rest.rpartition(":")
    if host == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    if not _HOST_PART.match(host):
        raise ImageError(f"{text!r}: {host!r} is not a registry host")
    if not _PATH.match(path):
        raise ImageError(f"{text!r}: repository {path!r} is not a valid name (lowercase, / separated)")
    if tag is not None and not _TAG.match(tag):
        raise ImageError(f"{text!r}: tag {tag!r} is not valid")
    if digest and not _DIGEST.match(digest):
        raise ImageError(f"{text!r}: digest {digest!r} is not sha256:<64 hex>")
    return ImageRef(host.lower(), path, tag, digest or None)


class RegistrySpec(BaseModel):
    """Where a stack's (or one resource's) images come from: a default location and, per platform, the
    location that platform pulls from instead (an ECR repository prefix for aws, an Artifact Registry one for
    gcp, any registry for azure)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str | None = Field(None, description="Default location, e.g. ghcr.io/acme.")
    aws: str | None = Field(None, description="Location AWS pulls from: <account>.dkr.ecr.<region>.amazonaws.com/<p>.")
    gcp: str | None = Field(None, description="Location GCP pulls from, e.g. us-docker.pkg.dev/<project>/<repo>.")
    azure: str | None = Field(None, description="Location Azure pulls from.")

    @field_validator("url", "aws", "gcp", "azure")
    @classmethod
    def _location(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.rstrip("/")
        if not has_host(value + "/x"):
            raise ValueError(f"{value!r} names no registry host (e.g. ghcr.io/acme)")
        parse_image(value + "/x")
        return value

    def location(self, platform: Platform) -> str | None:
        return getattr(self, platform.value) or self.url


class Route(str, Enum):
    DIRECT = "direct"
    CACHE = "cache"
    REMOTE = "remote"


@dataclass(frozen=True)
class Pull:
    """How one platform pulls one compute resource's image: the vendor's reference and the route."""

    platform: Platform
    source: ImageRef
    route: Route

    @property
    def mirror(self) -> str:
        """Alias of the cache rule / remote repository this pull goes through (``''`` when direct)."""
        if self.route is Route.CACHE:
            return ECR_CACHE_UPSTREAMS[self.source.host]
        if self.route is Route.REMOTE:
            return "dhub" if self.source.host == DOCKER_HUB else re.sub(r"[^a-z0-9]+", "-", self.source.host)
        return ""


def image_reference(image: str, registry: RegistrySpec | None, platform: Platform) -> ImageRef:
    """The vendor's full reference of ``image`` on ``platform`` (relative names join the registry)."""
    if has_host(image):
        return parse_image(image)
    location = registry.location(platform) if registry is not None else None
    if location is None:
        # No registry declared: Docker's rule (Docker Hub), as a plain `docker pull` would read it.
        return parse_image(image)
    return parse_image(f"{location}/{image}")


def pull(platform: Platform, kind: ResourceType, image: str, registry: RegistrySpec | None) -> Pull:
    """How ``platform`` pulls ``image`` for a ``kind`` resource; raises ``ImageError`` naming the rule."""
    ref = image_reference(image, registry, platform)
    if platform is Platform.AWS:
        if ECR_HOST.match(ref.host):
            return Pull(platform, ref, Route.DIRECT)
        if kind is ResourceType.FUNCTION:
            raise ImageError(f"AWS Lambda runs only ECR images ({ref} is not); declare an ECR location for aws "
                             "(Registry(..., aws='<account>.dkr.ecr.<region>.amazonaws.com/<prefix>')) or an ECR image")
        if ref.host in ECR_CACHE_UPSTREAMS:
            return Pull(platform, ref, Route.CACHE)
        raise ImageError(f"ECS pulls ECR images, or {', '.join(sorted(ECR_CACHE_UPSTREAMS))} through an ECR "
                         f"pull-through cache ({ref.host} needs upstream credentials in the customer's account); "
                         "declare an ECR location for aws")
    if platform is Platform.GCP:
        if AR_HOST.match(ref.host) or GCR_HOST.match(ref.host) or ref.host == DOCKER_HUB:
            return Pull(platform, ref, Route.DIRECT)
        return Pull(platform, ref, Route.REMOTE)
    if ref.host.endswith(".azurecr.io"):
        raise ImageError(f"Container Apps pulls {ref.host}, an Azure Container Registry, only with a registry "
                         "credential, which this version does not set up in the customer's subscription; declare a "
                         "public registry location for azure")
    return Pull(platform, ref, Route.DIRECT)


def registry_of(stack_images: RegistrySpec | None, own: RegistrySpec | None) -> RegistrySpec | None:
    """A resource's own registry wins over the stack's."""
    return own if own is not None else stack_images
