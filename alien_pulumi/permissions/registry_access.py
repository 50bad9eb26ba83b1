"""The vendor's side of image pulls (DESIGN.md §4b): exactly what the vendor must allow on its own registry so that
one deployment's compute can pull its images, generated from the stack and the deployment context.

- AWS, per vendor ECR repository: repository policy statements. Lambda pulls with its service principal, so the
  statement names ``lambda.amazonaws.com`` with ``aws:SourceArn`` = the deployment's functions, plus the customer's
  account (CreateFunction / UpdateFunctionCode check the caller's access to the image; the customer's IAM narrows
  who); ECS pulls as the task execution role, which the statement names exactly.
- GCP, per vendor Artifact Registry repository: ``roles/artifactregistry.reader`` for the customer's Cloud Run
  service agent ``service-<project number>@serverless-robot-prod.iam.gserviceaccount.com``.
- Images pulled through a mirror or directly from a public registry need nothing but anonymous pull; they are listed
  so the vendor sees every image accounted for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from alien_pulumi.errors import ContextError
from alien_pulumi.model.context import DeploymentContext
from alien_pulumi.model.images import AR_HOST, ECR_HOST, GCR_HOST, Route, compute_pulls
from alien_pulumi.model.naming import resource_names
from alien_pulumi.model.spec import StackSpec
from alien_pulumi.model.types import Platform, ResourceType
from alien_pulumi.permissions.plan import profile_of

ECR_PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
ECS_PULL = [*ECR_PULL, "ecr:BatchCheckLayerAvailability"]
AR_READER = "roles/artifactregistry.reader"
GCR_LOCATIONS = {"gcr.io": "us", "us.gcr.io": "us", "eu.gcr.io": "europe", "asia.gcr.io": "asia"}
PROJECT_NUMBER = re.compile(r"^[1-9][0-9]{5,19}$")


@dataclass
class VendorGrant:
    """One thing to apply on the vendor's registry: an ECR repository policy or an Artifact Registry binding."""

    kind: str  # "ecr-repository-policy" | "artifact-registry-binding"
    registry: str
    repository: str
    resources: list[str]
    document: dict[str, Any]
    command: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "registry": self.registry, "repository": self.repository,
                "resources": self.resources, "document": self.document, "command": self.command}


@dataclass
class RegistryAccess:
    platform: Platform
    grants: list[VendorGrant] = field(default_factory=list)
    public: list[dict[str, str]] = field(default_factory=list)  # images that need anonymous pull only
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"platform": self.platform.value, "grants": [g.to_json() for g in self.grants],
                "public": self.public, "problems": self.problems}


def registry_access(spec: StackSpec, ctx: DeploymentContext, project_number: str | None = None) -> RegistryAccess:
    """What the vendor allows on its registry for the deployment ``ctx`` of ``spec``. GCP needs the customer
    project's number (its Cloud Run service agent is named by it; the context holds only the project id)."""
    access = RegistryAccess(ctx.platform)
    by_repo: dict[tuple[str, str], list[tuple[str, ResourceType, str]]] = {}
    for resource_id, pull in compute_pulls(spec, ctx.platform).items():
        res = spec.resource(resource_id)
        src = pull.source.in_region(ctx.region)
        if pull.route is not Route.DIRECT or not (ECR_HOST.match(src.host) or AR_HOST.match(src.host)
                                                  or GCR_HOST.match(src.host)):
            how = "through the deployment's mirror" if pull.route is not Route.DIRECT else "directly"
            access.public.append({"resource": resource_id, "image": str(src),
                                  "needs": f"anonymous pull from {src.host} ({how})"})
            continue
        # The unit the vendor grants on: an ECR repository (the whole path), an Artifact Registry repository
        # (<project>/<repo>), or a gcr.io project.
        parts = src.path.split("/")
        keep = len(parts) if ctx.platform is Platform.AWS else 1 if GCR_HOST.match(src.host) else 2
        repository = "/".join(parts[:keep])
        by_repo.setdefault((src.host, repository), []).append((resource_id, res.kind, profile_of(res)))
    for (host, repository), users in sorted(by_repo.items()):
        if ctx.platform is Platform.AWS:
            access.grants.append(_ecr_policy(ctx, host, repository, users, access.problems))
        else:
            access.grants.append(_ar_binding(ctx, host, repository, users, project_number))
    return access


def _ecr_policy(ctx: DeploymentContext, host: str, repository: str, users: list[tuple[str, ResourceType, str]],
                problems: list[str]) -> VendorGrant:
    match = ECR_HOST.match(host)
    assert match is not None
    statements: list[dict[str, Any]] = []
    functions = [rid for rid, kind, _ in users if kind is ResourceType.FUNCTION]
    containers = [(rid, profile) for rid, kind, profile in users if kind is ResourceType.CONTAINER]
    if functions:
        if match["region"] != ctx.region:
            problems.append(f"{', '.join(functions)}: {host}/{repository} is in {match['region']}, the deployment in "
                            f"{ctx.region}; Lambda pulls ECR images of its own region only (replicate the repository)")
        arns = [f"arn:{ctx.partition}:lambda:{ctx.region}:{ctx.account_id}:function:"
                f"{resource_names(Platform.AWS, ResourceType.FUNCTION, ctx.prefix, rid)['name']}" for rid in functions]
        statements.append({
            "Sid": _sid(ctx.prefix, "LambdaService"), "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"}, "Action": ECR_PULL,
            "Condition": {"StringLike": {"aws:SourceArn": arns}},
        })
        statements.append({
            "Sid": _sid(ctx.prefix, "LambdaDeployer"), "Effect": "Allow",
            "Principal": {"AWS": f"arn:{ctx.partition}:iam::{ctx.account_id}:root"}, "Action": ECR_PULL,
        })
    if containers:
        roles = sorted({f"arn:{ctx.partition}:iam::{ctx.account_id}:role/{ctx.identity(f'rt-{p}')}"
                        for _, p in containers})
        statements.append({
            "Sid": _sid(ctx.prefix, "EcsTasks"), "Effect": "Allow",
            "Principal": {"AWS": roles if len(roles) > 1 else roles[0]}, "Action": ECS_PULL,
        })
    document = {"Version": "2012-10-17", "Statement": statements}
    command = (f"merge these statements into the repository policy of {repository} "
               f"(aws ecr get-repository-policy / set-repository-policy --registry-id {match['account']} "
               f"--region {match['region']} --repository-name {repository})")
    return VendorGrant("ecr-repository-policy", host, repository, sorted(rid for rid, _, _ in users), document,
                       command)


def _ar_binding(ctx: DeploymentContext, host: str, repository: str, users: list[tuple[str, ResourceType, str]],
                project_number: str | None) -> VendorGrant:
    if project_number is None or not PROJECT_NUMBER.match(project_number):
        raise ContextError(f"project_number: the Cloud Run service agent of project {ctx.project} is named by the "
                           f"project's number (gcloud projects describe {ctx.project} --format='value(projectNumber)')"
                           f"; got {project_number!r}")
    member = f"serviceAccount:service-{project_number}@serverless-robot-prod.iam.gserviceaccount.com"
    ar = AR_HOST.match(host)
    project, _, repo = repository.partition("/")
    # gcr.io is served by the Artifact Registry repository named like the host, in its multi-region.
    location = ar["location"] if ar is not None else GCR_LOCATIONS.get(host, "us")
    repo = repo if ar is not None else host
    command = (f"gcloud artifacts repositories add-iam-policy-binding {repo} --project={project} "
               f"--location={location} --member={member} --role={AR_READER}")
    document = {"bindings": [{"role": AR_READER, "members": [member]}]}
    return VendorGrant("artifact-registry-binding", host, f"{project}/{repo}",
                       sorted(rid for rid, _, _ in users), document, command)


def _sid(prefix: str, what: str) -> str:
    """Statement ids name the deployment, so one repository policy can hold every deployment's statements."""
    return "Alien" + "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", prefix)) + what
