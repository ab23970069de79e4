"""The embedded backend: `python -m dispatch demo` as a child process of the desktop.

Qt-free, and it imports nothing from `dispatch` (the desktop talks to the backend only over
the wire): it starts the backend's command line in its own process, on SQLite in the data
directory, with the simulator; it learns the bound port from a ready file the backend writes
once it listens (`--port 0 --ready-file F`), and reads the demo wall user's token from the
data directory's tokens/. The backend's stdin is a pipe from us: with `--exit-with-parent`
it shuts down cleanly when the pipe closes, which the kernel does when this process exits for
any reason, SIGKILL included. stop() closes the pipe for the same clean path, then waits.

The token is read from its file and returned; it is never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import platformdirs

log = logging.getLogger("desktop.core.backend")

# The directory holding the `dispatch` package (and `desktop`, `protocol`, `resources`).
PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOG_NAME = "backend.log"
TAIL_LINES = 15


class BackendError(RuntimeError):
    """The embedded backend could not be started or did not become ready."""

    def __init__(self, message: str, log_tail: str = "") -> None:
        super().__init__(f"{message}\n{log_tail}" if log_tail else message)
        self.log_tail = log_tail


def default_data_dir() -> Path:
    """The backend's own default: TONGGUAN_DATA, else the platform's user data directory."""
    return Path(os.environ.get("TONGGUAN_DATA") or platformdirs.user_data_dir("tongguan"))


class EmbeddedBackend:
    """`dispatch demo` on an embedded SQLite database in `data_dir`, as a child process.

    `args` are extra command-line options for `demo` (e.g. `["--speed", "60"]`); `env`
    overrides environment variables of the child. TONGGUAN_DB_URL is not inherited (the
    embedded backend must never run its simulator against a real database); pass it in
    `env` explicitly to override that.
    """

    def __init__(
        self,
        data_dir: Path | str | None = None,
        *,
        user: str = "demo-wall",
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        python: str = sys.executable,
    ) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self.user = user
        self.args = list(args)
        self.env = dict(env or {})
        self.python = python
        self.port = 0  # 0: any free port (a restart asks for the one it had)
        self.log_path = self.data_dir / LOG_NAME
        # Named after this (the desktop's) process: a second desktop on the same data dir, or
        # one left by a backend that was killed, is never mistaken for ours.
        self.ready_path = self.data_dir / f"backend-{os.getpid()}.ready.json"
        self.url = ""
        self.startup_seconds = 0.0  # from start() to ready, once ready
        self._proc: subprocess.Popen[bytes] | None = None
        self._started = 0.0

    # ---- state -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether the child process is alive (ready or not)."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """The child's process id, once started."""
        return self._proc.pid if self._proc is not None else None

    @property
    def returncode(self) -> int | None:
        """The child's exit code once it has exited, else None."""
        return self._proc.poll() if self._proc is not None else None

    def command(self) -> list[str]:
        """The child's command line."""
        return [
            self.python,
            "-m",
            "dispatch",
            "demo",
            "--port",
            str(self.port),
            "--ready-file",
            str(self.ready_path),
            "--exit-with-parent",
            # The backend writes its log (and stdout, stderr) there itself, mode 600, rotated
            # by size: a wall left running for months keeps at most a few files.
            "--log-file",
            str(self.log_path),
            *self.args,
        ]

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Spawn the backend and return at once; wait_ready() tells when it serves."""
        if self.running:
            raise BackendError(f"the embedded backend is already running (pid {self.pid})")
        if self._proc is not None and self._proc.stdin is not None:
            with contextlib.suppress(OSError):  # the pipe of one that ended by itself
                self._proc.stdin.close()
        try:
            self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                self.ready_path.unlink()  # a stale one from a backend that was killed
            # What the child says before its own log is set up (an import error) goes to
            # the same file, appended: the log rotates by size, not by start.
            log_file = open(  # noqa: SIM115 - handed to the child, closed below
                os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab"
            )
        except OSError as exc:
            raise BackendError(
                f"cannot use the data directory {self.data_dir}: {exc.strerror or exc}"
            ) from None
        env = dict(os.environ)
        env.pop("TONGGUAN_DB_URL", None)
        pythonpath = env.get("PYTHONPATH")
        env.update(
            TONGGUAN_DATA=str(self.data_dir),
            PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_ROOT), pythonpath])),
            PYTHONIOENCODING="utf-8",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.env)
        self.url = ""
        self.startup_seconds = 0.0
        self._started = time.monotonic()
        try:
            with log_file:
                self._proc = subprocess.Popen(  # noqa: S603 - our own fixed command line
                    self.command(),
                    stdin=subprocess.PIPE,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    cwd=PROJECT_ROOT,
                    env=env,
                    # Our terminal's Ctrl-C is ours to handle: stop() then ends the backend.
                    start_new_session=os.name == "posix",
                )
        except OSError as exc:
            raise BackendError(f"cannot start {self.python}: {exc.strerror or exc}") from None
        log.info("embedded backend starting (pid %d, data %s)", self._proc.pid, self.data_dir)

    async def wait_ready(self, timeout: float = 60) -> tuple[str, str]:  # noqa: ASYNC109
        """Wait until the backend listens; return (url, token) for the demo user.

        Raises BackendError, with the end of the backend's log, if the process exits first or
        `timeout` seconds pass (the process is then left running: call stop()).
        """
        proc = self._proc
        if proc is None:
            raise BackendError("the embedded backend was not started")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            url = self._ready_url()
            if url:
                token = self._token()
                self.url = url
                self.startup_seconds = time.monotonic() - self._started
                log.info("embedded backend ready on %s in %.1f s", url, self.startup_seconds)
                return url, token
            code = proc.poll()
            if code is not None:
                tail = self.log_tail()
                last = tail.rsplit("\n", 1)[-1].removeprefix("  | ").strip()
                raise BackendError(
                    f"the embedded backend exited with code {code} before it was ready"
                    + (f": {last}" if last else "")
                    + f" (log: {self.log_path})",
                    tail,
                )
            if loop.time() > deadline:
                raise BackendError(
                    f"the embedded backend was not ready after {timeout:g} s"
                    f" (log: {self.log_path})",
                    self.log_tail(),
                )
            await asyncio.sleep(0.02)  # the wall waits on this: look often (a stat)

    def stop(self, timeout: float = 5.0) -> int | None:
        """Close the backend's stdin (it shuts down cleanly), wait; then terminate, then kill.

        Blocks at most about `timeout` + 4 seconds. Returns the exit code (None if never
        started).
        """
        proc = self._proc
        if proc is None:
            return None
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("embedded backend did not stop in %g s: terminating it", timeout)
            proc.terminate()
            try:
                code = proc.wait(2)
            except subprocess.TimeoutExpired:
                log.warning("embedded backend ignored SIGTERM: killing it")
                proc.kill()
                code = proc.wait(2)
        with contextlib.suppress(OSError):  # normally the backend removed it itself
            self.ready_path.unlink()
        log.info("embedded backend stopped (exit code %s)", code)
        return code

    def kill(self) -> int | None:
        """End a backend that no longer answers at once (SIGKILL) and reap it; its exit code."""
        proc = self._proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(2)
        if proc.stdin is not None:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        return proc.poll()

    # ---- files -----------------------------------------------------------------------------

    def _ready_url(self) -> str:
        """The URL from the ready file, else ''.

        Not matched against the child's pid: a launcher (a Windows venv's python.exe) may
        run the interpreter as a grandchild. The file is ours: named for us, removed before
        start() spawns.
        """
        try:
            doc = json.loads(self.ready_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return ""
        if not isinstance(doc, dict):
            return ""
        url = doc.get("url")
        return url if isinstance(url, str) else ""

    def _token(self) -> str:
        path = self.data_dir / "tokens" / f"{self.user}.token"
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise BackendError(
                f"the embedded backend is up but its token file {path} cannot be read:"
                f" {exc.strerror or exc}"
            ) from None
        if not token:
            raise BackendError(f"the embedded backend's token file {path} is empty")
        return token

    def log_tail(self, lines: int = TAIL_LINES) -> str:
        """The last lines of the backend's log (for error messages)."""
        try:
            with self.log_path.open("rb") as handle:
                handle.seek(0, os.SEEK_END)
                handle.seek(max(0, handle.tell() - 16_384))
                text = handle.read().decode("utf-8", "replace")
        except OSError:
            return ""
        tail = [line for line in text.splitlines() if line.strip()][-lines:]
        return "\n".join(f"  | {line}" for line in tail)
