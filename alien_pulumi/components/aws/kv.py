"""AWS Kv: one DynamoDB table, on demand, with a string partition key ``pk`` and sort key ``sk``.

No resource policy, no stream, no TTL attribute: nothing that reads or exports items, and nothing a
management update would need beyond the kv sets.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from alien_pulumi.components.base import Env, ResourceComponent
from alien_pulumi.model.resources import KvSpec
from alien_pulumi.model.types import Platform, ResourceType

PARTITION_KEY = "pk"
SORT_KEY = "sk"


class Kv(ResourceComponent):
    cloud = Platform.AWS
    type_name = "Kv"
    kind = ResourceType.KV

    def __init__(self, res: KvSpec, env: Env, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(res, env, opts)
        self.table = aws.dynamodb.Table(
            self.child_name("table"),
            name=self.names["name"],
            billing_mode="PAY_PER_REQUEST",
            hash_key=PARTITION_KEY,
            range_key=SORT_KEY,
            attributes=[{"name": PARTITION_KEY, "type": "S"}, {"name": SORT_KEY, "type": "S"}],
            tags=self.tags,
            opts=self.child_opts(),
        )
        self.link_env = {self.env_key("TABLE"): self.table.name}
        self.register_outputs({"name": self.table.name, "arn": self.table.arn})
