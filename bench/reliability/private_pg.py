"""A PostgreSQL cluster of a test's or a benchmark's own (initdb in a temporary directory,
its own port), so that restarting it under load leaves the server at 127.0.0.1:5432 alone.

Run as root (CI), the cluster belongs to the `postgres` account, as the packaged one does.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


class NoPostgres(RuntimeError):
    """PostgreSQL's server programs (initdb, pg_ctl) are not installed here."""


def available() -> bool:
    """Whether PostgreSQL's server programs are installed."""
    try:
        _bin("initdb")
    except NoPostgres:
        return False
    return True


def _bin(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if found is None:
        raise NoPostgres(f"PostgreSQL's {name} is not installed")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PrivatePostgres:
    """One cluster: its directory, port and the account that runs it."""

    directory: Path
    port: int
    user: str | None  # run as this account (root may not run PostgreSQL), or as ourselves
    host: str = "127.0.0.1"  # the one address it listens on
    # A network namespace it runs in (bench/reliability/netns.py: another "machine"); its
    # programs (pg_ctl, psql, ...) are run inside it.
    netns: str | None = None

    @property
    def url(self) -> str:
        """The test database's SQLAlchemy URL."""
        return f"postgresql+psycopg://postgres@{self.host}:{self.port}/test"

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = ["runuser", "-u", self.user, "--", *argv] if self.user else list(argv)
        if self.netns:
            command = ["ip", "netns", "exec", self.netns, *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120)

    def start(self, settings: str = "") -> None:
        """Start it and wait until it answers (`settings`: more `-c name=value` options)."""
        options = f"-p {self.port} -c listen_addresses={self.host} -c unix_socket_directories="
        options = f"{options} {settings}".strip()
        self._run(
            _bin("pg_ctl"),
            "-D",
            str(self.directory / "data"),
            "-o",
            options,
            "-w",
            "-l",
            str(self.directory / "server.log"),
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop it (`fast`: sessions are ended, as a restart for maintenance does)."""
        self._run(
            _bin("pg_ctl"),
            "-D",
            str(self.directory / "data"),
            "-m",
            mode,
            "-w",
            "stop",
            check=False,
        )

    def restart(self, down: float = 0.0) -> float:
        """Stop it, wait `down` seconds, start it again; when it answered again (monotonic)."""
        self.stop()
        time.sleep(down)
        self.start()
        return time.monotonic()


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A fresh cluster with a `test` database, trust auth on 127.0.0.1, stopped and removed
    at the end. Its directory is a fresh one under /tmp that `postgres` may use (pytest's are
    mode 700, root's). NoPostgres without the server programs."""
    user = "postgres" if os.geteuid() == 0 else None
    tmp = Path(tempfile.mkdtemp(prefix="tg-pg-"))
    if user:
        shutil.chown(tmp, user)
    cluster = PrivatePostgres(tmp, _free_port(), user)
    try:
        cluster._run(
            _bin("initdb"),
            "-D",
            str(tmp / "data"),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        cluster.start()
        cluster._run(
            _bin("createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(cluster.port),
            "-U",
            "postgres",
            "test",
        )
        yield cluster
    finally:
        cluster.stop("immediate")
        shutil.rmtree(tmp, ignore_errors=True)
