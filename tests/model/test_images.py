"""Image references, registries and the per-platform pull rules (DESIGN.md §4b)."""

from __future__ import annotations

import pytest

import alien_pulumi as alien
from alien_pulumi.model.images import ImageError, Route, parse_image, pull, unpinned_images
from alien_pulumi.model.types import Platform, ResourceType

ECR = "111122223333.dkr.ecr.us-east-1.amazonaws.com"
IMAGES = alien.Registry("ghcr.io/acme", aws=f"{ECR}/acme")


@pytest.mark.parametrize(("text", "host", "path", "tag"), [
    ("ghcr.io/acme/api:1.4.2", "ghcr.io", "acme/api", "1.4.2"),
    ("nginx", "docker.io", "library/nginx", None),
    ("acme/api:2", "docker.io", "acme/api", "2"),
    ("127.0.0.1:5000/acme/api:1", "127.0.0.1:5000", "acme/api", "1"),
    ("localhost/api", "localhost", "api", None),
])
def test_parse_follows_docker_rules(text: str, host: str, path: str, tag: str | None) -> None:
    ref = parse_image(text)
    assert (ref.host, ref.path, ref.tag) == (host, path, tag)


def test_parse_refuses_bad_names() -> None:
    with pytest.raises(ImageError, match="not a valid name"):
        parse_image("ghcr.io/Acme/API:1")
    with pytest.raises(ImageError, match="digest"):
        parse_image("ghcr.io/acme/api@sha256:abc")


def test_relative_image_joins_the_platform_location() -> None:
    spec = (alien.Stack("app", images=IMAGES).platforms("aws", "gcp", "azure")
            .add(alien.Function("api", image="api:1.4.2"), "live").build())
    res = spec.resource("api")
    registry = spec.images
    assert str(pull(Platform.AWS, res.kind, "api:1.4.2", registry).source) == f"{ECR}/acme/api:1.4.2"
    gcp = pull(Platform.GCP, res.kind, "api:1.4.2", registry)
    assert (str(gcp.source), gcp.route, gcp.mirror) == ("ghcr.io/acme/api:1.4.2", Route.REMOTE, "ghcr-io")
    assert pull(Platform.AZURE, res.kind, "api:1.4.2", registry).route is Route.DIRECT


def test_lambda_needs_ecr_named_with_resource_field_platform_and_rule() -> None:
    stack = (alien.Stack("app", images=alien.Registry("ghcr.io/acme")).platforms("aws", "gcp")
             .add(alien.Function("api", image="api:1"), "live"))
    with pytest.raises(alien.StackValidationError) as err:
        stack.build()
    [problem] = err.value.problems
    assert (problem.where, problem.field, problem.code) == ("api", "image", "IMAGE_NOT_PULLABLE")
    assert problem.message.startswith("aws: AWS Lambda runs only ECR images")


def test_resource_registry_overrides_the_stack() -> None:
    own = alien.Registry(aws=f"{ECR}/other")
    spec = (alien.Stack("app", images=alien.Registry("ghcr.io/acme")).platforms("aws")
            .add(alien.Function("api", image="api:1", images=own), "live").build())
    assert spec.images is not None and spec.images.url == "ghcr.io/acme"
    assert spec.resource("api").images.aws == f"{ECR}/other"  # type: ignore[attr-defined]


def test_ecs_caches_credential_free_upstreams_only() -> None:
    assert pull(Platform.AWS, ResourceType.CONTAINER, "public.ecr.aws/acme/web:1", None).route is Route.CACHE
    assert pull(Platform.AWS, ResourceType.CONTAINER, f"{ECR}/acme/web:1", None).route is Route.DIRECT
    with pytest.raises(ImageError, match="needs upstream credentials"):
        pull(Platform.AWS, ResourceType.CONTAINER, "ghcr.io/acme/web:1", None)
    with pytest.raises(ImageError, match="AWS Lambda runs only ECR"):
        pull(Platform.AWS, ResourceType.FUNCTION, "public.ecr.aws/acme/fn:1", None)


def test_gcp_pulls_artifact_registry_and_docker_hub_directly() -> None:
    for image in ("us-docker.pkg.dev/vendor/acme/api:1", "gcr.io/vendor/api:1", "nginx:1"):
        assert pull(Platform.GCP, ResourceType.CONTAINER, image, None).route is Route.DIRECT


def test_azure_refuses_a_foreign_acr() -> None:
    with pytest.raises(ImageError, match="Azure Container Registry"):
        pull(Platform.AZURE, ResourceType.CONTAINER, "acme.azurecr.io/api:1", None)


def test_bad_registry_location_names_the_field() -> None:
    stack = (alien.Stack("app", images=alien.Registry("acme")).platforms("azure")
             .add(alien.Container("web", image="web:1"), "live"))
    with pytest.raises(alien.StackValidationError) as err:
        stack.build()
    assert [(p.where, p.field) for p in err.value.problems] == [("stack", "images.url")]


def test_json_round_trip_keeps_the_registry() -> None:
    spec = (alien.Stack("app", images=IMAGES).platforms("aws")
            .add(alien.Container("web", image="web:2"), "live").build())
    again = alien.StackSpec.model_validate_json(spec.to_json())
    assert again == spec and again.images == spec.images


def test_a_location_may_name_the_deployments_region() -> None:
    regional = alien.Registry(aws="111122223333.dkr.ecr.{region}.amazonaws.com/acme")
    spec = (alien.Stack("app", images=regional).platforms("aws")
            .add(alien.Function("api", image="api:1"), "live").build())
    source = pull(Platform.AWS, ResourceType.FUNCTION, "api:1", spec.images).source
    assert str(source.in_region("eu-west-1")) == "111122223333.dkr.ecr.eu-west-1.amazonaws.com/acme/api:1"
    with pytest.raises(alien.StackValidationError, match="only placeholder"):
        alien.Stack("app", images=alien.Registry("ghcr.io/{org}")).platforms("azure").add(
            alien.Container("web", image="web:1"), "live").build()


def test_pull_rules_are_reported_with_other_field_problems() -> None:
    stack = (alien.Stack("bad", images=alien.Registry("ghcr.io/acme")).platforms("aws", "gcp")
             .add(alien.Function("api", image="api:1"), "live")
             .add(alien.Container("web", image="Web:1"), "live"))
    with pytest.raises(alien.StackValidationError) as err:
        stack.build()
    assert sorted(str(p) for p in err.value.problems) == [
        "api.image: aws: AWS Lambda runs only ECR images (ghcr.io/acme/api:1 is not); declare an ECR location for "
        "aws (Registry(..., aws='<account>.dkr.ecr.<region>.amazonaws.com/<prefix>')) or an ECR image",
        "web.image: 'Web:1': repository 'Web' is not a valid name (lowercase, / separated)",
    ]


DIGEST = "sha256:" + "7" * 64


def test_unpinned_images_lists_every_compute_without_a_digest() -> None:
    spec = (alien.Stack("app", images=alien.Registry("ghcr.io/acme")).platforms("azure")
            .add(alien.Storage("data"), "frozen")
            .add(alien.Container("worker", image="worker:1"), "frozen")
            .add(alien.Container("web", image="web:2"), "live")
            .add(alien.Container("tagged", image=f"web:2@{DIGEST}"), "frozen")
            .add(alien.Container("bare", image=f"web@{DIGEST}"), "live")
            .add(alien.Container("local", image="127.0.0.1:5000/acme/job:3"), "frozen")
            .add(alien.Container("hub", image="nginx"), "live").build())
    # frozen and live alike, in the stack's order, as written; a host's port is no digest, no tag is `latest`
    assert unpinned_images(spec) == [("worker", "worker:1"), ("web", "web:2"), ("local", "127.0.0.1:5000/acme/job:3"),
                                     ("hub", "nginx")]


def test_a_fully_pinned_stack_has_no_unpinned_image() -> None:
    spec = (alien.Stack("app").platforms("azure")
            .add(alien.Container("worker", image=f"ghcr.io/acme/worker:1@{DIGEST}"), "frozen")
            .add(alien.Container("web", image=f"ghcr.io/acme/web@{DIGEST}"), "live")
            .add(alien.Queue("jobs"), "live").build())
    assert unpinned_images(spec) == []
