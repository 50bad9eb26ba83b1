"""GCP Registry: the Artifact Registry remote repositories Cloud Run pulls mirrored images from (setup-owned).

One Docker remote repository per upstream Cloud Run cannot pull itself (anything but Artifact Registry, gcr.io
and Docker Hub), id ``<prefix>-<host>`` (``model.images.mirror_name``) in the deployment's region; Cloud Run
then pulls ``<region>-docker.pkg.dev/<project>/<id>/<path>`` with its service agent, which reads repositories of
its own project. The upstream is read anonymously: no credential of the vendor is stored in the customer's
project. Frozen: no release changes a repository, and management never pushes into one.
"""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from alien_pulumi.components.base import AlienComponent, Env
from alien_pulumi.model.images import mirrors
from alien_pulumi.model.types import Lifecycle, Platform


class Registry(AlienComponent):
    cloud = Platform.GCP
    type_name = "Registry"

    def __init__(self, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("registry", Lifecycle.FROZEN, env, opts)
        ar = gcp.artifactregistry
        self.repositories = {
            mirror.name: ar.Repository(
                self.child_name(mirror.name),
                repository_id=mirror.name,
                project=env.ctx.project,
                location=env.ctx.gcp_region,
                format="DOCKER",
                mode="REMOTE_REPOSITORY",
                description=f"{env.spec.name}: mirror of {mirror.upstream}",
                remote_repository_config=ar.RepositoryRemoteRepositoryConfigArgs(
                    description=mirror.upstream,
                    docker_repository=ar.RepositoryRemoteRepositoryConfigDockerRepositoryArgs(
                        custom_repository=ar.RepositoryRemoteRepositoryConfigDockerRepositoryCustomRepositoryArgs(
                            uri=f"https://{mirror.upstream}"),
                    ),
                ),
                labels=self.tags,
                opts=self.child_opts(),
            )
            for mirror in mirrors(env.spec, Platform.GCP, env.ctx.prefix)
        }
        self.register_outputs({"repositories": {name: repo.name for name, repo in self.repositories.items()}})
