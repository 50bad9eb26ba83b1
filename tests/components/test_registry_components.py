"""Image mirrors under mocks with the real SDK classes (DESIGN.md §4b): the cache rule (AWS) and remote repository
(GCP) exist, are setup-owned (protected, ignored by releases, never targeted), compute runs the customer-side
image URI, and the permission layers hold the mirrors' sets (provisioning creates and reads, runtime pulls)."""

from __future__ import annotations

from functools import cache

import alien_pulumi as alien
from alien_pulumi.synth import SynthResult, synth
from alien_pulumi.synth.graph import Node

ECR = "111122223333.dkr.ecr.us-east-1.amazonaws.com"
CACHE_RULE = "aws:ecr/pullThroughCacheRule:PullThroughCacheRule"
REPOSITORY = "gcp:artifactregistry/repository:Repository"


@cache
def aws_result() -> SynthResult:
    spec = (alien.Stack("img", images=alien.Registry(aws=f"{ECR}/acme")).platforms("aws")
            .add(alien.Function("api", image="api:1.4.2"), "live")
            .add(alien.Container("proxy", image="public.ecr.aws/nginx/nginx:1.27"), "live")
            .add(alien.Container("web", image="web:2.0.0"), "live").build())
    return synth(spec, alien.DeploymentContext.example_context("aws", spec.name, prefix="acme-img",
                                                               account_id="444455556666", region="us-east-1"))


@cache
def gcp_result() -> SynthResult:
    spec = (alien.Stack("img", images=alien.Registry("ghcr.io/acme")).platforms("gcp")
            .add(alien.Function("api", image="api:1.4.2"), "live")
            .add(alien.Container("db", image="docker.io/library/postgres:16"), "frozen").build())
    return synth(spec, alien.DeploymentContext.example_context("gcp", spec.name, prefix="acme-img",
                                                               project="cust-prod-1", region="us-central1"))


def of_type(graph_nodes: list[Node], type_: str) -> list[Node]:
    return [n for n in graph_nodes if n.type == type_]


def test_aws_cache_rule_for_the_credential_free_upstream_only() -> None:
    result = aws_result()
    [rule] = of_type(list(result.provision.nodes.values()), CACHE_RULE)
    assert rule.inputs["ecrRepositoryPrefix"] == "acme-img-ecrp"
    assert rule.inputs["upstreamRegistryUrl"] == "public.ecr.aws"
    [component] = [c for c in result.provision.components() if c.urn == rule.parent]
    assert component.type == "alien:aws:Registry"


def test_aws_compute_runs_the_customer_side_uri() -> None:
    nodes = list(aws_result().provision.nodes.values())
    [fn] = of_type(nodes, "aws:lambda/function:Function")
    assert fn.inputs["imageUri"] == f"{ECR}/acme/api:1.4.2"  # Lambda: the vendor's ECR, cross-account
    images = {str(t.inputs["family"]): str(t.inputs["containerDefinitions"])
              for t in of_type(nodes, "aws:ecs/taskDefinition:TaskDefinition")}
    assert "444455556666.dkr.ecr.us-east-1.amazonaws.com/acme-img-ecrp/nginx/nginx:1.27" in images["acme-img-proxy"]
    assert f"{ECR}/acme/web:2.0.0" in images["acme-img-web"]


def test_mirrors_are_setup_owned_in_both_programs() -> None:
    for result, type_ in ((aws_result(), CACHE_RULE), (gcp_result(), REPOSITORY)):
        [provision] = of_type(list(result.provision.nodes.values()), type_)
        [manage] = of_type(list(result.manage.nodes.values()), type_)
        assert provision.urn == manage.urn
        assert provision.options.protect and provision.options.retain_on_delete
        assert not provision.options.ignore_changes
        assert manage.options.protect and manage.options.ignore_changes == ("*",)
        assert manage.urn not in result.targets


def test_aws_layers_create_read_and_pull_through_the_cache() -> None:
    plan = aws_result().plan
    assert {"ecr:CreatePullThroughCacheRule", "ecr:DescribePullThroughCacheRules",
            "ecr:DeletePullThroughCacheRule"} <= plan.provisioning.actions()
    assert not {a for a in plan.management.actions() if "PullThroughCacheRule" in a}  # setup-owned, not refreshed
    assert not {"ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:CreateRepository"} & plan.management.actions()
    runtime = plan.runtime["default"]
    cached = "arn:aws:ecr:us-east-1:444455556666:repository/acme-img-ecrp/nginx/nginx"
    pulls = {r for g in runtime.grants if "ecr:BatchGetImage" in g.actions for r in g.resources}
    assert pulls == {cached, "arn:aws:ecr:us-east-1:111122223333:repository/acme/web"}
    imports = {r for g in runtime.grants if "ecr:BatchImportUpstreamImage" in g.actions for r in g.resources}
    assert imports == {cached}  # only the compute that pulls through the cache


def test_gcp_remote_repository_for_ghcr_and_docker_hub_direct() -> None:
    result = gcp_result()
    [repo] = of_type(list(result.provision.nodes.values()), REPOSITORY)
    assert (repo.inputs["repositoryId"], repo.inputs["mode"], repo.inputs["format"]) == (
        "acme-img-ghcr-io", "REMOTE_REPOSITORY", "DOCKER")
    config: dict = repo.inputs["remoteRepositoryConfig"]  # type: ignore[assignment]
    assert config["dockerRepository"]["customRepository"]["uri"] == "https://ghcr.io"
    images = {str(s.inputs["name"]): s.inputs["template"]["containers"][0]["image"]  # type: ignore[index]
              for s in of_type(list(result.provision.nodes.values()), "gcp:cloudrunv2/service:Service")}
    assert images == {"acme-img-api": "us-central1-docker.pkg.dev/cust-prod-1/acme-img-ghcr-io/acme/api:1.4.2",
                      "acme-img-db": "docker.io/library/postgres:16"}
    plan = result.plan
    assert {"artifactregistry.repositories.create", "artifactregistry.repositories.get"} <= \
        plan.provisioning.actions()
    assert not {a for a in plan.management.actions() if a.startswith("artifactregistry.")}


def test_no_mirror_no_registry_component() -> None:
    spec = (alien.Stack("plain").platforms("azure")
            .add(alien.Container("web", image="ghcr.io/acme/web:1"), "live").build())
    result = synth(spec, alien.DeploymentContext.example_context("azure", spec.name))
    assert not [c for c in result.provision.components() if c.type.endswith(":Registry")]
    assert "registry/provision" not in result.plan.provisioning.set_ids()
