"""The 12345 intake as a running part: the endpoint (hotline.py) and the feedback outbox's
delivery (outbox.py)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from starlette.routing import BaseRoute

from dispatch.intake.gateway import Gateway, GatewaySettings
from dispatch.intake.hotline import (
    BATCH_PATH,
    CHANNEL,
    ORDERS_PATH,
    HotlineIntake,
    HotlineSettings,
)
from dispatch.intake.mapping import district_tables, load_mapping
from dispatch.intake.outbox import OutboxSender, Target, hotline_rule
from dispatch.intake.service import Context, builder
from dispatch.state import Change, OutboxItem


class HotlinePart:
    """12345 work orders in, feedback out."""

    def __init__(self, context: Context, settings: HotlineSettings) -> None:
        # Checked against every district's table; each order resolved in its own's.
        self.mapping = load_mapping(settings.mapping, district_tables(context.reference))
        self.counts = context.counts
        self.intake = HotlineIntake(
            settings,
            self.mapping,
            context.gazetteer,
            context.submit,
            context.counts,
            context.http.max_body,
        )

        gateway = context.config.get("gateway", GatewaySettings) if context.config else None
        # [intake.gateway] on: the pushes are also read in a process of its own (gateway.py).
        self.gateway = (
            Gateway(gateway, self.intake, context.counts) if gateway and gateway.enabled else None
        )

        targets = {
            p.name: Target(p.feedback_url, p.key) for p in settings.peers.values() if p.feedback_url
        }
        self.sender = OutboxSender(context.store, targets, settings.retry)
        self._rules = context.outbox_rules
        loop = asyncio.get_running_loop()
        wake = self.sender.wake
        self.settings = settings
        urls = {name: t.url for name, t in targets.items()}
        self._urls = urls
        rule = hotline_rule(lambda: urls)

        def owed(change: Change) -> OutboxItem | None:
            item = rule(change)
            if item is not None:  # on the writer's thread: the sender looks soon
                loop.call_soon_threadsafe(wake)
            return item

        self._rule = owed

    def feed_back_to(self, peer: str, url: str) -> None:
        """Send `peer`'s feedback to `url` from now on (the demo's simulated platform, whose
        port is known only once it listens)."""
        self.sender.targets[peer] = Target(url, self.settings.peers[peer].key)
        self._urls[peer] = url

    def routes(self) -> list[BaseRoute]:
        """POST /12345/v1/orders."""
        return list(self.intake.routes())

    def fast_paths(self) -> dict[str, Any]:
        """The same routes' POSTs as a plain ASGI callable (the hot path)."""
        return {ORDERS_PATH: self.intake.asgi, BATCH_PATH: self.intake.asgi}

    async def start(self) -> None:
        """Owe feedback for 12345 cases' changes from now on, and deliver what is owed."""
        self._rules.append(self._rule)
        await self.sender.start()
        if self.gateway is not None:
            await self.gateway.start()

    @property
    def push_port(self) -> int:
        """The port the 12345 platform should push to: the gateway's when it runs, else 0
        (the intake HTTP server's)."""
        return self.gateway.port if self.gateway is not None else 0

    async def stop(self) -> None:
        """Stop delivering (what is pending stays for the next start)."""
        if self.gateway is not None:
            await self.gateway.stop()
        with contextlib.suppress(ValueError):
            self._rules.remove(self._rule)
        await self.sender.stop()

    def health(self) -> dict[str, Any]:
        """Its answers by reason, when it last answered, its peers and whether each is owed
        feedback (has a feedback URL)."""
        peers = [
            {"name": name, "feedback": name in self.sender.targets}
            for name in sorted(self.settings.peers)
        ]
        health = {**self.counts.of(CHANNEL), "peers": peers}
        if self.gateway is not None:
            health["gateway"] = self.gateway.health()
        return health

    def retry(self) -> None:
        """Look at the outbox now (feedback was put back to be sent again)."""
        self.sender.wake()


@builder("hotline")
def build(context: Context, settings: HotlineSettings) -> HotlinePart | None:
    """The 12345 part when [intake.hotline] enabled = true."""
    return HotlinePart(context, settings) if settings.enabled else None
