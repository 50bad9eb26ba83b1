"""AWS Vault: a Secrets Manager name prefix, ``<prefix>-<id>/``. It declares no cloud resource.

The programs never create a secret (that would put a secret's existence, and with a version its value,
in Pulumi state): the application creates and reads its secrets under the prefix with its runtime
identity (vault/data-write, vault/data-read), and the vault sets bind every permission to
``secret:<prefix>-<id>/*``. So the component is that prefix: outputs and the environment variable
linked compute receives. Health is the project's own DescribeSecret/ListSecrets (vault/heartbeat).
"""

from __future__ import annotations

import pulumi

from alien_pulumi.components.base import Env, ResourceComponent
from alien_pulumi.model.resources import VaultSpec
from alien_pulumi.model.types import Platform, ResourceType


class Vault(ResourceComponent):
    cloud = Platform.AWS
    type_name = "Vault"
    kind = ResourceType.VAULT

    def __init__(self, res: VaultSpec, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(res, env, opts)
        ctx = env.ctx
        self.secret_prefix = f"{self.names['name']}/"
        # The ARN pattern the vault's grants are bound to (the 6-character suffix AWS appends is why *).
        self.arn_pattern = (f"arn:{ctx.partition}:secretsmanager:{ctx.region}:{ctx.account_id}:"
                            f"secret:{self.secret_prefix}*")
        self.link_env = {self.env_key("SECRET_PREFIX"): self.secret_prefix}
        self.register_outputs({"secret_prefix": self.secret_prefix, "arn_pattern": self.arn_pattern})
