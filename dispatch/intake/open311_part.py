"""The Open311 intake as a running part: its routes on the intake HTTP server, nothing in the
background (a POST is answered after its event's commit: the service type is realtime)."""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute

from dispatch.intake.open311 import CHANNEL, Open311Intake, Open311Settings
from dispatch.intake.service import Context, builder


class Open311Part:
    """Open311 GeoReport v2 under /open311/v2/."""

    def __init__(self, context: Context, settings: Open311Settings) -> None:
        self.counts = context.counts
        self.intake = Open311Intake(
            settings,
            context.reference,
            context.gazetteer,
            context.store,
            context.clock,
            context.submit,
            context.counts,
            context.http.max_body,
        )

    def routes(self) -> list[BaseRoute]:
        """The GeoReport v2 routes."""
        return self.intake.routes()

    async def start(self) -> None:
        """Learn the clients whose requests the GET side shows."""
        await self.intake.start()

    async def stop(self) -> None:
        """Nothing to stop."""

    def health(self) -> dict[str, Any]:
        """Its answers by reason, and when it last answered."""
        return self.counts.of(CHANNEL)


@builder("open311")
def build(context: Context, settings: Open311Settings) -> Open311Part | None:
    """The Open311 part when [intake.open311] enabled = true."""
    return Open311Part(context, settings) if settings.enabled else None
