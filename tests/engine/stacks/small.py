"""The engine tests' stack: a frozen queue and table, a live function linked to both."""

import alien_pulumi as alien

# The vendor's images: ghcr.io, replicated to its ECR for AWS; pinned by digest, so a release needs no registry.
IMAGES = alien.Registry("ghcr.io/acme", aws="111122223333.dkr.ecr.us-east-1.amazonaws.com/acme")
DIGEST = "sha256:" + "4" * 64

jobs = alien.Queue("jobs", visibility_timeout_s=30)
cache = alien.Kv("cache")
api = alien.Function("api", image=f"api:1.4.2@{DIGEST}", memory_mb=512, links=[jobs, cache], permissions="app")

stack = (
    alien.Stack("small", images=IMAGES)
    .platforms("aws", "gcp", "azure")
    .add(jobs, "frozen").add(cache, "frozen").add(api, "live")
    .permissions(profiles={"app": {"*": ["queue/data-write"]}})
    .build()
)
