"""moto in server mode on loopback, shared by every test that needs a real AWS API (IAM enforcement, S3, KMS, STS)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

from moto import settings as moto_settings
from moto.server import ThreadedMotoServer


@contextlib.contextmanager
def moto_server(*, enforce_iam: bool = False, reset: Iterable[Any] = ()) -> Iterator[str]:
    """Yield the endpoint URL of a moto server. ``enforce_iam`` checks every request against IAM from the first
    one; ``reset`` names moto backends to empty before and after (they are process-wide: nothing leaks into other
    test modules)."""
    backends = tuple(reset)
    for backend in backends:
        backend.reset()
    old = moto_settings.INITIAL_NO_AUTH_ACTION_COUNT
    if enforce_iam:
        moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = old
        for backend in backends:
            backend.reset()
