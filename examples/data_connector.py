"""A data connector: syncs the customer's systems into the vendor's product from inside their account.

The change-data-capture agent is a long-running container that must never restart: frozen, although it is
compute. The sync function and its schedule change with every release: live. The vendor may also add new
sync functions without the admin, so the stack opts the management identity into `function/provision`.
"""

import alien_pulumi as alien

# Images: the vendor publishes to ghcr.io (Cloud Run mirrors it through a remote repository, Container Apps
# pulls it directly) and replicates to its own ECR in every customer region for AWS (Lambda runs only ECR images
# of its own region; ECS pulls them cross-account). `alien-pulumi registry-access` prints what the vendor allows
# for each deployment.
IMAGES = alien.Registry("ghcr.io/acme", aws="111122223333.dkr.ecr.{region}.amazonaws.com/acme")

credentials = alien.Vault("credentials")
staging = alien.Storage("staging", retention_days=14)
cursor = alien.Kv("cursor")

cdc = alien.Container(
    "cdc",
    image="connector-cdc:1.0.7",
    cpu=0.25,
    memory_mb=512,
    port=8080,
    min_replicas=1,
    max_replicas=1,
    links=[credentials, staging],
    permissions="connector",
)
sync = alien.Function(
    "sync",
    image="connector-sync:2.3.1",
    memory_mb=512,
    timeout_s=600,
    triggers=[alien.on_schedule("*/15 * * * *")],
    links=[staging, cursor, credentials],
    permissions="connector",
)

stack = (
    alien.Stack("data-connector", images=IMAGES)
    .platforms("aws", "gcp")
    .add(credentials, "frozen")
    .add(staging, "frozen")
    .add(cursor, "frozen")
    .add(cdc, "frozen")
    .add(sync, "live")
    .permissions(
        profiles={"connector": {"credentials": ["vault/data-read"], "*": ["storage/data-write"]}},
        management={"extend": {"*": ["function/provision"]}},
    )
    .build()
)
