"""The quick-start stack: storage, queue, table, vault and network frozen; an API function and a web
container live, both running with the "app" runtime profile."""

import alien_pulumi as alien

# Images: the vendor publishes to ghcr.io (Cloud Run mirrors it through a remote repository, Container Apps
# pulls it directly) and replicates to its own ECR in every customer region for AWS (Lambda runs only ECR images
# of its own region; ECS pulls them cross-account). `alien-pulumi registry-access` prints what the vendor allows
# for each deployment.
IMAGES = alien.Registry("ghcr.io/acme", aws="111122223333.dkr.ecr.{region}.amazonaws.com/acme")

data = alien.Storage("data", versioning=True)
jobs = alien.Queue("jobs")
cache = alien.Kv("cache")
secrets = alien.Vault("secrets")
net = alien.Network("net")
api = alien.Function("api", image="api:1.4.2", memory_mb=512, links=[data, jobs], permissions="app")
web = alien.Container("web", image="web:2.0.0", cpu=0.5, memory_mb=1024, port=8080,
                      links=[cache], permissions="app", public=True)

stack = (
    alien.Stack("my-app", images=IMAGES)
    .platforms("aws", "gcp", "azure")
    .add(data, "frozen").add(jobs, "frozen").add(cache, "frozen").add(secrets, "frozen").add(net, "frozen")
    .add(api, "live").add(web, "live")
    .permissions(
        profiles={"app": {"data": ["storage/data-read", "storage/data-write"], "*": ["queue/data-write"]}},
        management={"extend": {"api": ["function/provision"]}},
    )
    .build()
)
