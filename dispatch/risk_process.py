"""The deadline-risk model trained in a process of its own (issue 15 item 4, docs/kpis.md §8).

A training is seconds of numpy and Python over 30 days of cases; in a thread of the backend
it held the interpreter's lock that long (the event loop stalled 0.4-0.46 s at a time,
bench/RESULTS.md §13a). So each training runs the backend's own program again with a hidden
sub-command, `dispatch train-risk` (`python -m dispatch train-risk` from the source tree,
`tongguan -m dispatch train-risk` or `tongguan-dispatch -m dispatch train-risk` frozen: the
same command line as the desktop's embedded backend). It reads one JSON line on its stdin
(the store's URL and the training's time: a password in the URL never shows in `ps`), reads
the store on read-only connections of its own, and writes the fitted model to its stdout
(MAGIC, the length, the model's JSON: dispatch/risk_json.py, the form the writer also keeps
in the store for its standbys and gateways), then exits.

Plain `subprocess`, not `multiprocessing`: no resource tracker, no fork server, no
freeze_support, no threads in the backend (a pool's manager and feeder threads). The backend
starts it from its event loop's thread (Popen: a vfork and an exec) and waits for its answer
in its risk thread, which blocks in a read without the interpreter's lock.

It never outlives the backend: the backend kills and reaps it when it stops (clean, SIGTERM,
SIGINT); when the backend dies by SIGKILL, the worker's stdin (a pipe only the backend holds)
reaches EOF and a thread of the worker ends it at once; on Linux the kernel also sends it
SIGKILL when the thread that started it ends (PR_SET_PDEATHSIG). It ignores SIGINT: a Ctrl+C
in a terminal reaches the whole process group, and the backend decides when it ends.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import signal
import struct
import subprocess
import sys
import threading
from pathlib import Path

from dispatch import risk, risk_json
from dispatch.reference import ReferenceData
from dispatch.store.store import Store

COMMAND = "train-risk"  # the hidden sub-command (dispatch/cli.py main)
MAGIC = b"tongguan-risk-model 2\n"  # then the JSON's length (8 bytes, big-endian), the JSON
_LENGTH = struct.Struct(">Q")
PR_SET_PDEATHSIG = 1  # linux/prctl.h
# Added to the worker's niceness: on a machine with its cores busy the training waits, not
# the backend's event loop (its worst stall during a training 30-110 ms -> under 10 ms).
NICENESS = 10
EXIT_PARENT_GONE = 3  # the worker's exit status when its backend went first


class WorkerFailed(Exception):
    """The training process ended without a model: crashed, killed, or wrote garbage."""


def train_on(store: Store, reference: ReferenceData, now: float) -> risk.RiskModel | None:
    """A deadline-risk model from the store's last 30 days (and a few before, for the open
    load at their start); None with too little history. The one training both the worker
    and the backend's in-thread fallback run."""
    since = now - (risk.WINDOW_DAYS + 5) * risk.DAY
    events = list(store.events_reported(since, now + 1.0))
    return risk.train(events, reference, now)


def worker_command() -> list[str]:
    """The backend's own program with the hidden sub-command: `-m dispatch` works for the
    interpreter and for both frozen bundles' entries (packaging/entry/)."""
    return [sys.executable, "-m", "dispatch", COMMAND]


def _worker_env() -> dict[str, str]:
    """The backend's environment; from the source tree, the package's root on the path (the
    backend may have been started from another directory)."""
    env = dict(os.environ)
    if not getattr(sys, "frozen", False):
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


class RiskTrainer:
    """Trains in a process of its own: `start` on the event loop's thread, `collect` in a
    worker thread, `stop` when the backend stops."""

    def __init__(self, url: str, command: list[str] | None = None) -> None:
        self.url = url
        self.command = command or worker_command()
        self.pid = 0  # the training process's while one runs (tests watch it)
        self.started = 0  # how many training processes were started
        self._proc: subprocess.Popen[bytes] | None = None
        self._stopped = False

    def start(self, now: float) -> subprocess.Popen[bytes]:
        """Start a training process and hand it its request; OSError when it cannot be
        started (the caller trains in its own thread instead), WorkerFailed once stopped."""
        if self._stopped:  # not OSError: no training in the risk thread either
            raise WorkerFailed("the backend is stopping")
        proc = subprocess.Popen(  # noqa: S603 - our own program, a fixed command line
            self.command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=_worker_env(),
        )
        self._proc, self.pid = proc, proc.pid
        self.started += 1
        request = json.dumps({"url": self.url, "now": now})
        assert proc.stdin is not None
        try:  # a few hundred bytes: the pipe takes them at once, the loop does not wait
            proc.stdin.write(request.encode() + b"\n")
            proc.stdin.flush()
        except OSError:  # it died already: collect() says how
            pass
        return proc

    def collect(self, proc: subprocess.Popen[bytes]) -> risk.RiskModel | None:
        """Wait for the process's model (in a worker thread: the read blocks without the
        interpreter's lock); WorkerFailed when it crashed, was killed or wrote garbage."""
        assert proc.stdout is not None and proc.stdin is not None
        try:
            data = proc.stdout.read()
        finally:
            proc.stdout.close()
            with contextlib.suppress(OSError):  # it has written all it will, or died
                proc.stdin.close()
            code = proc.wait()
            if self._proc is proc:
                self._proc, self.pid = None, 0
        if code != 0:
            raise WorkerFailed(f"the training process {proc.pid} exited with status {code}")
        return decode(data, proc.pid)

    def stop(self) -> None:
        """Kill the training process under way, if any, and reap it; start no more."""
        self._stopped = True
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        proc.wait()


NO_MODEL = b"null"  # too little history for one


def encode(model: risk.RiskModel | None) -> bytes:
    """What the worker writes: MAGIC, the JSON's length, the model's JSON (or null)."""
    data = NO_MODEL if model is None else risk_json.dumps(model)
    return MAGIC + _LENGTH.pack(len(data)) + data


def decode(data: bytes, pid: int) -> risk.RiskModel | None:
    """The model a worker wrote; WorkerFailed for anything else."""
    head = len(MAGIC) + _LENGTH.size
    if not data.startswith(MAGIC) or len(data) < head:
        raise WorkerFailed(f"the training process {pid} wrote no model ({data[:40]!r})")
    (length,) = _LENGTH.unpack(data[len(MAGIC) : head])
    if len(data) != head + length:
        raise WorkerFailed(
            f"the training process {pid} wrote {len(data) - head} bytes of model, not {length}"
        )
    body = data[head:]
    if body == NO_MODEL:
        return None
    try:
        return risk_json.loads(body)
    except ValueError as exc:
        raise WorkerFailed(f"the training process {pid} wrote an unreadable model: {exc}") from exc


# ---- the worker's side -------------------------------------------------------------------


def _die_with_parent() -> None:
    """On Linux, SIGKILL from the kernel when the backend's thread that started us ends."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(AttributeError, OSError):  # no prctl: the stdin watch suffices
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _exit_at_eof() -> None:
    """In a thread of the worker: EOF on stdin means the backend is gone (or wants no more
    of this training); end the process at once, whatever it is doing."""
    try:
        while os.read(0, 4096):
            pass
    except OSError:
        pass
    os._exit(EXIT_PARENT_GONE)


def _read_line() -> bytes:
    """The request line from fd 0 (not sys.stdin: nothing buffered beyond it)."""
    line = b""
    while not line.endswith(b"\n"):
        chunk = os.read(0, 1)
        if not chunk:
            break
        line += chunk
    return line


def worker_main() -> int:
    """`dispatch train-risk`: one training, asked on stdin, the model on stdout."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    if hasattr(os, "nice"):  # not on Windows
        with contextlib.suppress(OSError):  # a sandbox that refuses it: trained all the same
            os.nice(NICENESS)
    logging.basicConfig(level=logging.ERROR, format="train-risk: %(levelname)s %(message)s")
    line = _read_line()
    if not line:
        return EXIT_PARENT_GONE
    request = json.loads(line)
    # Not a check of os.getppid(): a frozen program may be its bootloader's child. A backend
    # that died before the prctl took has closed the pipe: the watch sees EOF at once.
    threading.Thread(target=_exit_at_eof, name="parent-watch", daemon=True).start()
    from dispatch.app import load_reference

    now = float(request["now"])
    store = Store(str(request["url"]), read_only=True)
    try:
        # Read afresh each time, as the backend's own is: an admin may have changed the
        # category table since the backend started.
        model = train_on(store, load_reference(store, now), now)
    finally:
        store.close()
    out = memoryview(encode(model))
    while out:
        out = out[os.write(1, out) :]
    return 0
