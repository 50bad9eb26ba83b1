"""A Temporal worker: polls a task queue for rollout and heartbeat workflows and for deployment runs, on any
number of machines. Every run still gets its own process (the local executor's worker) with the scrubbed
management environment; ``parallel`` bounds the runs this worker executes at once.

SIGTERM or Ctrl-C stop polling and wait for the runs in flight to end (they are never interrupted)."""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta
from pathlib import Path

from temporalio.worker import Worker

from alien_pulumi.fleet.temporal.activities import Activities
from alien_pulumi.fleet.temporal.client import TemporalSettings, connect
from alien_pulumi.fleet.temporal.workflows import HeartbeatWorkflow, RolloutWorkflow

DRAIN = timedelta(hours=3)  # how long a stopping worker waits for its runs in flight
HEARTBEAT_THROTTLE = timedelta(seconds=1)


async def serve(settings: TemporalSettings, state: Path, parallel: int = 4, executor: str = "process",
                ready: asyncio.Event | None = None, stop: asyncio.Event | None = None) -> None:
    """Run a worker until ``stop`` is set (or SIGTERM / SIGINT)."""
    client = await connect(settings)
    activities = Activities(state, parallel, executor)
    worker = Worker(client, task_queue=settings.task_queue, workflows=[RolloutWorkflow, HeartbeatWorkflow],
                    activities=activities.all(), max_concurrent_activities=parallel, graceful_shutdown_timeout=DRAIN,
                    # Runs go to whichever worker has a free slot, not first to the one running the workflow.
                    disable_eager_activity_execution=True,
                    # The SDK sends heartbeats at most every 0.8 x the heartbeat timeout: a busy machine that delays
                    # one by the remaining fifth loses a live run to a retry. Send each as the activity beats.
                    max_heartbeat_throttle_interval=HEARTBEAT_THROTTLE)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread, or Windows
            pass
    async with worker:
        if ready is not None:
            ready.set()
        await stop.wait()
    activities.threads.shutdown(wait=True)
    activities.registry.close()


def run(settings: TemporalSettings, state: Path, parallel: int = 4, executor: str = "process",
        on_ready: str | None = None) -> None:
    """Blocking entry point of ``alien-pulumi worker``; prints ``on_ready`` once polling."""
    async def main() -> None:
        ready = asyncio.Event()
        task = asyncio.ensure_future(serve(settings, state, parallel, executor, ready))
        waiter = asyncio.ensure_future(ready.wait())
        await asyncio.wait([task, waiter], return_when=asyncio.FIRST_COMPLETED)
        if ready.is_set() and on_ready:
            print(on_ready, flush=True)
        await task
    asyncio.run(main())
