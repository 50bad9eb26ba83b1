"""Rollouts and heartbeats on Temporal: a workflow per rollout, an activity per deployment run, workers on
any number of machines (``alien-pulumi worker --temporal HOST:PORT``). The local executor stays the default;
these modules are imported only when ``--temporal`` is given."""
