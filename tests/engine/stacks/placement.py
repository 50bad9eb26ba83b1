"""The placement heartbeat tests' stack: a frozen network with NAT and a queue; a private container and a public
function, both live, running as profile ``app``."""

import alien_pulumi as alien

IMAGES = alien.Registry("ghcr.io/acme", aws="111122223333.dkr.ecr.us-east-1.amazonaws.com/acme")
DIGEST = "sha256:" + "5" * 64

net = alien.Network("net", nat=True)
jobs = alien.Queue("jobs", visibility_timeout_s=30)
worker = alien.Container("worker", image=f"worker:2.0.0@{DIGEST}", cpu=0.25, memory_mb=512, port=8080,
                         links=[jobs], permissions="app")
api = alien.Function("api", image=f"api:1.4.2@{DIGEST}", memory_mb=512, links=[jobs], permissions="app", public=True)

stack = (
    alien.Stack("placement", images=IMAGES)
    .platforms("aws", "gcp", "azure")
    .add(net, "frozen").add(jobs, "frozen").add(worker, "live").add(api, "live")
    .permissions(profiles={"app": {"*": ["queue/data-write"]}})
    .build()
)
