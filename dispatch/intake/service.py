"""The enabled intakes of a backend, started and stopped with it.

Each intake registers a builder for its config section (`@builder("hotline")`): given the
shared Context and its settings, it returns a Part (its HTTP routes, its background tasks).
The HTTP server is started only when some part has routes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from starlette.routing import BaseRoute

from dispatch.clock import Clock
from dispatch.intake.config import HttpSettings, IntakeConfig
from dispatch.intake.geocode import Gazetteer
from dispatch.intake.http import Counts, IntakeHttp
from dispatch.intake.submit import Submit
from dispatch.reference import ReferenceData
from dispatch.state import Change, OutboxItem
from dispatch.store.store import Store, User

log = logging.getLogger("dispatch.intake")


class Part(Protocol):
    """One running intake."""

    def routes(self) -> list[BaseRoute]:
        """Its HTTP routes (none for an MQTT intake)."""
        ...

    async def start(self) -> None:
        """Start its background work (after the writer, before the HTTP server)."""
        ...

    async def stop(self) -> None:
        """Stop its background work (before the writer stops)."""
        ...


@dataclass
class Context:
    """What every intake may use."""

    store: Store
    reference: ReferenceData
    clock: Clock
    submit: Submit
    http: HttpSettings
    # The writer's rules turning a change into owed feedback (dispatch/intake/outbox.py).
    outbox_rules: list[Callable[[Change], OutboxItem | None]] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)
    # The backend's token check (dispatch/handshake.py), for GET /intake/stats; None: the
    # counters are shown to nobody.
    authenticate: Callable[[str], Awaitable[User | None]] | None = None
    # The whole intake config (a part may read a section beside its own: [intake.gateway]).
    config: IntakeConfig | None = None

    @cached_property
    def gazetteer(self) -> Gazetteer:
        """The district's gazetteer (built on first use)."""
        return Gazetteer(self.reference)


Builder = Callable[[Context, Any], "Part | None"]
_BUILDERS: dict[str, Builder] = {}


def builder(name: str) -> Callable[[Builder], Builder]:
    """Register the builder of the intake configured by `[intake.<name>]`."""

    def register(make: Builder) -> Builder:
        _BUILDERS[name] = make
        return make

    return register


class IntakeService:
    """The intakes a config enables, on the backend's loop."""

    def __init__(self, config: IntakeConfig, context: Context) -> None:
        self.config = config
        self.context = context
        if context.config is None:
            context.config = config
        self.parts: dict[str, Part] = {}
        self.http: IntakeHttp | None = None

    @property
    def port(self) -> int:
        """The intake HTTP port (0: none served)."""
        return self.http.port if self.http else 0

    async def start(self) -> None:
        """Build and start every enabled intake, then serve their routes."""
        _load_builders()
        for name, settings in self.config.sections.items():
            make = _BUILDERS.get(name)
            if make is None:
                continue  # a section with no intake of its own ([intake.http])
            part = make(self.context, settings)
            if part is not None:
                self.parts[name] = part
        for part in self.parts.values():
            await part.start()
        routes = [r for part in self.parts.values() for r in part.routes()]
        fast: dict[str, Any] = {}
        for part in self.parts.values():
            paths = getattr(part, "fast_paths", None)
            if callable(paths):
                fast.update(paths())
        if routes:
            self.http = IntakeHttp(
                self.context.http, routes, self.context.counts, self.context.authenticate, fast
            )
            await self.http.start()
        log.info("intakes enabled: %s", ", ".join(self.parts) or "none")

    def health(self) -> dict[str, dict[str, Any]]:
        """Every intake this backend knows of: whether it is on, and what its part says of
        itself (answers, connection, last message, cameras and sensors: `health()`)."""
        _load_builders()
        out: dict[str, dict[str, Any]] = {}
        for name in sorted(_BUILDERS):
            part = self.parts.get(name)
            entry: dict[str, Any] = {"enabled": part is not None}
            health = getattr(part, "health", None)
            if callable(health):
                entry.update(health())
            out[name] = entry
        return out

    def wake_outbox(self) -> None:
        """Feedback was put back to be sent again: the parts that deliver it look now."""
        for part in self.parts.values():
            retry = getattr(part, "retry", None)
            if callable(retry):
                retry()

    async def stop(self) -> None:
        """Stop taking requests, then stop each intake's work."""
        if self.http is not None:
            await self.http.stop()
        for part in reversed(list(self.parts.values())):
            try:
                await part.stop()
            except Exception:
                log.exception("stopping an intake failed")


def _load_builders() -> None:
    """Import the intake modules (their import registers their builders)."""
    from dispatch.intake.config import import_intakes

    import_intakes()
