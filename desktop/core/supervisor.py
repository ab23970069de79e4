"""Keeps the embedded backend alive: restarts it when it exits or stops answering.

Qt-free asyncio, on the GUI's loop. The wall (or the desk) starts its `EmbeddedBackend` once
through `start()`; `run()` then watches it for as long as the window lives: the process is
polled four times a second, and its `/health` answered every few seconds. A backend that
exited (a crash, `kill -9`) is started again at once; one that stopped answering (hung,
stopped) is killed first. A start that fails is tried again after 1, 2, 4 … 30 s. Once the
backend is healthy again the count starts afresh (the next failure is "第 1 次" again): when
the screen's session has been in on it for `settle` seconds (`link`: welcomed, its state
shown), or, without a session, when it has stayed up for `stable` seconds.

It comes back on the same port when it can (the sessions and a desk sharing it find it where
it was), else on a new one: `on_state` hears every step, with the URL once it is ready. The
database, and with it the stream's epoch and sequence, persists across restarts: the
sessions resume where they were, or take a fresh snapshot. A demo whose clock is not real
time (`--speed`, `--start`) restarts its clock where the district was (`clock`), not where
it began.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from desktop.core.backend import BackendError, EmbeddedBackend
from desktop.core.district_time import local
from desktop.core.sign_in import alive, shared_backend

log = logging.getLogger("desktop.core.supervisor")

Phase = Literal["starting", "ready", "restarting"]
# Why a restart: "exited" (the process ended), "unresponsive" (it stopped answering),
# "failed" (the last restart did not come up).
Reason = Literal["", "exited", "unresponsive", "failed"]

POLL = 0.25  # seconds between looks at the process
PROBE_EVERY = 5.0  # seconds between health checks
PROBE_TIMEOUT = 5.0
MISSES = 3  # health checks missed in a row before the backend is taken for hung
SETTLE = 10.0  # seconds a session has been in after which a restart counts from 1 again
STABLE = 60.0  # seconds up (no session heard of) after which a restart counts from 1 again
MAX_BACKOFF = 30.0
READY_TIMEOUT = 120.0
FOLLOW_EVERY = 2.0  # seconds between looks for a shared backend while the link is down


@dataclass(frozen=True, slots=True)
class BackendState:
    """The embedded backend as the screens tell it: starting, ready, or restarting (attempt
    N since it last stayed up, and why)."""

    phase: Phase
    attempt: int = 0
    reason: Reason = ""
    url: str = ""
    token: str = field(default="", repr=False)  # never in a log
    exit_code: int | None = None


def backoff(attempt: int, cap: float = MAX_BACKOFF) -> float:
    """Seconds to wait before restart number `attempt`: none for the first, then 1, 2, 4 …
    up to `cap`."""
    return 0.0 if attempt <= 1 else min(cap, 2.0 ** (attempt - 2))


async def answers(url: str, timeout: float = PROBE_TIMEOUT) -> bool:  # noqa: ASYNC109
    """Whether the backend at a ws:// URL answers its /health within `timeout` seconds."""
    parts = urlsplit(url)
    if not parts.hostname or not parts.port:
        return False
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
            writer.write(
                b"GET /health HTTP/1.1\r\nHost: "
                + parts.netloc.encode()
                + b"\r\nConnection: close\r\n\r\n"
            )
            await writer.drain()
            status = await reader.readline()
        return status.split(b" ")[1:2] == [b"200"]
    except (OSError, TimeoutError, ValueError):
        return False
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


def port_of(url: str) -> int:
    """The port of a ws:// URL (0 when it has none)."""
    return urlsplit(url).port or 0


class Supervisor:
    """Starts an `EmbeddedBackend` and keeps it running (see the module's docstring).

    `on_state` is called on the loop at every step; `clock`, when given, is the district's
    time to restart a demo's simulated clock at (0 while unknown).
    """

    def __init__(
        self,
        backend: EmbeddedBackend,
        *,
        on_state: Callable[[BackendState], None] | None = None,
        clock: Callable[[], float] | None = None,
        probe_every: float = PROBE_EVERY,
        probe_timeout: float = PROBE_TIMEOUT,
        misses: int = MISSES,
        settle: float = SETTLE,
        stable: float = STABLE,
        max_backoff: float = MAX_BACKOFF,
        ready_timeout: float = READY_TIMEOUT,
    ) -> None:
        self.backend = backend
        self.on_state = on_state
        self.clock = clock
        self.probe_every = probe_every
        self.probe_timeout = probe_timeout
        self.misses = misses
        self.settle = settle
        self.stable = stable
        self.max_backoff = max_backoff
        self.ready_timeout = ready_timeout
        self.state = BackendState("starting")
        self.restarts = 0  # restarts that came up, over the whole run
        self.attempt = 0  # restart attempts since the backend last stayed up
        self._base_args = list(backend.args)
        self._up_since = 0.0  # time.monotonic() when the backend last came up
        self._linked_since: float | None = None  # ... and when the session got in on it

    # ---- the first start -------------------------------------------------------------------

    async def start(self, timeout: float = READY_TIMEOUT) -> tuple[str, str]:  # noqa: ASYNC109
        """Start the backend (unless already started) and wait until it serves; (url, token).

        A first start that fails raises BackendError: nothing was ever running, so there is
        nothing to heal (a data directory that cannot be used, another backend on it)."""
        self._tell(BackendState("starting"))
        if self.backend.pid is None:  # not spawned yet (the wall spawns it before Qt starts)
            self.backend.start()
        url, token = await self.backend.wait_ready(timeout)
        self._up(url, token)
        return url, token

    def link(self, up: bool) -> None:
        """The screen's session is in on the backend (welcomed, its state shown) or not.
        In for `settle` seconds, the backend is healthy again: a restart after that is a
        first one again (called on the loop's thread, as the session's status changes)."""
        if not up:
            self._linked_since = None
        elif self._linked_since is None:
            self._linked_since = time.monotonic()

    def healthy(self) -> bool:
        """Whether the backend has been well long enough for the restarts to count afresh:
        the session in on it for `settle` seconds, or it up for `stable` seconds."""
        now = time.monotonic()
        linked = self._linked_since
        # A session in since before the backend last came up was in on the old one.
        if linked is not None and linked >= self._up_since and now - linked >= self.settle:
            return True
        return now - self._up_since >= self.stable

    # ---- watching --------------------------------------------------------------------------

    async def run(self) -> None:
        """Watch the backend and restart it whenever it fails, until cancelled."""
        while True:
            reason = await self._watch()
            await self._restart(reason)

    async def _watch(self) -> Reason:
        """Return once the backend needs a restart, and why."""
        loop = asyncio.get_running_loop()
        backend = self.backend
        missed = 0
        next_probe = loop.time() + self.probe_every
        while True:
            await asyncio.sleep(POLL)
            if not backend.running:
                log.warning(
                    "the embedded backend exited (code %s); its log ends:\n%s",
                    backend.returncode,
                    backend.log_tail(),
                )
                return "exited"
            if self.attempt and self.healthy():
                log.info(
                    "the embedded backend is well again: restarts count afresh (were %d)",
                    self.attempt,
                )
                self.attempt = 0  # the next failure is a first one again
            now = loop.time()
            if now < next_probe:
                continue
            if await answers(backend.url, self.probe_timeout):
                missed = 0
            elif backend.running:
                missed += 1
                log.warning("the embedded backend did not answer (%d in a row)", missed)
                if missed >= self.misses:
                    log.error("the embedded backend stopped answering: killing it")
                    backend.kill()
                    return "unresponsive"
            next_probe = loop.time() + self.probe_every

    async def _restart(self, reason: Reason) -> None:
        """Start the backend again until it serves, with capped backoff between attempts."""
        backend = self.backend
        port = port_of(backend.url)
        code = backend.returncode
        while True:
            self.attempt += 1
            self._tell(BackendState("restarting", self.attempt, reason, exit_code=code))
            await asyncio.sleep(backoff(self.attempt, self.max_backoff))
            backend.port = port
            backend.args = self._base_args + self._clock_args()
            log.warning(
                "restarting the embedded backend (attempt %d, %s, port %s)",
                self.attempt,
                reason,
                port or "any",
            )
            try:
                backend.start()
                url, token = await backend.wait_ready(self.ready_timeout)
            except BackendError as exc:
                log.error("the embedded backend did not come back: %s\n%s", exc, exc.log_tail)
                if backend.running:
                    backend.kill()
                reason, code = "failed", backend.returncode
                port = 0  # the old port may be taken meanwhile: any port next time
                continue
            self.restarts += 1
            self._up(url, token)
            return

    # ---- helpers ---------------------------------------------------------------------------

    def _clock_args(self) -> list[str]:
        """`--start` at the district's time now, for a demo whose clock is not real time."""
        now = self.clock() if self.clock is not None else 0.0
        if not now:
            return []
        return ["--start", local(now).isoformat(timespec="seconds")]

    def _up(self, url: str, token: str) -> None:
        self._up_since = time.monotonic()
        self._tell(BackendState("ready", self.attempt, url=url, token=token))

    def _tell(self, state: BackendState) -> None:
        self.state = state
        if self.on_state is not None:
            try:
                self.on_state(state)
            except Exception:  # the screen's trouble must not end the healing
                log.exception("telling the screen about the backend (%s) failed", state.phase)


async def follow_shared(
    data_dir: Path,
    owner: int,
    *,
    connected: Callable[[], bool],
    url: Callable[[], str],
    moved: Callable[[str], None],
    take_over: Callable[[], Awaitable[str]],
    every: float = FOLLOW_EVERY,
) -> None:
    """Follow an embedded backend shared with another desktop (a desk on a wall's backend).

    While the link is down (`connected` false) look every `every` seconds: a backend
    serving `data_dir` at another URL than the session's (`url`) is where its desktop
    restarted it, so `moved(url)`; none while the desktop that ran it (`owner`) lives means
    it is being restarted; none and that desktop gone means nobody will: `take_over()`
    starts one of our own (its URL goes to `moved`), and this returns (the caller
    supervises it from then on). A take-over that fails is tried again at the next look."""
    while True:
        await asyncio.sleep(every)
        if connected():
            continue
        found = await asyncio.to_thread(shared_backend, data_dir)
        if found is not None:
            owner = found.owner
            if found.url != url():
                log.info("the shared backend is now on %s", found.url)
                moved(found.url)
            continue
        if alive(owner):
            continue  # its desktop is bringing it back
        log.warning("the desktop that ran the shared backend is gone: starting our own")
        try:
            mine = await take_over()
        except BackendError as exc:
            log.error("could not start an embedded backend: %s\n%s", exc, exc.log_tail)
            continue
        moved(mine)
        return
