"""A throwaway PostgreSQL cluster on loopback (Debian's postgresql package, tools/test-deps.sh installs it) for
the registry tests: initdb in a temporary directory, the server on a free port, a fresh database per test."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg

# The server refuses to run as root: as root, the cluster belongs to the package's own system user.
SERVER_USER = "postgres"
ROLE = "alien"


class PostgresError(RuntimeError):
    """The cluster could not be set up or started (the step and its output)."""


def _binaries() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise PostgresError("no initdb under /usr/lib/postgresql/*/bin: install Debian's postgresql package "
                            "(tools/test-deps.sh)")
    return found[-1].parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    directory: Path
    port: int
    run_as: list[str]

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://{ROLE}@127.0.0.1:{self.port}/postgres"

    def new_database(self) -> str:
        """A fresh, empty database: its URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://{ROLE}@127.0.0.1:{self.port}/{name}"

    def _run(self, step: str, *args: str) -> None:
        done = subprocess.run([*self.run_as, *args], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise PostgresError(f"{step} failed ({done.returncode}): {(done.stderr or done.stdout).strip()}")

    def stop(self) -> None:
        with contextlib.suppress(PostgresError, subprocess.TimeoutExpired):
            self._run("pg_ctl stop", str(_binaries() / "pg_ctl"), "-D", str(self.directory / "data"), "-m",
                      "immediate", "-w", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """Yield a running cluster (trust authentication for the role ``alien`` on 127.0.0.1 only); stopped and
    deleted afterwards."""
    bin_dir = _binaries()
    directory = Path(tempfile.mkdtemp(prefix="alien-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        account = pwd.getpwnam(SERVER_USER)
        os.chown(directory, account.pw_uid, account.pw_gid)
        run_as = ["runuser", "-u", SERVER_USER, "--"]
    server = PostgresServer(directory, _free_port(), run_as)
    try:
        data = directory / "data"
        server._run("initdb", str(bin_dir / "initdb"), "-D", str(data), "-U", ROLE, "-A", "trust", "--no-sync",
                    "-E", "UTF8")
        # Durability is not under test here: fsync off keeps a 2-core machine's disk out of the timings.
        options = (f"-c listen_addresses=127.0.0.1 -p {server.port} -k {directory} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        server._run("pg_ctl start", str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(directory / "log"),
                    "-o", options, "-w", "-t", "60", "start")
        yield server
    finally:
        server.stop()
