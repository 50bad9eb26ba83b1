"""Many deployments: the registry, rollouts, executors and the worker process."""
