"""A SaaS API in the customer's account: network, storage and secrets are frozen; the containers are live.

The vendor ships a new API image every week without the customer's admin; the network, the bucket with
the customer's documents and the vault with their credentials never change after setup.
"""

import alien_pulumi as alien

# Images: the vendor publishes to ghcr.io (Cloud Run mirrors it through a remote repository, Container Apps
# pulls it directly) and replicates to its own ECR in every customer region for AWS (Lambda runs only ECR images
# of its own region; ECS pulls them cross-account). `alien-pulumi registry-access` prints what the vendor allows
# for each deployment.
IMAGES = alien.Registry("ghcr.io/acme", aws="111122223333.dkr.ecr.{region}.amazonaws.com/acme")

net = alien.Network("net", cidr="10.40.0.0/16", zones=2, nat=True)
documents = alien.Storage("documents", versioning=True)
secrets = alien.Vault("secrets")
sessions = alien.Kv("sessions")

api = alien.Container(
    "api",
    image="saas-api:5.14.0",
    cpu=1,
    memory_mb=2048,
    port=8080,
    min_replicas=2,
    max_replicas=10,
    public=True,
    health_check_path="/healthz",
    links=[documents, secrets, sessions],
    permissions="api",
    environment={"PORT": "8080"},
)
worker = alien.Container(
    "worker",
    image="saas-worker:5.14.0",
    cpu=0.5,
    memory_mb=1024,
    port=9090,
    min_replicas=1,
    max_replicas=4,
    links=[alien.read(documents)],  # reads the documents, never writes them
    permissions="worker",
)

stack = (
    alien.Stack("saas-api", images=IMAGES)
    .platforms("aws", "gcp", "azure")
    .add(net, "frozen")
    .add(documents, "frozen")
    .add(secrets, "frozen")
    .add(sessions, "frozen")
    .add(api, "live")
    .add(worker, "live")
    .permissions(
        profiles={
            "api": {"documents": ["storage/data-read", "storage/data-write"], "secrets": ["vault/data-read"]},
            "worker": {"documents": ["storage/data-read"]},
        },
    )
    .build()
)
