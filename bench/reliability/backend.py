"""The backend as a child process (`python -m dispatch serve|demo`), killed and restarted.

It always listens on the same port (chosen once), so clients reconnect to one URL as they do
to a real backend, and writes its log to a file of its own whose lines tell the start-up
phase a kill landed in (migrations, district load, serving, the simulator's catch-up).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.children import stop_process

ROOT = Path(__file__).resolve().parents[2]

# Start-up phases by the log line that opens them, in the order they come ("start" before
# any: the interpreter, the imports, the claim on the database). The district's load and
# the demo users follow the migrations without a line of their own (startup.py tells them
# apart by the schema's revision).
PHASES = (
    ("migration", "Running upgrade"),
    ("reference", " ready in "),  # demo: prepared; the reference data loads, then it listens
    ("serving", "dispatch.server: serving "),
    ("catch-up", "simulator running"),
    ("live", "simulator caught up"),
)
# What a second backend on a database held by a killed one may say for a moment (the
# PostgreSQL session of the dead process has not ended yet): try again.
_STILL_HELD = "another dispatch backend is serving"


class BackendFailed(RuntimeError):
    """The backend did not start (its log's tail says why)."""


def free_port() -> int:
    """A TCP port free on the loopback interface now, below the kernel's ephemeral range: a
    port handed out for `bind(0)` or an outgoing connection elsewhere could be taken while
    the backend is down between a kill and its restart."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(10_000, max(low, 10_001))
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")


def phase_of(log_text: str) -> str:
    """The start-up phase a backend was in, judged by the last phase line of its log text
    ("start" before any: the interpreter, the imports, the claim)."""
    phase = "start"
    for line in log_text.splitlines():
        for name, marker in PHASES:
            if marker in line:
                phase = name
    return phase


@dataclass
class Backend:
    """One database served by a succession of child processes on one port."""

    url: str
    data: Path  # $TONGGUAN_DATA: the demo's tokens, the log, the ready file
    command: str = "serve"  # or "demo"
    extra: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    kills: int = 0
    start_times: list[float] = field(default_factory=list)  # seconds from spawn to ready

    def __post_init__(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)

    @property
    def ws_url(self) -> str:
        """Where clients connect."""
        return f"ws://127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        """The children's log, appended to by each (rotated by size by the backend)."""
        return self.data / "backend.log"

    @property
    def ready_file(self) -> Path:
        """Written by a child once it listens."""
        return self.data / "ready.json"

    def argv(self) -> list[str]:
        """The child's command line."""
        return [
            sys.executable,
            "-m",
            "dispatch",
            "--url",
            self.url,
            self.command,
            "--port",
            str(self.port),
            "--ready-file",
            str(self.ready_file),
            "--log-file",
            str(self.log_file),
            # Our end of its stdin closes when we end, however we end: then so does it.
            "--exit-with-parent",
            *self.extra,
        ]

    def spawn(self) -> subprocess.Popen[bytes]:
        """Start a child without waiting for it to listen."""
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("a backend child is running already")
        with contextlib.suppress(FileNotFoundError):
            self.ready_file.unlink()  # a killed child leaves its own behind
        env = dict(os.environ, TONGGUAN_DATA=str(self.data), PYTHONUNBUFFERED="1")
        env.pop("TONGGUAN_DB_URL", None)
        self.proc = subprocess.Popen(
            self.argv(),
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.starts += 1
        return self.proc

    def start(self, timeout: float = 120.0) -> float:
        """Spawn a child and wait until it listens; return how long that took (seconds).

        A child that stops at once because the database is still held by the one killed
        before (PostgreSQL ends a dead client's session a moment later) is started again."""
        began = time.monotonic()
        deadline = began + timeout
        while True:
            mark = self.log_size()
            proc = self.spawn()
            while time.monotonic() < deadline:
                if self._ready(proc.pid):
                    took = time.monotonic() - began
                    self.start_times.append(took)
                    return took
                if proc.poll() is not None:
                    break
                time.sleep(0.01)
            else:
                self.kill()
                raise BackendFailed(f"not listening after {timeout:.0f} s: {self.log_tail()}")
            self._release(proc)
            said = self.log_text(mark)
            if _STILL_HELD in said and time.monotonic() < deadline:
                time.sleep(0.2)
                continue
            raise BackendFailed(f"exited with {proc.returncode}: {self.log_tail()}")

    def _ready(self, pid: int) -> bool:
        try:
            doc = json.loads(self.ready_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return bool(doc.get("pid") == pid)

    def kill(self) -> None:
        """SIGKILL the child (as `kill -9`) and reap it."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            if proc is not None:
                self._release(proc)
            return
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self._release(proc)
        self.kills += 1

    def stop(self, timeout: float = 30.0) -> int | None:
        """SIGTERM the child (a clean stop) and reap it; its exit status."""
        proc = self.proc
        if proc is None:
            return None
        stop_process(proc, timeout)
        self._release(proc)
        return proc.returncode

    @staticmethod
    def _release(proc: subprocess.Popen[bytes]) -> None:
        if proc.stdin is not None and not proc.stdin.closed:
            proc.stdin.close()

    def alive(self) -> bool:
        """Whether the child is running."""
        return self.proc is not None and self.proc.poll() is None

    def log_size(self) -> int:
        """The log's size now, to read what a child writes from here on."""
        try:
            return self.log_file.stat().st_size
        except OSError:
            return 0

    def log_text(self, since: int = 0) -> str:
        """The log from byte `since` (a rotation meanwhile: the whole new file)."""
        try:
            data = self.log_file.read_bytes()
        except OSError:
            return ""
        return data[since:].decode("utf-8", "replace") if since <= len(data) else data.decode()

    def log_tail(self, lines: int = 15) -> str:
        """The last lines of the log, for failure messages."""
        return "\n".join(self.log_text().splitlines()[-lines:])

    def wait_for_line(
        self, markers: str | Sequence[str], since: int, timeout: float, poll: float = 0.005
    ) -> str:
        """Wait until a line containing one of `markers` is logged after byte `since`; the
        marker seen ("" if the child exits or the time runs out first)."""
        wanted = [markers] if isinstance(markers, str) else list(markers)
        deadline = time.monotonic() + timeout
        while True:
            text = self.log_text(since)
            seen = next((m for m in wanted if m in text), "")
            if seen or not self.alive() or time.monotonic() >= deadline:
                return seen
            time.sleep(poll)
