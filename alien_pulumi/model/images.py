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
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, field_validator

from alien_pulumi.errors import AlienError
from alien_pulumi.model.naming import NameRule
from alien_pulumi.model.types import Platform, ResourceType

if TYPE_CHECKING:  # spec and context import this module (the spec holds a RegistrySpec)
    from alien_pulumi.model.context import DeploymentContext
    from alien_pulumi.model.spec import StackSpec

DOCKER_HUB = "docker.io"
# A registry location may name the deployment's region, ``<account>.dkr.ecr.{region}.amazonaws.com/acme``: a vendor
# replicating its repositories to every region its customers use (Lambda pulls ECR images of its own region only)
# declares them once; each deployment pulls from its own region.
REGION = "{region}"
_HOST_PART = re.compile(r"^[a-zA-Z0-9.{}-]+(:[0-9]+)?$")
_PATH = re.compile(r"^[a-z0-9]+([._-]+[a-z0-9]+)*(/[a-z0-9]+([._-]+[a-z0-9]+)*)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
ECR_HOST = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(-fips)?\.(?P<region>[a-z0-9-]+|\{region\})\.amazonaws\.com(\.cn)?$")
AR_HOST = re.compile(r"^(?P<location>[a-z0-9-]+|\{region\})-docker\.pkg\.dev$")
GCR_HOST = re.compile(r"^([a-z]+\.)?gcr\.io$")
# ECR pull-through cache upstreams that need no credentials (the others need a Secrets Manager secret in the
# customer's account, which this project never creates: see the module docstring), and the short alias each
# cache rule's repository prefix carries.
ECR_CACHE_UPSTREAMS = {"public.ecr.aws": "ecrp", "quay.io": "quay", "registry.k8s.io": "k8s"}


class ImageError(AlienError, ValueError):
    """An image reference that cannot be read or pulled; the message states the rule (a ValueError too, so the
    spec's field validators report it as a field problem)."""


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
    def pinned_suffix(self) -> str:
        """What compute pulls: the digest alone once pinned (Lambda and Cloud Run refuse ``:tag@digest``)."""
        return f"@{self.digest}" if self.digest else self.suffix

    @property
    def reference(self) -> str:
        """What the registry API names the manifest by: the digest when pinned, else the tag."""
        return self.digest or self.tag or "latest"

    def pinned(self, digest: str) -> ImageRef:
        return ImageRef(self.host, self.path, self.tag, digest)

    def in_region(self, region: str) -> ImageRef:
        """The reference with the location's ``{region}`` filled in (unchanged without one)."""
        return ImageRef(self.host.replace(REGION, region), self.path, self.tag, self.digest)


def has_host(text: str) -> bool:
    first, sep, _ = text.partition("/")
    return bool(sep) and ("." in first or ":" in first or first == "localhost")


def parse_image(text: str, *, relative: bool = False) -> ImageRef:
    """Parse a full reference (Docker's rules: the first part is a host when it has a dot, a port or is
    localhost; no host means Docker Hub), or with ``relative`` a name to join onto a registry (no host)."""
    rest, _, digest = text.partition("@")
    host = "" if relative else DOCKER_HUB
    if not relative and has_host(rest):
        host, _, rest = rest.partition("/")
    path, tag = rest, None
    if ":" in rest.rsplit("/", 1)[-1]:
        path, _, tag = rest.rpartition(":")
    if host == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    if not relative and not _HOST_PART.match(host):
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
        if value.count("{") != value.count(REGION):
            raise ValueError(f"{value!r}: the only placeholder a location may hold is {REGION}")
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


# The mirrors a deployment creates are named after its prefix, so the registry sets bind `{prefix}-*`.
# ECR repository prefixes: 2-30 of [a-z0-9._-] (aliases are at most 4 characters, so a 24-character deployment
# prefix still fits whole); Artifact Registry repository ids: 1-63 of [a-z0-9-].
_MIRROR_RULE = {Platform.AWS: NameRule(30, "a-z0-9._-", 2, "ECR repository prefix"),
                Platform.GCP: NameRule(63, "a-z0-9-", 1, "Artifact Registry repository")}


@dataclass(frozen=True)
class Mirror:
    """A cache rule (AWS) or remote repository (GCP) of one deployment: its name and the upstream host."""

    name: str
    upstream: str


def mirror_name(platform: Platform, prefix: str, pull_: Pull) -> str:
    return _MIRROR_RULE[platform].fit(f"{prefix}-{pull_.mirror}")


def compute_pulls(spec: StackSpec, platform: Platform) -> dict[str, Pull]:
    """How ``platform`` pulls every compute resource's image, by resource id (the spec is valid)."""
    from alien_pulumi.model.resources import ComputeSpec  # resources import this module

    out: dict[str, Pull] = {}
    for res in spec.resources:
        if isinstance(res, ComputeSpec):
            out[res.id] = pull(platform, res.kind, res.image, registry_of(spec.images, res.images))
    return out


def unpinned_images(spec: StackSpec) -> list[tuple[str, str]]:
    """``(resource id, image as written)`` of every compute, frozen and live, whose image names no sha256 digest
    (a tag is pulled again for each new replica, so only a digest fixes the code that runs: DESIGN.md §1a)."""
    from alien_pulumi.model.resources import ComputeSpec  # resources import this module

    return [(res.id, res.image) for res in spec.resources if isinstance(res, ComputeSpec)
            and parse_image(res.image, relative=not has_host(res.image)).digest is None]


def mirrors(spec: StackSpec, platform: Platform, prefix: str) -> list[Mirror]:
    """The mirrors a deployment of ``spec`` needs, sorted by name (both programs build the same list)."""
    found = {mirror_name(platform, prefix, p): p.source.host
             for p in compute_pulls(spec, platform).values() if p.route is not Route.DIRECT}
    return [Mirror(name, found[name]) for name in sorted(found)]


def customer_image(pull_: Pull, ctx: DeploymentContext) -> str:
    """The reference the customer's compute runs: the vendor's own when direct, else the mirror's copy."""
    src = pull_.source.in_region(ctx.region)
    if pull_.route is Route.CACHE:
        domain = "amazonaws.com.cn" if ctx.partition == "aws-cn" else "amazonaws.com"
        return f"{ctx.account_id}.dkr.ecr.{ctx.region}.{domain}/{mirror_name(pull_.platform, ctx.prefix, pull_)}" \
               f"/{src.path}{src.pinned_suffix}"
    if pull_.route is Route.REMOTE:
        return f"{ctx.gcp_region}-docker.pkg.dev/{ctx.project}/{mirror_name(pull_.platform, ctx.prefix, pull_)}" \
               f"/{src.path}{src.pinned_suffix}"
    return f"{src.host}/{src.path}{src.pinned_suffix}"


def ecr_repository_arn(pull_: Pull, ctx: DeploymentContext) -> str:
    """The ECR repository an AWS compute pulls from: the cache's copy in the customer's account, or the vendor's."""
    src = pull_.source.in_region(ctx.region)
    if pull_.route is Route.CACHE:
        return (f"arn:{ctx.partition}:ecr:{ctx.region}:{ctx.account_id}:repository/"
                f"{mirror_name(Platform.AWS, ctx.prefix, pull_)}/{src.path}")
    match = ECR_HOST.match(src.host)
    assert match is not None, f"{src} is not an ECR image"
    return f"arn:{ctx.partition}:ecr:{match['region']}:{match['account']}:repository/{src.path}"


def runtime_mirror(spec: StackSpec, resource_id: str, platform: Platform) -> bool:
    """Whether the compute's runtime identity itself pulls through a mirror (AWS cache rules: ECS pulls as the
    task execution role; Cloud Run's service agent needs no grant of the stack)."""
    return compute_pulls(spec, platform)[resource_id].route is Route.CACHE


def image_values(spec: StackSpec, resource_id: str, ctx: DeploymentContext) -> dict[str, str]:
    """Permission template values of a compute's image: ``{image_repository}``, the ECR repository an AWS compute
    pulls (empty elsewhere: the other clouds pull with a service agent, not the runtime identity)."""
    if ctx.platform is not Platform.AWS:
        return {}
    return {"image_repository": ecr_repository_arn(compute_pulls(spec, Platform.AWS)[resource_id], ctx)}
