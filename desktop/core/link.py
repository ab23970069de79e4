"""The session on a thread of its own, handing the GUI thread one batch of messages per frame.

At thousands of messages a second the socket, the websocket framing and the JSON decoding
are a third of the GUI thread's Python time, and while the GUI thread paints nobody reads
the socket. Here a worker thread runs the session on a plain asyncio loop; every decoded
message and status change goes into an `Inbox`, which wakes the GUI once when it stops
being empty. The GUI takes everything at its next frame and applies it to its replica, so
the replica, the models and the widgets stay on the GUI thread and need no locks.

Qt-free: `wake` is any thread-safe callable (the application passes a queued Qt signal).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

from desktop.core.replay_answers import Moment, Page
from desktop.core.session import Session, Status
from protocol.entities import Person
from protocol.messages import Error, Result, ServerMessage
from protocol.retention import View

log = logging.getLogger("desktop.core.link")

T = TypeVar("T")
Item = ServerMessage | Status


class Inbox:
    """Messages and status changes from the session's thread to the GUI's, in order.

    `put` calls `wake` only when the inbox goes from empty to not empty, so the GUI hears
    once per `take` however many messages arrive in between. `wake` runs under the inbox's
    lock (so that `close` ends the wakes for good): it must not wait for the taker nor touch
    the inbox.
    """

    def __init__(self, wake: Callable[[], None]) -> None:
        self._wake = wake
        self._items: list[Item] = []
        self._lock = threading.Lock()
        self._closed = False

    def put(self, item: Item) -> None:
        """Add one item (the session's thread); wake the taker if it was waiting."""
        with self._lock:
            if self._closed:
                return
            self._items.append(item)
            if len(self._items) == 1:
                # Under the lock, so that close() returns only once no wake is under way:
                # waking posts an event and never waits for the taker, so it cannot deadlock.
                self._wake()

    def close(self) -> None:
        """The taker is gone: drop what it did not take, never wake it again (any thread)."""
        with self._lock:
            self._closed = True
            self._items = []

    def take(self) -> list[Item]:
        """Everything put since the last take, oldest first (the GUI thread)."""
        with self._lock:
            items, self._items = self._items, []
        return items

    def __len__(self) -> int:
        return len(self._items)


class SessionThread:
    """A `Session` running on its own thread and loop; its output arrives in `inbox`.

    The coroutine methods are awaited on the caller's loop (qasync's under the GUI).
    """

    def __init__(
        self,
        url: str | Sequence[str],
        token: str,
        *,
        wake: Callable[[], None],
        client: str = "tongguan-desktop",
        max_backoff: float = 5.0,
        view: View = "all",
    ) -> None:
        self.inbox = Inbox(wake)
        self.session = Session(
            url,
            token,
            on_message=self.inbox.put,
            on_status=self.inbox.put,
            client=client,
            max_backoff=max_backoff,
            view=view,
        )
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="tongguan-session", daemon=True)
        self._run: concurrent.futures.Future[None] | None = None
        self._ended: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._stopping: asyncio.Future[None] | None = None

    @property
    def running(self) -> bool:
        """Whether the session's loop is still running on its thread."""
        return self._thread.is_alive() and not self._ended.done()

    @property
    def status(self) -> Status:
        """The connection as last seen (an immutable value: safe to read from any thread)."""
        return self.session.status

    def start(self) -> None:
        """Start the thread and the session on it."""
        self._thread.start()
        self._run = self._submit(self.session.run())

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            self._loop.close()
            self._ended.set_result(None)

    def _submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        try:
            return asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        except RuntimeError:  # the session's loop has closed: the request never ran
            coroutine.close()
            raise

    def resync(self) -> bool:
        """Ask the session for a fresh snapshot (any thread; see Session.resync); whether the
        request went out (not when the session's thread has ended)."""
        if not self.running:
            return False
        request = self.session.resync()
        try:
            self._submit(request).add_done_callback(_log_failure)
        except RuntimeError:  # the loop closed in between (the request is closed)
            return False
        return True

    def retarget(self, url: str | None = None) -> None:
        """The backend is back (at `url`, if it moved): reconnect at once (any thread)."""
        if self.running:
            with contextlib.suppress(RuntimeError):  # the loop closed in between
                self._loop.call_soon_threadsafe(self.session.retarget, url)

    async def wait_connected(self) -> None:
        """Wait until the session has its state (the snapshot or a replay is in the inbox)."""
        await asyncio.wrap_future(self._submit(self.session.wait_connected()))

    async def finished(self) -> None:
        """Wait until the session gives up (the backend refused it) or is stopped.

        Cancelling this wait does not cancel the session (stop() ends it)."""
        assert self._run is not None, "start() first"
        await asyncio.shield(asyncio.wrap_future(self._run))

    async def command(self, op: str, args: dict[str, Any], **options: Any) -> Result | Error:
        """Send a command through the session (see Session.command) and await its answer."""
        return await asyncio.wrap_future(self._submit(self.session.command(op, args, **options)))

    async def history(self, event: int, patience: float = 10.0) -> Result | Error:
        """Ask for a case's audit timeline through the session (see Session.history)."""
        return await asyncio.wrap_future(self._submit(self.session.history(event, patience)))

    async def users(self, patience: float = 10.0) -> Result | Error:
        """Ask for every user through the session (see Session.users)."""
        return await asyncio.wrap_future(self._submit(self.session.users(patience)))

    async def create_user(
        self,
        name: str,
        role: str,
        streets: list[str] | None = None,
        communities: list[str] | None = None,
        patience: float = 10.0,
        display_name: str = "",
    ) -> Result | Error:
        """Create a user through the session (see Session.create_user)."""
        request = self.session.create_user(
            name, role, streets, communities, patience, display_name=display_name
        )
        return await asyncio.wrap_future(self._submit(request))

    async def update_user(
        self,
        name: str,
        role: str | None = None,
        streets: list[str] | None = None,
        communities: list[str] | None = None,
        *,
        whole_district: bool = False,
        display_name: str | None = None,
        new_token: bool = False,
        patience: float = 10.0,
    ) -> Result | Error:
        """Change a user through the session (see Session.update_user)."""
        request = self.session.update_user(
            name,
            role,
            streets,
            communities,
            whole_district=whole_district,
            display_name=display_name,
            new_token=new_token,
            patience=patience,
        )
        return await asyncio.wrap_future(self._submit(request))

    async def revoke_user(self, name: str, patience: float = 10.0) -> Result | Error:
        """Revoke a user through the session (see Session.revoke_user)."""
        return await asyncio.wrap_future(self._submit(self.session.revoke_user(name, patience)))

    async def roster(
        self, first: str, last: str, patience: float = 10.0, *, district: str = ""
    ) -> Result | Error:
        """Ask for the planned duty through the session (see Session.roster)."""
        request = self.session.roster(first, last, patience, district=district)
        return await asyncio.wrap_future(self._submit(request))

    async def set_roster(
        self,
        day: str,
        commander: Person | None,
        roster: list[Person],
        patience: float = 10.0,
        *,
        district: str = "",
    ) -> Result | Error:
        """Plan a day through the session (see Session.set_roster)."""
        request = self.session.set_roster(day, commander, roster, patience, district=district)
        return await asyncio.wrap_future(self._submit(request))

    async def intake_status(
        self, state: str | None = None, limit: int = 100, patience: float = 10.0
    ) -> Result | Error:
        """Ask how the intakes stand through the session (see Session.intake_status)."""
        request = self.session.intake_status(state, limit, patience)
        return await asyncio.wrap_future(self._submit(request))

    async def retry_feedback(self, ids: list[int], patience: float = 10.0) -> Result | Error:
        """Send feedback again through the session (see Session.retry_feedback)."""
        return await asyncio.wrap_future(self._submit(self.session.retry_feedback(ids, patience)))

    async def set_category(self, fields: dict[str, Any], patience: float = 10.0) -> Result | Error:
        """Add or replace a category through the session (see Session.set_category)."""
        return await asyncio.wrap_future(self._submit(self.session.set_category(fields, patience)))

    async def load_categories(
        self,
        file: str,
        content: str,
        check: bool = False,
        patience: float = 30.0,
        *,
        district: str = "",
    ) -> Result | Error:
        """Load a category table through the session (see Session.load_categories)."""
        request = self.session.load_categories(file, content, check, patience, district=district)
        return await asyncio.wrap_future(self._submit(request))

    async def shifts(
        self, first: str, last: str, patience: float = 10.0, district: str = ""
    ) -> Result | Error:
        """Ask for the shifts through the session (see Session.shifts)."""
        request = self.session.shifts(first, last, patience, district)
        return await asyncio.wrap_future(self._submit(request))

    async def download(self, patience: float = 60.0, **fields: Any) -> Result | Error:
        """Ask for a file through the session (see Session.download)."""
        return await asyncio.wrap_future(self._submit(self.session.download(patience, **fields)))

    async def replay(self, patience: float = 30.0, **fields: Any) -> Moment | Page | Error:
        """Ask the time machine through the session (see Session.replay)."""
        return await asyncio.wrap_future(self._submit(self.session.replay(patience, **fields)))

    async def stop(self, patience: float = 3.0) -> None:
        """Close the connection, end the session and its thread (each step within
        `patience` seconds; never a blocking join on the caller's loop). Idempotent."""
        if self._stopping is not None:
            await asyncio.shield(self._stopping)
            return
        self._stopping = asyncio.ensure_future(self._stop(patience))
        await asyncio.shield(self._stopping)

    async def _stop(self, patience: float) -> None:
        if not self.running:
            return
        self.inbox.close()  # the GUI is going: nothing it could still take
        steps = [("closing the connection", self._submit(self.session.stop()))]
        if self._run is not None:
            steps.append(("ending the session", self._run))
        for what, future in steps:
            if not await _settle(future, patience):
                log.warning("the session thread: %s took over %.0f s", what, patience)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if not await _settle(self._ended, patience):
            log.warning("the session thread did not stop within %.0f s", patience)


def _log_failure(future: concurrent.futures.Future[None]) -> None:
    """Log how a request sent to the session's thread failed (nobody awaits it)."""
    if not future.cancelled() and future.exception() is not None:
        log.error("the session could not resync", exc_info=future.exception())


async def _settle(future: concurrent.futures.Future[Any], patience: float) -> bool:
    """Wait up to `patience` seconds for a future of the session's thread, whatever its
    outcome; False if it is still running."""
    if not future.done():
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), patience)
    return future.done()
