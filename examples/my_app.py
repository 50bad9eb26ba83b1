"""The quick-start stack: storage, queue, table, vault and network frozen; an API function and a web
container live, both running with the "app" runtime profile."""

import alien_pulumi as alien

data = alien.Storage("data", versioning=True)
jobs = alien.Queue("jobs")
cache = alien.Kv("cache")
secrets = alien.Vault("secrets")
net = alien.Network("net")
api = alien.Function("api", image="ghcr.io/acme/api:1.4.2", memory_mb=512, links=[data, jobs], permissions="app")
web = alien.Container("web", image="ghcr.io/acme/web:2.0.0", cpu=0.5, memory_mb=1024, port=8080,
                      links=[cache], permissions="app", public=True)

stack = (
    alien.Stack("my-app")
    .platforms("aws", "gcp", "azure")
    .add(data, "frozen").add(jobs, "frozen").add(cache, "frozen").add(secrets, "frozen").add(net, "frozen")
    .add(api, "live").add(web, "live")
    .permissions(
        profiles={"app": {"data": ["storage/data-read", "storage/data-write"], "*": ["queue/data-write"]}},
        management={"extend": {"api": ["function/provision"]}},
    )
    .build()
)
