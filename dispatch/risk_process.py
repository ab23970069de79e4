"""The deadline-risk model trained in a process of its own (issue 15 item 4, docs/kpis.md §8).

A training is 8–17 s of numpy and Python over 30 days of cases; in a thread of the backend
it held the interpreter's lock that long, and the event loop's fan-out to the walls stalled
behind it. Here one worker process does it: it reads the store on a read-only connection of
its own (never the writer's) and sends the trained `RiskModel` back (pickled: its weights and
rate tables). The backend keeps scoring the open cases with it in its risk thread (cheap).

The worker is made with `spawn` (a fresh interpreter; never `fork` from a process with
threads: a lock another thread held at the fork stays held in the child for ever) as the
backend starts, and with it the pool's two threads in the backend (its manager and its
queue's feeder), so the thread count is flat from then on. It is made again if it dies
(killed, out of memory): that round's training fails and the next one trains in a new
worker. It ignores SIGINT (a Ctrl+C in a terminal reaches the whole process group; the
backend decides when it ends) and is killed when the backend stops, whatever it is doing,
so a stop never waits for a training.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from dispatch import risk
from dispatch.store.store import Store

log = logging.getLogger("dispatch")

START_METHOD = "spawn"
_readers: dict[str, Store] = {}  # the worker's store, made at its first training


def _ignore_interrupts() -> None:
    """In the worker, first: a Ctrl+C is the backend's to act on, not the worker's."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _ready() -> int:
    """In the worker: its imports done (numpy, the store), its pid for the backend."""
    from dispatch.app import load_reference  # noqa: F401 (imported now, not at the training)

    return os.getpid()


def train_from(url: str, now: float) -> risk.RiskModel | None:
    """In the worker: a model from the store's last 30 days (and a few before, for the open
    load at their start), read on the worker's own read-only connection; None with too
    little history. The reference data (categories, calendar) is read afresh each time: an
    admin may have changed the category table since."""
    from dispatch.app import load_reference

    store = _readers.get(url)
    if store is None:
        store = _readers[url] = Store(url, read_only=True)
    reference = load_reference(store, now)
    since = now - (risk.WINDOW_DAYS + 5) * risk.DAY
    events = list(store.events_reported(since, now + 1.0))
    return risk.train(events, reference, now)


class RiskTrainer:
    """One worker process that trains the deadline-risk model; remade when it dies."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.pid = 0  # the worker's (0: none yet)
        self.busy = False  # a training is under way
        self.deaths = 0  # workers that died (the backend's stop not counted)
        self._pool: ProcessPoolExecutor | None = None

    async def start(self) -> None:
        """Make the worker and wait until it is ready (its imports done)."""
        if self._pool is not None:
            return
        context = multiprocessing.get_context(START_METHOD)
        pool = ProcessPoolExecutor(1, mp_context=context, initializer=_ignore_interrupts)
        self._pool = pool
        ready = pool.submit(_ready)
        # Started by the submit (one worker): known now, so a stop meanwhile can kill it.
        self.pid = next(iter(pool._processes), 0)
        try:
            self.pid = await asyncio.wrap_future(ready)
        except BaseException:
            self._drop()
            raise
        log.info("deadline-risk training process %d started", self.pid)

    async def train(self, now: float) -> risk.RiskModel | None:
        """A model trained in the worker (made first if there is none); raises if the
        worker dies meanwhile (the next call makes a new one)."""
        await self.start()
        assert self._pool is not None
        self.busy = True
        try:
            return await asyncio.wrap_future(self._pool.submit(train_from, self.url, now))
        except BrokenProcessPool:
            self.deaths += 1
            log.warning("the deadline-risk training process %d died: a new one next time", self.pid)
            self._drop()
            raise
        finally:
            self.busy = False

    def stop(self) -> None:
        """Kill the worker, training or not, and let the pool go."""
        self._drop()

    def _drop(self) -> None:
        pool, pid = self._pool, self.pid
        self._pool, self.pid = None, 0
        if pool is None:
            return
        pool.shutdown(wait=False, cancel_futures=True)
        if pid:
            with contextlib.suppress(ProcessLookupError):  # gone already
                os.kill(pid, signal.SIGKILL)
