"""The engine tests' stack: a frozen queue and table, a live function linked to both."""

import alien_pulumi as alien

jobs = alien.Queue("jobs", visibility_timeout_s=30)
cache = alien.Kv("cache")
api = alien.Function("api", image="ghcr.io/acme/api:1.4.2", memory_mb=512, links=[jobs, cache], permissions="app")

stack = (
    alien.Stack("small")
    .platforms("aws", "gcp", "azure")
    .add(jobs, "frozen").add(cache, "frozen").add(api, "live")
    .permissions(profiles={"app": {"*": ["queue/data-write"]}})
    .build()
)
