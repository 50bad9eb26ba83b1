"""AWS Registry: the ECR pull-through cache rules the deployment's containers pull through (setup-owned).

One rule per credential-free upstream a container image comes from (ECR Public, Quay, registry.k8s.io),
prefix ``<prefix>-<alias>`` (``model.images.mirror_name``); ECS then pulls
``<account>.dkr.ecr.<region>.amazonaws.com/<prefix>-<alias>/<path>``, and its first pull of each image creates
the cached repository (the runtime role's registry/runtime set). Images already in the vendor's ECR are pulled
cross-account without a rule. Frozen: no release changes a rule, and management never pushes into the registry.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from alien_pulumi.components.base import AlienComponent, Env
from alien_pulumi.model.images import mirrors
from alien_pulumi.model.types import Lifecycle, Platform


class Registry(AlienComponent):
    cloud = Platform.AWS
    type_name = "Registry"

    def __init__(self, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("registry", Lifecycle.FROZEN, env, opts)
        self.rules = {
            mirror.name: aws.ecr.PullThroughCacheRule(
                self.child_name(mirror.name),
                ecr_repository_prefix=mirror.name,
                upstream_registry_url=mirror.upstream,
                opts=self.child_opts(),
            )
            for mirror in mirrors(env.spec, Platform.AWS, env.ctx.prefix)
        }
        self.register_outputs({"cache_rules": {name: rule.ecr_repository_prefix for name, rule in self.rules.items()}})
