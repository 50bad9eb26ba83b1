"""Event pipeline: a public ingest endpoint queues events, a worker batches them into object storage.

The queue, bucket and index table hold the customer's data, so they are frozen: created once at setup,
monitored only. The two functions get new code every release, so they are live.
"""

import alien_pulumi as alien

# Images: the vendor publishes to ghcr.io (Cloud Run mirrors it through a remote repository, Container Apps
# pulls it directly) and replicates to its own ECR in every customer region for AWS (Lambda runs only ECR images
# of its own region; ECS pulls them cross-account). `alien-pulumi registry-access` prints what the vendor allows
# for each deployment.
IMAGES = alien.Registry("ghcr.io/acme", aws="111122223333.dkr.ecr.{region}.amazonaws.com/acme")

events = alien.Queue("events", visibility_timeout_s=120, message_retention_s=604_800)
archive = alien.Storage("archive", versioning=True, retention_days=365)
index = alien.Kv("index")

ingest = alien.Function(
    "ingest",
    image="pipeline-ingest:3.2.0",
    memory_mb=256,
    timeout_s=10,
    public=True,
    links=[events],
    permissions="ingest",
    environment={"LOG_LEVEL": "info"},
)
worker = alien.Function(
    "worker",
    image="pipeline-worker:3.2.0",
    memory_mb=1024,
    timeout_s=300,
    triggers=[alien.on_queue(events, batch_size=10)],
    links=[archive, index],
    permissions="worker",
)
compactor = alien.Function(
    "compactor",
    image="pipeline-compactor:3.2.0",
    memory_mb=2048,
    timeout_s=900,
    triggers=[alien.on_schedule("0 3 * * *")],
    links=[archive],
    permissions="worker",
)

stack = (
    alien.Stack("event-pipeline", images=IMAGES)
    .platforms("aws", "gcp", "azure")
    .add(events, "frozen")
    .add(archive, "frozen")
    .add(index, "frozen")
    .add(ingest, "live")
    .add(worker, "live")
    .add(compactor, "live")
    .permissions(
        profiles={
            "ingest": {"events": ["queue/data-write"]},
            "worker": {"events": ["queue/data-read"], "archive": ["storage/data-read", "storage/data-write"]},
        },
    )
    .build()
)
